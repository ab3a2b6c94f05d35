//! `/api/v1/auth/*` and `/api/v1/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration;
use cit_core::Email;
use cit_store::Rotation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Json, client_address};
use crate::security::{random_token, token_hash};
use crate::state::{AppState, State};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(
        example = "redazione@cit.comune.lecce.it",
        format = "email",
        max_length = 254,
        pattern = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Spend it once at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub tenant: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: uuid::Uuid,
    pub email: String,
    pub name: String,
    pub platform_admin: bool,
    pub memberships: Vec<MembershipView>,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated { code: "invalid_credentials", detail: "the email or the password is wrong" }
}

async fn issue_pair(
    state: &AppState,
    user: cit_core::UserId,
    session: cit_core::SessionId,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.jwt.issue(user, session).map_err(ApiError::internal)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs,
    })
}

fn secs(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
}

/// Log in with email and password.
///
/// A wrong password and an unknown email get the same answer. Failed attempts are limited per
/// account and per client address; past the limit the answer is 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(state: State, req: HttpRequest, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    let email = Email::parse(&email).map_err(|e| ApiError::field("email", e))?;
    let address = client_address(&req, state.settings.trust_forwarded_for);
    state
        .login_limiter
        .check(email.as_str(), &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;

    let credentials = state.store.credentials(&email).await?;
    let active = credentials.as_ref().is_some_and(|c| c.user.disabled_at.is_none());
    let ok = state.passwords.verify(credentials.as_ref().map(|c| c.password_hash.clone()), password).await;
    let user = match credentials {
        Some(c) if ok && active => c.user,
        _ => {
            state.login_limiter.record_failure(email.as_str(), &address);
            tracing::info!(%address, "login failed");
            return Err(invalid_credentials());
        }
    };
    state.login_limiter.record_success(email.as_str());

    let now = state.clock.now();
    let refresh_token = random_token(32);
    let session = state
        .store
        .start_session(
            user.id,
            token_hash(&refresh_token),
            now + secs(state.settings.refresh_token_ttl_secs),
            now + secs(state.settings.session_ttl_secs),
        )
        .await?;
    tracing::info!(user = %user.id, %session, "logged in");
    Ok(HttpResponse::Ok().json(issue_pair(&state, user.id, session, refresh_token).await?))
}

/// Trade a refresh token for a new access and refresh token.
///
/// Each refresh token works once. Presenting a spent one again is taken as theft: the whole
/// session is revoked, and the answer is 401 `refresh_token_reused`.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(state: State, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let new_refresh = random_token(32);
    let expires = state.clock.now() + secs(state.settings.refresh_token_ttl_secs);
    match state.store.rotate_refresh(&token_hash(&body.0.refresh_token), token_hash(&new_refresh), expires).await? {
        Rotation::Rotated { session, user } => {
            Ok(HttpResponse::Ok().json(issue_pair(&state, user, session, new_refresh).await?))
        }
        Rotation::Reused => {
            tracing::warn!("a spent refresh token was presented again; its session is revoked");
            Err(ApiError::Unauthenticated {
                code: "refresh_token_reused",
                detail: "this refresh token was already used; the session has been revoked, log in again",
            })
        }
        Rotation::Invalid => Err(ApiError::Unauthenticated {
            code: "invalid_token",
            detail: "the refresh token is invalid, expired or revoked",
        }),
    }
}

/// End the current session: its refresh token and every access token issued from it stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 204))
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let (_, session) = auth.user()?;
    state.store.revoke_session(session, "logout").await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The logged-in user and their memberships.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = MeResponse))
)]
#[get("/api/v1/me")]
pub async fn me(state: State, auth: Auth) -> ApiResult<web::Json<MeResponse>> {
    let (user, _) = auth.user()?;
    let memberships = state.store.memberships_of(&state.authentication()?, user.id).await?;
    Ok(web::Json(MeResponse {
        id: user.id.0,
        email: user.email.clone(),
        name: user.name.clone(),
        platform_admin: user.platform_admin,
        memberships: memberships
            .into_iter()
            .map(|m| MembershipView { tenant: m.tenant.to_string(), role: m.role.as_str().to_owned() })
            .collect(),
    }))
}
