//! `GET /api/v1/t/{tenant}/search`: Italian-aware full-text search across content types,
//! ranked, with facets by type and topic and highlighted snippets.

use actix_web::{HttpRequest, HttpResponse, get, web};
use cit_core::search::{query_terms, snippet};
use cit_core::{Action, EntryId, Locale};
use cit_store::{EntryStatus, SearchQuery, TenantStore};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::http_cache::{Cacheability, json_with_etag};
use crate::state::State;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// What to look for (1–200 characters). Words are stemmed: "servizi digitali" finds
    /// "servizio di digitalizzazione".
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Only these content types (comma-separated api ids).
    #[serde(rename = "type")]
    pub types: Option<String>,
    /// Only entries tagged with this topic (an `argomento` id).
    pub topic: Option<uuid::Uuid>,
    pub locale: Option<String>,
    /// 1–50, default 10.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// published (default) or any; other than published needs a preview token or an editor.
    #[param(pattern = "^(published|any)$")]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitView {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub type_id: String,
    pub slug: String,
    pub status: String,
    pub title: String,
    /// A piece of the text with the matches in `<mark>`; HTML-escaped.
    pub snippet: String,
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facet {
    /// A content type api id, or a topic id.
    pub value: String,
    /// The topic's title, for topic facets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facets {
    pub types: Vec<Facet>,
    pub topics: Vec<Facet>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchView {
    pub total: usize,
    pub data: Vec<SearchHitView>,
    pub facets: Facets,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "invalid_query", detail: format!("{field}: {}", message.into()) }
}

/// Search the tenant's entries.
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path), SearchParams),
    responses(
        (status = 200, body = SearchView),
    )
)]
#[get("/api/v1/t/{tenant}/search")]
pub async fn search(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let terms = query_terms(&p.q).map_err(|e| invalid("q", e.message))?;
    let statuses = match p.status.as_deref() {
        None | Some("published") => vec![EntryStatus::Published],
        Some("any") => EntryStatus::ALL.to_vec(),
        Some(_) => return Err(invalid("status", "published or any")),
    };
    let action = if statuses == [EntryStatus::Published] { Action::ReadPublished } else { Action::ReadDrafts };
    let (tenant, access) = state.tenant_access(&auth, &path, action).await?;
    let locale = Locale::of_tenant(&tenant.locales, p.locale.as_deref())
        .map_err(|_| invalid("locale", "not a locale of this tenant"))?
        .to_string();
    let limit = p.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(invalid("limit", "limit is between 1 and 50"));
    }
    let query = SearchQuery {
        terms,
        types: p
            .types
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        topic: p.topic,
        locale,
        statuses: statuses.clone(),
        limit,
        offset: p.offset.unwrap_or(0),
    };
    let view = run(&state.store.scoped(&access), &query).await?;
    let cache = if tenant.public_read && statuses == [EntryStatus::Published] {
        Cacheability::Public
    } else {
        Cacheability::Private
    };
    json_with_etag(&req, &view, cache)
}

/// Runs a search and shapes its answer (REST and GraphQL answer alike): snippets from the body
/// (or the title), topic facets with their titles (the first 20 topics the caller may see).
pub(crate) async fn run(scoped: &TenantStore<'_>, query: &SearchQuery) -> ApiResult<SearchView> {
    let results = scoped.search(query).await?;
    let topic_ids: Vec<EntryId> = results.topics.iter().take(20).map(|(id, _)| EntryId::from(*id)).collect();
    let topic_titles = scoped.entries_by_ids(&topic_ids, &query.statuses).await?;
    let title_of = |id: &uuid::Uuid| {
        topic_titles
            .iter()
            .find(|e| e.id.0 == *id)
            .and_then(|e| e.data.get("title"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Ok(SearchView {
        total: results.total,
        data: results
            .hits
            .into_iter()
            .map(|h| SearchHitView {
                snippet: snippet(if h.body.is_empty() { &h.title } else { &h.body }, &query.terms, 24),
                id: h.entry_id,
                type_id: h.type_id,
                slug: h.slug,
                status: h.status.as_str().to_owned(),
                title: h.title,
                score: h.score,
            })
            .collect(),
        facets: Facets {
            types: results.types.into_iter().map(|(value, count)| Facet { value, title: None, count }).collect(),
            topics: results
                .topics
                .iter()
                .take(20)
                .filter_map(|(id, count)| {
                    title_of(id).map(|title| Facet { value: id.to_string(), title: Some(title), count: *count })
                })
                .collect(),
        },
    })
}
