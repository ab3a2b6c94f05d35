//! A tenant's webhooks: subscriptions, the deliveries each change writes in its own
//! transaction ([`TenantStore::enqueue_webhooks`]), and the log of every attempt. The worker
//! that claims and sends deliveries for every tenant is in `cross_tenant.rs`.

use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::webhooks::{WebhookEvent, WebhookTarget};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Value, json};

use super::TenantStore;
use crate::entity::{webhook, webhook_attempt, webhook_delivery};
use crate::{StoreError, StoreResult};

/// A subscription, as its tenant's admins see it (never its secret after creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: uuid::Uuid,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    /// Why cit turned it off, when it did.
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new subscription: the secret is made by the caller and shown once.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: WebhookTarget,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    pub secret: String,
}

/// A change to a subscription; `None` leaves a field as it is. Enabling it again clears the
/// count of failures and the reason it was turned off.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<WebhookTarget>,
    pub description: Option<String>,
    pub events: Option<Vec<WebhookEvent>>,
    pub enabled: Option<bool>,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// What went wrong: a status outside 2xx, a timeout, a refused connection, a refused address.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One event for one subscription, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: uuid::Uuid,
    pub webhook_id: uuid::Uuid,
    pub event: String,
    /// The JSON body sent, byte for byte.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (while neither delivered nor given up).
    pub due_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When cit gave up on it (attempts exhausted, or the subscription turned off).
    pub failed_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub attempts: Vec<WebhookAttempt>,
}

fn events_of(value: &Value) -> StoreResult<Vec<WebhookEvent>> {
    value
        .as_array()
        .ok_or_else(|| StoreError::Corrupt("webhook events are not a list".into()))?
        .iter()
        .map(|e| WebhookEvent::parse(e.as_str().unwrap_or_default()).map_err(StoreError::Corrupt))
        .collect()
}

/// The delivery rows that `events` set off for `subscriptions` (the enabled ones of one tenant),
/// due `now`: one per event and subscription that asked for it. The caller inserts them with
/// their tenant (the scoped layer, or the scheduler's flip in `cross_tenant`).
pub(crate) fn deliveries(
    subscriptions: &[webhook::Model],
    events: &[WebhookEvent],
    data: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Vec<webhook_delivery::ActiveModel>> {
    let mut rows = Vec::new();
    for event in events {
        let body = event_body(*event, now, data);
        for s in subscriptions {
            if !events_of(&s.events)?.contains(event) {
                continue;
            }
            rows.push(webhook_delivery::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                webhook_id: Set(s.id),
                event: Set(event.as_str().to_owned()),
                payload: Set(body.clone()),
                created_at: Set(now),
                due_at: Set(now),
                attempts: Set(0),
                claimed_by: Set(None),
                claimed_until: Set(None),
                delivered_at: Set(None),
                failed_at: Set(None),
                last_status: Set(None),
                last_error: Set(None),
                ..Default::default()
            });
        }
    }
    Ok(rows)
}

fn events_value(events: &[WebhookEvent]) -> Value {
    Value::Array(events.iter().map(|e| Value::String(e.as_str().to_owned())).collect())
}

fn webhook_of(m: webhook::Model) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: m.id,
        url: m.url,
        description: m.description,
        events: events_of(&m.events)?,
        enabled: m.enabled,
        disabled_reason: m.disabled_reason,
        consecutive_failures: m.consecutive_failures,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn delivery_of(m: webhook_delivery::Model, attempts: Vec<WebhookAttempt>) -> WebhookDelivery {
    WebhookDelivery {
        id: m.id,
        webhook_id: m.webhook_id,
        event: m.event,
        payload: m.payload,
        created_at: m.created_at,
        due_at: m.due_at,
        delivered_at: m.delivered_at,
        failed_at: m.failed_at,
        last_status: m.last_status,
        last_error: m.last_error,
        attempts,
    }
}

/// The body of an event, as sent: `{"type", "timestamp", "data"}`.
pub(crate) fn event_body(event: WebhookEvent, at: DateTime<Utc>, data: &Value) -> String {
    json!({
        "type": event.as_str(),
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

impl TenantStore<'_> {
    async fn webhook_row(&self, conn: &impl ConnectionTrait, id: uuid::Uuid) -> StoreResult<webhook::Model> {
        self.select::<webhook::Entity>()
            .filter(webhook::Column::Id.eq(id))
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("webhook"))
    }

    pub async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.require(Action::ManageWebhooks)?;
        self.select::<webhook::Entity>()
            .order_by_asc(webhook::Column::CreatedAt)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(webhook_of)
            .collect()
    }

    pub async fn webhook(&self, id: uuid::Uuid) -> StoreResult<Webhook> {
        self.require(Action::ManageWebhooks)?;
        webhook_of(self.webhook_row(&self.store().read, id).await?)
    }

    pub async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
        self.require(Action::ManageWebhooks)?;
        let txn = self.store().write.begin().await?;
        let now = self.store().now();
        let id = uuid::Uuid::now_v7();
        let row = webhook::ActiveModel {
            id: Set(id),
            url: Set(new.url.as_str().to_owned()),
            description: Set(new.description),
            events: Set(events_value(&new.events)),
            secret: Set(new.secret),
            enabled: Set(true),
            disabled_reason: Set(None),
            consecutive_failures: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let model = self.insert(&txn, row).await?;
        self.audit_on(&txn, "webhook.create", ("webhook", &id.to_string()), json!({"url": model.url})).await?;
        txn.commit().await?;
        webhook_of(model)
    }

    pub async fn update_webhook(&self, id: uuid::Uuid, patch: WebhookPatch) -> StoreResult<Webhook> {
        self.require(Action::ManageWebhooks)?;
        let txn = self.store().write.begin().await?;
        self.webhook_row(&txn, id).await?;
        let mut update = self
            .update::<webhook::Entity>()
            .col_expr(webhook::Column::UpdatedAt, Expr::value(self.store().now()))
            .filter(webhook::Column::Id.eq(id));
        if let Some(url) = &patch.url {
            update = update.col_expr(webhook::Column::Url, Expr::value(url.as_str()));
        }
        if let Some(d) = &patch.description {
            update = update.col_expr(webhook::Column::Description, Expr::value(d.as_str()));
        }
        if let Some(events) = &patch.events {
            update = update.col_expr(webhook::Column::Events, Expr::value(events_value(events)));
        }
        if let Some(enabled) = patch.enabled {
            update = update.col_expr(webhook::Column::Enabled, Expr::value(enabled));
            if enabled {
                update = update
                    .col_expr(webhook::Column::ConsecutiveFailures, Expr::value(0))
                    .col_expr(webhook::Column::DisabledReason, Expr::value(Option::<String>::None));
            } else {
                update = update
                    .col_expr(webhook::Column::DisabledReason, Expr::value(Some("turned off by an admin".to_owned())));
            }
        }
        update.exec(&txn).await?;
        self.audit_on(
            &txn,
            "webhook.update",
            ("webhook", &id.to_string()),
            json!({"url": patch.url.as_ref().map(|u| u.as_str()), "enabled": patch.enabled}),
        )
        .await?;
        let model = self.webhook_row(&txn, id).await?;
        txn.commit().await?;
        webhook_of(model)
    }

    pub async fn delete_webhook(&self, id: uuid::Uuid) -> StoreResult<()> {
        self.require(Action::ManageWebhooks)?;
        let txn = self.store().write.begin().await?;
        let found = self.webhook_row(&txn, id).await?;
        let deliveries: Vec<uuid::Uuid> = self
            .select::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::WebhookId.eq(id))
            .select_only()
            .column(webhook_delivery::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        for chunk in deliveries.chunks(500) {
            self.delete::<webhook_attempt::Entity>()
                .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        self.delete::<webhook_delivery::Entity>().filter(webhook_delivery::Column::WebhookId.eq(id)).exec(&txn).await?;
        self.delete::<webhook::Entity>().filter(webhook::Column::Id.eq(id)).exec(&txn).await?;
        self.audit_on(&txn, "webhook.delete", ("webhook", &id.to_string()), json!({"url": found.url})).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn attempts_of(
        &self,
        conn: &impl ConnectionTrait,
        ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<webhook_attempt::Model>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .select::<webhook_attempt::Entity>()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids.iter().copied()))
            .order_by_asc(webhook_attempt::Column::Attempt)
            .all(conn)
            .await?)
    }

    fn with_attempts(
        rows: Vec<webhook_delivery::Model>,
        attempts: Vec<webhook_attempt::Model>,
    ) -> Vec<WebhookDelivery> {
        rows.into_iter()
            .map(|d| {
                let log = attempts
                    .iter()
                    .filter(|a| a.delivery_id == d.id)
                    .map(|a| WebhookAttempt {
                        attempt: a.attempt,
                        at: a.at,
                        status_code: a.status_code,
                        error: a.error.clone(),
                        duration_ms: a.duration_ms,
                    })
                    .collect();
                delivery_of(d, log)
            })
            .collect()
    }

    /// A page of the subscription's deliveries, newest first, each with its attempts: at most
    /// `limit`, after the delivery `after` (the last of the previous page). Returns the page and
    /// the id to ask for the next one, if there is more. `after` naming no delivery of this
    /// subscription is [`StoreError::BadCursor`].
    pub async fn webhook_deliveries(
        &self,
        id: uuid::Uuid,
        limit: u64,
        after: Option<uuid::Uuid>,
    ) -> StoreResult<(Vec<WebhookDelivery>, Option<uuid::Uuid>)> {
        self.require(Action::ManageWebhooks)?;
        let conn = &self.store().read;
        self.webhook_row(conn, id).await?;
        let mut q = self.select::<webhook_delivery::Entity>().filter(webhook_delivery::Column::WebhookId.eq(id));
        if let Some(after) = after {
            let from = self
                .select::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::WebhookId.eq(id))
                .filter(webhook_delivery::Column::Id.eq(after))
                .one(conn)
                .await?
                .ok_or(StoreError::BadCursor)?;
            q = q.filter(
                Condition::any().add(webhook_delivery::Column::CreatedAt.lt(from.created_at)).add(
                    Condition::all()
                        .add(webhook_delivery::Column::CreatedAt.eq(from.created_at))
                        .add(webhook_delivery::Column::Id.lt(from.id)),
                ),
            );
        }
        let mut rows = q
            .order_by_desc(webhook_delivery::Column::CreatedAt)
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit + 1)
            .all(conn)
            .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(|d| d.id) } else { None };
        let ids: Vec<uuid::Uuid> = rows.iter().map(|d| d.id).collect();
        let attempts = self.attempts_of(conn, &ids).await?;
        Ok((Self::with_attempts(rows, attempts), next))
    }

    /// Deletes the deliveries that ended (delivered, or given up) before `before`, with their
    /// attempts: the log's retention. Waiting deliveries stay whatever their age. Returns how
    /// many went.
    pub async fn prune_webhook_deliveries(&self, before: chrono::DateTime<chrono::Utc>) -> StoreResult<u64> {
        self.require(Action::ManageWebhooks)?;
        let txn = self.store().write.begin().await?;
        let ended = Condition::any()
            .add(webhook_delivery::Column::DeliveredAt.lt(before))
            .add(webhook_delivery::Column::FailedAt.lt(before));
        let ids: Vec<uuid::Uuid> = self
            .select::<webhook_delivery::Entity>()
            .filter(ended)
            .select_only()
            .column(webhook_delivery::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let mut gone = 0;
        for chunk in ids.chunks(500) {
            self.delete::<webhook_attempt::Entity>()
                .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?;
            gone += self
                .delete::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::Id.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        txn.commit().await?;
        Ok(gone)
    }

    /// Sends a delivery again, due now, with the same id (receivers can tell a repeat).
    pub async fn redeliver_webhook(&self, id: uuid::Uuid, delivery: uuid::Uuid) -> StoreResult<WebhookDelivery> {
        self.require(Action::ManageWebhooks)?;
        let txn = self.store().write.begin().await?;
        self.webhook_row(&txn, id).await?;
        let now = self.store().now();
        let res = self
            .update::<webhook_delivery::Entity>()
            .col_expr(webhook_delivery::Column::DueAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(webhook_delivery::Column::FailedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_delivery::Column::Id.eq(delivery))
            .filter(webhook_delivery::Column::WebhookId.eq(id))
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            return Err(StoreError::NotFound("delivery"));
        }
        self.audit_on(&txn, "webhook.redeliver", ("webhook_delivery", &delivery.to_string()), json!({"webhook": id}))
            .await?;
        let row = self
            .select::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Id.eq(delivery))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("delivery"))?;
        let attempts = self.attempts_of(&txn, &[delivery]).await?;
        txn.commit().await?;
        Self::with_attempts(vec![row], attempts).pop().ok_or(StoreError::NotFound("delivery"))
    }

    /// Writes one delivery per enabled subscription to each of `events`, on `conn` (the
    /// transaction of the change that sets them off), due now.
    pub(crate) async fn enqueue_webhooks(
        &self,
        conn: &impl ConnectionTrait,
        events: &[WebhookEvent],
        data: &Value,
    ) -> StoreResult<()> {
        let memo = &self.store().memo;
        let tenant = self.access().tenant().as_str();
        let ticket = memo.ticket();
        if ticket.is_some() && memo.has_no_webhooks(tenant) {
            return Ok(());
        }
        let subscriptions =
            self.select::<webhook::Entity>().filter(webhook::Column::Enabled.eq(true)).all(conn).await?;
        if subscriptions.is_empty() {
            if let Some(ticket) = ticket {
                memo.keep_no_webhooks(ticket, tenant);
            }
            return Ok(());
        }
        for row in deliveries(&subscriptions, events, data, self.store().now())? {
            self.insert(conn, row).await?;
        }
        Ok(())
    }
}
