//! The ids of the content model: type ids and field names, checked on the way in.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// The api id of a content type: `notizia`, `servizio`. `[a-z][a-z0-9_]{0,39}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TypeId(String);

/// The name of a field: `title`, `data_inizio`. `[a-z][a-z0-9_]{0,63}`, and not one of the
/// system names (`id`, `type`, `locale`, `slug`, `status`, `created_at`, `updated_at`,
/// `published_at`, `publish_at`, `unpublish_at`, `translation_group`, `revision`, `author`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldName(String);

pub(super) static TYPE_ID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]{0,39}$").ok());

pub(super) static FIELD_NAME_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]{0,63}$").ok());

/// Names every entry has outside its `data`; a field may not take them.
pub(super) const SYSTEM_FIELD_NAMES: &[&str] = &[
    "id",
    "type",
    "locale",
    "slug",
    "status",
    "created_at",
    "updated_at",
    "published_at",
    "publish_at",
    "unpublish_at",
    "translation_group",
    "revision",
    "author",
];

impl TypeId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if TYPE_ID_RE.as_ref().is_some_and(|re| re.is_match(raw)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidInput::new(
                "invalid_type_id",
                format!(
                    "`{raw}` is not a type id: 1 to 40 lower-case letters, digits and underscores, starting with a letter"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FieldName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if !FIELD_NAME_RE.as_ref().is_some_and(|re| re.is_match(raw)) {
            return Err(InvalidInput::new(
                "invalid_field_name",
                format!(
                    "`{raw}` is not a field name: 1 to 64 lower-case letters, digits and underscores, starting with a letter"
                ),
            ));
        }
        if SYSTEM_FIELD_NAMES.contains(&raw) {
            return Err(InvalidInput::new(
                "reserved_field_name",
                format!("`{raw}` is a system name and cannot be a field"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(TypeId);
string_newtype!(FieldName);
