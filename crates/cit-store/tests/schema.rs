//! The schema the migrations build, dumped and compared with `tests/schema/{sqlite,postgres}.txt`.
//! A change to a migration (or to the helpers in `migration/ddl.rs`) that alters a column, an
//! index, a key or a trigger fails here. SQLite always; PostgreSQL when `CIT_TEST_DATABASE_URL`
//! is set (in a fresh database, dropped at the end). `CIT_UPDATE_SCHEMA=1` rewrites the files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use cit_store::{ConnectSettings, Store};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let stmt = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<Option<String>>("", "line").unwrap().unwrap_or_default())
        .collect()
}

async fn sqlite_dump(db: &DatabaseConnection) -> String {
    let mut out = Vec::new();
    let objects = "SELECT type || ' ' || name || ' on ' || tbl_name AS line FROM sqlite_master \
                   WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name";
    out.push("# objects".to_owned());
    out.extend(rows(db, objects).await);
    let tables = rows(
        db,
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'seaql_migrations' ORDER BY name",
    )
    .await;
    for t in tables {
        out.push(format!("\n# table {t}"));
        out.extend(
            rows(
                db,
                &format!(
                    "SELECT 'column ' || cid || ' ' || name || ' ' || type || (CASE WHEN \"notnull\" THEN ' NOT NULL' \
                     ELSE '' END) || COALESCE(' DEFAULT ' || dflt_value, '') || (CASE WHEN pk > 0 THEN ' PK' || pk \
                     ELSE '' END) AS line FROM pragma_table_info('{t}') ORDER BY cid"
                ),
            )
            .await,
        );
        out.extend(
            rows(
                db,
                &format!(
                    "SELECT 'foreign key ' || \"from\" || ' -> ' || \"table\" || '(' || \"to\" || ') on update ' || \
                     on_update || ' on delete ' || on_delete AS line FROM pragma_foreign_key_list('{t}') \
                     ORDER BY \"from\", \"table\""
                ),
            )
            .await,
        );
        let indexes = rows(
            db,
            &format!(
                "SELECT name || '|' || (CASE WHEN \"unique\" THEN 'unique ' ELSE '' END) || origin || \
                 (CASE WHEN partial THEN ' partial' ELSE '' END) AS line FROM pragma_index_list('{t}') ORDER BY name"
            ),
        )
        .await;
        for index in indexes {
            let (name, kind) = index.split_once('|').unwrap();
            let columns = rows(
                db,
                &format!(
                    "SELECT COALESCE(name, '<expr>') || (CASE WHEN \"desc\" THEN ' DESC' ELSE '' END) AS line \
                     FROM pragma_index_xinfo('{name}') WHERE key ORDER BY seqno"
                ),
            )
            .await;
            out.push(format!("index {name} {kind} ({})", columns.join(", ")));
        }
    }
    out.push("\n# statements of indexes with expressions or conditions, triggers and virtual tables".into());
    out.extend(
        rows(
            db,
            "SELECT name || ': ' || sql AS line FROM sqlite_master WHERE sql IS NOT NULL AND \
             (type = 'trigger' OR sql LIKE 'CREATE VIRTUAL%' OR (type = 'index' AND (sql LIKE '%WHERE%' OR sql LIKE '%(%(%'))) \
             ORDER BY name",
        )
        .await,
    );
    out.join("\n") + "\n"
}

async fn postgres_dump(db: &DatabaseConnection) -> String {
    let mut out = vec!["# columns".to_owned()];
    out.extend(
        rows(
            db,
            "SELECT table_name || '.' || column_name || ' ' || ordinal_position || ' ' || data_type || \
             COALESCE('(' || character_maximum_length || ')', '') || (CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END) || \
             COALESCE(' DEFAULT ' || column_default, '') AS line FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        )
        .await,
    );
    out.push("\n# constraints".into());
    out.extend(
        rows(
            db,
            "SELECT c.conrelid::regclass::text || ' ' || c.conname || ': ' || pg_get_constraintdef(c.oid) AS line \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' \
             ORDER BY c.conrelid::regclass::text, c.conname",
        )
        .await,
    );
    out.push("\n# indexes".into());
    out.extend(
        rows(db, "SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname")
            .await,
    );
    out.push("\n# triggers and functions".into());
    out.extend(
        rows(
            db,
            "SELECT pg_get_triggerdef(t.oid) AS line FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal \
             ORDER BY c.relname, t.tgname",
        )
        .await,
    );
    out.extend(
        rows(
            db,
            "SELECT p.proname || ': ' || pg_get_functiondef(p.oid) AS line FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY p.proname",
        )
        .await,
    );
    out.join("\n") + "\n"
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schema").join(name)
}

fn compare(name: &str, dump: &str) {
    let path = golden(name);
    if std::env::var("CIT_UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, dump).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CIT_UPDATE_SCHEMA=1 writes it)", path.display()));
    if want != dump {
        let changed: Vec<String> = diff_lines(&want, dump);
        panic!(
            "the migrated schema differs from {} (CIT_UPDATE_SCHEMA=1 rewrites it if the change is meant):\n{}",
            path.display(),
            changed.join("\n")
        );
    }
}

/// Lines only in the golden file (`-`) or only in the dump (`+`).
fn diff_lines(want: &str, got: &str) -> Vec<String> {
    let want_lines: Vec<&str> = want.lines().collect();
    let got_lines: Vec<&str> = got.lines().collect();
    let gone = want_lines.iter().filter(|l| !got_lines.contains(l)).map(|l| format!("- {l}"));
    let new = got_lines.iter().filter(|l| !want_lines.contains(l)).map(|l| format!("+ {l}"));
    let mut out: Vec<String> = gone.chain(new).collect();
    if out.is_empty() {
        out.push("(the same lines in another order)".into());
    }
    out
}

#[tokio::test]
async fn sqlite_schema_matches_the_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("schema.db").display());
    let store = Store::connect(&url, &ConnectSettings::default()).await.unwrap();
    store.migrate().await.unwrap();
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(db.get_database_backend(), DbBackend::Sqlite);
    compare("sqlite.txt", &sqlite_dump(&db).await);
}

#[tokio::test]
async fn postgres_schema_matches_the_golden_file() {
    let Some(admin_url) = std::env::var("CIT_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CIT_TEST_DATABASE_URL is not set: the PostgreSQL schema is compared in the PostgreSQL run");
        return;
    };
    let name = format!("cit_schema_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
    let url = format!("{base}/{name}");
    let dump = async {
        let store = Store::connect(&url, &ConnectSettings::default()).await.unwrap();
        store.migrate().await.unwrap();
        let db = Database::connect(&url).await.unwrap();
        let dump = postgres_dump(&db).await;
        db.close().await.ok();
        dump
    }
    .await;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    compare("postgres.txt", &dump);
}
