//! Every statement on the search tables (`search_documents`, and `search_fts` on SQLite): the
//! SQL of each backend's full-text engine, and the tenant condition on each statement. Part of
//! the scoped layer: [`crate::content::search`] builds the documents and the facets and asks
//! here for rows.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as DbValue};

use crate::content::EntryStatus;
use crate::content::search::{Document, MAX_MATCHES, SearchHit, SearchQuery};
use crate::entity::entry;
use crate::scoped::TenantStore;
use crate::{Backend, StoreError, StoreResult};

fn table() -> Alias {
    Alias::new("search_documents")
}

fn col(name: &'static str) -> Alias {
    Alias::new(name)
}

fn db(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    }
}

/// Writes the search document of `e` in `e`'s tenant, first deleting the one it may have when
/// `replace`. The tenant comes from the entry row the caller just wrote through its scope.
pub(crate) async fn write(
    conn: &impl ConnectionTrait,
    e: &entry::Model,
    doc: &Document,
    stems: (String, String),
    replace: bool,
) -> StoreResult<()> {
    if replace {
        let delete = Query::delete()
            .from_table(table())
            .and_where(Expr::col(col("entry_id")).eq(e.id))
            .and_where(Expr::col(col("tenant_id")).eq(e.tenant_id.as_str()))
            .to_owned();
        conn.execute(&delete).await?;
    }
    let insert = Query::insert()
        .into_table(table())
        .columns(
            [
                "entry_id",
                "tenant_id",
                "type_id",
                "locale",
                "status",
                "topics",
                "title",
                "body",
                "title_stems",
                "body_stems",
            ]
            .map(col),
        )
        .values([
            e.id.into(),
            e.tenant_id.clone().into(),
            e.type_id.clone().into(),
            e.locale.clone().into(),
            e.status.clone().into(),
            doc.topics.join(" ").into(),
            doc.title.clone().into(),
            doc.body.clone().into(),
            stems.0.into(),
            stems.1.into(),
        ])
        .map_err(|e| StoreError::Corrupt(format!("search document: {e}")))?
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Keeps the document's status in step with the entry's (the scheduler's flips).
pub(crate) async fn set_status(
    conn: &impl ConnectionTrait,
    tenant: &str,
    id: uuid::Uuid,
    status: &str,
) -> StoreResult<()> {
    let update = Query::update()
        .table(table())
        .value(col("status"), status)
        .and_where(Expr::col(col("entry_id")).eq(id))
        .and_where(Expr::col(col("tenant_id")).eq(tenant))
        .to_owned();
    conn.execute(&update).await?;
    Ok(())
}

/// The FTS5 query: the tenant first (its column holds nothing else, so `^` anchors the whole
/// id), then every term as a prefix of a stem in the title or the body. Terms hold letters and
/// digits only and tenant ids letters, digits and hyphens, so quoting them cannot break FTS5's
/// syntax. The SQL still compares `tenant_id`: the match only narrows early.
fn fts_match(tenant: &str, terms: &[cit_core::search::Term]) -> String {
    let terms = terms.iter().map(|t| format!("\"{}\"*", t.stem)).collect::<Vec<_>>().join(" ");
    format!("{{tenant_id}} : ^\"{tenant}\" AND {{title_stems body_stems}} : ({terms})")
}

/// The ranked match on SQLite, `statuses` being the placeholders of the status list.
///
/// CROSS JOIN pins the join order: the full-text match runs once and drives the lookups. Left
/// to itself, SQLite walks the tenant's documents by idx_search_scope and runs the MATCH (a
/// prefix merge over the whole index) once per document: minutes instead of a fraction of a
/// second on 50,000 entries (bench/RESULTS.md).
fn sqlite_sql(statuses: &str) -> String {
    format!(
        r#"SELECT d.entry_id, d.type_id, d.status, d.topics, d.title, e.slug, -bm25(search_fts, 0.0, 5.0, 1.0) AS score
           FROM search_fts CROSS JOIN search_documents d ON d.doc_id = search_fts.rowid CROSS JOIN entries e ON e.id = d.entry_id
           WHERE search_fts MATCH ? AND d.tenant_id = ? AND d.locale = ? AND d.status IN ({statuses})
           ORDER BY score DESC, d.entry_id LIMIT {MAX_MATCHES}"#
    )
}

/// Binds each status as the next value and gives their placeholders, comma-separated
/// (`placeholder` is told the position of the value it stands for, from 1).
fn bind_statuses(values: &mut Vec<DbValue>, statuses: &[EntryStatus], placeholder: impl Fn(usize) -> String) -> String {
    let mut marks = Vec::with_capacity(statuses.len());
    for s in statuses {
        values.push(s.as_str().to_owned().into());
        marks.push(placeholder(values.len()));
    }
    marks.join(", ")
}

impl TenantStore<'_> {
    /// The tenant's best matches of `q` (at most [`MAX_MATCHES`]), each with its topics, before
    /// the type and topic filters. Bodies are left empty: see [`TenantStore::search_bodies`].
    pub(crate) async fn search_matches(&self, q: &SearchQuery) -> StoreResult<Vec<(SearchHit, String)>> {
        let backend = self.store().backend;
        let tenant = self.tenant().as_str();
        let mut values: Vec<DbValue> = Vec::new();
        let sql = match backend {
            Backend::Sqlite => {
                values.push(fts_match(tenant, &q.terms).into());
                values.push(tenant.to_owned().into());
                values.push(q.locale.clone().into());
                let statuses = bind_statuses(&mut values, &q.statuses, |_| "?".to_owned());
                sqlite_sql(&statuses)
            }
            Backend::Postgres => {
                // Each term matches PostgreSQL's Italian stem or cit's own, as a prefix. Words and
                // stems hold letters and digits only, so `:*` is the only syntax in them.
                let mut parts = Vec::new();
                for t in &q.terms {
                    let n = values.len() + 1;
                    parts.push(format!("(to_tsquery('italian', ${n}) || to_tsquery('simple', ${}))", n + 1));
                    values.push(format!("{}:*", t.word).into());
                    values.push(format!("{}:*", t.stem).into());
                }
                let tsquery = parts.join(" && ");
                let next = values.len() + 1;
                values.push(tenant.to_owned().into());
                values.push(q.locale.clone().into());
                let statuses = bind_statuses(&mut values, &q.statuses, |n| format!("${n}"));
                format!(
                    r#"SELECT d.entry_id, d.type_id, d.status, d.topics, d.title, e.slug, CAST(ts_rank(d.tsv, q.query) AS DOUBLE PRECISION) AS score
                       FROM search_documents d JOIN entries e ON e.id = d.entry_id CROSS JOIN (SELECT {tsquery} AS query) q
                       WHERE d.tsv @@ q.query AND d.tenant_id = ${next} AND d.locale = ${} AND d.status IN ({statuses})
                       ORDER BY score DESC, d.entry_id LIMIT {MAX_MATCHES}"#,
                    next + 1
                )
            }
        };
        let rows =
            self.content_reader().query_all_raw(Statement::from_sql_and_values(db(backend), sql, values)).await?;
        let mut matches = Vec::with_capacity(rows.len());
        for row in rows {
            let hit = SearchHit {
                entry_id: row.try_get("", "entry_id")?,
                type_id: row.try_get("", "type_id")?,
                slug: row.try_get("", "slug")?,
                status: EntryStatus::parse(&row.try_get::<String>("", "status")?).unwrap_or(EntryStatus::Draft),
                title: row.try_get("", "title")?,
                // Read for the page's hits only: a common word matches every document.
                body: String::new(),
                score: row.try_get("", "score")?,
            };
            let topics: String = row.try_get("", "topics")?;
            matches.push((hit, topics));
        }
        Ok(matches)
    }

    /// The indexed text of the tenant's documents of `ids`, by entry id.
    pub(crate) async fn search_bodies(&self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let select = Query::select()
            .columns([col("entry_id"), col("body")])
            .from(table())
            .and_where(Expr::col(col("tenant_id")).eq(self.tenant().as_str()))
            .and_where(Expr::col(col("entry_id")).is_in(ids.iter().copied()))
            .to_owned();
        let backend = self.store().backend;
        let rows = self.content_reader().query_all_raw(db(backend).build(&select)).await?;
        let mut bodies = HashMap::with_capacity(rows.len());
        for row in rows {
            bodies.insert(row.try_get("", "entry_id")?, row.try_get("", "body")?);
        }
        Ok(bodies)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::{sqlite_plan, sqlite_store};

    /// The plan, not the timing: a test database is too small for the slow plan to show as time,
    /// and SQLite picks the same plan whatever the size (cit keeps no statistics).
    #[tokio::test]
    async fn sqlite_search_runs_the_full_text_match_first() {
        let (_dir, store) = sqlite_store().await;
        let values: Vec<DbValue> = vec!["\"serviz\"*".into(), "lecce".into(), "it".into(), "published".into()];
        let steps =
            sqlite_plan(&store, Statement::from_sql_and_values(DbBackend::Sqlite, sqlite_sql("?"), values)).await;
        assert!(steps.first().is_some_and(|s| s.starts_with("SCAN search_fts")), "plan: {steps:?}");
    }
}
