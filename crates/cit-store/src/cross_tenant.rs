//! The deliberate cross-tenant operations: the only code outside [`crate::scoped`] that reads or
//! writes tenant-owned rows (the structural test in `boundary.rs` holds every other file to it).
//!
//! Each operation takes a [`PlatformAccess`] for one [`PlatformAction`] and refuses any other:
//! a capability that `cit_core::authorize_platform` grants only where the platform itself acts
//! (the scheduler, start-up indexing, finding out who a caller is) or to a platform admin
//! (granting a role, creating a tenant). Nothing else here is reachable without one.

use chrono::{DateTime, Utc};
use cit_core::{PlatformAccess, PlatformAction, Role, TenantId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::json;

use crate::entity::{
    api_token, audit, content_type, entry, entry_revision, membership, webhook, webhook_attempt, webhook_delivery,
};
use crate::{ApiToken, Membership, Store, StoreError, StoreResult};

pub(crate) fn require(access: &PlatformAccess, action: PlatformAction) -> StoreResult<()> {
    if access.action() == action { Ok(()) } else { Err(StoreError::WrongCapability) }
}

/// Writes one audit record of a platform action on `conn` (the transaction of the change it
/// records), attributed to `tenant` when the action touched one.
pub(crate) async fn audit(
    conn: &impl ConnectionTrait,
    access: &PlatformAccess,
    at: DateTime<Utc>,
    tenant: Option<&str>,
    action: &str,
    object: (&str, &str),
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(tenant.map(str::to_owned)),
        actor: Set(access.actor().to_owned()),
        action: Set(action.to_owned()),
        object_type: Set(object.0.to_owned()),
        object_id: Set(object.1.to_owned()),
        details: Set(details),
        at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Gives `user` the `role` in `tenant` (a platform admin granting it), creating or changing
/// the membership.
pub(crate) async fn grant_membership(
    conn: &impl ConnectionTrait,
    access: &PlatformAccess,
    at: DateTime<Utc>,
    tenant: &TenantId,
    user: uuid::Uuid,
    role: Role,
) -> StoreResult<()> {
    require(access, PlatformAction::ManageUsers)?;
    let existing = membership::Entity::find_by_id((tenant.to_string(), user)).one(conn).await?;
    match existing {
        Some(m) => {
            let mut am: membership::ActiveModel = m.into();
            am.role = Set(role.as_str().to_owned());
            am.update(conn).await?;
        }
        None => {
            membership::ActiveModel {
                tenant_id: Set(tenant.to_string()),
                user_id: Set(user),
                role: Set(role.as_str().to_owned()),
                created_at: Set(at),
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    // ---- finding out who is calling (PlatformAction::Authenticate) -------------------------

    /// An API token by the hash of its secret, if it is neither revoked nor expired at the
    /// store's clock. Its tenant is what the token then grants access to.
    pub async fn api_token_by_hash(&self, access: &PlatformAccess, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        require(access, PlatformAction::Authenticate)?;
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(&self.read)
            .await?;
        let now = self.now();
        match found {
            Some(m) if m.expires_at.is_none_or(|at| at > now) => Ok(Some(ApiToken::try_from(m)?)),
            _ => Ok(None),
        }
    }

    /// Every tenant the user belongs to, with the role there.
    pub async fn memberships_of(&self, access: &PlatformAccess, user: UserId) -> StoreResult<Vec<Membership>> {
        require(access, PlatformAction::Authenticate)?;
        membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.0))
            .order_by_asc(membership::Column::TenantId)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|m| {
                Ok(Membership {
                    tenant: TenantId::parse(&m.tenant_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    role: Role::parse(&m.role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// The user's role in one tenant, if a member: what the [`cit_core::Actor`] is built from
    /// before the permission check.
    pub async fn role_of(&self, access: &PlatformAccess, tenant: &TenantId, user: UserId) -> StoreResult<Option<Role>> {
        require(access, PlatformAction::Authenticate)?;
        membership::Entity::find_by_id((tenant.to_string(), user.0))
            .one(&self.read)
            .await?
            .map(|m| Role::parse(&m.role).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    // ---- start-up indexing (PlatformAction::IndexSearch) ------------------------------------

    /// Up to `limit` entries of any tenant that have no search document.
    pub(crate) async fn entries_without_document(
        &self,
        access: &PlatformAccess,
        limit: u64,
    ) -> StoreResult<Vec<entry::Model>> {
        require(access, PlatformAction::IndexSearch)?;
        Ok(entry::Entity::find()
            .filter(Expr::cust(r#"NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.entry_id = "entries"."id")"#))
            .limit(limit)
            .all(&self.read)
            .await?)
    }

    /// The stored content type row `(tenant, type)`, for indexing that tenant's entries.
    pub(crate) async fn content_type_row(
        &self,
        access: &PlatformAccess,
        tenant: &str,
        type_id: &str,
    ) -> StoreResult<Option<content_type::Model>> {
        require(access, PlatformAction::IndexSearch)?;
        Ok(content_type::Entity::find_by_id((tenant.to_owned(), type_id.to_owned())).one(&self.read).await?)
    }

    // ---- the scheduler (PlatformAction::RunScheduler) -------------------------------------

    /// Up to 500 entries of any tenant in `status` whose `due` time is at or before `now`.
    pub(crate) async fn due_entries(
        &self,
        access: &PlatformAccess,
        status: &str,
        due: entry::Column,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<entry::Model>> {
        require(access, PlatformAction::RunScheduler)?;
        Ok(entry::Entity::find()
            .filter(entry::Column::Status.eq(status))
            .filter(due.lte(now))
            .limit(500)
            .all(&self.read)
            .await?)
    }

    /// Flips one entry from `from` to `to` if it is still due at `now`, with its revision, its
    /// search document's status and an audit record, in one transaction. Whether it flipped:
    /// another node (or tick) may have been first.
    pub(crate) async fn flip(
        &self,
        access: &PlatformAccess,
        e: &entry::Model,
        from: &str,
        to: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        require(access, PlatformAction::RunScheduler)?;
        let txn = self.write.begin().await?;
        let mut update = entry::Entity::update_many()
            .col_expr(entry::Column::Status, Expr::value(to))
            .col_expr(entry::Column::Revision, Expr::col(entry::Column::Revision).add(1))
            .col_expr(entry::Column::UpdatedAt, Expr::value(now))
            .filter(entry::Column::Id.eq(e.id))
            .filter(entry::Column::TenantId.eq(e.tenant_id.as_str()))
            .filter(entry::Column::Status.eq(from));
        if to == "published" {
            let at = e.publish_at.unwrap_or(now);
            update = update
                .col_expr(entry::Column::PublishedAt, Expr::value(at))
                .col_expr(entry::Column::PublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::PublishAt.lte(now));
        } else {
            update = update
                .col_expr(entry::Column::UnpublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::UnpublishAt.lte(now));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Ok(false);
        }
        let after = entry::Entity::find_by_id(e.id)
            .filter(entry::Column::TenantId.eq(e.tenant_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("entry"))?;
        crate::scoped::search_index::set_status(&txn, &after.tenant_id, after.id, &after.status).await?;
        let note = if to == "published" { "scheduled_publish" } else { "scheduled_unpublish" };
        entry_revision::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            entry_id: Set(after.id),
            tenant_id: Set(after.tenant_id.clone()),
            revision: Set(after.revision),
            slug: Set(after.slug.clone()),
            status: Set(after.status.clone()),
            data: Set(after.data.clone()),
            author: Set(access.actor().to_owned()),
            note: Set(note.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit(
            &txn,
            access,
            now,
            Some(&after.tenant_id),
            &format!("entry.{note}"),
            ("entry", &after.id.to_string()),
            json!({"type": after.type_id}),
        )
        .await?;
        let events = cit_core::webhooks::WebhookEvent::of_entry_write(Some(from), to);
        enqueue_webhooks(&txn, &after.tenant_id, now, &events, &crate::content::entries::event_data(&after)).await?;
        txn.commit().await?;
        Ok(true)
    }
}

// ---- webhooks (PlatformAction::DeliverWebhooks) ---------------------------------------------

/// Writes the deliveries of `events` for the enabled subscriptions of `tenant` (a change the
/// platform made, such as a scheduled publication), on the change's transaction.
async fn enqueue_webhooks(
    conn: &impl ConnectionTrait,
    tenant: &str,
    now: DateTime<Utc>,
    events: &[cit_core::webhooks::WebhookEvent],
    data: &serde_json::Value,
) -> StoreResult<()> {
    let subscriptions = webhook::Entity::find()
        .filter(webhook::Column::TenantId.eq(tenant))
        .filter(webhook::Column::Enabled.eq(true))
        .all(conn)
        .await?;
    for mut row in crate::scoped::webhooks::deliveries(&subscriptions, events, data, now)? {
        row.tenant_id = Set(tenant.to_owned());
        row.insert(conn).await?;
    }
    Ok(())
}

/// A delivery claimed for sending, with what the worker needs of its subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: uuid::Uuid,
    pub tenant: String,
    pub webhook_id: uuid::Uuid,
    pub event: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub url: String,
    pub secret: String,
    /// Whether the subscription is still on: a delivery of a subscription turned off is given up.
    pub enabled: bool,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    /// `None` when the receiver answered 2xx.
    pub error: Option<String>,
    pub duration_ms: i64,
    /// When to try again after a failure; `None` gives up.
    pub retry_at: Option<DateTime<Utc>>,
    /// Consecutive failed attempts after which the subscription is turned off.
    pub disable_after: i32,
}

impl Store {
    /// Claims up to `limit` due deliveries of any tenant for `node` until `now + lease`. The
    /// conditional UPDATE is the claim: it matches only while the row is still free, so two
    /// nodes over one database never send the same delivery at once.
    pub async fn claim_webhook_deliveries(
        &self,
        access: &PlatformAccess,
        node: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u64,
    ) -> StoreResult<Vec<DueDelivery>> {
        require(access, PlatformAction::DeliverWebhooks)?;
        let free = Condition::any()
            .add(webhook_delivery::Column::ClaimedUntil.is_null())
            .add(webhook_delivery::Column::ClaimedUntil.lt(now));
        let pending = Condition::all()
            .add(webhook_delivery::Column::DeliveredAt.is_null())
            .add(webhook_delivery::Column::FailedAt.is_null());
        let candidates: Vec<uuid::Uuid> = webhook_delivery::Entity::find()
            .filter(pending.clone())
            .filter(webhook_delivery::Column::DueAt.lte(now))
            .filter(free.clone())
            .order_by_asc(webhook_delivery::Column::DueAt)
            .select_only()
            .column(webhook_delivery::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.read)
            .await?;
        let mut claimed = Vec::new();
        for id in candidates {
            let res = webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(node))
                .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(now + lease))
                .filter(webhook_delivery::Column::Id.eq(id))
                .filter(pending.clone())
                .filter(free.clone())
                .exec(&self.write)
                .await?;
            if res.rows_affected != 1 {
                continue;
            }
            let Some(d) = webhook_delivery::Entity::find_by_id(id).one(&self.write).await? else { continue };
            let hook = webhook::Entity::find_by_id(d.webhook_id)
                .filter(webhook::Column::TenantId.eq(d.tenant_id.as_str()))
                .one(&self.write)
                .await?;
            let (url, secret, enabled) = match hook {
                Some(h) => (h.url, h.secret, h.enabled),
                None => (String::new(), String::new(), false),
            };
            claimed.push(DueDelivery {
                id: d.id,
                tenant: d.tenant_id,
                webhook_id: d.webhook_id,
                event: d.event,
                payload: d.payload,
                attempts: d.attempts,
                url,
                secret,
                enabled,
            });
        }
        Ok(claimed)
    }

    /// Gives up a claimed delivery without an attempt (its subscription was turned off).
    pub async fn webhook_delivery_dropped(
        &self,
        access: &PlatformAccess,
        id: uuid::Uuid,
        node: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        require(access, PlatformAction::DeliverWebhooks)?;
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::FailedAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::LastError, Expr::value(reason))
            .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::ClaimedBy.eq(node))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Records one attempt at a delivery `node` holds, in one transaction: the log line, the
    /// delivery (delivered, due again, or given up), and the subscription's count of consecutive
    /// failures, turning it off with the reason once the count reaches `disable_after`.
    /// Whether the subscription was turned off by this attempt.
    pub async fn webhook_attempted(
        &self,
        access: &PlatformAccess,
        d: &DueDelivery,
        node: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<bool> {
        require(access, PlatformAction::DeliverWebhooks)?;
        let txn = self.write.begin().await?;
        let ok = outcome.error.is_none();
        let error = outcome.error.as_ref().map(|e| e.chars().take(1000).collect::<String>());
        let mut update = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Attempts, Expr::col(webhook_delivery::Column::Attempts).add(1))
            .col_expr(webhook_delivery::Column::LastStatus, Expr::value(outcome.status_code))
            .col_expr(webhook_delivery::Column::LastError, Expr::value(error.clone()))
            .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::ClaimedBy.eq(node));
        update = match (ok, outcome.retry_at) {
            (true, _) => update.col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(outcome.at)),
            (false, Some(at)) => update.col_expr(webhook_delivery::Column::DueAt, Expr::value(at)),
            (false, None) => update.col_expr(webhook_delivery::Column::FailedAt, Expr::value(outcome.at)),
        };
        if update.exec(&txn).await?.rows_affected != 1 {
            // The claim ran out and another node (or a redelivery) took the row over.
            return Ok(false);
        }
        webhook_attempt::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(d.tenant.clone()),
            delivery_id: Set(d.id),
            attempt: Set(d.attempts + 1),
            at: Set(outcome.at),
            status_code: Set(outcome.status_code),
            error: Set(error.clone()),
            duration_ms: Set(outcome.duration_ms),
        }
        .insert(&txn)
        .await?;
        let hook = webhook::Entity::update_many()
            .filter(webhook::Column::Id.eq(d.webhook_id))
            .filter(webhook::Column::TenantId.eq(d.tenant.as_str()));
        let mut disabled = false;
        if ok {
            hook.col_expr(webhook::Column::ConsecutiveFailures, Expr::value(0)).exec(&txn).await?;
        } else {
            hook.col_expr(webhook::Column::ConsecutiveFailures, Expr::col(webhook::Column::ConsecutiveFailures).add(1))
                .exec(&txn)
                .await?;
            let reason = format!(
                "turned off after {} consecutive failed attempts; the last: {}",
                outcome.disable_after,
                error.unwrap_or_default()
            );
            let res = webhook::Entity::update_many()
                .col_expr(webhook::Column::Enabled, Expr::value(false))
                .col_expr(webhook::Column::DisabledReason, Expr::value(reason.clone()))
                .col_expr(webhook::Column::UpdatedAt, Expr::value(outcome.at))
                .filter(webhook::Column::Id.eq(d.webhook_id))
                .filter(webhook::Column::TenantId.eq(d.tenant.as_str()))
                .filter(webhook::Column::Enabled.eq(true))
                .filter(webhook::Column::ConsecutiveFailures.gte(Ord::max(outcome.disable_after, 1)))
                .exec(&txn)
                .await?;
            if res.rows_affected == 1 {
                disabled = true;
                audit(
                    &txn,
                    access,
                    outcome.at,
                    Some(&d.tenant),
                    "webhook.disable",
                    ("webhook", &d.webhook_id.to_string()),
                    json!({"reason": reason}),
                )
                .await?;
            }
        }
        txn.commit().await?;
        Ok(disabled)
    }
}
