//! Tickets: staff lists and changes, the thread, and the requester's follow-up by secret.

use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::tickets::{self, Priority, TicketState};
use cit_core::webhooks::WebhookEvent;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::json;

use super::submissions::enqueue;
use super::{Author, OutMail, Ticket, TicketMessage, TicketThread};
use crate::entity::{audit, ticket, ticket_message};
use crate::{AuditEntry, StoreError, StoreResult, TenantStore};

/// Which tickets to list.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub state: Option<TicketState>,
    pub priority: Option<Priority>,
    pub assignee: Option<uuid::Uuid>,
    /// Only tickets past a due date they have not met, at `now`.
    pub overdue_at: Option<DateTime<Utc>>,
    /// The last number of the previous page (tickets come newest first).
    pub before: Option<i64>,
    pub limit: u64,
}

#[derive(Debug, Clone)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    pub next: Option<i64>,
}

/// A change to a ticket by staff; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    pub state: Option<TicketState>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<uuid::Uuid>>,
    pub category: Option<Option<String>>,
    /// New due dates when the priority changes (computed by the caller from the SLA).
    pub due: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

pub(crate) fn record(m: ticket::Model) -> StoreResult<Ticket> {
    let corrupt = |e: cit_core::InvalidInput| StoreError::Corrupt(format!("ticket {}: {e}", m.id));
    Ok(Ticket {
        id: m.id,
        number: m.number,
        submission: m.submission_id,
        state: TicketState::parse(&m.state).map_err(corrupt)?,
        priority: Priority::parse(&m.priority).map_err(corrupt)?,
        subject: m.subject,
        category: m.category,
        ente: m.ente,
        assignee: m.assignee,
        requester_name: m.requester_name,
        requester_email: m.requester_email,
        first_response_due: m.first_response_due,
        resolution_due: m.resolution_due,
        first_response_at: m.first_response_at,
        resolved_at: m.resolved_at,
        closed_at: m.closed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn message(m: ticket_message::Model) -> TicketMessage {
    TicketMessage {
        id: m.id,
        author: if m.author == "staff" { Author::Staff } else { Author::Requester },
        author_name: m.author_name,
        author_user: m.author_user,
        body: m.body,
        internal: m.internal,
        created_at: m.created_at,
    }
}

/// The timestamps a move to `to` sets.
fn stamp(am: &mut ticket::ActiveModel, to: TicketState, now: DateTime<Utc>) {
    match to {
        TicketState::Resolved => am.resolved_at = Set(Some(now)),
        TicketState::Closed => am.closed_at = Set(Some(now)),
        TicketState::Open | TicketState::Waiting | TicketState::New => {
            am.resolved_at = Set(None);
            am.closed_at = Set(None);
        }
    }
}

impl TenantStore<'_> {
    pub async fn tickets(&self, filter: &TicketFilter) -> StoreResult<TicketPage> {
        self.require_any(&[Action::ReadRequests])?;
        let mut q = self.select::<ticket::Entity>().order_by_desc(ticket::Column::Number).limit(filter.limit + 1);
        if let Some(s) = filter.state {
            q = q.filter(ticket::Column::State.eq(s.as_str()));
        }
        if let Some(p) = filter.priority {
            q = q.filter(ticket::Column::Priority.eq(p.as_str()));
        }
        if let Some(a) = filter.assignee {
            q = q.filter(ticket::Column::Assignee.eq(a));
        }
        if let Some(before) = filter.before {
            q = q.filter(ticket::Column::Number.lt(before));
        }
        if let Some(now) = filter.overdue_at {
            let active = [TicketState::New, TicketState::Open, TicketState::Waiting].map(TicketState::as_str);
            q = q.filter(ticket::Column::State.is_in(active)).filter(
                Condition::any().add(ticket::Column::ResolutionDue.lt(now)).add(
                    Condition::all()
                        .add(ticket::Column::FirstResponseAt.is_null())
                        .add(ticket::Column::FirstResponseDue.lt(now)),
                ),
            );
        }
        let mut rows = q.all(&self.store().read).await?;
        let next = if rows.len() as u64 > filter.limit {
            rows.truncate(filter.limit as usize);
            rows.last().map(|r| r.number)
        } else {
            None
        };
        Ok(TicketPage { items: rows.into_iter().map(record).collect::<StoreResult<_>>()?, next })
    }

    /// Every ticket, oldest first (the CSV export).
    pub async fn all_tickets(&self) -> StoreResult<Vec<Ticket>> {
        self.require_any(&[Action::ReadRequests])?;
        self.select::<ticket::Entity>()
            .order_by_asc(ticket::Column::Number)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// `ticket.updated` for the ticket `id` as it now is, with what happened (`extra`), on the
    /// transaction of the change.
    async fn ticket_event(
        &self,
        conn: &impl ConnectionTrait,
        id: uuid::Uuid,
        number: i64,
        extra: serde_json::Value,
    ) -> StoreResult<()> {
        let now = self.ticket_row(conn, number).await?;
        let mut event = json!({"id": id, "number": number, "state": now.state, "priority": now.priority,
            "category": now.category, "assignee": now.assignee});
        if let (Some(e), serde_json::Value::Object(x)) = (event.as_object_mut(), extra) {
            e.extend(x);
        }
        self.enqueue_webhooks(conn, &[WebhookEvent::TicketUpdated], &event).await
    }

    async fn ticket_row(&self, conn: &impl ConnectionTrait, number: i64) -> StoreResult<ticket::Model> {
        self.select::<ticket::Entity>()
            .filter(ticket::Column::Number.eq(number))
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("ticket"))
    }

    async fn thread(&self, conn: &impl ConnectionTrait, row: ticket::Model, staff: bool) -> StoreResult<TicketThread> {
        let mut q = self
            .select::<ticket_message::Entity>()
            .filter(ticket_message::Column::TicketId.eq(row.id))
            .order_by_asc(ticket_message::Column::CreatedAt)
            .order_by_asc(ticket_message::Column::Id);
        if !staff {
            q = q.filter(ticket_message::Column::Internal.eq(false));
        }
        let messages = q.all(conn).await?.into_iter().map(message).collect();
        let audit = if staff {
            self.select::<audit::Entity>()
                .filter(audit::Column::ObjectType.eq("ticket"))
                .filter(audit::Column::ObjectId.eq(row.number.to_string()))
                .order_by_asc(audit::Column::Id)
                .all(conn)
                .await?
                .into_iter()
                .map(AuditEntry::from)
                .collect()
        } else {
            Vec::new()
        };
        Ok(TicketThread { ticket: record(row)?, messages, audit })
    }

    /// A ticket with its whole thread (internal notes too) and its audit trail.
    pub async fn ticket(&self, number: i64) -> StoreResult<TicketThread> {
        self.require_any(&[Action::ReadRequests, Action::AnswerRequests])?;
        let row = self.ticket_row(&self.store().read, number).await?;
        self.thread(&self.store().read, row, true).await
    }

    /// Changes a ticket's state, priority, assignee or category; each change is audited.
    /// `reopen_days` bounds reopening a resolved or closed ticket.
    pub async fn update_ticket(
        &self,
        number: i64,
        patch: TicketPatch,
        now: DateTime<Utc>,
        reopen_days: u32,
    ) -> StoreResult<TicketThread> {
        self.require_any(&[Action::AnswerRequests])?;
        let txn = self.store().write.begin().await?;
        let row = self.ticket_row(&txn, number).await?;
        let current = record(row.clone())?;
        let mut am: ticket::ActiveModel = row.clone().into();
        let mut changes = serde_json::Map::new();
        if let Some(to) = patch.state
            && to != current.state
        {
            let since = current.done_at().map(|d| now - d);
            tickets::check_move(current.state, to, since, reopen_days).map_err(|e| StoreError::Invalid {
                field: "state",
                code: e.code,
                message: e.message,
            })?;
            am.state = Set(to.as_str().to_owned());
            stamp(&mut am, to, now);
            changes.insert("state".into(), json!([current.state.as_str(), to.as_str()]));
        }
        if let Some(p) = patch.priority
            && p != current.priority
        {
            am.priority = Set(p.as_str().to_owned());
            if let Some((first, done)) = patch.due {
                am.first_response_due = Set(first);
                am.resolution_due = Set(done);
            }
            changes.insert("priority".into(), json!([current.priority.as_str(), p.as_str()]));
        }
        if let Some(a) = patch.assignee
            && a != current.assignee
        {
            am.assignee = Set(a);
            changes.insert("assignee".into(), json!([current.assignee, a]));
        }
        if let Some(c) = patch.category
            && c != current.category
        {
            am.category = Set(c.clone());
            changes.insert("category".into(), json!([current.category, c]));
        }
        if !changes.is_empty() {
            am.updated_at = Set(now);
            self.update::<ticket::Entity>().filter(ticket::Column::Id.eq(row.id)).set(am).exec(&txn).await?;
            let changed: Vec<&String> = changes.keys().collect();
            self.ticket_event(&txn, row.id, number, json!({"by": "staff", "changed": changed})).await?;
            self.audit_on(&txn, "ticket.update", ("ticket", &number.to_string()), serde_json::Value::Object(changes))
                .await?;
        }
        let row = self.ticket_row(&txn, number).await?;
        let thread = self.thread(&txn, row, true).await?;
        txn.commit().await?;
        Ok(thread)
    }

    /// Staff write to a ticket: a public reply (the ticket then waits for the requester, and
    /// `compose` writes the e-mail to the requester in the same transaction) or an internal note.
    pub async fn staff_message(
        &self,
        number: i64,
        author: (uuid::Uuid, String),
        body: String,
        internal: bool,
        now: DateTime<Utc>,
        compose: impl FnOnce(&Ticket) -> Option<OutMail>,
    ) -> StoreResult<TicketThread> {
        self.require_any(&[Action::AnswerRequests])?;
        let txn = self.store().write.begin().await?;
        let row = self.ticket_row(&txn, number).await?;
        let current = record(row.clone())?;
        ticket_message::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(self.tenant().to_string()),
            ticket_id: Set(row.id),
            author: Set(Author::Staff.as_str().to_owned()),
            author_name: Set(author.1.chars().take(200).collect()),
            author_user: Set(Some(author.0)),
            body: Set(body),
            internal: Set(internal),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let mut details = json!({ "internal": internal });
        if !internal {
            let to = tickets::after_staff_reply(current.state);
            let mut up = self
                .update::<ticket::Entity>()
                .filter(ticket::Column::Id.eq(row.id))
                .col_expr(ticket::Column::State, Expr::value(to.as_str()))
                .col_expr(ticket::Column::UpdatedAt, Expr::value(now));
            if current.first_response_at.is_none() {
                up = up.col_expr(ticket::Column::FirstResponseAt, Expr::value(now));
            }
            up.exec(&txn).await?;
            if to != current.state {
                details["state"] = json!([current.state.as_str(), to.as_str()]);
            }
            if let Some(mail) = compose(&current) {
                enqueue(&txn, self.tenant().as_str(), mail, now).await?;
            }
        } else {
            self.update::<ticket::Entity>()
                .filter(ticket::Column::Id.eq(row.id))
                .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
                .exec(&txn)
                .await?;
        }
        let action = if internal { "ticket.note" } else { "ticket.reply" };
        let message = if internal { "note" } else { "reply" };
        self.ticket_event(&txn, row.id, number, json!({"by": "staff", "message": message})).await?;
        self.audit_on(&txn, action, ("ticket", &number.to_string()), details).await?;
        let row = self.ticket_row(&txn, number).await?;
        let thread = self.thread(&txn, row, true).await?;
        txn.commit().await?;
        Ok(thread)
    }

    /// The ticket whose secret hashes to `secret_hash`, with its public thread. `NotFound` for
    /// any secret that matches nothing.
    pub async fn ticket_by_secret(&self, secret_hash: &str) -> StoreResult<TicketThread> {
        self.require_any(&[Action::SubmitRequest])?;
        let row = self
            .select::<ticket::Entity>()
            .filter(ticket::Column::SecretHash.eq(secret_hash))
            .one(&self.store().read)
            .await?
            .ok_or(StoreError::NotFound("ticket"))?;
        self.thread(&self.store().read, row, false).await
    }

    /// The requester writes through the secret link: the ticket goes back to `open` (reopened
    /// if it was resolved within the window); staff on `notify` get an e-mail.
    pub async fn requester_message(
        &self,
        secret_hash: &str,
        body: String,
        now: DateTime<Utc>,
        reopen_days: u32,
        notify: &[cit_core::Role],
        compose: impl FnOnce(&Ticket, &[String]) -> Vec<OutMail>,
    ) -> StoreResult<TicketThread> {
        self.require_any(&[Action::SubmitRequest])?;
        let txn = self.store().write.begin().await?;
        let row = self
            .select::<ticket::Entity>()
            .filter(ticket::Column::SecretHash.eq(secret_hash))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("ticket"))?;
        let current = record(row.clone())?;
        let since = current.done_at().map(|d| now - d);
        let Some(to) = tickets::after_requester_message(current.state, since, reopen_days) else {
            return Err(StoreError::Rule {
                code: "ticket_closed",
                message: "this request is closed: send a new one if you still need help".into(),
            });
        };
        ticket_message::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(self.tenant().to_string()),
            ticket_id: Set(row.id),
            author: Set(Author::Requester.as_str().to_owned()),
            author_name: Set(current.requester_name.clone()),
            author_user: Set(None),
            body: Set(body),
            internal: Set(false),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let mut am: ticket::ActiveModel = row.clone().into();
        am.state = Set(to.as_str().to_owned());
        if to != current.state {
            stamp(&mut am, to, now);
        }
        am.updated_at = Set(now);
        self.update::<ticket::Entity>().filter(ticket::Column::Id.eq(row.id)).set(am).exec(&txn).await?;
        let mut details = json!({ "by": "requester" });
        if to != current.state {
            details["state"] = json!([current.state.as_str(), to.as_str()]);
        }
        self.audit_on(&txn, "ticket.requester_reply", ("ticket", &current.number.to_string()), details).await?;
        self.ticket_event(&txn, row.id, current.number, json!({"by": "requester", "message": "reply"})).await?;
        let mut staff = self.staff_emails(&txn, notify).await?;
        if let Some(assignee) = current.assignee
            && let Some(u) = crate::entity::user::Entity::find_by_id(assignee).one(&txn).await?
            && self.is_member(&txn, assignee).await?
        {
            staff.retain(|e| *e != u.email);
            staff.push(u.email);
        }
        for mail in compose(&current, &staff) {
            enqueue(&txn, self.tenant().as_str(), mail, now).await?;
        }
        let row = self.ticket_row(&txn, current.number).await?;
        let thread = self.thread(&txn, row, false).await?;
        txn.commit().await?;
        Ok(thread)
    }
}
