//! `/api/v1/t/{tenant}/members` and `/api/v1/t/{tenant}/audit` (tenant admins).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::{Action, DisplayName, Email, Password, Role, UserId};
use cit_store::{AuditEntry, Member};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::List;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Auth, Json};
use crate::state::State;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    #[schema(value_type = String, format = "email", max_length = 254, pattern = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")]
    pub email: Email,
    #[schema(schema_with = crate::openapi::shapes::role_to_add)]
    pub role: Role,
    /// Only to create a user who does not exist yet.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: Option<DisplayName>,
    /// Only to create a user who does not exist yet.
    #[schema(value_type = Option<String>, format = "password", min_length = 10, max_length = 1024)]
    pub password: Option<Password>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    #[schema(schema_with = crate::openapi::shapes::role_to_change)]
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: uuid::Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub since: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self { user_id: m.user_id.0, email: m.email, name: m.name, role: m.role.as_str().to_owned(), since: m.since }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: uuid::Uuid,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> Self {
        Self {
            id: a.id,
            actor: a.actor,
            action: a.action,
            object_type: a.object_type,
            object_id: a.object_id,
            details: a.details,
            at: a.at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// How many records, newest first (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

fn user_id(raw: &str) -> ApiResult<UserId> {
    raw.parse::<uuid::Uuid>().map(UserId).map_err(|_| ApiError::NotFound("member"))
}

/// The people of a tenant and their roles.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    responses((status = 200, body = List<MemberView>))
)]
#[get("/api/v1/t/{tenant}/members")]
pub async fn list(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<List<MemberView>>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageMembers).await?;
    let members = state.store.scoped(&access).members().await?;
    Ok(web::Json(List::all(members.into_iter().map(MemberView::from).collect())))
}

/// Add a person to the tenant. An existing user is found by email; a new one needs `name` and
/// `password`.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    request_body = AddMember,
    responses(
        (status = 201, body = MemberView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/members")]
pub async fn add(state: State, auth: Auth, path: web::Path<String>, body: Json<AddMember>) -> ApiResult<HttpResponse> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageMembers).await?;
    let AddMember { email, role, name, password } = body.0;
    let new_user = match (name, password) {
        (Some(name), Some(password)) => {
            Some((String::from(name), state.passwords.hash(&password).await.map_err(ApiError::internal)?))
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "password",
                "missing_field",
                "a new user needs a password",
            )]));
        }
        (None, Some(_)) => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "name",
                "missing_field",
                "a new user needs a name",
            )]));
        }
    };
    let member = state.store.scoped(&access).add_member(&email, role, new_user).await?;
    Ok(HttpResponse::Created().json(MemberView::from(member)))
}

/// Change a member's role. A tenant keeps at least one admin.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("user_id" = uuid::Uuid, Path)),
    request_body = ChangeRole,
    responses((status = 200, body = MemberView), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/api/v1/t/{tenant}/members/{user_id}")]
pub async fn change_role(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<ChangeRole>,
) -> ApiResult<web::Json<MemberView>> {
    let (tenant, user) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageMembers).await?;
    let member = state.store.scoped(&access).set_role(user_id(&user)?, body.0.role).await?;
    Ok(web::Json(member.into()))
}

/// Remove a person from the tenant. A tenant keeps at least one admin.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("user_id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/api/v1/t/{tenant}/members/{user_id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, user) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageMembers).await?;
    state.store.scoped(&access).remove_member(user_id(&user)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who did what in this tenant, newest first.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("tenant" = String, Path), AuditQuery),
    responses((status = 200, body = List<AuditView>))
)]
#[get("/api/v1/t/{tenant}/audit")]
pub async fn audit(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<List<AuditView>>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ViewAudit).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Validation(vec![FieldError::new("limit", "out_of_range", "limit is between 1 and 500")]));
    }
    let entries = state.store.scoped(&access).audit_log(limit).await?;
    Ok(web::Json(List::all(entries.into_iter().map(AuditView::from).collect())))
}
