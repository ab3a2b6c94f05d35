//! The tenant boundary, checked on the source: a test that fails the build when a file other than
//! the scoped layer (`scoped.rs`, `scoped/`) or the cross-tenant module (`cross_tenant.rs`)
//! queries a tenant-owned table, sets a `tenant_id` by hand, or reads the wall clock.
//!
//! The tenant-owned tables come from the one list in `scoped.rs` (`tenant_owned!`), so a new
//! table is covered by the line that declares it. Test modules (`#[cfg(test)] mod …`, at the end
//! of a file) and comments are not checked: tests may look at rows directly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::scoped::{TENANT_OWNED_ENTITIES, TENANT_OWNED_TABLES};

/// Files and folders (relative to `src/`) allowed to touch tenant-owned rows directly.
const ALLOWED: &[&str] = &["scoped.rs", "scoped/", "cross_tenant.rs", "entity/", "migration/", "boundary.rs"];

/// What sea-orm calls reach rows.
const OPS: &str = "find|find_by_id|find_related|insert|insert_many|update|update_many|delete|delete_many|delete_by_id";

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code a file runs outside tests, without comments.
fn checked_code(text: &str) -> String {
    let cut = Regex::new(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod ").unwrap();
    let text = match cut.find(text) {
        Some(m) => &text[..m.start()],
        None => text,
    };
    text.lines().map(|l| if l.trim_start().starts_with("//") { "" } else { l }).collect::<Vec<_>>().join("\n")
}

/// The text after the `{ … }` block that starts at `open` (an index of `{`), or "" if unbalanced.
fn after_block(code: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &code[open + i + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

/// Every breach of the boundary in one file's checked code, one line each.
fn breaches(file: &str, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut hit = |what: String, at: usize| {
        let line = code[..at].lines().count().max(1);
        found.push(format!("{file}:{line}: {what}"));
    };
    for (module, _) in TENANT_OWNED_ENTITIES {
        let query = Regex::new(&format!(r"\b{module}::Entity::({OPS})\b")).unwrap();
        for m in query.find_iter(code) {
            hit(format!("`{}` queries a tenant-owned entity outside the scoped layer", m.as_str()), m.start());
        }
        let alias = Regex::new(&format!(r"\buse\b[^;]*\b{module}::Entity\b")).unwrap();
        for m in alias.find_iter(code) {
            hit(format!("`{}` imports a tenant-owned entity under another name", m.as_str()), m.start());
        }
        let model = Regex::new(&format!(r"\b{module}::ActiveModel\s*\{{")).unwrap();
        for m in model.find_iter(code) {
            let rest = after_block(code, m.end() - 1).trim_start();
            if [".insert(", ".save(", ".update(", ".delete("].iter().any(|op| rest.starts_with(op)) {
                hit(format!("a `{module}::ActiveModel` is written without the scoped insert"), m.start());
            }
        }
    }
    let bare = Regex::new(&format!(r"(^|[^:\w])Entity::({OPS})\b")).unwrap();
    for m in bare.find_iter(code) {
        hit(format!("`{}`: say which entity (tenant-owned ones go through the scoped layer)", m.as_str()), m.start());
    }
    let by_hand = Regex::new(r"\btenant_id:\s*Set\(").unwrap();
    for m in by_hand.find_iter(code) {
        hit("`tenant_id: Set(…)` by hand: the scoped insert sets the tenant".into(), m.start());
    }
    let generic = Regex::new(r"\bTenantOwned\b").unwrap();
    for m in generic.find_iter(code) {
        hit("`TenantOwned` is for the scoped layer only".into(), m.start());
    }
    let tables = TENANT_OWNED_ENTITIES.iter().map(|(_, t)| *t).chain(TENANT_OWNED_TABLES.iter().copied());
    for table in tables {
        let sql = Regex::new(&format!(r#"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+"?{table}"?\b"#)).unwrap();
        for m in sql.find_iter(code) {
            hit(format!("raw SQL `{}` names a tenant-owned table", m.as_str()), m.start());
        }
        let alias = Regex::new(&format!(r#"Alias::new\(\s*"{table}"\s*\)"#)).unwrap();
        for m in alias.find_iter(code) {
            hit(format!("`{}` names a tenant-owned table", m.as_str()), m.start());
        }
    }
    let clock = Regex::new(r"\bUtc::now\b").unwrap();
    for m in clock.find_iter(code) {
        hit("`Utc::now`: the store reads time from its clock (`Store::now`)".into(), m.start());
    }
    found
}

#[test]
fn tenant_owned_tables_are_reached_only_through_the_scoped_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(files.len() > 10, "found only {files:?}");
    let mut all = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        if ALLOWED.iter().any(|a| if a.ends_with('/') { rel.starts_with(a) } else { rel == *a }) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        all.extend(breaches(&rel, &checked_code(&text)));
    }
    assert!(all.is_empty(), "the tenant boundary is broken:\n{}", all.join("\n"));
}

/// The checker itself: each kind of breach is found, and the scoped way is not a breach.
#[test]
fn the_checker_finds_each_kind_of_breach() {
    let planted = r#"
        async fn leak(conn: &C) {
            let all = entry::Entity::find().all(conn).await;
            let one = crate::entity::media::Entity::find_by_id(id).one(conn).await;
            entry_revision::Entity::delete_many().exec(conn).await;
            audit::ActiveModel { id: Set(id), ..Default::default() }.insert(conn).await;
            let row = membership::ActiveModel { tenant_id: Set(t), ..Default::default() };
            conn.execute_unprepared("DELETE FROM search_documents").await;
            let t = Alias::new("search_documents");
            let now = Utc::now();
        }
        #[cfg(test)]
        mod tests { fn ok() { entry::Entity::find(); } }
    "#;
    let found = breaches("planted.rs", &checked_code(planted));
    for needle in [
        "entry::Entity::find`",
        "media::Entity::find_by_id",
        "entry_revision::Entity::delete_many",
        "`audit::ActiveModel` is written",
        "tenant_id: Set(…)",
        "FROM search_documents",
        "Alias::new(\"search_documents\")",
        "Utc::now",
    ] {
        assert!(found.iter().any(|f| f.contains(needle)), "missed {needle}: {found:#?}");
    }
    assert_eq!(found.len(), 8, "{found:#?}");
    let scoped = r#"
        let rows = self.select::<entry::Entity>().all(conn).await?;
        let row = entry::ActiveModel { id: Set(id), ..Default::default() };
        self.insert(conn, row).await?;
        let users = user::Entity::find().all(conn).await?;
    "#;
    assert_eq!(breaches("scoped_use.rs", &checked_code(scoped)), Vec::<String>::new());
}
