//! Submissions: written with their ticket and their e-mails in one transaction, read by staff.

use chrono::{DateTime, Utc};
use cit_core::forms::FormId;
use cit_core::tickets::{Priority, TicketState};
use cit_core::webhooks::WebhookEvent;
use cit_core::{Action, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::{Map, Value};

use super::{OutMail, Submission, Submitted};
use crate::entity::{membership, outbox, submission, ticket, user};
use crate::{StoreError, StoreResult, TenantStore};

/// A submission that passed the form's checks.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: uuid::Uuid,
    pub form: FormId,
    pub sent: Submitted,
    pub at: DateTime<Utc>,
    /// Who on the staff is told (their e-mail addresses are looked up in the transaction).
    pub recipients: Vec<Role>,
    /// The ticket it opens (assistance forms).
    pub ticket: Option<NewTicket>,
    /// The files it carries, their bytes already stored by the caller.
    pub attachments: Vec<super::NewAttachment>,
}

/// The ticket a submission opens. Its number is given by the store.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub id: uuid::Uuid,
    pub subject: String,
    pub priority: Priority,
    pub category: Option<String>,
    pub ente: Option<String>,
    pub requester_name: String,
    pub requester_email: Option<String>,
    /// SHA-256 of the requester's secret; the secret itself is never stored.
    pub secret_hash: String,
    /// The thread's first message, from the requester: what the form said.
    pub first_message: String,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
}

/// One page of submissions, newest first.
#[derive(Debug, Clone)]
pub struct SubmissionPage {
    pub items: Vec<Submission>,
    pub next: Option<uuid::Uuid>,
}

fn record(m: submission::Model, ticket: Option<i64>) -> StoreResult<Submission> {
    let data = match m.data {
        Value::Object(map) => map,
        _ => return Err(StoreError::Corrupt(format!("submission {}: data is not an object", m.id))),
    };
    Ok(Submission {
        id: m.id,
        form: m.form_id,
        sent: Submitted {
            form_version: m.form_version,
            data,
            consent_version: m.consent_version,
            servizio: m.servizio,
            ente: m.ente,
            page: m.page,
        },
        created_at: m.created_at,
        anonymised_at: m.anonymised_at,
        ticket,
    })
}

/// Writes one outbox row, due at `mail.due_at` or now. A message with a `dedupe` key that the
/// tenant's outbox already holds is skipped: the answer says whether it was written.
pub(crate) async fn enqueue(
    conn: &impl ConnectionTrait,
    tenant: &str,
    mail: OutMail,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{EntityTrait, TryInsertResult};
    let json = |v: String| Some(v).filter(|v| v != "[]");
    let row = outbox::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(tenant.to_owned()),
        kind: Set(mail.kind.to_owned()),
        recipient: Set(mail.recipient),
        subject: Set(mail.subject.chars().take(300).collect()),
        body: Set(mail.body),
        created_at: Set(at),
        due_at: Set(mail.due_at.unwrap_or(at)),
        attempts: Set(0),
        claimed_by: Set(None),
        claimed_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        attachments: Set(json(
            serde_json::to_string(&mail.attachments).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )),
        headers: Set(json(serde_json::to_string(&mail.headers).map_err(|e| StoreError::Corrupt(e.to_string()))?)),
        dedupe: Set(mail.dedupe),
    };
    let done = outbox::Entity::insert(row)
        .on_conflict(OnConflict::columns([outbox::Column::TenantId, outbox::Column::Dedupe]).do_nothing().to_owned())
        .try_insert()
        .exec(conn)
        .await?;
    Ok(matches!(done, TryInsertResult::Inserted(_)))
}

/// What a retention pass did to one form's submissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anonymised {
    pub count: u64,
    /// The submissions whose attachments were deleted from the catalogue: their bytes are the
    /// caller's to remove.
    pub with_attachments: Vec<uuid::Uuid>,
}

/// How many times a ticket number is retried when two submissions race for it (PostgreSQL).
const NUMBER_ATTEMPTS: usize = 8;

impl TenantStore<'_> {
    /// The e-mail addresses of the tenant's staff with one of `roles`.
    pub(super) async fn is_member(&self, conn: &impl ConnectionTrait, user: uuid::Uuid) -> StoreResult<bool> {
        use sea_orm::PaginatorTrait;
        Ok(self.select::<membership::Entity>().filter(membership::Column::UserId.eq(user)).count(conn).await? > 0)
    }

    pub(super) async fn staff_emails(&self, conn: &impl ConnectionTrait, roles: &[Role]) -> StoreResult<Vec<String>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .select::<membership::Entity>()
            .filter(membership::Column::Role.is_in(roles.iter().map(|r| r.as_str())))
            .find_also_related(user::Entity)
            .all(conn)
            .await?;
        let mut emails: Vec<String> =
            rows.into_iter().filter_map(|(_, u)| u).filter(|u| u.disabled_at.is_none()).map(|u| u.email).collect();
        emails.sort();
        emails.dedup();
        Ok(emails)
    }

    /// Stores a submission, the ticket it opens (numbered per tenant) and the e-mails that
    /// `compose` writes for it, all in one transaction: acknowledged means stored, with its
    /// messages. `compose` gets the ticket number (if any) and the staff addresses to notify.
    pub async fn submit(
        &self,
        new: NewSubmission,
        compose: impl Fn(Option<i64>, &[String]) -> Vec<OutMail>,
    ) -> StoreResult<(Submission, Option<i64>)> {
        self.require_any(&[Action::SubmitRequest])?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let txn = self.store().write.begin().await?;
            match self.submit_in(&txn, &new, &compose).await {
                Ok(done) => {
                    txn.commit().await?;
                    return Ok(done);
                }
                Err(StoreError::Conflict { field: "number", .. }) if attempt < NUMBER_ATTEMPTS => {
                    txn.rollback().await?;
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn submit_in(
        &self,
        txn: &DatabaseTransaction,
        new: &NewSubmission,
        compose: &impl Fn(Option<i64>, &[String]) -> Vec<OutMail>,
    ) -> StoreResult<(Submission, Option<i64>)> {
        let tenant = self.tenant().to_string();
        let row = submission::ActiveModel {
            id: Set(new.id),
            tenant_id: Set(tenant.clone()),
            form_id: Set(new.form.to_string()),
            form_version: Set(new.sent.form_version),
            data: Set(Value::Object(new.sent.data.clone())),
            consent_version: Set(new.sent.consent_version.clone()),
            servizio: Set(new.sent.servizio.clone()),
            ente: Set(new.sent.ente.clone()),
            page: Set(new.sent.page.clone()),
            created_at: Set(new.at),
            anonymised_at: Set(None),
        }
        .insert(txn)
        .await?;
        self.add_attachments(txn, new.id, &new.attachments, new.at).await?;
        let number = match &new.ticket {
            None => None,
            Some(t) => {
                let last: Option<Option<i64>> = self
                    .select::<ticket::Entity>()
                    .select_only()
                    .column_as(ticket::Column::Number.max(), "n")
                    .into_tuple()
                    .one(txn)
                    .await?;
                let number = last.flatten().unwrap_or(0) + 1;
                ticket::ActiveModel {
                    id: Set(t.id),
                    tenant_id: Set(tenant.clone()),
                    number: Set(number),
                    submission_id: Set(new.id),
                    subject: Set(t.subject.chars().take(200).collect()),
                    state: Set(TicketState::New.as_str().to_owned()),
                    priority: Set(t.priority.as_str().to_owned()),
                    category: Set(t.category.clone()),
                    ente: Set(t.ente.clone()),
                    assignee: Set(None),
                    requester_name: Set(t.requester_name.chars().take(200).collect()),
                    requester_email: Set(t.requester_email.clone()),
                    secret_hash: Set(t.secret_hash.clone()),
                    first_response_due: Set(t.first_response_due),
                    resolution_due: Set(t.resolution_due),
                    first_response_at: Set(None),
                    resolved_at: Set(None),
                    closed_at: Set(None),
                    created_at: Set(new.at),
                    updated_at: Set(new.at),
                }
                .insert(txn)
                .await
                .map_err(StoreError::unique("number", "the ticket number was taken"))?;
                crate::entity::ticket_message::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    tenant_id: Set(tenant.clone()),
                    ticket_id: Set(t.id),
                    author: Set(super::Author::Requester.as_str().to_owned()),
                    author_name: Set(t.requester_name.chars().take(200).collect()),
                    author_user: Set(None),
                    body: Set(t.first_message.clone()),
                    internal: Set(false),
                    created_at: Set(new.at),
                }
                .insert(txn)
                .await?;
                self.audit_on(
                    txn,
                    "ticket.create",
                    ("ticket", &number.to_string()),
                    serde_json::json!({ "submission": new.id, "priority": t.priority.as_str() }),
                )
                .await?;
                let event = serde_json::json!({"id": t.id, "number": number, "state": TicketState::New.as_str(),
                    "priority": t.priority.as_str(), "category": t.category, "submission": new.id});
                self.enqueue_webhooks(txn, &[WebhookEvent::TicketCreated], &event).await?;
                Some(number)
            }
        };
        // Ids and form only: what the person wrote stays behind the API's permission checks.
        let event = serde_json::json!({"id": new.id, "form": new.form.to_string(),
            "form_version": new.sent.form_version, "created_at": new.at, "ticket": number});
        self.enqueue_webhooks(txn, &[WebhookEvent::SubmissionCreated], &event).await?;
        let staff = self.staff_emails(txn, &new.recipients).await?;
        for mail in compose(number, &staff) {
            enqueue(txn, &tenant, mail, new.at).await?;
        }
        Ok((record(row, number)?, number))
    }

    /// Submissions, newest first; `form` narrows to one form; `after` is the last id of the
    /// previous page.
    pub async fn submissions(
        &self,
        form: Option<&str>,
        after: Option<uuid::Uuid>,
        limit: u64,
    ) -> StoreResult<SubmissionPage> {
        self.require_any(&[Action::ReadRequests])?;
        let mut q = self.select::<submission::Entity>().order_by_desc(submission::Column::Id).limit(limit + 1);
        if let Some(form) = form {
            q = q.filter(submission::Column::FormId.eq(form));
        }
        if let Some(after) = after {
            q = q.filter(submission::Column::Id.lt(after));
        }
        let mut rows = q.all(&self.store().read).await?;
        let next = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        } else {
            None
        };
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
        let numbers: Vec<(uuid::Uuid, i64)> = self
            .select::<ticket::Entity>()
            .filter(ticket::Column::SubmissionId.is_in(ids))
            .select_only()
            .column(ticket::Column::SubmissionId)
            .column(ticket::Column::Number)
            .into_tuple()
            .all(&self.store().read)
            .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let n = numbers.iter().find(|(s, _)| *s == r.id).map(|(_, n)| *n);
                record(r, n)
            })
            .collect::<StoreResult<_>>()?;
        Ok(SubmissionPage { items, next })
    }

    pub async fn submission(&self, id: uuid::Uuid) -> StoreResult<Submission> {
        self.require_any(&[Action::ReadRequests])?;
        let row = self
            .select::<submission::Entity>()
            .filter(submission::Column::Id.eq(id))
            .one(&self.store().read)
            .await?
            .ok_or(StoreError::NotFound("submission"))?;
        let number: Option<i64> = self
            .select::<ticket::Entity>()
            .filter(ticket::Column::SubmissionId.eq(id))
            .select_only()
            .column(ticket::Column::Number)
            .into_tuple()
            .one(&self.store().read)
            .await?;
        record(row, number)
    }

    /// How many submissions the tenant has (all forms): for tests and metrics.
    pub async fn count_submissions(&self) -> StoreResult<u64> {
        use sea_orm::PaginatorTrait;
        self.require_any(&[Action::ReadRequests])?;
        Ok(self.select::<submission::Entity>().count(&self.store().read).await?)
    }

    /// Anonymises the submissions of `form` sent before `before`: their data is replaced by
    /// `{}` and their links cleared, their tickets' requester data wiped, their attachments
    /// deleted from the catalogue (the caller removes the bytes after this returns).
    pub async fn anonymise_submissions(&self, form: &str, before: DateTime<Utc>) -> StoreResult<Anonymised> {
        self.require_any(&[Action::ManageSchema])?;
        let txn = self.store().write.begin().await?;
        let ids: Vec<uuid::Uuid> = self
            .select::<submission::Entity>()
            .filter(submission::Column::FormId.eq(form))
            .filter(submission::Column::CreatedAt.lt(before))
            .filter(submission::Column::AnonymisedAt.is_null())
            .select_only()
            .column(submission::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        if ids.is_empty() {
            return Ok(Anonymised::default());
        }
        let now = Utc::now();
        self.update::<submission::Entity>()
            .filter(submission::Column::Id.is_in(ids.clone()))
            .col_expr(submission::Column::Data, sea_orm::sea_query::Expr::value(Value::Object(Map::new())))
            .col_expr(submission::Column::Page, sea_orm::sea_query::Expr::value(Option::<String>::None))
            .col_expr(submission::Column::AnonymisedAt, sea_orm::sea_query::Expr::value(now))
            .exec(&txn)
            .await?;
        let tickets: Vec<uuid::Uuid> = self
            .select::<ticket::Entity>()
            .filter(ticket::Column::SubmissionId.is_in(ids.clone()))
            .select_only()
            .column(ticket::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        if !tickets.is_empty() {
            self.update::<ticket::Entity>()
                .filter(ticket::Column::Id.is_in(tickets.clone()))
                .col_expr(ticket::Column::RequesterName, sea_orm::sea_query::Expr::value("anonimo"))
                .col_expr(ticket::Column::RequesterEmail, sea_orm::sea_query::Expr::value(Option::<String>::None))
                .exec(&txn)
                .await?;
            self.update::<crate::entity::ticket_message::Entity>()
                .filter(crate::entity::ticket_message::Column::TicketId.is_in(tickets))
                .filter(crate::entity::ticket_message::Column::Author.eq("requester"))
                .col_expr(crate::entity::ticket_message::Column::Body, sea_orm::sea_query::Expr::value(""))
                .col_expr(crate::entity::ticket_message::Column::AuthorName, sea_orm::sea_query::Expr::value("anonimo"))
                .exec(&txn)
                .await?;
        }
        let with_attachments = self.drop_attachments(&txn, &ids).await?;
        let n = ids.len() as u64;
        self.audit_on(
            &txn,
            "submission.anonymise",
            ("form", form),
            serde_json::json!({ "count": n, "before": before, "with_attachments": with_attachments.len() }),
        )
        .await?;
        txn.commit().await?;
        Ok(Anonymised { count: n, with_attachments })
    }
}
