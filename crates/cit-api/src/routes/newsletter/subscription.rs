//! The lists, and what the public does with them: subscribe (double opt-in), confirm, leave.
//! A subscription request never tells whether the address was subscribed before: the answer is
//! 202 alike, and the e-mail says what happened (a confirmation link, or "already subscribed").

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Duration;
use cit_core::newsletter::{SubscriptionStatus, parse_list_slug};
use cit_core::{Action, Email, TenantAccess};
use cit_store::newsletter::{List, Subscriber};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::no_store;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::mail::templates::Partner;
use crate::newsletter::templates::ListMail;
use crate::requests::{LinkError, end_user_address};
use crate::routes::forms::{Consent, bad, check_fill_token};
use crate::state::State;

fn fill_key(list: &List) -> String {
    format!("newsletter:{}", list.id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    /// The list's id in URLs, e.g. `notizie`.
    pub id: String,
    pub title: String,
    pub description: String,
}

impl From<&List> for ListView {
    fn from(l: &List) -> Self {
        Self { id: l.slug.clone(), title: l.title.clone(), description: l.description.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lists {
    pub data: Vec<ListView>,
}

/// The tenant's newsletters.
#[utoipa::path(tag = "newsletter", params(("tenant" = String, Path)), responses((status = 200, body = Lists)))]
#[get("/api/v1/t/{tenant}/newsletter/lists")]
pub async fn lists(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (_, access) = state.tenant_access(&auth, &path, Action::SubmitRequest).await?;
    let lists = state.store.scoped(&access).lists().await?;
    Ok(HttpResponse::Ok().json(Lists { data: lists.iter().map(ListView::from).collect() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewsletterPrivacy {
    pub version: String,
    pub url: String,
}

/// A list with what its subscription form needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListForm {
    pub id: String,
    pub title: String,
    pub description: String,
    pub privacy: NewsletterPrivacy,
    /// Send it back with the subscription; refused when too young or too old.
    pub fill_token: String,
}

/// One newsletter, with a fill token for its subscription form.
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path), ("list" = String, Path)),
    responses((status = 200, body = ListForm))
)]
#[get("/api/v1/t/{tenant}/newsletter/lists/{list}")]
pub async fn list_form(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let list = state.store.scoped(&access).list_by_slug(&slug).await?;
    let s = &state.settings.newsletter;
    Ok(no_store(HttpResponse::Ok().json(ListForm {
        id: list.slug.clone(),
        title: list.title.clone(),
        description: list.description.clone(),
        privacy: NewsletterPrivacy { version: s.privacy_version.clone(), url: s.privacy_url.clone() },
        fill_token: state.request_keys.fill_token(t.id.as_str(), &fill_key(&list), state.clock.now()),
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutList {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// Create or change a newsletter (editors and admins).
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("list" = String, Path)),
    request_body = PutList,
    responses((status = 200, body = ListView))
)]
#[put("/api/v1/t/{tenant}/newsletter/lists/{list}")]
pub async fn put_list(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<PutList>,
) -> ApiResult<web::Json<ListView>> {
    let (tenant, slug) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let mut errors = Vec::new();
    if let Err(e) = parse_list_slug(&slug) {
        errors.push(FieldError::new("id", e.code, e.message));
    }
    let title = body.0.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new("title", "invalid_title", "a title of 1 to 200 characters"));
    }
    if body.0.description.chars().count() > 2000 {
        errors.push(FieldError::new("description", "too_long", "at most 2000 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let list =
        state.store.scoped(&access).put_list(&slug, &title, body.0.description.trim(), state.clock.now()).await?;
    Ok(web::Json(ListView::from(&list)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    pub email: String,
    pub consent: Option<Consent>,
    /// From `GET newsletter/lists/{list}`.
    pub fill_token: String,
    /// The honeypot: it must be empty or absent.
    #[serde(default)]
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
}

/// Ask to subscribe. The answer is 202 whether or not the address was subscribed: the e-mail
/// carries the confirmation link (double opt-in: nothing is sent to the address until it is
/// followed), or says the address is subscribed already. Refused, with nothing stored: 400
/// `honeypot`, 422 `fill_token_invalid`, `fill_too_fast` or `fill_token_expired` (field
/// `fill_token`), 422 `validation_failed` (the address), 422 `consent_required`, 429.
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path), ("list" = String, Path)),
    request_body = SubscribeBody,
    responses(
        (status = 202, body = Received),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/newsletter/lists/{list}/subscriptions")]
pub async fn subscribe(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<SubscribeBody>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let body = body.0;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let scoped = state.store.scoped(&access);
    let list = scoped.list_by_slug(&slug).await?;
    let address = end_user_address(&req, &state.settings.requests.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    if body.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(bad("honeypot", "the subscription looks automated and was not accepted"));
    }
    let now = state.clock.now();
    // The token is a field of the body: a bad one is a 422 that names it.
    check_fill_token(&state, &body.fill_token, t.id.as_str(), &fill_key(&list), now).map_err(|e| match e {
        ApiError::BadRequest { code, detail } => ApiError::Unprocessable {
            code,
            detail: detail.clone(),
            errors: vec![FieldError::new("fill_token", code, detail)],
        },
        other => other,
    })?;
    let email = Email::parse(&body.email)
        .map_err(|e| ApiError::Validation(vec![FieldError::new("email", e.code, e.message)]))?;
    let s = &state.settings.newsletter;
    if !body.consent.as_ref().is_some_and(|c| c.accepted && c.version.as_deref() == Some(&s.privacy_version)) {
        let message = format!("accept the privacy notice, version {}", s.privacy_version);
        return Err(ApiError::Unprocessable {
            code: "consent_required",
            detail: message.clone(),
            errors: vec![FieldError::new("consent", "consent_required", message)],
        });
    }
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mail = ListMail { partner: &partner, tenant: t.id.as_str(), list: &list };
    let expires = now + Duration::hours(i64::from(s.confirm_hours));
    let compose = |sub: &Subscriber, before: Option<SubscriptionStatus>| match before {
        Some(SubscriptionStatus::Active) => {
            vec![mail.already(&sub.email, &state.request_keys.newsletter_unsubscribe(t.id.as_str(), sub.id))]
        }
        _ => {
            let token = state.request_keys.newsletter_confirmation(t.id.as_str(), list.id, &sub.email, expires);
            vec![mail.confirm(&sub.email, &token, expires)]
        }
    };
    scoped.subscribe(&list, &email, &s.privacy_version, now, compose).await?;
    Ok(no_store(HttpResponse::Accepted().json(Received { received: true })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The token of the confirmation link.
    pub token: String,
}

/// A subscription, for the person behind a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnSubscription {
    pub list: ListView,
    /// pending, active, unsubscribed.
    pub status: String,
}

impl OwnSubscription {
    fn of(list: &List, sub: &Subscriber) -> Self {
        Self { list: ListView::from(list), status: sub.status.as_str().to_owned() }
    }
}

fn link_refused(e: LinkError) -> ApiError {
    match e {
        LinkError::Invalid => bad("link_invalid", "the link is not valid"),
        LinkError::Expired => bad("link_expired", "the confirmation link has expired: subscribe again"),
    }
}

/// Confirm a subscription (the link of the e-mail; the site posts it, so that a mail scanner
/// that opens links confirms nothing). 422 `link_invalid` or `link_expired` (field `token`);
/// 404 when the address left the list after the link was sent.
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path)),
    request_body = ConfirmBody,
    responses(
        (status = 200, body = OwnSubscription),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/newsletter/confirmations")]
pub async fn confirm(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<ConfirmBody>,
) -> ApiResult<HttpResponse> {
    let (t, access) = state.tenant_access(&auth, &path, Action::SubmitRequest).await?;
    let now = state.clock.now();
    // The token is a field of the body: a bad one is a 422 that names it.
    let (list, email) =
        state.request_keys.check_newsletter_confirmation(&body.0.token, t.id.as_str(), now).map_err(|e| {
            let (code, detail) = match link_refused(e) {
                ApiError::BadRequest { code, detail } => (code, detail),
                other => return other,
            };
            ApiError::Unprocessable {
                code,
                detail: detail.clone(),
                errors: vec![FieldError::new("token", code, detail)],
            }
        })?;
    let scoped = state.store.scoped(&access);
    let list = scoped.list_by_id(list).await?;
    let sub = scoped.confirm_subscription(list.id, &email, now).await?;
    Ok(no_store(HttpResponse::Ok().json(OwnSubscription::of(&list, &sub))))
}

/// What a confirmation link would confirm, without confirming it (the page behind the link
/// shows it with its button). 400 `link_invalid` or `link_expired`; 404 when the address is no
/// longer on the list.
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path), ("token" = String, Path)),
    responses(
        (status = 200, body = OwnSubscription),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/t/{tenant}/newsletter/confirmations/{token}")]
pub async fn confirmation(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, token) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let (list, email) = state
        .request_keys
        .check_newsletter_confirmation(&token, t.id.as_str(), state.clock.now())
        .map_err(link_refused)?;
    let scoped = state.store.scoped(&access);
    let list = scoped.list_by_id(list).await?;
    let sub = scoped
        .subscription_of(list.id, &email)
        .await?
        .filter(|s| s.status != SubscriptionStatus::Unsubscribed)
        .ok_or(ApiError::NotFound("subscription"))?;
    Ok(no_store(HttpResponse::Ok().json(OwnSubscription::of(&list, &sub))))
}

async fn by_unsubscribe_token(
    state: &State,
    auth: &Auth,
    tenant: &str,
    token: &str,
) -> ApiResult<(TenantAccess, Subscriber, List)> {
    let (t, access) = state.tenant_access(auth, tenant, Action::SubmitRequest).await?;
    // A forged or foreign link names nothing: 404, like a subscriber that does not exist.
    let id = state
        .request_keys
        .check_newsletter_unsubscribe(token, t.id.as_str())
        .map_err(|_| ApiError::NotFound("subscription"))?;
    let scoped = state.store.scoped(&access);
    let sub = scoped.subscriber(id).await?;
    let list = scoped.list_by_id(sub.list).await?;
    Ok((access, sub, list))
}

/// The subscription behind an unsubscribe link (404 for a link that names nothing).
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path), ("token" = String, Path)),
    responses((status = 200, body = OwnSubscription))
)]
#[get("/api/v1/t/{tenant}/newsletter/unsubscribe/{token}")]
pub async fn unsubscribe_view(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, token) = path.into_inner();
    let (_, sub, list) = by_unsubscribe_token(&state, &auth, &tenant, &token).await?;
    Ok(no_store(HttpResponse::Ok().json(OwnSubscription::of(&list, &sub))))
}

/// Unsubscribe (idempotent): the messages of campaigns not sent to the address yet are
/// withdrawn. Any body is accepted, so the one-click POST of a mail client (RFC 8058,
/// `List-Unsubscribe=One-Click`) relayed by the site works as it is.
#[utoipa::path(
    tag = "newsletter",
    params(("tenant" = String, Path), ("token" = String, Path)),
    responses((status = 200, body = OwnSubscription))
)]
#[post("/api/v1/t/{tenant}/newsletter/unsubscribe/{token}")]
pub async fn unsubscribe(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, token) = path.into_inner();
    let (access, sub, list) = by_unsubscribe_token(&state, &auth, &tenant, &token).await?;
    let sub = state.store.scoped(&access).unsubscribe(sub.id, state.clock.now()).await?;
    Ok(no_store(HttpResponse::Ok().json(OwnSubscription::of(&list, &sub))))
}
