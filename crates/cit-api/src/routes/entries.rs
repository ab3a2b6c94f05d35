//! `/api/v1/t/{tenant}/entries/{type}`: entries of a content type. Published content is public
//! (unless the tenant says otherwise); drafts need a preview token or an editor's session.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::content::{ContentType, Field, FieldKind, Mode, Slug, Validated, validate_data};
use cit_core::{Action, Actor, TenantAccess, authorize};
use cit_store::{
    Cursor, Entry, EntryChange, EntryStatus, Filter, FilterValue, ListQuery, NewEntry, Op, Revision, SortKey, SysField,
    Target, Tenant, ValueType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Auth, Json};
use crate::http_cache::{Cacheability, json_with_etag};
use crate::render::markdown_to_html;
use crate::state::{AppState, State};

// ---- shapes ------------------------------------------------------------------------------

/// An entry as written. Only `data` is required; on update every key is optional and `data`
/// is merged into the current data key by key (a key set to null clears that field).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryWrite {
    #[schema(value_type = Object)]
    pub data: Option<Map<String, Value>>,
    /// Defaults to the tenant's first locale.
    pub locale: Option<String>,
    /// Defaults to one derived from the title (accents folded: "Attività" → "attivita").
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<Slug>,
    /// draft (default), published or archived.
    #[schema(schema_with = crate::openapi::shapes::entry_status)]
    pub status: Option<String>,
    /// When a draft becomes published by itself. Null clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    /// When a published entry becomes archived by itself. Null clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    /// On create: the id of the entry (same type) this one translates.
    pub translation_of: Option<uuid::Uuid>,
    /// On update: the revision you read; a 409 `stale` answers if somebody saved since.
    pub revision: Option<i32>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranslationView {
    pub locale: String,
    pub id: uuid::Uuid,
    pub slug: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub type_id: String,
    pub locale: String,
    pub slug: String,
    pub status: String,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// Richtext fields rendered to sanitised HTML.
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub html: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub translation_group: uuid::Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<Vec<TranslationView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryList {
    pub data: Vec<EntryView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    pub revision: i32,
    pub slug: String,
    pub status: String,
    /// created, updated, published, unpublished, archived, restored:N, scheduled_publish, scheduled_unpublish.
    pub note: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

impl From<Revision> for RevisionView {
    fn from(r: Revision) -> Self {
        Self {
            revision: r.revision,
            slug: r.slug,
            status: r.status.as_str().to_owned(),
            note: r.note,
            author: r.author,
            created_at: r.created_at,
            data: r.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    /// Any JSON value; null when the field was not set.
    pub before: Value,
    /// Any JSON value; null when the field is not set.
    pub after: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffView {
    pub from: i32,
    pub to: i32,
    pub changes: Vec<FieldChange>,
}

/// Query parameters of reads. Filters are `filter[field][op]=value` (ops: eq, ne, lt, lte, gt,
/// gte, in (comma-separated), contains, starts_with, null (true/false)); see the README.
#[derive(Debug, Default, IntoParams)]
pub struct ReadParams {
    /// Comma-separated sort keys, `-` for descending: `-published_at,title`. Default `-published_at`.
    pub sort: Option<String>,
    /// Comma-separated data fields to return (others are left out of `data`).
    pub fields: Option<String>,
    /// Only entries in this locale (default: the tenant's first locale).
    pub locale: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// published (default), draft, archived, or any; comma-separated. Other than published
    /// needs a preview token or an editor.
    pub status: Option<String>,
    /// Comma-separated reference fields to embed, resolved in one query.
    pub expand: Option<String>,
}

// ---- helpers -----------------------------------------------------------------------------

fn bad_query(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "invalid_query", detail: format!("{field}: {}", message.into()) }
}

struct Parsed {
    params: ReadParams,
    filters: Vec<(String, String, String)>,
}

fn parse_query(req: &HttpRequest) -> ApiResult<Parsed> {
    let mut params = ReadParams::default();
    let mut filters = Vec::new();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "sort" => params.sort = Some(value),
            "fields" => params.fields = Some(value),
            "locale" => params.locale = Some(value),
            "limit" => params.limit = Some(value.parse().map_err(|_| bad_query("limit", "a number from 1 to 100"))?),
            "cursor" => params.cursor = Some(value),
            "status" => params.status = Some(value),
            "expand" => params.expand = Some(value),
            k if k.starts_with("filter[") => {
                let inner = k
                    .strip_prefix("filter[")
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| bad_query(k, "write filter[field][op]=value"))?;
                let (field, op) = match inner.split_once("][") {
                    Some((f, o)) => (f.to_owned(), o.to_owned()),
                    None => (inner.to_owned(), "eq".to_owned()),
                };
                filters.push((field, op, value));
            }
            other => return Err(bad_query(other, "unknown parameter")),
        }
    }
    Ok(Parsed { params, filters })
}

fn value_type(field: &Field) -> Option<ValueType> {
    Some(match &field.kind {
        FieldKind::Integer | FieldKind::Decimal => ValueType::Number,
        FieldKind::Boolean => ValueType::Bool,
        FieldKind::Tags | FieldKind::Reference { many: true, .. } => ValueType::Array,
        FieldKind::Geopoint | FieldKind::Json => return None,
        _ => ValueType::Text,
    })
}

fn target(ct: &ContentType, name: &str) -> ApiResult<Target> {
    if let Some(sys) = SysField::parse(name) {
        return Ok(Target::Sys(sys));
    }
    let field = ct.field(name).ok_or_else(|| bad_query(name, format!("{} has no field {name}", ct.id)))?;
    let vt = value_type(field).ok_or_else(|| bad_query(name, "this field cannot be filtered or sorted"))?;
    Ok(Target::Data(field.name.clone(), vt))
}

fn scalar(vt: ValueType, raw: &str, name: &str) -> ApiResult<FilterValue> {
    Ok(match vt {
        ValueType::Text | ValueType::Array => FilterValue::Text(raw.to_owned()),
        ValueType::Number => FilterValue::Number(raw.parse().map_err(|_| bad_query(name, "expected a number"))?),
        ValueType::Bool => FilterValue::Bool(raw.parse().map_err(|_| bad_query(name, "expected true or false"))?),
        ValueType::Time => FilterValue::Time(
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| bad_query(name, "expected an RFC 3339 date-time"))?
                .with_timezone(&Utc),
        ),
        ValueType::Uuid => FilterValue::Uuid(raw.parse().map_err(|_| bad_query(name, "expected an id"))?),
    })
}

fn parse_filter(ct: &ContentType, field: &str, op: &str, raw: &str) -> ApiResult<Filter> {
    let name = format!("filter[{field}][{op}]");
    let target = target(ct, field)?;
    let op = Op::parse(op).ok_or_else(|| bad_query(&name, "unknown operator"))?;
    let vt = target.value_type();
    let allowed = match vt {
        ValueType::Array => matches!(op, Op::Contains | Op::Null),
        ValueType::Bool => matches!(op, Op::Eq | Op::Ne | Op::Null),
        ValueType::Text => true,
        ValueType::Number | ValueType::Time | ValueType::Uuid => !matches!(op, Op::Contains | Op::StartsWith),
    };
    if !allowed {
        return Err(bad_query(&name, "this operator does not apply to this field"));
    }
    let value = match op {
        Op::Null => FilterValue::Bool(raw.parse().map_err(|_| bad_query(&name, "expected true or false"))?),
        Op::In => FilterValue::List(raw.split(',').map(|v| scalar(vt, v.trim(), &name)).collect::<ApiResult<_>>()?),
        _ => scalar(vt, raw, &name)?,
    };
    Ok(Filter { target, op, value })
}

fn parse_sort(ct: &ContentType, raw: Option<&str>) -> ApiResult<Vec<SortKey>> {
    let raw = raw.unwrap_or("-published_at");
    let mut keys = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (desc, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part),
        };
        let t = target(ct, name)?;
        if matches!(t.value_type(), ValueType::Array | ValueType::Bool) {
            return Err(bad_query("sort", format!("cannot sort by {name}")));
        }
        keys.push(SortKey { target: t, desc });
    }
    Ok(keys)
}

fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<EntryStatus>> {
    match raw {
        None => Ok(vec![EntryStatus::Published]),
        Some("any") => Ok(EntryStatus::ALL.to_vec()),
        Some(raw_list) => raw_list
            .split(',')
            .map(|s| {
                EntryStatus::parse(s.trim()).ok_or_else(|| bad_query("status", "published, draft, archived or any"))
            })
            .collect(),
    }
}

fn parse_status(raw: &str) -> ApiResult<EntryStatus> {
    EntryStatus::parse(raw).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "status",
            "invalid_status",
            "status is draft, published or archived",
        )])
    })
}

fn locale_of(tenant: &Tenant, requested: Option<&str>) -> ApiResult<String> {
    match requested {
        Some(l) if tenant.locales.iter().any(|t| t == l) => Ok(l.to_owned()),
        Some(l) => Err(ApiError::Validation(vec![FieldError::new(
            "locale",
            "unknown_locale",
            format!("{l} is not a locale of this tenant ({})", tenant.locales.join(", ")),
        )])),
        None => Ok(tenant.locales.first().cloned().unwrap_or_else(|| "it".into())),
    }
}

fn data_errors(errors: Vec<cit_core::content::DataError>) -> ApiError {
    ApiError::Validation(
        errors.into_iter().map(|e| FieldError::new(format!("data.{}", e.path), e.code, e.message)).collect(),
    )
}

fn validate(ct: &ContentType, data: &Map<String, Value>, mode: Mode, defaults: bool) -> ApiResult<Validated> {
    validate_data(ct, data, mode, defaults).map_err(data_errors)
}

/// The content type named in the path, or 404.
async fn content_type(state: &AppState, access: &TenantAccess, type_id: &str) -> ApiResult<ContentType> {
    Ok(state.store.scoped(access).content_type(type_id).await?.ok_or(ApiError::NotFound("content type"))?.ct)
}

fn view(ct: &ContentType, e: Entry, fields: Option<&HashSet<String>>) -> EntryView {
    let mut data = e.data;
    if let Some(keep) = fields {
        data.retain(|k, _| keep.contains(k));
    }
    let mut html = Map::new();
    for f in &ct.fields {
        if f.kind == FieldKind::Richtext
            && let Some(Value::String(md)) = data.get(f.name.as_str())
        {
            html.insert(f.name.to_string(), Value::String(markdown_to_html(md)));
        }
    }
    EntryView {
        id: e.id,
        type_id: e.type_id,
        locale: e.locale,
        slug: e.slug,
        status: e.status.as_str().to_owned(),
        data,
        html,
        created_at: e.created_at,
        updated_at: e.updated_at,
        published_at: e.published_at,
        publish_at: e.publish_at,
        unpublish_at: e.unpublish_at,
        revision: e.revision,
        translation_group: e.translation_group,
        translations: None,
    }
}

fn summary(e: &Entry) -> Value {
    serde_json::json!({"id": e.id, "type": e.type_id, "slug": e.slug, "locale": e.locale, "status": e.status.as_str(), "data": e.data})
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
    let id_of = |v: &Value| v.as_str().and_then(|s| s.parse::<uuid::Uuid>().ok());
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
    let found: HashMap<uuid::Uuid, Value> =
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

fn read_action(statuses: &[EntryStatus]) -> Action {
    if statuses.iter().all(|s| *s == EntryStatus::Published) { Action::ReadPublished } else { Action::ReadDrafts }
}

fn cacheability(tenant: &Tenant, statuses: &[EntryStatus]) -> Cacheability {
    if tenant.public_read && statuses == [EntryStatus::Published] {
        Cacheability::Public
    } else {
        Cacheability::Private
    }
}

fn field_set(raw: Option<&str>) -> Option<HashSet<String>> {
    raw.map(|r| r.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

fn grant(actor: &Actor, tenant: &Tenant, action: Action) -> ApiResult<TenantAccess> {
    Ok(authorize(actor, tenant.facts(), action)?)
}

// ---- handlers ----------------------------------------------------------------------------

/// List entries with filters, sorts, sparse fields, locale and cursor pagination.
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path), ("type" = String, Path), ReadParams),
    responses(
        (status = 200, body = EntryList, description = "With a strong ETag; 304 on If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
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
    let locale =
        locale_of(&tenant, params.locale.as_deref()).map_err(|_| bad_query("locale", "not a locale of this tenant"))?;
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
    let (entries, next) = state.store.scoped(&access).list_entries(&query).await.map_err(|e| match e {
        cit_store::StoreError::Invalid { code: "invalid_cursor", .. } => {
            bad_query("cursor", "not a cursor of this list")
        }
        other => other.into(),
    })?;
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
    responses((status = 200, body = EntryView), (status = 304), (status = 404, body = Problem, content_type = "application/problem+json"))
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
    let locale =
        locale_of(&tenant, params.locale.as_deref()).map_err(|_| bad_query("locale", "not a locale of this tenant"))?;
    let scoped = state.store.scoped(&access);
    let entry = scoped.entry(ct.id.as_str(), &key, &locale, &statuses).await?.ok_or(ApiError::NotFound("entry"))?;
    let translations = scoped.translations(&entry, &statuses).await?;
    let fields = field_set(params.fields.as_deref());
    let mut views = vec![view(&ct, entry, fields.as_ref())];
    expand(&state, &access, &ct, &mut views, params.expand.as_deref(), &statuses).await?;
    let mut one = views.remove(0);
    one.translations =
        Some(translations.into_iter().map(|(locale, id, slug)| TranslationView { locale, id, slug }).collect());
    json_with_etag(&req, &one, cacheability(&tenant, &statuses))
}

/// Create an entry. Drafts may be incomplete; `status: "published"` or a `publish_at` needs
/// every required field and the right to publish (editors, admins, `write` tokens).
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path)),
    request_body = EntryWrite,
    responses(
        (status = 201, body = EntryView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/entries/{type}")]
pub async fn create(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<EntryWrite>,
) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id) = path.into_inner();
    let w = body.0;
    let status = match &w.status {
        Some(s) => parse_status(s)?,
        None => EntryStatus::Draft,
    };
    let publish_at = w.publish_at.flatten();
    let action = if status != EntryStatus::Draft || publish_at.is_some() {
        Action::PublishContent
    } else {
        Action::WriteContent
    };
    let (tenant, access) = state.tenant_access(&auth, &tenant_id, action).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    if w.revision.is_some() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "revision",
            "unknown_field",
            "revision applies to updates",
        )]));
    }
    if publish_at.is_some() && status != EntryStatus::Draft {
        return Err(ApiError::Validation(vec![FieldError::new(
            "publish_at",
            "conflicting_status",
            "a scheduled entry stays a draft until publish_at",
        )]));
    }
    let locale = locale_of(&tenant, w.locale.as_deref())?;
    let data = w
        .data
        .ok_or_else(|| ApiError::Validation(vec![FieldError::new("data", "missing_field", "`data` is required")]))?;
    let mode = if action == Action::PublishContent { Mode::Publish } else { Mode::Draft };
    let validated = validate(&ct, &data, mode, true)?;
    let entry = state
        .store
        .scoped(&access)
        .create_entry(
            &ct,
            NewEntry {
                locale,
                slug: w.slug,
                status,
                data: validated,
                publish_at,
                unpublish_at: w.unpublish_at.flatten(),
                translation_of: w.translation_of,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view(&ct, entry, None)))
}

/// Change an entry: merge `data`, change slug, status or schedule. Changing a published entry,
/// or publishing, needs the right to publish.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = EntryWrite,
    responses(
        (status = 200, body = EntryView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/t/{tenant}/entries/{type}/{id}")]
pub async fn update(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
    body: Json<EntryWrite>,
) -> ApiResult<web::Json<EntryView>> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound("entry"))?;
    let w = body.0;
    if w.locale.is_some() || w.translation_of.is_some() {
        let field = if w.locale.is_some() { "locale" } else { "translation_of" };
        return Err(ApiError::Validation(vec![FieldError::new(
            field,
            "immutable",
            "create a translation instead of changing the locale",
        )]));
    }
    let (tenant, actor) = state.tenant_actor(&auth, &tenant_id).await?;
    let write = grant(&actor, &tenant, Action::WriteContent)?;
    let ct = content_type(&state, &write, &type_id).await?;
    let current = state
        .store
        .scoped(&write)
        .entry(ct.id.as_str(), &id.to_string(), "", &EntryStatus::ALL)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;

    let status = match &w.status {
        Some(s) => parse_status(s)?,
        None => current.status,
    };
    let publish_at = w.publish_at.unwrap_or(current.publish_at);
    if publish_at.is_some() && status == EntryStatus::Archived {
        return Err(ApiError::Validation(vec![FieldError::new(
            "publish_at",
            "conflicting_status",
            "an archived entry cannot be scheduled",
        )]));
    }
    let publishing = status != EntryStatus::Draft || publish_at.is_some() || current.status != EntryStatus::Draft;
    let access = if publishing { grant(&actor, &tenant, Action::PublishContent)? } else { write };
    let data = match (&w.data, w.status.is_some() || w.publish_at.is_some()) {
        (None, false) => None,
        (patch, _) => {
            let mut merged = current.data.clone();
            for (k, v) in patch.clone().unwrap_or_default() {
                merged.insert(k, v);
            }
            let mode = if status == EntryStatus::Published || (status == EntryStatus::Draft && publish_at.is_some()) {
                Mode::Publish
            } else {
                Mode::Draft
            };
            Some(validate(&ct, &merged, mode, false)?)
        }
    };
    let change = EntryChange {
        data,
        slug: w.slug,
        status: w.status.as_ref().map(|_| status),
        publish_at: w.publish_at,
        unpublish_at: w.unpublish_at,
        note: None,
    };
    let entry = state.store.scoped(&access).update_entry(&ct, id, w.revision, change).await?;
    Ok(web::Json(view(&ct, entry, None)))
}

/// Delete an entry and its revisions (editors and admins).
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/api/v1/t/{tenant}/entries/{type}/{id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<(String, String, String)>) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound("entry"))?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::PublishContent).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    state.store.scoped(&access).delete_entry(ct.id.as_str(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every saved version of an entry, newest first.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = super::List<RevisionView>))
)]
#[get("/api/v1/t/{tenant}/entries/{type}/{id}/revisions")]
pub async fn revisions(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
) -> ApiResult<web::Json<super::List<RevisionView>>> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound("entry"))?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::ReadDrafts).await?;
    let revs = state.store.scoped(&access).revisions(&type_id, id).await?;
    Ok(web::Json(super::List::all(revs.into_iter().map(RevisionView::from).collect())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffParams {
    /// The revision to compare with; default the one before.
    pub against: Option<i32>,
}

fn parse_rev(raw: &str) -> ApiResult<i32> {
    raw.parse().map_err(|_| ApiError::NotFound("revision"))
}

/// What changed between two revisions, field by field.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path), ("n" = i32, Path), DiffParams),
    responses((status = 200, body = DiffView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/api/v1/t/{tenant}/entries/{type}/{id}/revisions/{n}/diff")]
pub async fn diff(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String, String)>,
    q: web::Query<DiffParams>,
) -> ApiResult<web::Json<DiffView>> {
    let (tenant_id, type_id, id, n) = path.into_inner();
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound("entry"))?;
    let n = parse_rev(&n)?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::ReadDrafts).await?;
    let scoped = state.store.scoped(&access);
    let to = scoped.revision(&type_id, id, n).await?;
    let from_n = q.against.unwrap_or(n - 1);
    let from = if from_n == 0 { None } else { Some(scoped.revision(&type_id, id, from_n).await?) };
    let before = from.map(|r| r.data).unwrap_or_default();
    let mut keys: Vec<&String> = before.keys().chain(to.data.keys()).collect();
    keys.sort();
    keys.dedup();
    let changes = keys
        .into_iter()
        .filter(|k| before.get(*k) != to.data.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            before: before.get(k).cloned().unwrap_or(Value::Null),
            after: to.data.get(k).cloned().unwrap_or(Value::Null),
        })
        .collect();
    Ok(web::Json(DiffView { from: from_n, to: n, changes }))
}

/// Bring back the data of an old revision, as a new revision. Status and schedule stay.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path), ("n" = i32, Path)),
    responses((status = 200, body = EntryView), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/api/v1/t/{tenant}/entries/{type}/{id}/revisions/{n}/restore")]
pub async fn restore(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<web::Json<EntryView>> {
    let (tenant_id, type_id, id, n) = path.into_inner();
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound("entry"))?;
    let n = parse_rev(&n)?;
    let (tenant, actor) = state.tenant_actor(&auth, &tenant_id).await?;
    let read = grant(&actor, &tenant, Action::ReadDrafts)?;
    let ct = content_type(&state, &read, &type_id).await?;
    let scoped = state.store.scoped(&read);
    let old = scoped.revision(ct.id.as_str(), id, n).await?;
    let current = scoped
        .entry(ct.id.as_str(), &id.to_string(), "", &EntryStatus::ALL)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    let action = if current.status == EntryStatus::Draft && current.publish_at.is_none() {
        Action::WriteContent
    } else {
        Action::PublishContent
    };
    let access = grant(&actor, &tenant, action)?;
    let mode = if action == Action::PublishContent && current.status != EntryStatus::Archived {
        Mode::Publish
    } else {
        Mode::Draft
    };
    let data = validate(&ct, &old.data, mode, false)?;
    let change = EntryChange { data: Some(data), note: Some(format!("restored:{n}")), ..EntryChange::default() };
    let entry = state.store.scoped(&access).update_entry(&ct, id, None, change).await?;
    Ok(web::Json(view(&ct, entry, None)))
}
