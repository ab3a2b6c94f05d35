//! The search index: one document per entry, kept current in the transaction of every write,
//! and the ranked, faceted query over it. Only this file knows the SQL of each backend's
//! full-text engine.

use std::collections::HashMap;

use cit_core::content::{ContentType, FieldKind};
use cit_core::search::{plain, stems};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as DbValue};
use serde_json::Value;

use super::EntryStatus;
use crate::entity::entry;
use crate::scoped::TenantStore;
use crate::{Backend, StoreError, StoreResult};

/// The content type whose entries are topics: references to it become the topic facet.
pub const TOPIC_TYPE: &str = "argomento";
/// Matches considered for ranking and facets.
const MAX_MATCHES: u64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// The searched terms: each must match, as a prefix of a stem.
    pub terms: Vec<cit_core::search::Term>,
    pub types: Vec<String>,
    pub topic: Option<uuid::Uuid>,
    pub locale: String,
    pub statuses: Vec<EntryStatus>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub entry_id: uuid::Uuid,
    pub type_id: String,
    pub slug: String,
    pub status: EntryStatus,
    pub title: String,
    pub body: String,
    pub score: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: usize,
    /// (type, matches), most first.
    pub types: Vec<(String, usize)>,
    /// (topic entry id, matches), most first.
    pub topics: Vec<(uuid::Uuid, usize)>,
}

struct Document {
    title: String,
    body: String,
    topics: Vec<String>,
}

fn document(ct: &ContentType, data: &serde_json::Map<String, Value>) -> Document {
    let title = data.get(ct.slug_from.as_str()).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut body = Vec::new();
    let mut topics = Vec::new();
    for f in &ct.fields {
        if f.name == ct.slug_from {
            continue;
        }
        match (&f.kind, data.get(f.name.as_str())) {
            (FieldKind::String | FieldKind::Text | FieldKind::Enum { .. }, Some(Value::String(s))) => {
                body.push(s.clone())
            }
            (FieldKind::Richtext, Some(Value::String(s))) => body.push(plain(s)),
            (FieldKind::Tags, Some(Value::Array(items))) => {
                body.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            (FieldKind::Reference { to, .. }, Some(v)) if to.as_str() == TOPIC_TYPE => match v {
                Value::String(id) => topics.push(id.clone()),
                Value::Array(ids) => topics.extend(ids.iter().filter_map(Value::as_str).map(str::to_owned)),
                _ => {}
            },
            _ => {}
        }
    }
    Document { title, body: body.join("\n"), topics }
}

fn table() -> Alias {
    Alias::new("search_documents")
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn db(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    }
}

/// Whether the entry may already have a search document to replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexed {
    /// Created in this transaction: nothing to delete first (one statement less per create).
    New,
    Maybe,
}

/// Writes (or rewrites) the search document of an entry, on the connection of its write.
pub(crate) async fn index_entry(
    conn: &impl ConnectionTrait,
    ct: &ContentType,
    e: &entry::Model,
    indexed: Indexed,
) -> StoreResult<()> {
    let empty = serde_json::Map::new();
    let data = e.data.as_object().unwrap_or(&empty);
    let doc = document(ct, data);
    if indexed == Indexed::Maybe {
        let delete = Query::delete().from_table(table()).and_where(Expr::col(col("entry_id")).eq(e.id)).to_owned();
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
            stems(&doc.title).join(" ").into(),
            stems(&doc.body).join(" ").into(),
        ])
        .map_err(|e| StoreError::Corrupt(format!("search document: {e}")))?
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Keeps the document's status in step with the entry's (the scheduler's flips).
pub(crate) async fn set_status(conn: &impl ConnectionTrait, id: uuid::Uuid, status: &str) -> StoreResult<()> {
    let update = Query::update()
        .table(table())
        .value(col("status"), status)
        .and_where(Expr::col(col("entry_id")).eq(id))
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

impl TenantStore<'_> {
    /// Ranked matches with facets by type and topic. Callers that may not read drafts must ask
    /// for published entries only; the store checks.
    pub async fn search(&self, q: &SearchQuery) -> StoreResult<SearchResults> {
        if q.statuses.iter().any(|s| *s != EntryStatus::Published) {
            self.require_any(&[
                cit_core::Action::ReadDrafts,
                cit_core::Action::WriteContent,
                cit_core::Action::PublishContent,
            ])?;
        }
        let backend = self.store().backend;
        let mut values: Vec<DbValue> = Vec::new();
        let sql = match backend {
            Backend::Sqlite => {
                values.push(fts_match(self.tenant().as_str(), &q.terms).into());
                values.push(self.tenant().to_string().into());
                values.push(q.locale.clone().into());
                let statuses = q
                    .statuses
                    .iter()
                    .map(|s| {
                        values.push(s.as_str().to_owned().into());
                        "?"
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
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
                values.push(self.tenant().to_string().into());
                values.push(q.locale.clone().into());
                let statuses = q
                    .statuses
                    .iter()
                    .map(|s| {
                        values.push(s.as_str().to_owned().into());
                        format!("${}", values.len())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    r#"SELECT d.entry_id, d.type_id, d.status, d.topics, d.title, e.slug, CAST(ts_rank(d.tsv, q.query) AS DOUBLE PRECISION) AS score
                       FROM search_documents d JOIN entries e ON e.id = d.entry_id CROSS JOIN (SELECT {tsquery} AS query) q
                       WHERE d.tsv @@ q.query AND d.tenant_id = ${next} AND d.locale = ${} AND d.status IN ({statuses})
                       ORDER BY score DESC, d.entry_id LIMIT {MAX_MATCHES}"#,
                    next + 1
                )
            }
        };
        let rows = self.store().read.query_all_raw(Statement::from_sql_and_values(db(backend), sql, values)).await?;
        let mut matches = Vec::with_capacity(rows.len());
        for row in rows {
            let hit = SearchHit {
                entry_id: row.try_get("", "entry_id")?,
                type_id: row.try_get("", "type_id")?,
                slug: row.try_get("", "slug")?,
                status: EntryStatus::parse(&row.try_get::<String>("", "status")?).unwrap_or(EntryStatus::Draft),
                title: row.try_get("", "title")?,
                // Read for the page's hits only, below: a common word matches every document.
                body: String::new(),
                score: row.try_get("", "score")?,
            };
            let topics: String = row.try_get("", "topics")?;
            matches.push((hit, topics));
        }
        // Facets count the matches before the type and topic filters narrow them.
        let mut types: HashMap<String, usize> = HashMap::new();
        let mut topics: HashMap<uuid::Uuid, usize> = HashMap::new();
        for (hit, t) in &matches {
            *types.entry(hit.type_id.clone()).or_default() += 1;
            for id in t.split_whitespace().filter_map(|s| s.parse().ok()) {
                *topics.entry(id).or_default() += 1;
            }
        }
        let topic_str = q.topic.map(|t| t.to_string());
        let hits: Vec<SearchHit> = matches
            .into_iter()
            .filter(|(h, t)| {
                (q.types.is_empty() || q.types.contains(&h.type_id))
                    && topic_str.as_ref().is_none_or(|topic| t.split_whitespace().any(|x| x == topic))
            })
            .map(|(h, _)| h)
            .collect();
        let total = hits.len();
        let mut types: Vec<(String, usize)> = types.into_iter().collect();
        types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut topics: Vec<(uuid::Uuid, usize)> = topics.into_iter().collect();
        topics.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut hits: Vec<SearchHit> = hits.into_iter().skip(q.offset).take(q.limit).collect();
        self.fill_bodies(&mut hits).await?;
        Ok(SearchResults { hits, total, types, topics })
    }

    /// The indexed text of the hits shown, for their snippets.
    async fn fill_bodies(&self, hits: &mut [SearchHit]) -> StoreResult<()> {
        if hits.is_empty() {
            return Ok(());
        }
        let select = Query::select()
            .columns([col("entry_id"), col("body")])
            .from(table())
            .and_where(Expr::col(col("entry_id")).is_in(hits.iter().map(|h| h.entry_id)))
            .to_owned();
        let backend = self.store().backend;
        let rows = self.store().read.query_all_raw(db(backend).build(&select)).await?;
        let mut bodies: HashMap<uuid::Uuid, String> = HashMap::with_capacity(rows.len());
        for row in rows {
            bodies.insert(row.try_get("", "entry_id")?, row.try_get("", "body")?);
        }
        for hit in hits {
            if let Some(body) = bodies.remove(&hit.entry_id) {
                hit.body = body;
            }
        }
        Ok(())
    }
}

impl crate::Store {
    /// Indexes the entries that have no search document yet (entries written before the index
    /// existed). Returns how many it indexed; cheap when there are none.
    pub async fn index_missing(&self) -> StoreResult<usize> {
        use sea_orm::{EntityTrait, QueryFilter, QuerySelect};
        let mut done = 0;
        let mut types: HashMap<(String, String), Option<ContentType>> = HashMap::new();
        loop {
            let batch = entry::Entity::find()
                .filter(Expr::cust(
                    r#"NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.entry_id = "entries"."id")"#,
                ))
                .limit(500)
                .all(&self.read)
                .await?;
            if batch.is_empty() {
                return Ok(done);
            }
            let mut progressed = false;
            for e in batch {
                let key = (e.tenant_id.clone(), e.type_id.clone());
                if !types.contains_key(&key) {
                    let row = crate::entity::content_type::Entity::find_by_id(key.clone()).one(&self.read).await?;
                    let ct = row.and_then(|r| {
                        let def = serde_json::from_value(r.definition).ok()?;
                        ContentType::parse(&r.api_id, &def).ok()
                    });
                    types.insert(key.clone(), ct);
                }
                if let Some(Some(ct)) = types.get(&key) {
                    index_entry(&self.write, ct, &e, Indexed::Maybe).await?;
                    done += 1;
                    progressed = true;
                    if done % 10_000 == 0 {
                        tracing::info!(indexed = done, "indexing the entries that have no search document yet");
                    }
                }
            }
            if !progressed {
                return Ok(done);
            }
        }
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
