//! `/api/v1/t/{tenant}/webhooks` (tenant admins): subscriptions to the tenant's events, their
//! deliveries and manual redelivery. Sending is the worker's (`crate::webhooks::worker`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::webhooks::{WebhookEvent, WebhookTarget};
use cit_store::{NewWebhook, Webhook, WebhookAttempt, WebhookDelivery, WebhookPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::List;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::state::State;

/// The events, as a schema: one of the fixed list.
fn event_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(WebhookEvent::ALL.iter().map(|e| e.as_str())))
        .build()
}

fn events_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new().items(event_schema()).min_items(Some(1)).build()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: `http` or `https`; loopback, private and link-local targets are
    /// refused unless the operator allows them (`webhooks.allow_private`).
    #[schema(example = "https://hooks.example.org/cit", max_length = 2000)]
    pub url: String,
    /// The events to send, at least one.
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    #[schema(schema_with = events_schema)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// `false` turns the subscription off; `true` turns it on again and clears its failures.
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: uuid::Uuid,
    pub url: String,
    pub description: String,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why the subscription is off, when it is.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url,
            description: w.description,
            events: w.events.iter().map(|e| e.as_str().to_owned()).collect(),
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            consecutive_failures: w.consecutive_failures,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The signing secret (`whsec_…`), shown this once.
    pub secret: String,
    #[serde(flatten)]
    pub info: WebhookView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's status, when it answered.
    pub status_code: Option<i32>,
    /// What went wrong; null on success.
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<WebhookAttempt> for AttemptView {
    fn from(a: WebhookAttempt) -> Self {
        Self { attempt: a.attempt, at: a.at, status_code: a.status_code, error: a.error, duration_ms: a.duration_ms }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Sent as `webhook-id`, the same on every attempt and redelivery.
    pub id: uuid::Uuid,
    pub event: String,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: String,
    /// The body sent.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub attempts: Vec<AttemptView>,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        let status = match (d.delivered_at, d.failed_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "failed",
            (None, None) => "pending",
        };
        Self {
            id: d.id,
            event: d.event,
            status: status.into(),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::String(d.payload)),
            created_at: d.created_at,
            next_attempt_at: (status == "pending").then_some(d.due_at),
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            last_status: d.last_status,
            last_error: d.last_error,
            attempts: d.attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

fn target(state: &State, raw: &str) -> ApiResult<WebhookTarget> {
    WebhookTarget::parse(raw, state.settings.webhooks.allow_private)
        .map_err(|m| ApiError::Validation(vec![FieldError::new("url", "invalid_target", m)]))
}

fn events(raw: &[String]) -> ApiResult<Vec<WebhookEvent>> {
    if raw.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new("events", "required", "choose at least one event")]));
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        match WebhookEvent::parse(e) {
            Ok(ev) if !out.contains(&ev) => out.push(ev),
            Ok(_) => {}
            Err(m) => errors.push(FieldError::new(format!("events[{i}]"), "invalid_value", m)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::Validation(errors)) }
}

fn description(raw: Option<String>) -> ApiResult<Option<String>> {
    match raw {
        Some(d) if d.chars().count() > 200 || d.chars().any(char::is_control) => {
            Err(ApiError::Validation(vec![FieldError::new(
                "description",
                "invalid_value",
                "at most 200 characters, no control characters",
            )]))
        }
        other => Ok(other),
    }
}

fn id_of(raw: &str, what: &'static str) -> ApiResult<uuid::Uuid> {
    raw.parse().map_err(|_| ApiError::NotFound(what))
}

/// The tenant's webhook subscriptions (never their secrets).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    responses((status = 200, body = List<WebhookView>))
)]
#[get("/api/v1/t/{tenant}/webhooks")]
pub async fn list(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<web::Json<List<WebhookView>>> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageWebhooks).await?;
    let hooks = state.store.scoped(&access).webhooks().await?;
    Ok(web::Json(List::all(hooks.into_iter().map(WebhookView::from).collect())))
}

/// Subscribe a target to events. The answer holds the signing secret, never shown again.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook))
)]
#[post("/api/v1/t/{tenant}/webhooks")]
pub async fn create(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    let (_, access) = state.tenant_access(&auth, &path, Action::ManageWebhooks).await?;
    let CreateWebhook { url, events: raw_events, description: raw_description } = body.0;
    let url = target(&state, &url)?;
    let events = events(&raw_events)?;
    let description = description(raw_description)?.unwrap_or_default();
    let secret = crate::webhooks::new_secret();
    let hook = state
        .store
        .scoped(&access)
        .create_webhook(NewWebhook { url, description, events, secret: secret.clone() })
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhook { secret, info: hook.into() }))
}

/// One subscription.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = WebhookView))
)]
#[get("/api/v1/t/{tenant}/webhooks/{id}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<web::Json<WebhookView>> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageWebhooks).await?;
    let hook = state.store.scoped(&access).webhook(id_of(&id, "webhook")?).await?;
    Ok(web::Json(hook.into()))
}

/// Change a subscription: target, events, description; turn it off or on again.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = PatchWebhook,
    responses((status = 200, body = WebhookView))
)]
#[patch("/api/v1/t/{tenant}/webhooks/{id}")]
pub async fn update(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<PatchWebhook>,
) -> ApiResult<web::Json<WebhookView>> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageWebhooks).await?;
    let id = id_of(&id, "webhook")?;
    let PatchWebhook { url, events: raw_events, description: raw_description, enabled } = body.0;
    let patch = WebhookPatch {
        url: url.map(|u| target(&state, &u)).transpose()?,
        events: raw_events.map(|e| events(&e)).transpose()?,
        description: description(raw_description)?,
        enabled,
    };
    let hook = state.store.scoped(&access).update_webhook(id, patch).await?;
    Ok(web::Json(hook.into()))
}

/// Delete a subscription with its deliveries and their log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 204))
)]
#[delete("/api/v1/t/{tenant}/webhooks/{id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageWebhooks).await?;
    state.store.scoped(&access).delete_webhook(id_of(&id, "webhook")?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Paging of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// Page size, 1–100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The subscription's deliveries, newest first, each with its attempts; `next_cursor` pages on.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path), DeliveriesParams),
    responses((status = 200, body = List<DeliveryView>))
)]
#[get("/api/v1/t/{tenant}/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    q: web::Query<DeliveriesParams>,
) -> ApiResult<web::Json<List<DeliveryView>>> {
    let (tenant, id) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageWebhooks).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest { code: "invalid_query", detail: "limit: between 1 and 100".into() });
    }
    let after = q
        .cursor
        .as_deref()
        .map(|c| c.parse::<uuid::Uuid>().map_err(|_| cit_store::StoreError::BadCursor))
        .transpose()?;
    let (found, next) = state.store.scoped(&access).webhook_deliveries(id_of(&id, "webhook")?, limit, after).await?;
    Ok(web::Json(List {
        data: found.into_iter().map(DeliveryView::from).collect(),
        next_cursor: next.map(|n| n.to_string()),
    }))
}

/// Send a delivery again now, with the same `webhook-id`, whatever became of it before.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path), ("delivery" = uuid::Uuid, Path)),
    responses((status = 202, body = DeliveryView))
)]
#[post("/api/v1/t/{tenant}/webhooks/{id}/deliveries/{delivery}/redeliver")]
pub async fn redeliver(state: State, auth: Auth, path: web::Path<(String, String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, id, delivery) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ManageWebhooks).await?;
    let d =
        state.store.scoped(&access).redeliver_webhook(id_of(&id, "webhook")?, id_of(&delivery, "delivery")?).await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(d)))
}
