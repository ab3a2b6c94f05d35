//! `/api/v1/t/{tenant}/tokens` (tenant admins): API tokens for frontends and integrators.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use cit_core::{Action, ApiTokenId, DisplayName, Scope, Scopes};
use cit_store::{ApiToken, NewApiToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::List;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::security::new_api_token;
use crate::state::State;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "sito pubblico".
    #[schema(value_type = String, example = "sito pubblico", min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: DisplayName,
    /// `read` (published content), `preview` (drafts too), `write` (create, change, publish).
    #[schema(schema_with = crate::openapi::shapes::scopes)]
    pub scopes: Vec<Scope>,
    /// When the token stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: uuid::Uuid,
    pub name: String,
    /// The public part of the token, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.0,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_by: t.created_by,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown this once: cit keeps only its hash.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// The tenant's API tokens (never their secrets).
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    responses((status = 200, body = List<TokenView>))
)]
#[get("/api/v1/t/{tenant}/tokens")]
pub async fn list(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<List<TokenView>>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageTokens).await?;
    let tokens = state.store.scoped(&access).api_tokens().await?;
    Ok(web::Json(List::all(tokens.into_iter().map(TokenView::from).collect())))
}

/// Create an API token. The answer holds its secret, which is never shown again.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken))
)]
#[post("/api/v1/t/{tenant}/tokens")]
pub async fn create(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<CreateToken>,
) -> ApiResult<HttpResponse> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageTokens).await?;
    let CreateToken { name, scopes, expires_at } = body.0;
    let scopes = Scopes::new(scopes).map_err(|e| ApiError::field("scopes", e))?;
    if expires_at.is_some_and(|at| at <= state.clock.now()) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "expires_at",
            "in_the_past",
            "expires_at must be in the future",
        )]));
    }
    let (secret, prefix, token_hash) = new_api_token();
    let token = state
        .store
        .scoped(&access)
        .create_api_token(NewApiToken { name: name.into(), prefix, token_hash, scopes, expires_at })
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken { token: secret, info: token.into() }))
}

/// Revoke an API token; it stops working at once.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 204))
)]
#[delete("/api/v1/t/{tenant}/tokens/{id}")]
pub async fn revoke(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageTokens).await?;
    let id = id.parse::<uuid::Uuid>().map(ApiTokenId).map_err(|_| ApiError::NotFound("api token"))?;
    state.store.scoped(&access).revoke_api_token(id).await?;
    Ok(HttpResponse::NoContent().finish())
}
