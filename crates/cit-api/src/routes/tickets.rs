//! `/api/v1/t/{tenant}/tickets` and `/submissions` (operators, editors, admins): the requests
//! that came in, the tickets they opened, and the answers.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::tickets::{Priority, TicketState, is_overdue};
use cit_core::{Action, TenantAccess};
use cit_store::Store;
use cit_store::requests::{Submission, Ticket, TicketFilter, TicketPatch, TicketThread};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::attachments::{self, AttachmentView};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::mail::templates::{self, Partner};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
pub struct Requester {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMessage {
    pub id: uuid::Uuid,
    /// `requester` or `staff`.
    pub author: String,
    pub author_name: String,
    pub author_user: Option<uuid::Uuid>,
    pub body: String,
    /// An internal note, never shown to the requester.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub number: i64,
    pub subject: String,
    /// new, open, waiting, resolved, closed.
    pub state: String,
    /// low, normal, high, urgent.
    pub priority: String,
    /// The service it is about (slug or id).
    pub category: Option<String>,
    /// The requesting body.
    pub ente: Option<String>,
    pub assignee: Option<uuid::Uuid>,
    pub requester: Requester,
    pub submission: uuid::Uuid,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Past a due date it has not met.
    pub overdue: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The whole thread, internal notes too (one ticket only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<StaffMessage>>,
    /// Every change (one ticket only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<Vec<AuditView>>,
    /// The files the requester attached (one ticket only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

fn view(t: Ticket, now: DateTime<Utc>) -> TicketView {
    TicketView {
        overdue: is_overdue(t.sla(), now),
        number: t.number,
        subject: t.subject,
        state: t.state.as_str().to_owned(),
        priority: t.priority.as_str().to_owned(),
        category: t.category,
        ente: t.ente,
        assignee: t.assignee,
        requester: Requester { name: t.requester_name, email: t.requester_email },
        submission: t.submission,
        first_response_due: t.first_response_due,
        resolution_due: t.resolution_due,
        first_response_at: t.first_response_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        created_at: t.created_at,
        updated_at: t.updated_at,
        messages: None,
        audit: None,
        attachments: None,
    }
}

fn full_view(thread: TicketThread, now: DateTime<Utc>) -> TicketView {
    let mut v = view(thread.ticket, now);
    v.messages = Some(
        thread
            .messages
            .into_iter()
            .map(|m| StaffMessage {
                id: m.id,
                author: m.author.as_str().to_owned(),
                author_name: m.author_name,
                author_user: m.author_user,
                body: m.body,
                internal: m.internal,
                created_at: m.created_at,
            })
            .collect(),
    );
    v.audit = Some(
        thread
            .audit
            .into_iter()
            .map(|a| AuditView { actor: a.actor, action: a.action, details: a.details, at: a.at })
            .collect(),
    );
    v
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub data: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    /// new, open, waiting, resolved, closed.
    #[param(schema_with = crate::openapi::shapes::ticket_state)]
    pub state: Option<String>,
    /// low, normal, high, urgent.
    #[param(schema_with = crate::openapi::shapes::ticket_priority)]
    pub priority: Option<String>,
    /// A user id: the tickets assigned to them.
    pub assignee: Option<uuid::Uuid>,
    /// `true`: only tickets past a due date they have not met.
    pub overdue: Option<bool>,
    /// 1 to 100; 50 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

fn invalid(field: &str, e: cit_core::InvalidInput) -> ApiError {
    ApiError::Validation(vec![FieldError::from_invalid(field, e)])
}

/// 400 `invalid_query`: a query parameter outside its documented values.
fn bad_query(field: &str, e: cit_core::InvalidInput) -> ApiError {
    ApiError::BadRequest { code: "invalid_query", detail: format!("{field}: {}", e.message) }
}

/// 400 `invalid_cursor`: not a `next_cursor` of this list.
pub(crate) fn bad_cursor() -> ApiError {
    ApiError::BadRequest { code: "invalid_cursor", detail: "the cursor is not valid".into() }
}

/// The tickets cursor (`next_cursor` of the previous page), or 400 `invalid_cursor`.
pub(crate) fn cursor_of(raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|c| c.parse::<i64>().map_err(|_| bad_cursor())).transpose()
}

fn limit_of(raw: Option<u64>) -> ApiResult<u64> {
    match raw.unwrap_or(50) {
        n @ 1..=100 => Ok(n),
        _ => Err(ApiError::BadRequest { code: "invalid_limit", detail: "limit is between 1 and 100".into() }),
    }
}

/// The tenant's tickets, newest first.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), TicketQuery),
    responses(
        (status = 200, body = TicketList),
    )
)]
#[get("/api/v1/t/{tenant}/tickets")]
pub async fn list(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    query: web::Query<TicketQuery>,
) -> ApiResult<web::Json<TicketList>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ReadRequests).await?;
    let q = query.into_inner();
    let now = state.clock.now();
    let filter = TicketFilter {
        state: q.state.as_deref().map(TicketState::parse).transpose().map_err(|e| bad_query("state", e))?,
        priority: q.priority.as_deref().map(Priority::parse).transpose().map_err(|e| bad_query("priority", e))?,
        assignee: q.assignee,
        overdue_at: q.overdue.unwrap_or(false).then_some(now),
        before: cursor_of(q.cursor.as_deref())?,
        limit: limit_of(q.limit)?,
    };
    Ok(web::Json(ticket_page(&state.store, &access, &filter, now).await?))
}

/// A page of the tenant's tickets as staff see them, newest first: the REST list and
/// GraphQL's `tickets`.
pub(crate) async fn ticket_page(
    store: &Store,
    access: &TenantAccess,
    filter: &TicketFilter,
    now: DateTime<Utc>,
) -> ApiResult<TicketList> {
    let page = store.scoped(access).tickets(filter).await?;
    Ok(TicketList {
        data: page.items.into_iter().map(|t| view(t, now)).collect(),
        next_cursor: page.next.map(|n| n.to_string()),
    })
}

/// One ticket with its whole thread (internal notes too) and its audit trail: REST's
/// `GET …/tickets/{number}` and GraphQL's `ticket`.
pub(crate) async fn ticket_detail(
    store: &Store,
    access: &TenantAccess,
    number: i64,
    now: DateTime<Utc>,
) -> ApiResult<TicketView> {
    let mut ticket = full_view(store.scoped(access).ticket(number).await?, now);
    ticket.attachments = Some(attachments::of_submission(store, access, ticket.submission).await?);
    Ok(ticket)
}

/// Every ticket as CSV (UTF-8, comma-separated, RFC 4180 quoting).
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
    )
)]
#[get("/api/v1/t/{tenant}/tickets.csv")]
pub async fn export_csv(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (t, access) = state.tenant_access(&auth, &path, Action::ReadRequests).await?;
    let now = state.clock.now();
    let tickets = state.store.scoped(&access).all_tickets().await?;
    let mut out = String::from(
        "number,subject,state,priority,category,ente,assignee,requester,requester_email,created_at,first_response_due,first_response_at,resolution_due,resolved_at,closed_at,overdue\r\n",
    );
    for tk in tickets {
        let overdue = is_overdue(tk.sla(), now);
        let opt = |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339()).unwrap_or_default();
        let cells = [
            tk.number.to_string(),
            tk.subject,
            tk.state.as_str().to_owned(),
            tk.priority.as_str().to_owned(),
            tk.category.unwrap_or_default(),
            tk.ente.unwrap_or_default(),
            tk.assignee.map(|a| a.to_string()).unwrap_or_default(),
            tk.requester_name,
            tk.requester_email.unwrap_or_default(),
            tk.created_at.to_rfc3339(),
            tk.first_response_due.to_rfc3339(),
            opt(tk.first_response_at),
            tk.resolution_due.to_rfc3339(),
            opt(tk.resolved_at),
            opt(tk.closed_at),
            overdue.to_string(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"tickets-{}.csv\"", t.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`,
/// `@` is prefixed with `'` so that a spreadsheet never runs a requester's text as a formula.
pub(crate) fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// One ticket, with its whole thread (internal notes too) and its audit trail.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("number" = i64, Path)),
    responses(
        (status = 200, body = TicketView),
    )
)]
#[get("/api/v1/t/{tenant}/tickets/{number}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<(String, i64)>) -> ApiResult<web::Json<TicketView>> {
    let (tenant, number) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ReadRequests).await?;
    Ok(web::Json(ticket_detail(&state.store, &access, number, state.clock.now()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicket {
    /// new, open, waiting, resolved, closed (reopen within the window).
    #[schema(schema_with = crate::openapi::shapes::ticket_state_patch)]
    pub state: Option<String>,
    /// low, normal, high, urgent: the due dates follow.
    #[schema(schema_with = crate::openapi::shapes::ticket_priority_patch)]
    pub priority: Option<String>,
    /// A member of the tenant's staff, or null.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assignee: Option<Option<uuid::Uuid>>,
    /// A service (slug or id), or null.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
}

/// Changes a ticket; every change is audited.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("number" = i64, Path)),
    request_body = PatchTicket,
    responses(
        (status = 200, body = TicketView),
    )
)]
#[patch("/api/v1/t/{tenant}/tickets/{number}")]
pub async fn update(
    state: State,
    auth: Auth,
    path: web::Path<(String, i64)>,
    body: Json<PatchTicket>,
) -> ApiResult<web::Json<TicketView>> {
    let (tenant, number) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::AnswerRequests).await?;
    let b = body.0;
    let now = state.clock.now();
    let scoped = state.store.scoped(&access);
    let mut patch = TicketPatch {
        state: b.state.as_deref().map(TicketState::parse).transpose().map_err(|e| invalid("state", e))?,
        priority: b.priority.as_deref().map(Priority::parse).transpose().map_err(|e| invalid("priority", e))?,
        assignee: b.assignee,
        category: b.category.map(|c| c.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())),
        due: None,
    };
    if let Some(Some(user)) = patch.assignee {
        let staff = state.store.role_of(&state.authentication()?, &t.id, cit_core::UserId(user)).await?;
        if !matches!(staff, Some(cit_core::Role::Operator | cit_core::Role::Editor | cit_core::Role::Admin)) {
            return Err(ApiError::Validation(vec![FieldError::new(
                "assignee",
                "not_staff",
                "the assignee must be an operator, editor or admin of this tenant",
            )]));
        }
    }
    if let Some(Some(c)) = &patch.category
        && c.len() > 200
    {
        return Err(ApiError::Validation(vec![FieldError::new("category", "too_long", "at most 200 characters")]));
    }
    if let Some(p) = patch.priority {
        let current = scoped.ticket(number).await?.ticket;
        patch.due = Some(state.settings.requests.sla.due(current.created_at, p));
    }
    let thread = scoped.update_ticket(number, patch, now, state.settings.requests.reopen_days).await?;
    Ok(web::Json(full_view(thread, now)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
    /// An internal note (staff only) instead of a public reply.
    #[serde(default)]
    pub internal: bool,
}

/// Answers a ticket. A public reply e-mails the requester with the secret link, and the ticket
/// waits for them; an internal note is for staff only.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("number" = i64, Path)),
    request_body = NewMessage,
    responses(
        (status = 201, body = TicketView),
    )
)]
#[post("/api/v1/t/{tenant}/tickets/{number}/messages")]
pub async fn add_message(
    state: State,
    auth: Auth,
    path: web::Path<(String, i64)>,
    body: Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    let (tenant, number) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::AnswerRequests).await?;
    let (user, _) = auth.user()?;
    let s = &state.settings.requests;
    let text = s.message_text(&body.0.body)?;
    let now = state.clock.now();
    let site = s.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let keys = &state.request_keys;
    let reply = text.clone();
    let author_name = format!("{} ({})", user.name, t.name);
    let thread = state
        .store
        .scoped(&access)
        .staff_message(number, (user.id.0, user.name.clone()), text, body.0.internal, now, |ticket| {
            let to = ticket.requester_email.as_deref()?;
            let secret = keys.ticket_secret(t.id.as_str(), ticket.id);
            Some(templates::ticket_reply(&partner, ticket.number, &ticket.subject, &author_name, &reply, &secret, to))
        })
        .await?;
    Ok(HttpResponse::Created().json(full_view(thread, now)))
}

// ---- submissions --------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionView {
    pub id: uuid::Uuid,
    pub form: String,
    pub form_version: i32,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// The version of the privacy notice accepted, if the form has one.
    pub consent_version: Option<String>,
    pub servizio: Option<String>,
    pub ente: Option<String>,
    pub page: Option<String>,
    /// The ticket it opened.
    pub ticket: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When its data was anonymised (retention).
    pub anonymised_at: Option<DateTime<Utc>>,
    /// The files sent with it (one submission only; deleted by retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl From<Submission> for SubmissionView {
    fn from(s: Submission) -> Self {
        Self {
            id: s.id,
            form: s.form,
            form_version: s.sent.form_version,
            data: s.sent.data,
            consent_version: s.sent.consent_version,
            servizio: s.sent.servizio,
            ente: s.sent.ente,
            page: s.sent.page,
            ticket: s.ticket,
            created_at: s.created_at,
            anonymised_at: s.anonymised_at,
            attachments: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionList {
    pub data: Vec<SubmissionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubmissionQuery {
    /// Only this form's submissions.
    pub form: Option<String>,
    /// 1 to 100; 50 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
}

/// Submissions of every form (tickets' too), newest first.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), SubmissionQuery),
    responses(
        (status = 200, body = SubmissionList),
    )
)]
#[get("/api/v1/t/{tenant}/submissions")]
pub async fn submissions(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    query: web::Query<SubmissionQuery>,
) -> ApiResult<web::Json<SubmissionList>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ReadRequests).await?;
    let q = query.into_inner();
    Ok(web::Json(submission_page(&state.store, &access, q.form.as_deref(), q.cursor, limit_of(q.limit)?).await?))
}

/// A page of submissions, newest first (`form` narrows to one form; `after` is the previous
/// page's `next_cursor`): the REST list and GraphQL's `submissions`.
pub(crate) async fn submission_page(
    store: &Store,
    access: &TenantAccess,
    form: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> ApiResult<SubmissionList> {
    let page = store.scoped(access).submissions(form, after, limit).await?;
    Ok(SubmissionList {
        data: page.items.into_iter().map(SubmissionView::from).collect(),
        next_cursor: page.next.map(|n| n.to_string()),
    })
}

/// One submission.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = SubmissionView),
    )
)]
#[get("/api/v1/t/{tenant}/submissions/{id}")]
pub async fn submission(
    state: State,
    auth: Auth,
    path: web::Path<(String, uuid::Uuid)>,
) -> ApiResult<web::Json<SubmissionView>> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ReadRequests).await?;
    Ok(web::Json(submission_detail(&state.store, &access, id).await?))
}

/// One submission with its attachments: what REST and GraphQL answer.
pub(crate) async fn submission_detail(
    store: &Store,
    access: &TenantAccess,
    id: uuid::Uuid,
) -> ApiResult<SubmissionView> {
    let mut view = SubmissionView::from(store.scoped(access).submission(id).await?);
    view.attachments = Some(attachments::of_submission(store, access, id).await?);
    Ok(view)
}
