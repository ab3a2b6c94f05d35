//! The search index: one document per entry, kept current in the transaction of every write,
//! and the ranked, faceted query over it. The SQL of each backend's full-text engine lives in
//! the scoped layer ([`crate::scoped::search_index`]), with the tenant condition of each statement.

use std::collections::HashMap;

use cit_core::PlatformAccess;
use cit_core::content::{ContentType, FieldKind};
use cit_core::search::{plain, stems};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::EntryStatus;
use crate::StoreResult;
use crate::entity::entry;
use crate::scoped::{TenantStore, search_index};

/// The content type whose entries are topics: references to it become the topic facet.
pub const TOPIC_TYPE: &str = "argomento";
/// Matches considered for ranking and facets.
pub(crate) const MAX_MATCHES: u64 = 1000;

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

/// What a search document holds, worked out from an entry and its type.
pub(crate) struct Document {
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) topics: Vec<String>,
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
    let stemmed = (stems(&doc.title).join(" "), stems(&doc.body).join(" "));
    search_index::write(conn, e, &doc, stemmed, indexed == Indexed::Maybe).await
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
        let matches = self.search_matches(q).await?;
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
        let ids: Vec<uuid::Uuid> = hits.iter().map(|h| h.entry_id).collect();
        let mut bodies = self.search_bodies(&ids).await?;
        for hit in hits {
            if let Some(body) = bodies.remove(&hit.entry_id) {
                hit.body = body;
            }
        }
        Ok(())
    }
}

impl crate::Store {
    /// Indexes the entries of every tenant that have no search document yet (entries written
    /// before the index existed). Returns how many it indexed; cheap when there are none.
    /// Cross-tenant, so it needs the platform's [`cit_core::PlatformAction::IndexSearch`] capability.
    pub async fn index_missing(&self, access: &PlatformAccess) -> StoreResult<usize> {
        let mut done = 0;
        let mut types: HashMap<(String, String), Option<ContentType>> = HashMap::new();
        loop {
            let batch = self.entries_without_document(access, 500).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            let mut progressed = false;
            for e in batch {
                let key = (e.tenant_id.clone(), e.type_id.clone());
                if !types.contains_key(&key) {
                    let row = self.content_type_row(access, &key.0, &key.1).await?;
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
