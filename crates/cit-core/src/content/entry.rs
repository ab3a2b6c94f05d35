//! Entries as the domain sees them: their status, what is read back, and one saved version.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::types::EntryId;

/// Where an entry stands in its life: a draft (maybe scheduled), published, or archived.
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

/// An entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: EntryId,
    pub type_id: String,
    pub locale: String,
    pub translation_group: Uuid,
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

/// One saved version of an entry.
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
