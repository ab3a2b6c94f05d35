//! Content: types (versioned), entries with revisions, the list query, and the scheduler.

mod entries;
pub mod query;
mod schedule;
pub mod search;
mod types;

use chrono::{DateTime, Utc};
use cit_core::content::{ContentType, Slug, Validated};
use serde_json::{Map, Value};

pub use query::{Cursor, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, ValueType};
pub use schedule::ScheduleReport;
pub use search::{SearchHit, SearchQuery, SearchResults};
pub use types::{ApplyReport, PlannedChange};

use crate::StoreError;
use crate::entity::{entry, entry_revision};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    Draft,
    Published,
    Archived,
}

impl EntryStatus {
    pub const ALL: [EntryStatus; 3] = [EntryStatus::Draft, EntryStatus::Published, EntryStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Draft => "draft",
            EntryStatus::Published => "published",
            EntryStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A content type as stored: the checked model and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredType {
    pub ct: ContentType,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: uuid::Uuid,
    pub type_id: String,
    pub locale: String,
    pub translation_group: uuid::Uuid,
    pub slug: String,
    pub status: EntryStatus,
    pub data: Map<String, Value>,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub author: String,
    pub revision: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub revision: i32,
    pub slug: String,
    pub status: EntryStatus,
    pub data: Map<String, Value>,
    pub author: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// A new entry, its data already validated against its type.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub locale: String,
    /// Given by the caller; otherwise derived from the type's `slug_from` field.
    pub slug: Option<Slug>,
    pub status: EntryStatus,
    pub data: Validated,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    /// Another entry of the same type this one translates (same translation group).
    pub translation_of: Option<uuid::Uuid>,
}

/// A change to an entry; `None` keeps a value. `data` is the whole new data, validated.
#[derive(Debug, Clone, Default)]
pub struct EntryChange {
    pub data: Option<Validated>,
    pub slug: Option<Slug>,
    pub status: Option<EntryStatus>,
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    /// Why, for the revision: updated, restored:N, …
    pub note: Option<String>,
}

/// One problem with entry data that only the database could see (a reference to a missing
/// entry, a duplicate unique value), at a path inside `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataIssue {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

fn map_of(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl TryFrom<entry::Model> for Entry {
    type Error = StoreError;
    fn try_from(m: entry::Model) -> Result<Self, StoreError> {
        Ok(Entry {
            status: EntryStatus::parse(&m.status)
                .ok_or_else(|| StoreError::Corrupt(format!("entry {} status {:?}", m.id, m.status)))?,
            id: m.id,
            type_id: m.type_id,
            locale: m.locale,
            translation_group: m.translation_group,
            slug: m.slug,
            data: map_of(m.data),
            publish_at: m.publish_at,
            unpublish_at: m.unpublish_at,
            published_at: m.published_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            author: m.author,
            revision: m.revision,
        })
    }
}

impl TryFrom<entry_revision::Model> for Revision {
    type Error = StoreError;
    fn try_from(m: entry_revision::Model) -> Result<Self, StoreError> {
        Ok(Revision {
            status: EntryStatus::parse(&m.status)
                .ok_or_else(|| StoreError::Corrupt(format!("revision {} status", m.id)))?,
            revision: m.revision,
            slug: m.slug,
            data: map_of(m.data),
            author: m.author,
            note: m.note,
            created_at: m.created_at,
        })
    }
}
