//! What editors and admins do with a list: read its subscribers, write a campaign (Markdown or
//! a digest of the latest content), send it through the outbox at a pace and follow it.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use cit_core::content::{
    Entry, EntryStatus, FieldName, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, TypeId, ValueType,
};
use cit_core::newsletter::{SubscriptionStatus, due_at};
use cit_core::{Action, Locale, TenantAccess};
use cit_store::newsletter::{Campaign, Subscriber};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::no_store;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::templates::when;
use crate::extract::{Auth, Json};
use crate::mail::templates::Partner;
use crate::newsletter::templates::{DigestItem, ListMail, digest};
use crate::state::State;

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
    let draft = scoped.create_campaign(&list, &subject, &markdown, access.actor(), now).await?;
    let view = campaign_view(&state, &access, draft).await?;
    Ok(HttpResponse::Created().json(view))
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
