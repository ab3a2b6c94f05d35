//! The one write path of entries. Whoever writes (REST, GraphQL, the command line, the demo
//! seeding) hands what it was asked as an [`EntryInput`]; the rules here decide which right the
//! write needs, reject inputs that contradict each other, pick the locale, merge a patch into the
//! current data and validate it in the right mode. What comes out is a plan ([`NewEntry`],
//! [`EntryChange`]) that only these rules can make; the store carries out a plan and nothing else.
//!
//! The rules, once each:
//! - anything but a plain draft (published, archived, or scheduled with `publish_at`) needs the
//!   right to publish, and so does any change to an entry that is not a plain draft;
//! - a new entry that needs that right is validated in full (`Mode::Publish`); a changed entry is
//!   validated in full when it is, or is scheduled to become, published;
//! - the locale is the one asked for if the tenant has it, else the tenant's first ([`Locale::of_tenant`]).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::entry::{Entry, EntryStatus, Revision};
use super::{ContentType, DataError, Mode, Slug, Validated, validate_data};
use crate::access::Action;
use crate::types::{EntryId, Locale};

/// The input of a write a problem is about. Each adapter names it its own way (REST
/// `publish_at`, GraphQL `publishAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteInput {
    Data,
    Locale,
    PublishAt,
    TranslationOf,
    Revision,
}

impl WriteInput {
    /// The name in snake_case, as REST and the store name it.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteInput::Data => "data",
            WriteInput::Locale => "locale",
            WriteInput::PublishAt => "publish_at",
            WriteInput::TranslationOf => "translation_of",
            WriteInput::Revision => "revision",
        }
    }
}

/// Why a write was refused before anything was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// One input is missing, not allowed here, or contradicts another.
    #[error("{}: {message}", input.as_str())]
    Input { input: WriteInput, code: &'static str, message: String },
    /// The data does not fit its content type: every problem, at its path inside `data`.
    #[error("the data does not fit its type ({} problems)", .0.len())]
    Data(Vec<DataError>),
}

fn refuse(input: WriteInput, code: &'static str, message: impl Into<String>) -> WriteError {
    WriteError::Input { input, code, message: message.into() }
}

/// Whether an entry with this status and schedule is more than a plain draft, so writing it
/// needs the right to publish.
fn beyond_draft(status: EntryStatus, publish_at: Option<DateTime<Utc>>) -> bool {
    status != EntryStatus::Draft || publish_at.is_some()
}

fn right(publishing: bool) -> Action {
    if publishing { Action::PublishContent } else { Action::WriteContent }
}

/// Whether a changed entry's data must be complete: it is, or is scheduled to become, published.
fn change_mode(status: EntryStatus, publish_at: Option<DateTime<Utc>>) -> Mode {
    if status == EntryStatus::Published || (status == EntryStatus::Draft && publish_at.is_some()) {
        Mode::Publish
    } else {
        Mode::Draft
    }
}

/// When an entry was published, after a write that takes it from `from` to `to`.
fn published_at(
    from: EntryStatus,
    to: EntryStatus,
    before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match (from, to) {
        (EntryStatus::Published, EntryStatus::Published) => before,
        (_, EntryStatus::Published) => Some(now),
        (_, EntryStatus::Draft) => None,
        (_, EntryStatus::Archived) => before,
    }
}

/// What a caller asks to write, parsed but not yet checked as a whole. On create, only `data`
/// is required; on update every key is optional and `data` is merged into the current data key
/// by key (a key set to null clears that field). `publish_at` and `unpublish_at` are `None`
/// when not given and `Some(None)` when given as null.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryInput {
    pub data: Option<Map<String, Value>>,
    pub locale: Option<String>,
    pub slug: Option<Slug>,
    pub status: Option<EntryStatus>,
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    pub translation_of: Option<EntryId>,
    pub revision: Option<i32>,
}

impl EntryInput {
    /// The right creating an entry from this input needs.
    pub fn create_action(&self) -> Action {
        right(beyond_draft(self.status.unwrap_or(EntryStatus::Draft), self.publish_at.flatten()))
    }

    /// Plans a new entry of type `ct` in a tenant with `tenant_locales`.
    pub fn plan_create(self, ct: &ContentType, tenant_locales: &[String]) -> Result<NewEntry, WriteError> {
        let action = self.create_action();
        let status = self.status.unwrap_or(EntryStatus::Draft);
        let publish_at = self.publish_at.flatten();
        if self.revision.is_some() {
            return Err(refuse(WriteInput::Revision, "unknown_field", "revision applies to updates"));
        }
        if publish_at.is_some() && status != EntryStatus::Draft {
            return Err(refuse(
                WriteInput::PublishAt,
                "conflicting_status",
                "a scheduled entry stays a draft until publish_at",
            ));
        }
        let locale = Locale::of_tenant(tenant_locales, self.locale.as_deref())
            .map_err(|e| refuse(WriteInput::Locale, e.code, e.message))?;
        let data = self.data.ok_or_else(|| refuse(WriteInput::Data, "missing_field", "`data` is required"))?;
        let mode = if action == Action::PublishContent { Mode::Publish } else { Mode::Draft };
        let data = validate_data(ct, &data, mode, true).map_err(WriteError::Data)?;
        Ok(NewEntry {
            action,
            locale,
            slug: self.slug,
            status,
            data,
            publish_at,
            unpublish_at: self.unpublish_at.flatten(),
            translation_of: self.translation_of,
        })
    }

    /// Refuses what an update can never change (its locale, the entry it translates); checked
    /// before the entry is read.
    pub fn check_update(&self) -> Result<(), WriteError> {
        let field = if self.locale.is_some() {
            WriteInput::Locale
        } else if self.translation_of.is_some() {
            WriteInput::TranslationOf
        } else {
            return Ok(());
        };
        Err(refuse(field, "immutable", "create a translation instead of changing the locale"))
    }

    /// Decides an update of `current`: the status and schedule it ends with, the right it
    /// needs, and the merged data still to validate.
    pub fn plan_update(self, current: &Entry) -> Result<PendingChange, WriteError> {
        self.check_update()?;
        let status = self.status.unwrap_or(current.status);
        let publish_at = self.publish_at.unwrap_or(current.publish_at);
        if publish_at.is_some() && status == EntryStatus::Archived {
            return Err(refuse(WriteInput::PublishAt, "conflicting_status", "an archived entry cannot be scheduled"));
        }
        let data = match (self.data, self.status.is_some() || self.publish_at.is_some()) {
            (None, false) => None,
            (patch, _) => {
                let mut merged = current.data.clone();
                merged.extend(patch.unwrap_or_default());
                Some(merged)
            }
        };
        Ok(PendingChange {
            decided: Decided {
                entry: current.id,
                expected_revision: self.revision,
                from: (current.status, current.publish_at),
                status,
                publish_at,
                unpublish_at: self.unpublish_at,
                slug: self.slug,
            },
            data,
            note: None,
        })
    }
}

/// Plans bringing back the data of `old` into `current` as a new revision; status and
/// schedule stay.
pub fn plan_restore(current: &Entry, old: &Revision) -> PendingChange {
    PendingChange {
        decided: Decided {
            entry: current.id,
            expected_revision: None,
            from: (current.status, current.publish_at),
            status: current.status,
            publish_at: current.publish_at,
            unpublish_at: None,
            slug: None,
        },
        data: Some(old.data.clone()),
        note: Some(format!("restored:{}", old.revision)),
    }
}

/// What an update was decided to do to an entry, besides its data and its note: the same
/// before and after validation.
#[derive(Debug, Clone, PartialEq)]
struct Decided {
    entry: EntryId,
    expected_revision: Option<i32>,
    /// The status and schedule the decision was made on.
    from: (EntryStatus, Option<DateTime<Utc>>),
    status: EntryStatus,
    publish_at: Option<DateTime<Utc>>,
    unpublish_at: Option<Option<DateTime<Utc>>>,
    slug: Option<Slug>,
}

/// An update decided but not validated yet: ask for [`Self::action`], then [`Self::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    decided: Decided,
    data: Option<Map<String, Value>>,
    note: Option<String>,
}

impl PendingChange {
    /// The right this change needs: publishing, scheduling, and changing anything that is
    /// not a plain draft need the right to publish.
    pub fn action(&self) -> Action {
        let d = &self.decided;
        right(beyond_draft(d.status, d.publish_at) || d.from.0 != EntryStatus::Draft)
    }

    /// Validates the merged data against `ct` and makes the plan the store carries out.
    pub fn validate(self, ct: &ContentType) -> Result<EntryChange, WriteError> {
        let action = self.action();
        let mut decided = self.decided;
        let mode = change_mode(decided.status, decided.publish_at);
        let data = self.data.map(|d| validate_data(ct, &d, mode, false)).transpose().map_err(WriteError::Data)?;
        let note = self.note.unwrap_or_else(|| {
            if decided.status == decided.from.0 {
                "updated".to_owned()
            } else {
                match decided.status {
                    EntryStatus::Published => "published",
                    EntryStatus::Draft => "unpublished",
                    EntryStatus::Archived => "archived",
                }
                .to_owned()
            }
        });
        if decided.status == EntryStatus::Published {
            decided.publish_at = None;
        }
        Ok(EntryChange { action, decided, data, note })
    }
}

/// A new entry, checked and validated: what the store inserts.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    action: Action,
    locale: Locale,
    slug: Option<Slug>,
    status: EntryStatus,
    data: Validated,
    publish_at: Option<DateTime<Utc>>,
    unpublish_at: Option<DateTime<Utc>>,
    translation_of: Option<EntryId>,
}

impl NewEntry {
    /// The right this write needs (the store checks it against the access it was given).
    pub fn action(&self) -> Action {
        self.action
    }
    pub fn locale(&self) -> &Locale {
        &self.locale
    }
    /// Given by the caller; otherwise the store derives one from the type's `slug_from` field.
    pub fn slug(&self) -> Option<&Slug> {
        self.slug.as_ref()
    }
    pub fn status(&self) -> EntryStatus {
        self.status
    }
    pub fn data(&self) -> &Validated {
        &self.data
    }
    pub fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.publish_at
    }
    pub fn unpublish_at(&self) -> Option<DateTime<Utc>> {
        self.unpublish_at
    }
    /// Another entry of the same type this one translates (same translation group).
    pub fn translation_of(&self) -> Option<EntryId> {
        self.translation_of
    }
    /// When the entry counts as published, if it is written at `now`.
    pub fn published_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        published_at(EntryStatus::Draft, self.status, None, now)
    }
}

/// A change to an entry, checked and validated: what the store applies. `None` keeps a value.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryChange {
    action: Action,
    decided: Decided,
    data: Option<Validated>,
    note: String,
}

impl EntryChange {
    /// The right this write needs (the store checks it against the access it was given).
    pub fn action(&self) -> Action {
        self.action
    }
    pub fn entry(&self) -> EntryId {
        self.decided.entry
    }
    /// The revision the caller read, if it gave one: the write is refused if somebody saved since.
    pub fn expected_revision(&self) -> Option<i32> {
        self.decided.expected_revision
    }
    /// Whether the entry still has the status and schedule this change was decided on; if
    /// not, somebody changed it in between and the decision no longer holds.
    pub fn still_applies(&self, status: EntryStatus, publish_at: Option<DateTime<Utc>>) -> bool {
        self.decided.from == (status, publish_at)
    }
    pub fn status(&self) -> EntryStatus {
        self.decided.status
    }
    /// The schedule after the change (a published entry has none).
    pub fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.decided.publish_at
    }
    pub fn unpublish_at(&self) -> Option<Option<DateTime<Utc>>> {
        self.decided.unpublish_at
    }
    /// The whole new data, validated, if the change touches it.
    pub fn data(&self) -> Option<&Validated> {
        self.data.as_ref()
    }
    pub fn slug(&self) -> Option<&Slug> {
        self.decided.slug.as_ref()
    }
    /// Why, for the revision: updated, published, unpublished, archived, restored:N.
    pub fn note(&self) -> &str {
        &self.note
    }
    /// When the entry counts as published after the change, written at `now`, if it was
    /// published at `before`.
    pub fn published_at(&self, before: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        published_at(self.decided.from.0, self.decided.status, before, now)
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
