//! The list query as the domain sees it: which entries (type, locale, statuses, typed filters),
//! in which order (sort keys), and where a page ends (an opaque keyset cursor). The store turns
//! it into SQL; the API parses it from the query string or GraphQL arguments.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entry::EntryStatus;
use super::{Field, FieldKind, FieldName, TypeId};
use crate::types::Locale;

/// Columns of an entry that can be filtered and sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysField {
    Id,
    Slug,
    Locale,
    Status,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

impl SysField {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => SysField::Id,
            "slug" => SysField::Slug,
            "locale" => SysField::Locale,
            "status" => SysField::Status,
            "created_at" => SysField::CreatedAt,
            "updated_at" => SysField::UpdatedAt,
            "published_at" => SysField::PublishedAt,
            _ => return None,
        })
    }

    /// How values of the column compare.
    pub fn value_type(self) -> ValueType {
        match self {
            SysField::Id => ValueType::Uuid,
            SysField::Slug | SysField::Locale | SysField::Status => ValueType::Text,
            SysField::CreatedAt | SysField::UpdatedAt | SysField::PublishedAt => ValueType::Time,
        }
    }
}

/// How a value compares in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Text,
    Number,
    Bool,
    Time,
    Uuid,
    /// A JSON array of strings (tags, references to many): only `contains` and `null`.
    Array,
}

impl ValueType {
    /// How values of a data field compare in a list query (REST and GraphQL alike); `None` for
    /// the kinds that cannot be filtered or sorted on (geopoints, JSON).
    pub fn of(field: &Field) -> Option<Self> {
        Some(match &field.kind {
            FieldKind::Integer | FieldKind::Decimal => ValueType::Number,
            FieldKind::Boolean => ValueType::Bool,
            FieldKind::Tags | FieldKind::Reference { many: true, .. } => ValueType::Array,
            FieldKind::Geopoint | FieldKind::Json => return None,
            _ => ValueType::Text,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Sys(SysField),
    Data(FieldName, ValueType),
}

impl Target {
    pub fn value_type(&self) -> ValueType {
        match self {
            Target::Sys(f) => f.value_type(),
            Target::Data(_, t) => *t,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Contains,
    StartsWith,
    Null,
}

impl Op {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            "null" => Op::Null,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Number(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    Uuid(uuid::Uuid),
    List(Vec<FilterValue>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub target: Target,
    pub op: Op,
    pub value: FilterValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub target: Target,
    pub desc: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub type_id: TypeId,
    /// Only entries in this locale; `None`: every locale.
    pub locale: Option<Locale>,
    pub statuses: Vec<EntryStatus>,
    pub filters: Vec<Filter>,
    pub sort: Vec<SortKey>,
    pub limit: u64,
    pub after: Option<Cursor>,
}

/// Where a page ended: the sort values of its last entry. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which ordering the cursor belongs to; a cursor from another sort is refused.
    s: String,
    k: Vec<CursorValue>,
}

/// One sort value in a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum CursorValue {
    I(i32),
    S(String),
    N(f64),
    T(DateTime<Utc>),
    U(uuid::Uuid),
}

impl Cursor {
    /// The cursor of an entry in the ordering named `signature`, from its sort values.
    pub fn new(signature: String, values: Vec<CursorValue>) -> Self {
        Self { s: signature, k: values }
    }

    /// The ordering this cursor belongs to.
    pub fn signature(&self) -> &str {
        &self.s
    }

    pub fn values(&self) -> &[CursorValue] {
        &self.k
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}
