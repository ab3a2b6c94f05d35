//! `/api/v1/t/{tenant}/content-types`: read the content model, and change it (tenant admins)
//! through the same validation and data-loss checks as `cit schema apply`.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::content::{ContentType, ContentTypeDef, check_references};
use cit_store::{ApplyReport, PlannedChange, StoredType};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::List;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Auth, Json};
use crate::http_cache::{Cacheability, json_with_etag};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentTypeView {
    pub api_id: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    /// The definition, in the format of `schema/*.toml` (see schema/README.md).
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

impl From<StoredType> for ContentTypeView {
    fn from(t: StoredType) -> Self {
        Self {
            api_id: t.ct.id.to_string(),
            version: t.version,
            updated_at: t.updated_at,
            definition: serde_json::to_value(t.ct.def()).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// One line, e.g. `+ notizia.sottotitolo`, `- notizia.vecchio`, `! notizia.title: max 200 → 100`.
    pub change: String,
    /// Whether the change could lose data, and how many entries hold such data.
    pub may_lose_data: bool,
    pub affected_entries: u64,
}

impl From<&PlannedChange> for ChangeView {
    fn from(c: &PlannedChange) -> Self {
        Self {
            change: c.change.to_string(),
            may_lose_data: c.change.may_lose_data(),
            affected_entries: c.affected_entries,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyView {
    pub applied: bool,
    pub changes: Vec<ChangeView>,
}

impl From<ApplyReport> for ApplyView {
    fn from(r: ApplyReport) -> Self {
        Self { applied: r.applied, changes: r.changes.iter().map(ChangeView::from).collect() }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// Apply even when entries would lose data.
    #[serde(default)]
    pub force: bool,
    /// Only report what would change.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: i32,
    /// Null when this version removed the type.
    #[schema(value_type = Option<Object>)]
    pub definition: Option<serde_json::Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

fn schema_errors(errors: Vec<cit_core::InvalidInput>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(|e| FieldError::new("definition", e.code, e.message)).collect())
}

/// The tenant's content types.
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path)),
    responses((status = 200, body = List<ContentTypeView>))
)]
#[get("/api/v1/t/{tenant}/content-types")]
pub async fn list(state: State, auth: Auth, req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (tenant, access) = state.tenant_access(&auth, &path, Action::ReadPublished).await?;
    let types = state.store.scoped(&access).content_types().await?;
    let cache = if tenant.public_read { Cacheability::Public } else { Cacheability::Private };
    json_with_etag(&req, &List::all(types.into_iter().map(ContentTypeView::from).collect()), cache)
}

/// One content type.
#[utoipa::path(
    tag = "content",
    params(("tenant" = String, Path), ("api_id" = String, Path)),
    responses((status = 200, body = ContentTypeView))
)]
#[get("/api/v1/t/{tenant}/content-types/{api_id}")]
pub async fn get_one(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (tenant, api_id) = path.into_inner();
    let (tenant, access) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let ct = state.store.scoped(&access).content_type(&api_id).await?.ok_or(ApiError::NotFound("content type"))?;
    let cache = if tenant.public_read { Cacheability::Public } else { Cacheability::Private };
    json_with_etag(&req, &ContentTypeView::from(ct), cache)
}

/// Every version of a content type, newest first.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("api_id" = String, Path)),
    responses((status = 200, body = List<VersionView>))
)]
#[get("/api/v1/t/{tenant}/content-types/{api_id}/versions")]
pub async fn versions(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<List<VersionView>>> {
    let (tenant, api_id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageSchema).await?;
    let versions = state.store.scoped(&access).content_type_versions(&api_id).await?;
    if versions.is_empty() {
        return Err(ApiError::NotFound("content type"));
    }
    Ok(web::Json(List::all(
        versions
            .into_iter()
            .map(|(version, definition, actor, at)| VersionView { version, definition, actor, at })
            .collect(),
    )))
}

async fn apply(
    state: &State,
    auth: &Auth,
    tenant: &str,
    desired: Vec<ContentType>,
    prune: bool,
    params: &ApplyParams,
) -> ApiResult<ApplyReport> {
    let (_, access) = state.tenant_access(auth, tenant, Action::ManageSchema).await?;
    check_references(&desired).map_err(schema_errors)?;
    match state.store.scoped(&access).apply_types(&desired, prune, params.force, params.dry_run).await {
        Err(cit_store::StoreError::Destructive(changes)) => Err(ApiError::destructive(&changes)),
        other => Ok(other?),
    }
}

/// Create or change a content type (tenant admins). A change that would lose or orphan data
/// (dropping a field that has values, narrowing a rule) is refused with 409
/// `destructive_change` unless `?force=true`. `?dry_run=true` only reports the plan.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("api_id" = String, Path), ApplyParams),
    request_body(content = Object, description = "A content type definition, as in schema/README.md"),
    responses(
        (status = 200, body = ApplyView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/t/{tenant}/content-types/{api_id}")]
pub async fn put_one(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    params: web::Query<ApplyParams>,
    body: Json<ContentTypeDef>,
) -> ApiResult<web::Json<ApplyView>> {
    let (tenant, api_id) = path.into_inner();
    let ct = ContentType::parse(&api_id, &body.0).map_err(schema_errors)?;
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let mut desired: Vec<ContentType> =
        state.store.scoped(&read).content_types().await?.into_iter().map(|t| t.ct).filter(|t| t.id != ct.id).collect();
    desired.push(ct);
    Ok(web::Json(apply(&state, &auth, &tenant, desired, false, &params).await?.into()))
}

/// Remove a content type (tenant admins); refused while it has entries unless `?force=true`,
/// which deletes them too, and refused (409 `type_in_use`) while other types refer to it.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("api_id" = String, Path), ApplyParams),
    responses((status = 200, body = ApplyView), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/api/v1/t/{tenant}/content-types/{api_id}")]
pub async fn delete_one(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    params: web::Query<ApplyParams>,
) -> ApiResult<web::Json<ApplyView>> {
    let (tenant, api_id) = path.into_inner();
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let current = state.store.scoped(&read).content_types().await?;
    if !current.iter().any(|t| t.ct.id.as_str() == api_id) {
        return Err(ApiError::NotFound("content type"));
    }
    let desired: Vec<ContentType> = current.into_iter().map(|t| t.ct).filter(|t| t.id.as_str() != api_id).collect();
    // The request is fine; what refuses it is the rest of the model, which still refers to the type.
    if let Err(errors) = check_references(&desired) {
        let refs: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        return Err(ApiError::Conflict {
            code: "type_in_use",
            field: None,
            detail: format!("other content types refer to `{api_id}`: {}", refs.join("; ")),
        });
    }
    Ok(web::Json(apply(&state, &auth, &tenant, desired, true, &params).await?.into()))
}
