//! The content model as people write it: schema files, type and field definitions, raw.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::types::*;
use crate::error::InvalidInput;

/// A schema file: `[types.<api_id>]` tables, each a [`ContentTypeDef`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    #[serde(default)]
    pub types: BTreeMap<String, ContentTypeDef>,
    /// `[forms.<id>]` tables: what the public may send (see [`crate::forms`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub forms: BTreeMap<String, crate::forms::FormDef>,
}

/// A content type as written by people. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentTypeDef {
    /// Italian label of one entry: "Notizia".
    pub singular: String,
    /// Italian label of many: "Notizie".
    pub plural: String,
    /// English description for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels in other locales: `{ en = "News item" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Entries form a tree through a `parent` reference to the same type (menus, breadcrumbs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tree: bool,
    /// The string field the slug is derived from. Defaults to `title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug_from: Option<String>,
    pub fields: Vec<FieldDef>,
}

/// A field as written by people. Which keys apply depends on `kind`; `parse` refuses the others.
/// The default has no name, kind or label and every key left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    /// string, text, richtext, integer, decimal, boolean, date, datetime, enum, slug, email,
    /// url, media, reference, tags, geopoint, json.
    pub kind: String,
    /// Italian label shown to editors.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Must have a value to publish (drafts may be incomplete).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// No two entries of the type and locale share a value. string, slug, email, url, integer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// Characters for string/text/richtext/slug; value for integer/decimal; items for tags and
    /// many-references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A regular expression the whole value must match (string, text, slug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The allowed values of an enum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// The type a reference points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A reference to many entries (an array of ids).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub many: bool,
    /// Value used when a new entry leaves the field out. Must itself be valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
}

/// How `toml` hands a TOML date or date-time to a `serde_json::Value`.
pub(super) const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// TOML dates and date-times (`default = 2026-01-01`) as the strings JSON data uses.
pub(super) fn toml_datetimes_to_strings(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let datetime = (map.len() == 1)
                .then(|| map.get(TOML_DATETIME_KEY).and_then(Value::as_str))
                .flatten()
                .map(str::to_owned);
            match datetime {
                Some(text) => *value = Value::String(text),
                None => map.values_mut().for_each(toml_datetimes_to_strings),
            }
        }
        Value::Array(items) => items.iter_mut().for_each(toml_datetimes_to_strings),
        _ => {}
    }
}

impl SchemaFile {
    /// Reads a schema file. Syntax errors and unknown keys are reported with their line.
    pub fn parse_toml(text: &str) -> Result<SchemaFile, InvalidInput> {
        let mut file: SchemaFile =
            toml::from_str(text).map_err(|e| InvalidInput::new("invalid_toml", e.to_string().trim_end().to_owned()))?;
        for def in file.types.values_mut() {
            for field in &mut def.fields {
                if let Some(default) = &mut field.default {
                    toml_datetimes_to_strings(default);
                }
            }
        }
        Ok(file)
    }

    /// `other` laid over `self`. Types only in `other` are added. A type in both keeps
    /// `self`'s labels, description and `slug_from` unless `other` sets them (a non-empty
    /// singular/plural, a `description`, a `slug_from`; `labels` are merged by locale), becomes
    /// a tree if either is one, and gets `other`'s fields appended, a field with the same name
    /// replacing `self`'s in place.
    pub fn merge(mut self, other: SchemaFile) -> SchemaFile {
        for (id, theirs) in other.types {
            match self.types.entry(id) {
                Entry::Vacant(slot) => {
                    slot.insert(theirs);
                }
                Entry::Occupied(mut slot) => merge_type(slot.get_mut(), theirs),
            }
        }
        // A form is replaced whole by a later file.
        self.forms.extend(other.forms);
        self
    }

    /// Every type checked, then the references across the file.
    pub fn content_types(&self) -> Result<Vec<ContentType>, Vec<InvalidInput>> {
        let mut errors = Vec::new();
        let mut types = Vec::with_capacity(self.types.len());
        for (id, def) in &self.types {
            match ContentType::parse(id, def) {
                Ok(ct) => types.push(ct),
                Err(mut e) => errors.append(&mut e),
            }
        }
        // Against every name in the file, so that a type with errors of its own does not also
        // make each reference to it an error.
        let known: BTreeSet<&str> = self.types.keys().map(String::as_str).collect();
        errors.extend(reference_errors(&types, &known));
        if errors.is_empty() { Ok(types) } else { Err(errors) }
    }
}

pub(super) fn merge_type(ours: &mut ContentTypeDef, theirs: ContentTypeDef) {
    if !theirs.singular.trim().is_empty() {
        ours.singular = theirs.singular;
    }
    if !theirs.plural.trim().is_empty() {
        ours.plural = theirs.plural;
    }
    if theirs.description.is_some() {
        ours.description = theirs.description;
    }
    ours.labels.extend(theirs.labels);
    ours.tree |= theirs.tree;
    if theirs.slug_from.is_some() {
        ours.slug_from = theirs.slug_from;
    }
    for field in theirs.fields {
        match ours.fields.iter_mut().find(|f| f.name == field.name) {
            Some(existing) => *existing = field,
            None => ours.fields.push(field),
        }
    }
}
