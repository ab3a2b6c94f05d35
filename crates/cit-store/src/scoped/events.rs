//! Event registrations: a place or the waiting list given in one transaction with the e-mails it
//! causes; a cancellation frees the place and promotes the first one waiting in the same one.
//!
//! Two registrations racing for the last place both see it free; the unique index on
//! `(tenant, event, place)` lets only one commit, and the other is tried again (it then finds
//! the event full and goes to the waiting list).

use chrono::{DateTime, Utc};
use cit_core::events::{EventFacts, Registrant, RegistrationStatus};
use cit_core::{Action, EntryId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::requests::OutMail;
use super::requests::enqueue;
use crate::entity::{event_registration, outbox};
use crate::{StoreError, StoreResult, TenantStore};

/// A registration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: uuid::Uuid,
    pub event: EntryId,
    pub name: String,
    pub email: String,
    pub ente: Option<String>,
    pub status: RegistrationStatus,
    /// The place held while confirmed (1 to the capacity).
    pub place: Option<i32>,
    pub consent_version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When it left the waiting list for a place.
    pub promoted_at: Option<DateTime<Utc>>,
}

/// A registration that passed the checks.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub id: uuid::Uuid,
    pub event: EntryId,
    pub registrant: Registrant,
    /// SHA-256 of the registrant's secret (the cancellation link); the secret is not stored.
    pub secret_hash: String,
    pub consent_version: Option<String>,
    pub at: DateTime<Utc>,
}

/// What a registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new registration, confirmed or waiting.
    New(Registration),
    /// The address was already registered for the event: nothing changed.
    Again(Registration),
    /// No place left and no waiting list: nothing stored.
    Full,
}

/// How many registrations an event has in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrationCounts {
    pub confirmed: u64,
    pub waiting: u64,
    pub cancelled: u64,
}

/// What a cancellation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    pub registration: Registration,
    /// Whether this call cancelled it (false: it was cancelled before).
    pub now: bool,
    /// The first one waiting, promoted to the freed place.
    pub promoted: Option<Registration>,
}

/// How many times a registration is tried again when another took its place (PostgreSQL).
const PLACE_ATTEMPTS: usize = 8;

fn record(m: event_registration::Model) -> StoreResult<Registration> {
    Ok(Registration {
        id: m.id,
        event: EntryId(m.entry_id),
        name: m.name,
        email: m.email,
        ente: m.ente,
        status: RegistrationStatus::parse(&m.status).map_err(|e| StoreError::Corrupt(e.message))?,
        place: m.place,
        consent_version: m.consent_version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        cancelled_at: m.cancelled_at,
        promoted_at: m.promoted_at,
    })
}

/// The dedupe key of a registration's reminder: one per registration, removed on cancellation.
pub fn reminder_key(registration: uuid::Uuid) -> String {
    format!("reminder:{registration}")
}

impl TenantStore<'_> {
    async fn taken_places(&self, conn: &impl ConnectionTrait, event: EntryId) -> StoreResult<Vec<i32>> {
        let places: Vec<Option<i32>> = self
            .select::<event_registration::Entity>()
            .filter(event_registration::Column::EntryId.eq(event.0))
            .filter(event_registration::Column::Status.eq(RegistrationStatus::Confirmed.as_str()))
            .select_only()
            .column(event_registration::Column::Place)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(places.into_iter().flatten().collect())
    }

    /// Registers for `facts`' event: the first free place, else the waiting list (if it has
    /// one). `compose` writes the e-mails, in the same transaction; it is told whether the
    /// address was registered already.
    pub async fn register(
        &self,
        facts: &EventFacts,
        new: NewRegistration,
        compose: impl Fn(&Registration, bool) -> Vec<OutMail>,
    ) -> StoreResult<Registered> {
        self.require(Action::SubmitRequest)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let txn = self.store().write.begin().await?;
            match self.register_in(&txn, facts, &new, &compose).await {
                Ok(done) => {
                    txn.commit().await?;
                    return Ok(done);
                }
                Err(StoreError::Conflict { field: "place", .. }) if attempt < PLACE_ATTEMPTS => {
                    txn.rollback().await?;
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn register_in(
        &self,
        txn: &DatabaseTransaction,
        facts: &EventFacts,
        new: &NewRegistration,
        compose: &impl Fn(&Registration, bool) -> Vec<OutMail>,
    ) -> StoreResult<Registered> {
        let tenant = self.tenant().to_string();
        let existing = self
            .select::<event_registration::Entity>()
            .filter(event_registration::Column::EntryId.eq(new.event.0))
            .filter(event_registration::Column::Email.eq(new.registrant.email.as_str()))
            .one(txn)
            .await?;
        if let Some(row) = existing {
            let before = record(row)?;
            if before.status != RegistrationStatus::Cancelled {
                for mail in compose(&before, true) {
                    enqueue(txn, &tenant, mail, new.at).await?;
                }
                return Ok(Registered::Again(before));
            }
            // Registering again after a cancellation is a new registration, at the back.
            self.delete::<event_registration::Entity>()
                .filter(event_registration::Column::Id.eq(before.id))
                .exec(txn)
                .await?;
        }
        let taken = self.taken_places(txn, new.event).await?;
        let Some(status) = facts.placement(taken.len() as u64) else {
            return Ok(Registered::Full);
        };
        let place = (status == RegistrationStatus::Confirmed).then(|| (1..).find(|p| !taken.contains(p)).unwrap_or(1));
        let row = self
            .insert(
                txn,
                event_registration::ActiveModel {
                    id: Set(new.id),
                    tenant_id: Set(tenant.clone()),
                    entry_id: Set(new.event.0),
                    name: Set(new.registrant.name.as_str().to_owned()),
                    email: Set(new.registrant.email.as_str().to_owned()),
                    ente: Set(new.registrant.ente.clone()),
                    status: Set(status.as_str().to_owned()),
                    place: Set(place),
                    secret_hash: Set(new.secret_hash.clone()),
                    consent_version: Set(new.consent_version.clone()),
                    created_at: Set(new.at),
                    updated_at: Set(new.at),
                    cancelled_at: Set(None),
                    promoted_at: Set(None),
                },
            )
            .await
            .map_err(StoreError::unique("place", "the place was taken"))?;
        let registration = record(row)?;
        for mail in compose(&registration, false) {
            enqueue(txn, &tenant, mail, new.at).await?;
        }
        Ok(Registered::New(registration))
    }

    /// The registration whose secret hashes to `secret_hash`.
    pub async fn registration_by_secret(&self, secret_hash: &str) -> StoreResult<Registration> {
        self.require_any(&[Action::SubmitRequest, Action::ReadRequests])?;
        self.select::<event_registration::Entity>()
            .filter(event_registration::Column::SecretHash.eq(secret_hash))
            .one(&self.store().read)
            .await?
            .map(record)
            .transpose()?
            .ok_or(StoreError::NotFound("registration"))
    }

    /// Cancels the registration whose secret hashes to `secret_hash`, drops its reminder, and
    /// gives a freed place to the first one waiting. `compose` gets the cancelled registration
    /// and the promoted one; nothing is sent for a registration cancelled before.
    pub async fn cancel_registration(
        &self,
        secret_hash: &str,
        at: DateTime<Utc>,
        compose: impl Fn(&Registration, Option<&Registration>) -> Vec<OutMail>,
    ) -> StoreResult<Cancelled> {
        self.require(Action::SubmitRequest)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let txn = self.store().write.begin().await?;
            match self.cancel_in(&txn, secret_hash, at, &compose).await {
                Ok(done) => {
                    txn.commit().await?;
                    return Ok(done);
                }
                Err(StoreError::Conflict { field: "place", .. }) if attempt < PLACE_ATTEMPTS => {
                    txn.rollback().await?;
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn cancel_in(
        &self,
        txn: &DatabaseTransaction,
        secret_hash: &str,
        at: DateTime<Utc>,
        compose: &impl Fn(&Registration, Option<&Registration>) -> Vec<OutMail>,
    ) -> StoreResult<Cancelled> {
        let tenant = self.tenant().to_string();
        let row = self
            .select::<event_registration::Entity>()
            .filter(event_registration::Column::SecretHash.eq(secret_hash))
            .one(txn)
            .await?
            .ok_or(StoreError::NotFound("registration"))?;
        let before = record(row.clone())?;
        if before.status == RegistrationStatus::Cancelled {
            return Ok(Cancelled { registration: before, now: false, promoted: None });
        }
        let mut am: event_registration::ActiveModel = row.into();
        am.status = Set(RegistrationStatus::Cancelled.as_str().to_owned());
        am.place = Set(None);
        am.cancelled_at = Set(Some(at));
        am.updated_at = Set(at);
        let registration = record(am.update(txn).await?)?;
        self.delete::<outbox::Entity>()
            .filter(outbox::Column::Dedupe.eq(reminder_key(registration.id)))
            .filter(outbox::Column::SentAt.is_null())
            .exec(txn)
            .await?;
        let promoted = match before.place.filter(|_| before.status == RegistrationStatus::Confirmed) {
            None => None,
            Some(place) => {
                let first = self
                    .select::<event_registration::Entity>()
                    .filter(event_registration::Column::EntryId.eq(before.event.0))
                    .filter(event_registration::Column::Status.eq(RegistrationStatus::Waiting.as_str()))
                    .order_by_asc(event_registration::Column::CreatedAt)
                    .order_by_asc(event_registration::Column::Id)
                    .one(txn)
                    .await?;
                match first {
                    None => None,
                    Some(w) => {
                        let mut am: event_registration::ActiveModel = w.into();
                        am.status = Set(RegistrationStatus::Confirmed.as_str().to_owned());
                        am.place = Set(Some(place));
                        am.promoted_at = Set(Some(at));
                        am.updated_at = Set(at);
                        let row = am.update(txn).await.map_err(StoreError::unique("place", "the place was taken"))?;
                        Some(record(row)?)
                    }
                }
            }
        };
        self.audit_on(
            txn,
            "registration.cancel",
            ("evento", &before.event.0.to_string()),
            serde_json::json!({ "registration": before.id, "promoted": promoted.as_ref().map(|p| p.id) }),
        )
        .await?;
        for mail in compose(&registration, promoted.as_ref()) {
            enqueue(txn, &tenant, mail, at).await?;
        }
        Ok(Cancelled { registration, now: true, promoted })
    }

    /// An event's registrations: confirmed by place, then waiting in order, then cancelled.
    pub async fn registrations(&self, event: EntryId) -> StoreResult<Vec<Registration>> {
        self.require(Action::ReadRequests)?;
        let mut all: Vec<Registration> = self
            .select::<event_registration::Entity>()
            .filter(event_registration::Column::EntryId.eq(event.0))
            .order_by_asc(event_registration::Column::CreatedAt)
            .order_by_asc(event_registration::Column::Id)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(record)
            .collect::<StoreResult<_>>()?;
        let rank = |s: RegistrationStatus| RegistrationStatus::ALL.iter().position(|x| *x == s).unwrap_or(3);
        all.sort_by_key(|r| (rank(r.status), r.place.unwrap_or(i32::MAX)));
        Ok(all)
    }

    /// How many registrations the event has in each state (anybody: the site shows the places
    /// left).
    pub async fn registration_counts(&self, event: EntryId) -> StoreResult<RegistrationCounts> {
        let rows: Vec<String> = self
            .select::<event_registration::Entity>()
            .filter(event_registration::Column::EntryId.eq(event.0))
            .select_only()
            .column(event_registration::Column::Status)
            .into_tuple()
            .all(&self.store().read)
            .await?;
        let mut counts = RegistrationCounts::default();
        for s in rows {
            match RegistrationStatus::parse(&s).map_err(|e| StoreError::Corrupt(e.message))? {
                RegistrationStatus::Confirmed => counts.confirmed += 1,
                RegistrationStatus::Waiting => counts.waiting += 1,
                RegistrationStatus::Cancelled => counts.cancelled += 1,
            }
        }
        Ok(counts)
    }

    /// Writes e-mails that are not caused by a change of a row (invitations), each at most once
    /// per `dedupe` key, and audits it as `action` on `object`. Answers, per mail, whether it
    /// was written (false: its key was sent or queued before).
    pub async fn send_once(
        &self,
        action: &str,
        object: (&str, &str),
        mails: Vec<OutMail>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        self.require(Action::AnswerRequests)?;
        let tenant = self.tenant().to_string();
        let txn = self.store().write.begin().await?;
        let mut written = Vec::with_capacity(mails.len());
        for mail in mails {
            written.push(enqueue(&txn, &tenant, mail, at).await?);
        }
        let count = written.iter().filter(|w| **w).count();
        self.audit_on(&txn, action, object, serde_json::json!({ "written": count, "skipped": written.len() - count }))
            .await?;
        txn.commit().await?;
        Ok(written)
    }
}
