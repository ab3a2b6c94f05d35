//! `/api/v1/t/{tenant}/forms` and `/tickets/by-secret/{secret}` (no login): what the public
//! fills in, sends, and follows. Every refusal is a problem document and stores nothing.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use cit_core::forms::{Form, FormId, kind_name};
use cit_core::tickets::Priority;
use cit_core::{Action, Role};
use cit_store::requests::{NewSubmission, NewTicket, Submitted, TicketThread};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Auth, Json, parse_json};
use crate::mail::templates::{self, Partner};
use crate::requests::attachments;
use crate::requests::{FillTokenError, end_user_address};
use crate::security::token_hash;
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyView {
    /// The version of the notice a consent must name.
    pub version: String,
    pub label: String,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinksView {
    /// A submission may name a `servizio` (slug or id).
    pub servizio: bool,
    /// A submission may name the requesting `ente` (slug or id).
    pub ente: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    pub name: String,
    /// The same kinds as content fields: string, text, integer, decimal, boolean, date, enum, email, url, tags.
    pub kind: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    /// The allowed values of an enum.
    pub values: Option<Vec<String>>,
    /// A list of values (tags).
    pub many: bool,
    /// Smallest and largest value (integer, decimal) or number of items (tags).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Shortest and longest text, in characters (string, text).
    pub min_length: Option<f64>,
    pub max_length: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentsView {
    /// At most this many files per submission.
    pub max_files: usize,
    /// At most this many bytes per file.
    pub max_bytes: usize,
    /// Allowed MIME types, recognised from the files' bytes.
    pub types: Vec<String>,
    /// The allowed types for people, in Italian: "PDF, PNG, JPEG o testo".
    pub types_label: String,
    /// The file name endings that go with the allowed types (`.pdf`, `.png`, …): for `accept`.
    pub extensions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormView {
    #[schema(example = "contatti")]
    pub id: String,
    /// contact, interest, assistance, feedback.
    pub purpose: String,
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<FieldView>,
    pub privacy: Option<PrivacyView>,
    pub links: LinksView,
    /// The files a submission may carry (send it as `multipart/form-data`); absent: none.
    pub attachments: Option<AttachmentsView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormWithToken {
    #[serde(flatten)]
    pub form: FormView,
    /// Send it back with the submission: it proves the form was served here, and when.
    pub fill_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormList {
    pub data: Vec<FormView>,
}

/// Kinds whose `min`/`max` count characters.
const CHAR_KINDS: &[&str] = &["string", "text"];

impl From<&Form> for FormView {
    fn from(f: &Form) -> Self {
        let fields = f
            .fields()
            .iter()
            .map(|field| {
                let kind = kind_name(&field.kind);
                let chars = CHAR_KINDS.contains(&kind);
                let default_max = match kind {
                    "string" => Some(255.0),
                    "text" => Some(50_000.0),
                    _ => None,
                };
                FieldView {
                    name: field.name.as_str().to_owned(),
                    kind: kind.to_owned(),
                    label: field.label.clone(),
                    help: field.description.clone(),
                    required: field.required,
                    values: match &field.kind {
                        cit_core::content::FieldKind::Enum { values } => Some(values.clone()),
                        _ => None,
                    },
                    many: kind == "tags",
                    min: if chars { None } else { field.min },
                    max: if chars { None } else { field.max },
                    min_length: if chars { field.min } else { None },
                    max_length: if chars { field.max.or(default_max) } else { None },
                }
            })
            .collect();
        Self {
            id: f.id.to_string(),
            purpose: f.purpose.as_str().to_owned(),
            title: f.title.clone(),
            description: f.description.clone(),
            fields,
            privacy: f.privacy.as_ref().map(|p| PrivacyView {
                version: p.version.clone(),
                label: p.label.clone(),
                url: p.url.clone(),
            }),
            links: LinksView { servizio: f.links.servizio, ente: f.links.ente },
            attachments: f.attachments.as_ref().map(|a| AttachmentsView {
                max_files: a.max_files,
                max_bytes: a.max_bytes,
                types: a.types.iter().map(|t| t.mime.to_owned()).collect(),
                types_label: a.labels(),
                extensions: a.types.iter().flat_map(|t| t.extensions.iter().map(|e| format!(".{e}"))).collect(),
            }),
        }
    }
}

/// The tenant's forms.
#[utoipa::path(
    tag = "requests",
    params(("tenant" = String, Path)),
    responses((status = 200, body = FormList))
)]
#[get("/api/v1/t/{tenant}/forms")]
pub async fn list(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<FormList>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::SubmitRequest).await?;
    let forms = state.store.scoped(&access).forms().await?;
    Ok(web::Json(FormList { data: forms.iter().map(|f| FormView::from(&f.form)).collect() }))
}

/// One form, with a fresh fill token (never cached).
#[utoipa::path(
    tag = "requests",
    params(("tenant" = String, Path), ("form" = String, Path)),
    responses((status = 200, body = FormWithToken))
)]
#[get("/api/v1/t/{tenant}/forms/{form}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, form) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let stored = state.store.scoped(&access).form(&form).await?.ok_or(ApiError::NotFound("form"))?;
    let token = state.request_keys.fill_token(t.id.as_str(), stored.form.id.as_str(), state.clock.now());
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(FormWithToken { form: FormView::from(&stored.form), fill_token: token }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub accepted: bool,
    /// The version of the privacy notice that was shown.
    pub version: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The form's fields, by name.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub consent: Option<Consent>,
    /// From `GET forms/{form}`.
    pub fill_token: String,
    /// The honeypot: a field people never see. It must be empty or absent.
    #[serde(default)]
    pub website: Option<String>,
    /// The service the request is about (slug or id), when the form links to services.
    pub servizio: Option<String>,
    /// The requesting body (slug or id), when the form links to bodies.
    pub ente: Option<String>,
    /// The page the form was sent from, e.g. `/servizi/pago-pa`.
    pub page: Option<String>,
}

/// A submission with files, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SubmitMultipart {
    /// The same JSON as a JSON submission.
    #[schema(value_type = String, content_media_type = "application/json")]
    submission: String,
    /// The files, one part each; their type is recognised from their bytes.
    #[schema(value_type = Vec<String>, format = Binary)]
    attachments: Vec<Vec<u8>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSecret {
    pub number: i64,
    /// The requester's secret: `GET tickets/by-secret/{secret}`. Shown this once (and e-mailed).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionReceipt {
    pub id: uuid::Uuid,
    pub form: String,
    pub created_at: DateTime<Utc>,
    pub ticket: Option<TicketSecret>,
}

pub(crate) fn bad(code: &'static str, detail: &str) -> ApiError {
    ApiError::BadRequest { code, detail: detail.to_owned() }
}

/// The fill token of `form` (a form's id, or another key such as `event:{id}`): ours, not too
/// young and not too old; refused as 400 `fill_token_invalid`, `fill_token_expired` or
/// `fill_too_fast`.
pub(crate) fn check_fill_token(
    state: &State,
    token: &str,
    tenant: &str,
    form: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let settings = &state.settings.requests;
    state
        .request_keys
        .check_fill_token(token, tenant, form, now, settings.min_fill_secs, settings.fill_token_ttl_secs)
        .map_err(|e| match e {
            FillTokenError::Invalid => bad("fill_token_invalid", "the form token is not valid: reload the form"),
            FillTokenError::Expired => {
                bad("fill_token_expired", "the form was open too long: reload it and send it again")
            }
            FillTokenError::TooFast => bad("fill_too_fast", "the form was sent too quickly after it was opened"),
        })
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
}

/// Reads a body up to `limit` bytes (413 beyond, whatever the headers say).
async fn read_capped(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
    if declared_length(req).is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad("bad_body", "the body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A `servizio`/`ente` reference: a slug or an id, checked for shape only.
fn link(field: &'static str, value: Option<String>, allowed: bool) -> Result<Option<String>, FieldError> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if !allowed {
        return Err(FieldError::new(field, "not_applicable", format!("this form does not take a {field}")));
    }
    let ok = v.len() <= 200
        && (uuid::Uuid::parse_str(&v).is_ok()
            || v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    if ok { Ok(Some(v)) } else { Err(FieldError::new(field, "invalid_slug", "expected a slug or an id")) }
}

/// Send a form. Refused, with nothing stored: a filled honeypot (400 `honeypot`), a token that
/// is missing, forged, too young or too old (400 `fill_token_invalid`, `fill_too_fast`,
/// `fill_token_expired`), too many submissions (429 `rate_limited`), a body over the cap (413),
/// no consent to the current privacy notice (422 `consent_required`), invalid fields (422).
///
/// A form with `attachments` also takes `multipart/form-data`: a `submission` part with the JSON
/// and one `attachments` part per file. Each file's type is recognised from its bytes; a type
/// the form does not allow (`unsupported_type`), a name or declared type that says otherwise
/// (`type_mismatch`), an empty file, too many files (`too_many_files`), a file over the form's
/// size (`file_too_large`) or any file for a form without attachments
/// (`attachments_not_accepted`) is a 422 whose `errors[].field` is `attachments`. The body cap
/// of such a form grows by what its files may weigh (413 beyond).
#[utoipa::path(
    tag = "requests",
    params(("tenant" = String, Path), ("form" = String, Path)),
    request_body(content(
        (SubmitBody = "application/json"),
        (SubmitMultipart = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = SubmissionReceipt),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/forms/{form}/submissions")]
pub async fn submit(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (tenant, form_id) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let settings = &state.settings.requests;
    let scoped = state.store.scoped(&access);
    let stored = scoped.form(&form_id).await?.ok_or(ApiError::NotFound("form"))?;
    let form = &stored.form;
    let (body, files) = if attachments::is_multipart(&req) {
        let cap = attachments::body_cap(settings.max_body, form.attachments.as_ref());
        if declared_length(&req).is_some_and(|n| n > cap) {
            return Err(ApiError::PayloadTooLarge { limit: cap });
        }
        attachments::read_multipart(&req, payload, settings.max_body, form.attachments.as_ref()).await?
    } else {
        (read_capped(&req, payload, settings.max_body).await?, Vec::new())
    };
    let address = end_user_address(&req, &settings.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    let body: SubmitBody = parse_json(&body)?;
    if body.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(bad("honeypot", "the submission looks automated and was not accepted"));
    }
    let now = state.clock.now();
    check_fill_token(&state, &body.fill_token, t.id.as_str(), form.id.as_str(), now)?;
    let consent_version = form
        .check_consent(
            body.consent.as_ref().is_some_and(|c| c.accepted),
            body.consent.as_ref().and_then(|c| c.version.as_deref()),
        )
        .map_err(|e| ApiError::Unprocessable {
            code: e.code,
            detail: e.message.clone(),
            errors: vec![FieldError::new("consent", e.code, e.message)],
        })?;
    let mut errors = Vec::new();
    let data = match form.validate(&body.data) {
        Ok(data) => Some(data),
        Err(problems) => {
            errors.extend(problems.into_iter().map(|p| FieldError::new(p.path, p.code, p.message)));
            None
        }
    };
    let servizio = link("servizio", body.servizio, form.links.servizio).map_err(|e| errors.push(e)).ok().flatten();
    let ente = link("ente", body.ente, form.links.ente).map_err(|e| errors.push(e)).ok().flatten();
    let page = match body.page.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        Some(p) if p.starts_with('/') && p.len() <= 500 && !p.chars().any(char::is_control) => Some(p),
        Some(_) => {
            errors.push(FieldError::new("page", "invalid_path", "a path on the site, starting with `/`"));
            None
        }
        None => None,
    };
    let files = match (&form.attachments, files.is_empty()) {
        (Some(rules), false) => attachments::check(rules, files).map_err(|e| errors.extend(e)).unwrap_or_default(),
        _ => Vec::new(),
    };
    let Some(data) = data.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };

    let id = uuid::Uuid::now_v7();
    let secret_and_ticket = form.opens_ticket().then(|| {
        let ticket_id = uuid::Uuid::new_v4();
        let secret = state.request_keys.ticket_secret(t.id.as_str(), ticket_id);
        let priority = Priority::Normal;
        let (first_response_due, resolution_due) = settings.sla.due(now, priority);
        let ticket = NewTicket {
            id: ticket_id,
            subject: form.text_of(&data, form.subject_from.as_ref()).unwrap_or(&form.title).to_owned(),
            priority,
            category: servizio.clone(),
            ente: ente.clone().or_else(|| data.get("ente").and_then(Value::as_str).map(str::to_owned)),
            requester_name: form.text_of(&data, form.name_from.as_ref()).unwrap_or("Richiedente").to_owned(),
            requester_email: form.text_of(&data, form.reply_to.as_ref()).map(str::to_owned),
            secret_hash: token_hash(&secret),
            first_message: form.message_of(&data),
            first_response_due,
            resolution_due,
        };
        (secret, ticket)
    });
    let site = settings.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let requester = form.text_of(&data, form.reply_to.as_ref()).map(str::to_owned);
    let subject = secret_and_ticket.as_ref().map(|(_, tk)| tk.subject.clone()).unwrap_or_default();
    let secret = secret_and_ticket.as_ref().map(|(s, _)| s.clone());
    let compose = |number: Option<i64>, staff: &[String]| {
        let mut mails: Vec<_> =
            staff.iter().map(|to| templates::submission_received(&partner, form, &data, number, to)).collect();
        if let (Some(n), Some(secret), Some(to)) = (number, &secret, &requester) {
            mails.push(templates::ticket_opened(&partner, n, &subject, secret, to));
        }
        mails
    };
    // The files are written first; if the submission is not stored after all, they go.
    let has_files = !files.is_empty();
    let files = attachments::store(state.attachments.as_ref(), t.id.as_str(), id, files).await?;
    let new = NewSubmission {
        id,
        form: FormId::parse(form.id.as_str()).map_err(|_| ApiError::NotFound("form"))?,
        sent: Submitted { form_version: stored.version, data: data.clone(), consent_version, servizio, ente, page },
        at: now,
        recipients: form.recipients.clone(),
        ticket: secret_and_ticket.as_ref().map(|(_, tk)| tk.clone()),
        attachments: files,
    };
    let submitted = scoped.submit(new, compose).await;
    if submitted.is_err() && has_files {
        attachments::discard(state.attachments.as_ref(), t.id.as_str(), id).await;
    }
    let (saved, number) = submitted?;
    let ticket = match (number, secret_and_ticket) {
        (Some(number), Some((secret, _))) => Some(TicketSecret { number, secret }),
        _ => None,
    };
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(SubmissionReceipt {
        id: saved.id,
        form: saved.form,
        created_at: saved.created_at,
        ticket,
    }))
}

// ---- the requester's follow-up ---------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMessage {
    /// `requester` or `staff`.
    pub author: String,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTicketView {
    pub number: i64,
    pub subject: String,
    /// new, open, waiting, resolved, closed.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the requester may still write.
    pub can_reply: bool,
    /// Public replies only, never internal notes.
    pub messages: Vec<PublicMessage>,
}

fn public_view(thread: TicketThread, now: DateTime<Utc>, reopen_days: u32) -> PublicTicketView {
    let t = &thread.ticket;
    let since = t.done_at().map(|d| now - d);
    PublicTicketView {
        number: t.number,
        subject: t.subject.clone(),
        state: t.state.as_str().to_owned(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        can_reply: cit_core::tickets::after_requester_message(t.state, since, reopen_days).is_some(),
        messages: thread
            .messages
            .into_iter()
            .filter(|m| !m.internal)
            .map(|m| PublicMessage {
                author: m.author.as_str().to_owned(),
                author_name: m.author_name,
                body: m.body,
                created_at: m.created_at,
            })
            .collect(),
    }
}

/// A secret that names nothing, or a ticket closed longer ago than the link lives: 404 alike.
fn expired(thread: &TicketThread, now: DateTime<Utc>, ttl_days: u32) -> bool {
    thread.ticket.closed_at.is_some_and(|c| now - c > chrono::Duration::days(i64::from(ttl_days)))
}

/// A ticket, for its requester (the secret link of the e-mail).
#[utoipa::path(
    tag = "requests",
    params(("tenant" = String, Path), ("secret" = String, Path)),
    responses((status = 200, body = PublicTicketView))
)]
#[get("/api/v1/t/{tenant}/tickets/by-secret/{secret}")]
pub async fn by_secret(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, secret) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let now = state.clock.now();
    let s = &state.settings.requests;
    let thread = state.store.scoped(&access).ticket_by_secret(&token_hash(&secret)).await?;
    if expired(&thread, now, s.secret_ttl_days) {
        return Err(ApiError::NotFound("ticket"));
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(public_view(
        thread,
        now,
        s.reopen_days,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub body: String,
}

/// The requester answers through the secret link. Staff are told by e-mail.
#[utoipa::path(
    tag = "requests",
    params(("tenant" = String, Path), ("secret" = String, Path)),
    request_body = MessageBody,
    responses(
        (status = 201, body = PublicTicketView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/tickets/by-secret/{secret}/messages")]
pub async fn reply_by_secret(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<MessageBody>,
) -> ApiResult<HttpResponse> {
    let (tenant, secret) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let s = &state.settings.requests;
    let text = s.message_text(&body.0.body)?;
    let address = end_user_address(&req, &s.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    let now = state.clock.now();
    let hash = token_hash(&secret);
    let scoped = state.store.scoped(&access);
    let current = scoped.ticket_by_secret(&hash).await?;
    if expired(&current, now, s.secret_ttl_days) {
        return Err(ApiError::NotFound("ticket"));
    }
    let site = s.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let message = text.clone();
    let thread = scoped
        .requester_message(&hash, text, now, s.reopen_days, &[Role::Operator], |ticket, staff| {
            staff
                .iter()
                .map(|to| templates::requester_replied(&partner, ticket.number, &ticket.subject, &message, to))
                .collect()
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(public_view(
        thread,
        now,
        s.reopen_days,
    )))
}
