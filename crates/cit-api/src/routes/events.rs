//! `/api/v1/t/{tenant}/events/{id}/…`: registration for an `evento` that sets
//! `registration_capacity`. The public registers and cancels (no login); staff read the
//! attendees and invite the member bodies.
//!
//! A registration never tells whether the address was registered before: the answer is 202
//! alike, and the e-mail says where the person stands (confirmed, waiting, already registered).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use cit_core::content::{Entry, EntryStatus, ListQuery, SortKey, SysField, Target, TypeId};
use cit_core::events::{EVENT_TYPE, EventFacts, Registrant, RegistrationStatus, Window};
use cit_core::{Action, EntryId};
use cit_store::EntryKey;
use cit_store::events::{NewRegistration, Registered, Registration};
use cit_store::requests::OutMail;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::forms::{Consent, bad, check_fill_token};
use super::no_store;
use super::tickets::csv_cell;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::templates::EventMail;
use crate::extract::{Auth, Json};
use crate::mail::templates::Partner;
use crate::requests::end_user_address;
use crate::security::token_hash;
use crate::state::State;

/// The fill-token key of an event's registration form.
fn form_key(event: EntryId) -> String {
    format!("event:{}", event.0)
}

/// A published `evento` of the tenant, with what it says about registrations.
async fn published_event(state: &State, auth: &Auth, tenant: &str, id: uuid::Uuid) -> ApiResult<(Entry, EventFacts)> {
    let (_, read) = state.tenant_access(auth, tenant, Action::ReadPublished).await?;
    let entry = state
        .store
        .scoped(&read)
        .entry(EVENT_TYPE, EntryKey::Id(EntryId(id)), &[EntryStatus::Published])
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    let facts = EventFacts::of(&entry.data).ok_or(ApiError::NotFound("event"))?;
    Ok((entry, facts))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPrivacy {
    /// The version of the notice a consent must name.
    pub version: String,
    pub url: String,
}

/// What the registration form of an event needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationInfo {
    pub event: uuid::Uuid,
    /// not_taken (the event sets no `registration_capacity`), not_yet, open, closed.
    pub window: String,
    pub opens: Option<DateTime<Utc>>,
    /// `registration_closes`, or the start of the event.
    pub closes: Option<DateTime<Utc>>,
    pub capacity: Option<u32>,
    pub confirmed: u64,
    pub waiting: u64,
    pub places_left: Option<u64>,
    /// Whether registrations beyond the places wait for one.
    pub waiting_list: bool,
    pub privacy: EventPrivacy,
    /// Send it back with the registration; it is refused when too young or too old.
    pub fill_token: Option<String>,
}

/// Whether an event takes registrations now, how many places are left, and a fill token.
#[utoipa::path(
    tag = "events",
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RegistrationInfo))
)]
#[get("/api/v1/t/{tenant}/events/{id}/registration")]
pub async fn registration_info(
    state: State,
    auth: Auth,
    path: web::Path<(String, uuid::Uuid)>,
) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (entry, facts) = published_event(&state, &auth, &tenant, id).await?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let now = state.clock.now();
    let counts = state.store.scoped(&access).registration_counts(entry.id).await?;
    let window = facts.window(now);
    let s = &state.settings.events;
    let info = RegistrationInfo {
        event: entry.id.0,
        window: window.as_str().to_owned(),
        opens: facts.opens,
        closes: facts.capacity.map(|_| facts.closes_at()),
        capacity: facts.capacity,
        confirmed: counts.confirmed,
        waiting: counts.waiting,
        places_left: facts.capacity.map(|c| u64::from(c).saturating_sub(counts.confirmed)),
        waiting_list: facts.waiting_list,
        privacy: EventPrivacy { version: s.privacy_version.clone(), url: s.privacy_url.clone() },
        fill_token: (window == Window::Open)
            .then(|| state.request_keys.fill_token(t.id.as_str(), &form_key(entry.id), now)),
    };
    Ok(no_store(HttpResponse::Ok().json(info)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub name: String,
    pub email: String,
    /// The member body the person comes for (slug), if any.
    pub ente: Option<String>,
    pub consent: Option<Consent>,
    /// From `GET events/{id}/registration`.
    pub fill_token: String,
    /// The honeypot: it must be empty or absent.
    #[serde(default)]
    pub website: Option<String>,
}

/// The same answer for a new registration, a waiting one and an address registered before.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationReceived {
    pub received: bool,
}

/// Register for an event. The answer never says whether the address was registered before:
/// the e-mail does (a confirmation with the event as `.ics`, the waiting list, or "already
/// registered" with the cancellation link again). Refused, with nothing stored: a filled
/// honeypot or a bad fill token (400), too many requests (429), invalid fields (422
/// `validation_failed`), no consent to the current notice (422 `consent_required`),
/// registrations not open yet (409 `registration_not_open`), closed (409
/// `registration_closed`), not taken by this event (409 `registration_not_taken`), or no place
/// left on an event without a waiting list (409 `event_full`).
#[utoipa::path(
    tag = "events",
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = RegisterBody,
    responses(
        (status = 202, body = RegistrationReceived),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/events/{id}/registrations")]
pub async fn register(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, uuid::Uuid)>,
    body: Json<RegisterBody>,
) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let body = body.0;
    let (entry, facts) = published_event(&state, &auth, &tenant, id).await?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let address = end_user_address(&req, &state.settings.requests.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    if body.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(bad("honeypot", "the registration looks automated and was not accepted"));
    }
    let now = state.clock.now();
    match facts.window(now) {
        Window::Open => {}
        Window::NotTaken => return Err(conflict("registration_not_taken", "this event takes no registrations here")),
        Window::NotYet(opens) => {
            return Err(conflict("registration_not_open", &format!("registrations open at {}", opens.to_rfc3339())));
        }
        Window::Closed => return Err(conflict("registration_closed", "registrations for this event are closed")),
    }
    check_fill_token(&state, &body.fill_token, t.id.as_str(), &form_key(entry.id), now)?;
    let registrant = Registrant::parse(&body.name, &body.email, body.ente.as_deref()).map_err(|errors| {
        ApiError::Validation(errors.into_iter().map(|e| FieldError::new(e.field, e.code, e.message)).collect())
    })?;
    let s = &state.settings.events;
    let consented =
        body.consent.as_ref().is_some_and(|c| c.accepted && c.version.as_deref() == Some(&s.privacy_version));
    if !consented {
        let message = format!("accept the privacy notice, version {}", s.privacy_version);
        return Err(ApiError::Unprocessable {
            code: "consent_required",
            detail: message.clone(),
            errors: vec![FieldError::new("consent", "consent_required", message)],
        });
    }
    let scoped = state.store.scoped(&access);
    let ahead = scoped.registration_counts(entry.id).await?.waiting;
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mail =
        EventMail { partner: &partner, tenant: t.id.as_str(), event: entry.id.0, slug: &entry.slug, facts: &facts };
    let secret_of = |r: &Registration| state.request_keys.registration_secret(t.id.as_str(), r.id);
    let compose = |r: &Registration, again: bool| -> Vec<OutMail> {
        let secret = secret_of(r);
        if again {
            return vec![mail.already(r, &secret)];
        }
        match r.status {
            RegistrationStatus::Confirmed => std::iter::once(mail.confirmed(r, &secret, false))
                .chain(mail.reminder(r, &secret, s.reminder_hours, now))
                .collect(),
            _ => vec![mail.waiting(r, &secret, ahead)],
        }
    };
    let new_id = uuid::Uuid::now_v7();
    let new = NewRegistration {
        id: new_id,
        event: entry.id,
        registrant,
        secret_hash: token_hash(&state.request_keys.registration_secret(t.id.as_str(), new_id)),
        consent_version: Some(s.privacy_version.clone()),
        at: now,
    };
    match scoped.register(&facts, new, compose).await? {
        Registered::New(_) | Registered::Again(_) => {
            Ok(no_store(HttpResponse::Accepted().json(RegistrationReceived { received: true })))
        }
        Registered::Full => Err(conflict("event_full", "no place is left and this event keeps no waiting list")),
    }
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict { code, field: None, detail: detail.to_owned() }
}

/// A registration, for the person behind its secret link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRegistration {
    pub event: uuid::Uuid,
    pub event_title: String,
    pub event_slug: String,
    pub event_start: DateTime<Utc>,
    pub name: String,
    /// confirmed, waiting, cancelled.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Whether it can still be cancelled (not cancelled, and the event has not started).
    pub can_cancel: bool,
}

async fn own_view(state: &State, auth: &Auth, tenant: &str, r: Registration) -> ApiResult<OwnRegistration> {
    let (entry, facts) = published_event(state, auth, tenant, r.event.0).await?;
    let start = facts.start.with_timezone(&Utc);
    Ok(OwnRegistration {
        event: entry.id.0,
        event_title: facts.title.clone(),
        event_slug: entry.slug,
        event_start: start,
        name: r.name,
        status: r.status.as_str().to_owned(),
        created_at: r.created_at,
        cancelled_at: r.cancelled_at,
        can_cancel: r.status != RegistrationStatus::Cancelled && state.clock.now() < start,
    })
}

/// A registration, by the secret of the e-mails (404 for a secret that names nothing).
#[utoipa::path(
    tag = "events",
    params(("tenant" = String, Path), ("secret" = String, Path)),
    responses((status = 200, body = OwnRegistration))
)]
#[get("/api/v1/t/{tenant}/registrations/by-secret/{secret}")]
pub async fn by_secret(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, secret) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let r = state.store.scoped(&access).registration_by_secret(&token_hash(&secret)).await?;
    Ok(no_store(HttpResponse::Ok().json(own_view(&state, &auth, &tenant, r).await?)))
}

/// Cancel a registration by its secret. The place goes to the first one waiting, who is told by
/// e-mail with the event as `.ics`; the reminder not sent yet is dropped. Cancelling twice
/// answers the same; after the start, 409 `event_started`.
#[utoipa::path(
    tag = "events",
    params(("tenant" = String, Path), ("secret" = String, Path)),
    responses(
        (status = 200, body = OwnRegistration),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/registrations/by-secret/{secret}/cancel")]
pub async fn cancel(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (tenant, secret) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let address = end_user_address(&req, &state.settings.requests.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    let hash = token_hash(&secret);
    let scoped = state.store.scoped(&access);
    let current = scoped.registration_by_secret(&hash).await?;
    let (entry, facts) = published_event(&state, &auth, &tenant, current.event.0).await?;
    let now = state.clock.now();
    if current.status != RegistrationStatus::Cancelled && now >= facts.start.with_timezone(&Utc) {
        return Err(conflict("event_started", "the event has started: the registration can no longer be cancelled"));
    }
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mail =
        EventMail { partner: &partner, tenant: t.id.as_str(), event: entry.id.0, slug: &entry.slug, facts: &facts };
    let hours = state.settings.events.reminder_hours;
    let compose = |gone: &Registration, promoted: Option<&Registration>| -> Vec<OutMail> {
        let mut mails = vec![mail.cancelled(gone)];
        if let Some(p) = promoted {
            let secret = state.request_keys.registration_secret(t.id.as_str(), p.id);
            mails.push(mail.confirmed(p, &secret, true));
            mails.extend(mail.reminder(p, &secret, hours, now));
        }
        mails
    };
    let done = scoped.cancel_registration(&hash, now, compose).await?;
    Ok(no_store(HttpResponse::Ok().json(own_view(&state, &auth, &tenant, done.registration).await?)))
}

/// A registration, for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub ente: Option<String>,
    /// confirmed, waiting, cancelled.
    pub status: String,
    pub place: Option<i32>,
    pub consent_version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub promoted_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<Registration> for RegistrationView {
    fn from(r: Registration) -> Self {
        Self {
            id: r.id,
            name: r.name,
            email: r.email,
            ente: r.ente,
            status: r.status.as_str().to_owned(),
            place: r.place,
            consent_version: r.consent_version,
            created_at: r.created_at,
            promoted_at: r.promoted_at,
            cancelled_at: r.cancelled_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attendees {
    pub event: uuid::Uuid,
    pub capacity: Option<u32>,
    pub confirmed: u64,
    pub waiting: u64,
    pub cancelled: u64,
    /// Confirmed by place, then waiting in order, then cancelled.
    pub data: Vec<RegistrationView>,
}

async fn attendees(state: &State, auth: &Auth, tenant: &str, id: uuid::Uuid) -> ApiResult<(String, Attendees)> {
    let (t, access) = state.tenant_access(auth, tenant, Action::ReadRequests).await?;
    let (entry, facts) = published_event(state, auth, tenant, id).await?;
    let scoped = state.store.scoped(&access);
    let counts = scoped.registration_counts(entry.id).await?;
    let data = scoped.registrations(entry.id).await?.into_iter().map(RegistrationView::from).collect();
    Ok((
        t.id.to_string(),
        Attendees {
            event: entry.id.0,
            capacity: facts.capacity,
            confirmed: counts.confirmed,
            waiting: counts.waiting,
            cancelled: counts.cancelled,
            data,
        },
    ))
}

/// The attendees of an event: operators, editors and admins.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Attendees))
)]
#[get("/api/v1/t/{tenant}/events/{id}/registrations")]
pub async fn list(state: State, auth: Auth, path: web::Path<(String, uuid::Uuid)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (_, found) = attendees(&state, &auth, &tenant, id).await?;
    Ok(no_store(HttpResponse::Ok().json(found)))
}

/// The attendees as CSV (UTF-8, RFC 4180; a cell starting with `=`, `+`, `-` or `@` is
/// prefixed with `'`, so a spreadsheet never runs it).
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = String, content_type = "text/csv"))
)]
#[get("/api/v1/t/{tenant}/events/{id}/registrations.csv")]
pub async fn list_csv(state: State, auth: Auth, path: web::Path<(String, uuid::Uuid)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (t, found) = attendees(&state, &auth, &tenant, id).await?;
    let mut out =
        String::from("status,place,name,email,ente,registered_at,promoted_at,cancelled_at,consent_version\r\n");
    let opt = |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339()).unwrap_or_default();
    for r in found.data {
        let cells = [
            r.status,
            r.place.map(|p| p.to_string()).unwrap_or_default(),
            r.name,
            r.email,
            r.ente.unwrap_or_default(),
            r.created_at.to_rfc3339(),
            opt(r.promoted_at),
            opt(r.cancelled_at),
            r.consent_version.unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"iscritti-{t}-{id}.csv\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The bodies to invite (slugs); absent: every published `ente`.
    #[serde(default)]
    pub enti: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    /// Invitations written now.
    pub invited: u64,
    /// Bodies invited to this event before: not written again.
    pub already_invited: u64,
    /// Bodies without a `pec` address: slugs.
    pub without_address: Vec<String>,
    /// Slugs asked for that name no published body.
    pub unknown: Vec<String>,
}

/// Invite the member bodies to an upcoming event, at their `pec` address: once per body and
/// event, however often it is asked. Operators, editors and admins; 409 `event_past` once it
/// has started.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = InviteBody,
    responses(
        (status = 200, body = Invited),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/events/{id}/invitations")]
pub async fn invite(
    state: State,
    auth: Auth,
    path: web::Path<(String, uuid::Uuid)>,
    body: Json<InviteBody>,
) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::AnswerRequests).await?;
    let (entry, facts) = published_event(&state, &auth, &tenant, id).await?;
    let now = state.clock.now();
    if now >= facts.start.with_timezone(&Utc) {
        return Err(conflict("event_past", "the event has started: invitations are no longer sent"));
    }
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let enti = published_enti(&state, &read).await?;
    let mut unknown = Vec::new();
    let chosen: Vec<&Entry> = match &body.0.enti {
        None => enti.iter().collect(),
        Some(slugs) => {
            let mut chosen = Vec::new();
            for slug in slugs {
                match enti.iter().find(|e| &e.slug == slug) {
                    Some(e) => chosen.push(e),
                    None => unknown.push(slug.clone()),
                }
            }
            chosen
        }
    };
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mail =
        EventMail { partner: &partner, tenant: t.id.as_str(), event: entry.id.0, slug: &entry.slug, facts: &facts };
    let mut without_address = Vec::new();
    let mut mails = Vec::new();
    for e in chosen {
        let text = |k: &str| e.data.get(k).and_then(serde_json::Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        match text("pec") {
            Some(to) => mails.push(mail.invitation(&e.slug, text("title").unwrap_or(&e.slug), to)),
            None => without_address.push(e.slug.clone()),
        }
    }
    let written = state
        .store
        .scoped(&access)
        .send_once("event.invite", (EVENT_TYPE, &entry.id.0.to_string()), mails, now)
        .await?;
    let invited = written.iter().filter(|w| **w).count() as u64;
    Ok(HttpResponse::Ok().json(Invited {
        invited,
        already_invited: written.len() as u64 - invited,
        without_address,
        unknown,
    }))
}

/// Every published `ente` of the tenant, in every locale once (by translation group).
pub(crate) async fn published_enti(state: &State, read: &cit_core::TenantAccess) -> ApiResult<Vec<Entry>> {
    published(state, read, "ente").await
}

/// Every published entry of a type, in every locale once (by translation group), by slug.
pub(crate) async fn published(state: &State, read: &cit_core::TenantAccess, type_id: &str) -> ApiResult<Vec<Entry>> {
    let scoped = state.store.scoped(read);
    let mut all: Vec<Entry> = Vec::new();
    let mut after = None;
    loop {
        let query = ListQuery {
            type_id: TypeId::parse(type_id).map_err(|_| ApiError::NotFound("content type"))?,
            locale: None,
            statuses: vec![EntryStatus::Published],
            filters: Vec::new(),
            sort: vec![SortKey { target: Target::Sys(SysField::Slug), desc: false }],
            limit: 100,
            after,
        };
        let (page, next) = scoped.list_entries(&query).await?;
        for e in page {
            if !all.iter().any(|a| a.translation_group == e.translation_group) {
                all.push(e);
            }
        }
        match next {
            Some(c) => after = Some(c),
            None => return Ok(all),
        }
    }
}
