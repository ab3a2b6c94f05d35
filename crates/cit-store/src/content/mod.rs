//! Content: types (versioned), entries with revisions, the list query, and the scheduler.

pub(crate) mod entries;
pub mod query;
mod schedule;
pub mod search;
mod types;

use chrono::{DateTime, Utc};
use cit_core::content::ContentType;
pub use cit_core::content::{Entry, EntryChange, EntryStatus, NewEntry, Revision};
use serde_json::{Map, Value};

pub use entries::EntryKey;
pub use query::{Cursor, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, ValueType};
pub use schedule::ScheduleReport;
pub use search::{SearchHit, SearchQuery, SearchResults};
pub(crate) use types::parse_definition;
pub use types::{ApplyReport, PlannedChange};

use crate::StoreError;
use crate::entity::{entry, entry_revision};

/// A content type as stored: the checked model and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredType {
    pub ct: ContentType,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
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

/// An entry row as the domain sees it; a status the domain does not know is corrupt data.
pub(crate) fn entry_of(m: entry::Model) -> Result<Entry, StoreError> {
    Ok(Entry {
        status: EntryStatus::parse(&m.status)
            .ok_or_else(|| StoreError::Corrupt(format!("entry {} status {:?}", m.id, m.status)))?,
        id: m.id.into(),
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

/// A revision row as the domain sees it.
pub(crate) fn revision_of(m: entry_revision::Model) -> Result<Revision, StoreError> {
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
