//! `/api/v1/t/{tenant}/newsletter/…`: lists, subscription with double opt-in, one-click
//! unsubscribe (no login), and campaigns written by editors and admins.
//!
//! A subscription request never tells whether the address was subscribed before: the answer is
//! 202 alike, and the e-mail says what happened (a confirmation link, or "already subscribed").

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Duration, Utc};
use cit_core::content::{
    Entry, EntryStatus, FieldName, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, TypeId, ValueType,
};
use cit_core::newsletter::{SubscriptionStatus, due_at, parse_list_slug};
use cit_core::{Action, Email, Locale, TenantAccess};
use cit_store::newsletter::{Campaign, List, Subscriber};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::forms::{Consent, bad, check_fill_token};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::templates::when;
use crate::extract::{Auth, Json};
use crate::mail::templates::Partner;
use crate::newsletter::templates::{DigestItem, ListMail, digest};
use crate::requests::{LinkError, end_user_address};
use crate::state::State;

fn no_store(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}

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
    Ok(no_store(
        HttpResponse::Ok()
            .json(OwnSubscription { list: ListView::from(&list), status: sub.status.as_str().to_owned() }),
    ))
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
    Ok(no_store(
        HttpResponse::Ok()
            .json(OwnSubscription { list: ListView::from(&list), status: sub.status.as_str().to_owned() }),
    ))
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
    Ok(no_store(
        HttpResponse::Ok()
            .json(OwnSubscription { list: ListView::from(&list), status: sub.status.as_str().to_owned() }),
    ))
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
    Ok(no_store(
        HttpResponse::Ok()
            .json(OwnSubscription { list: ListView::from(&list), status: sub.status.as_str().to_owned() }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberView {
    pub id: uuid::Uuid,
    pub email: String,
    /// pending, active, unsubscribed.
    pub status: String,
    /// The privacy notice accepted, and when the subscription was confirmed with it.
    pub consent_version: Option<String>,
    pub consent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribers {
    pub active: u64,
    pub pending: u64,
    pub unsubscribed: u64,
    pub data: Vec<SubscriberView>,
}

/// A newsletter's subscribers (editors and admins).
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("list" = String, Path)),
    responses((status = 200, body = Subscribers))
)]
#[get("/api/v1/t/{tenant}/newsletter/lists/{list}/subscribers")]
pub async fn subscribers(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let scoped = state.store.scoped(&access);
    let list = scoped.list_by_slug(&slug).await?;
    let all = scoped.subscribers(list.id).await?;
    let count = |s: SubscriptionStatus| all.iter().filter(|x| x.status == s).count() as u64;
    let out = Subscribers {
        active: count(SubscriptionStatus::Active),
        pending: count(SubscriptionStatus::Pending),
        unsubscribed: count(SubscriptionStatus::Unsubscribed),
        data: all
            .iter()
            .map(|s| SubscriberView {
                id: s.id,
                email: s.email.clone(),
                status: s.status.as_str().to_owned(),
                consent_version: s.consent_version.clone(),
                consent_at: s.consent_at,
                created_at: s.created_at,
                unsubscribed_at: s.unsubscribed_at,
            })
            .collect(),
    };
    Ok(no_store(HttpResponse::Ok().json(out)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestSpec {
    /// News published in the last this many days (default 30); events from now on.
    pub days: Option<u32>,
    /// A paragraph before the lists.
    #[serde(default)]
    pub intro: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// The list's id.
    pub list: String,
    pub subject: String,
    /// The message, in Markdown. Give this or `digest`.
    pub body: Option<String>,
    /// Build the message from the latest `notizia` and the upcoming `evento` entries.
    pub digest: Option<DigestSpec>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: uuid::Uuid,
    pub list: String,
    pub subject: String,
    /// Markdown.
    pub body: String,
    /// draft, sending, sent (every message delivered).
    pub status: String,
    pub recipients: i32,
    pub sent: u64,
    /// Due later at the campaign's pace, or retrying.
    pub waiting: u64,
    /// Waiting, and the last attempt failed.
    pub failing: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

async fn campaign_view(state: &State, access: &TenantAccess, c: Campaign) -> ApiResult<CampaignView> {
    let scoped = state.store.scoped(access);
    let counts = scoped.campaign_counts(c.id).await?;
    let list = scoped.list_by_id(c.list).await?;
    let status = match (c.status.as_str(), counts.waiting) {
        ("sending", 0) => "sent",
        (s, _) => s,
    };
    Ok(CampaignView {
        id: c.id,
        list: list.slug,
        subject: c.subject,
        body: c.body,
        status: status.to_owned(),
        recipients: c.recipients,
        sent: counts.sent,
        waiting: counts.waiting,
        failing: counts.failing,
        created_by: c.created_by,
        created_at: c.created_at,
        sent_at: c.sent_at,
    })
}

/// Write a campaign (a draft): Markdown, or a digest of the latest news and upcoming events.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    request_body = NewCampaign,
    responses((status = 201, body = CampaignView))
)]
#[post("/api/v1/t/{tenant}/newsletter/campaigns")]
pub async fn create_campaign(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<NewCampaign>,
) -> ApiResult<HttpResponse> {
    let (t, access) = state.tenant_access(&auth, &path, Action::PublishContent).await?;
    let body = body.0;
    let mut errors = Vec::new();
    let subject = body.subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > 300 || subject.chars().any(char::is_control) {
        errors.push(FieldError::new("subject", "invalid_subject", "a subject of 1 to 300 characters on one line"));
    }
    match (&body.body, &body.digest) {
        (Some(_), Some(_)) | (None, None) => {
            errors.push(FieldError::new("body", "body_or_digest", "give the message (`body`) or a `digest`, not both"))
        }
        (Some(b), None) if b.trim().is_empty() || b.len() > 200_000 => {
            errors.push(FieldError::new("body", "invalid_body", "a message of 1 to 200,000 bytes"))
        }
        (None, Some(d)) if d.days.is_some_and(|n| !(1..=365).contains(&n)) => {
            errors.push(FieldError::new("digest.days", "too_large", "from 1 to 365 days"))
        }
        _ => {}
    }
    let scoped = state.store.scoped(&access);
    let list = match scoped.list_by_slug(&body.list).await {
        Ok(l) => Some(l),
        Err(cit_store::StoreError::NotFound(_)) => {
            errors.push(FieldError::new("list", "unknown_list", "no newsletter of this tenant has this id"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let Some(list) = list.filter(|_| errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let now = state.clock.now();
    let markdown = match (body.body, body.digest) {
        (Some(b), _) => b,
        (None, Some(d)) => {
            let (_, read) = state.tenant_access(&auth, &path, Action::ReadPublished).await?;
            let locale = Locale::of_tenant(&t.locales, None).map_err(|_| ApiError::NotFound("locale"))?;
            let site = state.settings.requests.site_of(t.id.as_str());
            let days = i64::from(d.days.unwrap_or(30));
            digest_of(&state, &read, &locale, &site, now - Duration::days(days), now, &d.intro).await?
        }
        (None, None) => return Err(ApiError::Validation(Vec::new())),
    };
    let by = auth_name(&access);
    let draft = scoped.create_campaign(&list, &subject, &markdown, &by, now).await?;
    let view = campaign_view(&state, &access, draft).await?;
    Ok(HttpResponse::Created().json(view))
}

fn auth_name(access: &TenantAccess) -> String {
    access.actor().to_owned()
}

async fn digest_of(
    state: &State,
    read: &TenantAccess,
    locale: &Locale,
    site: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    intro: &str,
) -> ApiResult<String> {
    let scoped = state.store.scoped(read);
    let type_id = |id: &str| TypeId::parse(id).map_err(|_| ApiError::NotFound("content type"));
    let text = |e: &Entry, k: &str| e.data.get(k).and_then(serde_json::Value::as_str).unwrap_or("").trim().to_owned();
    let news_query = ListQuery {
        type_id: type_id("notizia")?,
        locale: Some(locale.clone()),
        statuses: vec![EntryStatus::Published],
        filters: vec![Filter {
            target: Target::Sys(SysField::PublishedAt),
            op: Op::Gte,
            value: FilterValue::Time(since),
        }],
        sort: vec![SortKey { target: Target::Sys(SysField::PublishedAt), desc: true }],
        limit: 10,
        after: None,
    };
    // Data date-times are compared as text (RFC 3339), as the REST filters do; the exact instant
    // is checked below, since offsets may differ.
    let start = Target::Data(FieldName::parse("start").map_err(|_| ApiError::NotFound("field"))?, ValueType::Text);
    let events_query = ListQuery {
        type_id: type_id("evento")?,
        locale: Some(locale.clone()),
        statuses: vec![EntryStatus::Published],
        filters: vec![Filter {
            target: start.clone(),
            op: Op::Gte,
            value: FilterValue::Text((now - Duration::days(1)).to_rfc3339()),
        }],
        sort: vec![SortKey { target: start, desc: false }],
        limit: 10,
        after: None,
    };
    let news = match scoped.list_entries(&news_query).await {
        Ok((n, _)) => n,
        Err(cit_store::StoreError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let events = match scoped.list_entries(&events_query).await {
        Ok((n, _)) => n,
        Err(cit_store::StoreError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let news: Vec<DigestItem> = news
        .iter()
        .map(|e| DigestItem {
            title: text(e, "title"),
            summary: text(e, "summary"),
            link: format!("{site}/notizie/{}", e.slug),
            when: None,
        })
        .collect();
    let start_of = |e: &Entry| {
        e.data.get("start").and_then(serde_json::Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    };
    let events: Vec<DigestItem> = events
        .iter()
        .filter(|e| start_of(e).is_some_and(|s| s >= now))
        .map(|e| DigestItem {
            title: text(e, "title"),
            summary: text(e, "summary"),
            link: format!("{site}/eventi/{}", e.slug),
            when: start_of(e).map(when),
        })
        .collect();
    Ok(digest(intro, &news, &events))
}

/// A campaign with its counts.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CampaignView))
)]
#[get("/api/v1/t/{tenant}/newsletter/campaigns/{id}")]
pub async fn campaign(state: State, auth: Auth, path: web::Path<(String, uuid::Uuid)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let c = state.store.scoped(&access).campaign(id).await?;
    Ok(no_store(HttpResponse::Ok().json(campaign_view(&state, &access, c).await?)))
}

/// Send a draft campaign to every active subscriber: one message each, due at
/// `CIT_NEWSLETTER__PER_MINUTE` a minute, sent by the outbox workers (across restarts, each
/// once). A campaign already sent is 409 `conflict`.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses(
        (status = 202, body = CampaignView),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/newsletter/campaigns/{id}/send")]
pub async fn send(state: State, auth: Auth, path: web::Path<(String, uuid::Uuid)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let scoped = state.store.scoped(&access);
    let draft = scoped.campaign(id).await?;
    let list = scoped.list_by_id(draft.list).await?;
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mail = ListMail { partner: &partner, tenant: t.id.as_str(), list: &list };
    let now = state.clock.now();
    let pace = state.settings.newsletter.per_minute;
    let compose = |n: usize, s: &Subscriber| {
        let token = state.request_keys.newsletter_unsubscribe(t.id.as_str(), s.id);
        mail.campaign(&s.email, &draft.subject, &draft.body, &token, due_at(now, n, pace))
    };
    let sent = scoped.send_campaign(id, now, compose).await?;
    Ok(HttpResponse::Accepted().json(campaign_view(&state, &access, sent).await?))
}
