//! The outbox: e-mails written in the same transaction as the change that causes them, sent by
//! a worker on any node. A deliberate cross-tenant operation (the worker serves every tenant),
//! behind the [`PlatformAction::SendMail`] capability. It lives beside the scoped layer because
//! its rows are written by the tenant's own transactions (see `requests`).
//!
//! A node claims a due row with one conditional UPDATE (`claimed_by`, `claimed_until`): only
//! the node whose UPDATE matched sends it, so two nodes never send the same row; a node that
//! dies mid-send leaves a lease that runs out, and the row is claimed again.

use chrono::{DateTime, Duration, Utc};
use cit_core::{PlatformAccess, PlatformAction};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::outbox;
use crate::{Store, StoreError, StoreResult};

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: uuid::Uuid,
    pub tenant: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
    pub attachments: Vec<crate::requests::MailAttachment>,
    pub headers: Vec<(String, String)>,
}

/// Counts of the outbox, for health checks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub waiting: u64,
    pub sent: u64,
    /// Waiting after at least one failed attempt.
    pub retrying: u64,
}

fn check(access: &PlatformAccess) -> StoreResult<()> {
    if access.action() == PlatformAction::SendMail { Ok(()) } else { Err(StoreError::WrongCapability) }
}

impl Store {
    /// Claims up to `limit` due, unsent rows for `node` until `now + lease`.
    pub async fn claim_outbox(
        &self,
        access: &PlatformAccess,
        node: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> StoreResult<Vec<Outgoing>> {
        check(access)?;
        let free =
            Condition::any().add(outbox::Column::ClaimedUntil.is_null()).add(outbox::Column::ClaimedUntil.lt(now));
        let candidates: Vec<uuid::Uuid> = outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::DueAt.lte(now))
            .filter(free.clone())
            .order_by_asc(outbox::Column::DueAt)
            .select_only()
            .column(outbox::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.read)
            .await?;
        let mut claimed = Vec::new();
        for id in candidates {
            // The conditional UPDATE is the claim: it matches only while the row is still free.
            let res = outbox::Entity::update_many()
                .col_expr(outbox::Column::ClaimedBy, Expr::value(node))
                .col_expr(outbox::Column::ClaimedUntil, Expr::value(now + lease))
                .filter(outbox::Column::Id.eq(id))
                .filter(outbox::Column::SentAt.is_null())
                .filter(free.clone())
                .exec(&self.write)
                .await?;
            if res.rows_affected != 1 {
                continue;
            }
            if let Some(m) = outbox::Entity::find_by_id(id).one(&self.write).await? {
                let parse = |what: &str, v: Option<&str>| -> StoreResult<serde_json::Value> {
                    v.map_or(Ok(serde_json::Value::Array(Vec::new())), serde_json::from_str)
                        .map_err(|e| StoreError::Corrupt(format!("outbox {id}: {what}: {e}")))
                };
                let attachments = serde_json::from_value(parse("attachments", m.attachments.as_deref())?)
                    .map_err(|e| StoreError::Corrupt(format!("outbox {id}: attachments: {e}")))?;
                let headers = serde_json::from_value(parse("headers", m.headers.as_deref())?)
                    .map_err(|e| StoreError::Corrupt(format!("outbox {id}: headers: {e}")))?;
                claimed.push(Outgoing {
                    id: m.id,
                    tenant: m.tenant_id,
                    kind: m.kind,
                    recipient: m.recipient,
                    subject: m.subject,
                    body: m.body,
                    attempts: m.attempts,
                    attachments,
                    headers,
                });
            }
        }
        Ok(claimed)
    }

    /// Marks a claimed row sent (only if `node` still holds it).
    pub async fn outbox_sent(
        &self,
        access: &PlatformAccess,
        id: uuid::Uuid,
        node: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        check(access)?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::SentAt, Expr::value(now))
            .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(Expr::value(1)))
            .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::ClaimedBy.eq(node))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Gives a claimed row back after a failed attempt, due again at `retry_at`.
    pub async fn outbox_failed(
        &self,
        access: &PlatformAccess,
        id: uuid::Uuid,
        node: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        check(access)?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(Expr::value(1)))
            .col_expr(outbox::Column::LastError, Expr::value(error.chars().take(1000).collect::<String>()))
            .col_expr(outbox::Column::DueAt, Expr::value(retry_at))
            .col_expr(outbox::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::ClaimedBy.eq(node))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    pub async fn outbox_counts(&self, access: &PlatformAccess) -> StoreResult<OutboxCounts> {
        check(access)?;
        let waiting = outbox::Entity::find().filter(outbox::Column::SentAt.is_null()).count(&self.read).await?;
        let sent = outbox::Entity::find().filter(outbox::Column::SentAt.is_not_null()).count(&self.read).await?;
        let retrying = outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::Attempts.gt(0))
            .count(&self.read)
            .await?;
        Ok(OutboxCounts { waiting, sent, retrying })
    }
}
