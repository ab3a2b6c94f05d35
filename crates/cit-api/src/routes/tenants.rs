//! `/api/v1/tenants` (platform admins), `/api/v1/users` (platform admins) and the public profile
//! `/api/v1/t/{tenant}`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::{Action, DisplayName, Email, Hostname, Locale, Password, PlatformAction, TenantId};
use cit_store::{NewTenant, NewUser, Tenant, TenantPatch, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::List;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Json};
use crate::state::State;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// Stable id used in URLs: lower-case letters, digits and hyphens.
    #[schema(value_type = String, example = "lecce", min_length = 2, max_length = 40, pattern = "^(?!(api|admin|auth|me|www|static|assets|healthz|readyz|metrics)$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    pub id: TenantId,
    #[schema(value_type = String, example = "CIT Lecce", min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: DisplayName,
    /// Host names the tenant's site answers on.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::shapes::tenant_domains)]
    pub domains: Vec<Hostname>,
    /// Content locales; the first is the default. Defaults to `["it"]`.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::shapes::tenant_locales)]
    pub locales: Vec<Locale>,
    /// Published content readable without a token. Defaults to true.
    pub public_read: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: Option<DisplayName>,
    #[schema(schema_with = crate::openapi::shapes::domains_patch)]
    pub domains: Option<Vec<Hostname>>,
    #[schema(schema_with = crate::openapi::shapes::locales_patch)]
    pub locales: Option<Vec<Locale>>,
    pub public_read: Option<bool>,
    /// A disabled tenant answers nobody but platform admins.
    pub disabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub locales: Vec<String>,
    pub public_read: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            domains: t.domains,
            locales: t.locales,
            public_read: t.public_read,
            disabled: t.disabled_at.is_some(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// What anybody may know of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantProfile {
    pub id: String,
    pub name: String,
    pub locales: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(value_type = String, format = "email", max_length = 254, pattern = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")]
    pub email: Email,
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: DisplayName,
    #[schema(value_type = String, format = "password", min_length = 10, max_length = 1024)]
    pub password: Password,
    #[serde(default)]
    pub platform_admin: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: uuid::Uuid,
    pub email: String,
    pub name: String,
    pub platform_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self { id: u.id.0, email: u.email, name: u.name, platform_admin: u.platform_admin, created_at: u.created_at }
    }
}

fn locales_or_default(locales: Vec<Locale>) -> Vec<String> {
    if locales.is_empty() { vec!["it".to_owned()] } else { dedup(locales.into_iter().map(String::from)) }
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Create a tenant (platform admins).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    request_body = CreateTenant,
    responses(
        (status = 201, body = TenantView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/tenants")]
pub async fn create_tenant(state: State, auth: Auth, body: Json<CreateTenant>) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::ManageTenants)?;
    let CreateTenant { id, name, domains, locales, public_read } = body.0;
    let tenant = state
        .store
        .create_tenant(
            &access,
            NewTenant {
                id,
                name: name.into(),
                domains: dedup(domains.into_iter().map(String::from)),
                locales: locales_or_default(locales),
                public_read: public_read.unwrap_or(true),
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(TenantView::from(tenant)))
}

/// List every tenant, disabled ones included (platform admins).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), responses((status = 200, body = List<TenantView>)))]
#[get("/api/v1/tenants")]
pub async fn list_tenants(state: State, auth: Auth) -> ApiResult<web::Json<List<TenantView>>> {
    let access = state.platform_access(&auth, PlatformAction::ManageTenants)?;
    let tenants = state.store.list_tenants(&access).await?;
    Ok(web::Json(List::all(tenants.into_iter().map(TenantView::from).collect())))
}

fn tenant_id(raw: &str) -> ApiResult<TenantId> {
    TenantId::parse(raw).map_err(|_| ApiError::NotFound("tenant"))
}

/// One tenant, disabled or not (platform admins).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = TenantView))
)]
#[get("/api/v1/tenants/{id}")]
pub async fn get_tenant(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<TenantView>> {
    state.platform_access(&auth, PlatformAction::ManageTenants)?;
    let tenant = state.store.tenant(&tenant_id(&path)?).await?.ok_or(ApiError::NotFound("tenant"))?;
    Ok(web::Json(tenant.into()))
}

/// Change a tenant, or disable and re-enable it (platform admins).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = UpdateTenant,
    responses((status = 200, body = TenantView))
)]
#[patch("/api/v1/tenants/{id}")]
pub async fn update_tenant(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<UpdateTenant>,
) -> ApiResult<web::Json<TenantView>> {
    let access = state.platform_access(&auth, PlatformAction::ManageTenants)?;
    let UpdateTenant { name, domains, locales, public_read, disabled } = body.0;
    if locales.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::Validation(vec![crate::error::FieldError::new(
            "locales",
            "empty_locales",
            "give at least one locale",
        )]));
    }
    let patch = TenantPatch {
        name: name.map(String::from),
        domains: domains.map(|d| dedup(d.into_iter().map(String::from))),
        locales: locales.map(locales_or_default),
        public_read,
        disabled,
    };
    let tenant = state.store.update_tenant(&access, &tenant_id(&path)?, patch).await?;
    Ok(web::Json(tenant.into()))
}

/// Create a user (platform admins). Tenant admins add people through `/t/{tenant}/members`.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/api/v1/users")]
pub async fn create_user(state: State, auth: Auth, body: Json<CreateUser>) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::ManageUsers)?;
    let CreateUser { email, name, password, platform_admin } = body.0;
    let password_hash = state.passwords.hash(&password).await.map_err(ApiError::internal)?;
    let user =
        state.store.create_user(&access, NewUser { email, name: name.into(), password_hash, platform_admin }).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

/// The public profile of a tenant.
#[utoipa::path(
    tag = "tenants",
    params(("tenant" = String, Path)),
    responses(
        (status = 200, body = TenantProfile),
    )
)]
#[get("/api/v1/t/{tenant}")]
pub async fn profile(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<TenantProfile>> {
    let (tenant, _) = state.tenant_access(&auth, &path, Action::ReadPublished).await?;
    Ok(web::Json(TenantProfile {
        id: tenant.id.to_string(),
        name: tenant.name.clone(),
        locales: tenant.locales.clone(),
    }))
}
