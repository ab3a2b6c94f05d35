//! Reads: a list with filters, sorts and cursor pagination, and one entry by id or slug, with
//! references expanded in one query.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use cit_core::content::{ContentType, FieldKind};
use cit_core::{EntryId, Locale, TenantAccess};
use cit_store::{Cursor, EntryKey, EntryStatus, ListQuery};
use serde_json::Value;

use super::content_type;
use super::query::{
    Parsed, ReadParams, bad_query, cacheability, field_set, parse_filter, parse_query, parse_sort, parse_statuses,
    read_action,
};
use super::shapes::{EntryList, EntryView, TranslationView, summary, view};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Auth;
use crate::http_cache::json_with_etag;
use crate::state::{AppState, State};

/// List entries with filters, sorts, sparse fields, locale and cursor pagination.
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path), ("type" = String, Path), ReadParams),
    responses(
        (status = 200, body = EntryList, description = "With a strong ETag; 304 on If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/t/{tenant}/entries/{type}")]
pub async fn list(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id) = path.into_inner();
    let Parsed { params, filters } = parse_query(&req)?;
    let statuses = parse_statuses(params.status.as_deref())?;
    let (tenant, access) = state.tenant_access(&auth, &tenant_id, read_action(&statuses)).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    let locale = Locale::of_tenant(&tenant.locales, params.locale.as_deref())
        .map_err(|_| bad_query("locale", "not a locale of this tenant"))?;
    let filters = filters.iter().map(|(f, op, v)| parse_filter(&ct, f, op, v)).collect::<ApiResult<Vec<_>>>()?;
    let after = match &params.cursor {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| bad_query("cursor", "not a cursor of this list"))?),
        None => None,
    };
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad_query("limit", "a number from 1 to 100"));
    }
    let query = ListQuery {
        type_id: ct.id.clone(),
        locale: Some(locale),
        statuses: statuses.clone(),
        filters,
        sort: parse_sort(&ct, params.sort.as_deref())?,
        limit,
        after,
    };
    let (entries, next) = state.store.scoped(&access).list_entries(&query).await?;
    let fields = field_set(params.fields.as_deref());
    let mut views: Vec<EntryView> = entries.into_iter().map(|e| view(&ct, e, fields.as_ref())).collect();
    expand(&state, &access, &ct, &mut views, params.expand.as_deref(), &statuses).await?;
    json_with_etag(
        &req,
        &EntryList { data: views, next_cursor: next.map(|c| c.encode()) },
        cacheability(&tenant, &statuses),
    )
}

/// One entry, by id or by slug (in `locale`).
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = String, Path, description = "The entry's id, or its slug"), ReadParams),
    responses((status = 200, body = EntryView), (status = 304))
)]
#[get("/api/v1/t/{tenant}/entries/{type}/{id}")]
pub async fn get_one(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id, key) = path.into_inner();
    let Parsed { params, filters } = parse_query(&req)?;
    if !filters.is_empty() || params.cursor.is_some() || params.sort.is_some() || params.limit.is_some() {
        return Err(bad_query("query", "filters, sort, limit and cursor apply to lists"));
    }
    let statuses = parse_statuses(params.status.as_deref())?;
    let (tenant, access) = state.tenant_access(&auth, &tenant_id, read_action(&statuses)).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    let locale = Locale::of_tenant(&tenant.locales, params.locale.as_deref())
        .map_err(|_| bad_query("locale", "not a locale of this tenant"))?;
    let scoped = state.store.scoped(&access);
    let entry = scoped
        .entry(ct.id.as_str(), EntryKey::parse(&key, &locale), &statuses)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    let translations = scoped.translations(&entry, &statuses).await?;
    let fields = field_set(params.fields.as_deref());
    let mut views = vec![view(&ct, entry, fields.as_ref())];
    expand(&state, &access, &ct, &mut views, params.expand.as_deref(), &statuses).await?;
    let mut one = views.remove(0);
    one.translations =
        Some(translations.into_iter().map(|(locale, id, slug)| TranslationView { locale, id: id.0, slug }).collect());
    json_with_etag(&req, &one, cacheability(&tenant, &statuses))
}

/// Replaces reference ids in `views` by the entries they name, for the `expand` fields: one
/// query for the whole page, whatever the number of entries and references.
async fn expand(
    state: &AppState,
    access: &TenantAccess,
    ct: &ContentType,
    views: &mut [EntryView],
    raw: Option<&str>,
    statuses: &[EntryStatus],
) -> ApiResult<()> {
    let Some(raw) = raw else { return Ok(()) };
    let mut fields = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match ct.field(name).map(|f| &f.kind) {
            Some(FieldKind::Reference { .. }) => fields.push(name.to_owned()),
            _ => return Err(bad_query("expand", format!("{name} is not a reference field of {}", ct.id))),
        }
    }
    let id_of = |v: &Value| v.as_str().and_then(|s| s.parse::<uuid::Uuid>().ok()).map(EntryId::from);
    let mut ids = Vec::new();
    for v in views.iter() {
        for f in &fields {
            match v.data.get(f) {
                Some(Value::Array(items)) => ids.extend(items.iter().filter_map(id_of)),
                Some(one) => ids.extend(id_of(one)),
                None => {}
            }
        }
    }
    ids.sort();
    ids.dedup();
    let found: HashMap<EntryId, Value> =
        state.store.scoped(access).entries_by_ids(&ids, statuses).await?.iter().map(|e| (e.id, summary(e))).collect();
    for v in views.iter_mut() {
        for f in &fields {
            if let Some(value) = v.data.get_mut(f) {
                *value = match value.take() {
                    Value::Array(items) => Value::Array(
                        items.iter().filter_map(|i| id_of(i).and_then(|id| found.get(&id).cloned())).collect(),
                    ),
                    one => id_of(&one).and_then(|id| found.get(&id).cloned()).unwrap_or(Value::Null),
                };
            }
        }
    }
    Ok(())
}
