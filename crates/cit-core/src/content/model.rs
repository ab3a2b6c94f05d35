//! Content types as written in `schema/*.toml` and over the admin API (`*Def`, raw), and as
//! checked (`ContentType`, `Field`): a value of the checked types is a valid model.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::validate::{check_value, compile_pattern};
use crate::error::InvalidInput;
use crate::types::Locale;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    String,
    Text,
    Richtext,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Enum { values: Vec<String> },
    Slug,
    Email,
    Url,
    Media,
    Reference { to: TypeId, many: bool },
    Tags,
    Geopoint,
    Json,
}

/// A checked field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: FieldName,
    pub kind: FieldKind,
    pub label: String,
    pub description: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Source of the regex; compiled by `validate_data` (anchored `^(?:…)$`).
    pub pattern: Option<String>,
    pub default: Option<serde_json::Value>,
}

/// A checked content type. `def()` gives back the raw form (for storage and the API) such that
/// `ContentType::parse(id, ct.def())` yields an equal value.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentType {
    pub id: TypeId,
    pub singular: String,
    pub plural: String,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub tree: bool,
    pub slug_from: FieldName,
    pub fields: Vec<Field>,
}

static TYPE_ID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]{0,39}$").ok());

static FIELD_NAME_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]{0,63}$").ok());

/// Names every entry has outside its `data`; a field may not take them.
const SYSTEM_FIELD_NAMES: &[&str] = &[
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

/// What `min` and `max` measure on a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Measure {
    /// Length in characters.
    Chars,
    /// The number itself.
    Value,
    /// Items in a list.
    Count,
}

impl FieldKind {
    /// The name written in `kind`.
    pub(super) fn name(&self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Text => "text",
            FieldKind::Richtext => "richtext",
            FieldKind::Integer => "integer",
            FieldKind::Decimal => "decimal",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Enum { .. } => "enum",
            FieldKind::Slug => "slug",
            FieldKind::Email => "email",
            FieldKind::Url => "url",
            FieldKind::Media => "media",
            FieldKind::Reference { .. } => "reference",
            FieldKind::Tags => "tags",
            FieldKind::Geopoint => "geopoint",
            FieldKind::Json => "json",
        }
    }

    pub(super) fn measure(&self) -> Option<Measure> {
        measure_of(self.name(), matches!(self, FieldKind::Reference { many: true, .. }))
    }
}

/// Kinds written without further keys.
fn simple_kind(kind: &str) -> Option<FieldKind> {
    Some(match kind {
        "string" => FieldKind::String,
        "text" => FieldKind::Text,
        "richtext" => FieldKind::Richtext,
        "integer" => FieldKind::Integer,
        "decimal" => FieldKind::Decimal,
        "boolean" => FieldKind::Boolean,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::Datetime,
        "slug" => FieldKind::Slug,
        "email" => FieldKind::Email,
        "url" => FieldKind::Url,
        "media" => FieldKind::Media,
        "tags" => FieldKind::Tags,
        "geopoint" => FieldKind::Geopoint,
        "json" => FieldKind::Json,
        _ => return None,
    })
}

fn measure_of(kind: &str, many: bool) -> Option<Measure> {
    match kind {
        "string" | "text" | "richtext" | "slug" => Some(Measure::Chars),
        "integer" | "decimal" => Some(Measure::Value),
        "tags" => Some(Measure::Count),
        "reference" if many => Some(Measure::Count),
        _ => None,
    }
}

fn takes_pattern(kind: &str) -> bool {
    matches!(kind, "string" | "text" | "slug")
}

fn takes_unique(kind: &str) -> bool {
    matches!(kind, "string" | "slug" | "email" | "url" | "integer")
}

/// `e` placed: "types.notizia.fields[2].max: …".
fn at(place: &str, e: InvalidInput) -> InvalidInput {
    InvalidInput::new(e.code, format!("{place}: {}", e.message))
}

fn error(place: &str, code: &'static str, message: impl fmt::Display) -> InvalidInput {
    InvalidInput::new(code, format!("{place}: {message}"))
}

/// Label of the `parent` field a tree type gets when its definition has none.
const PARENT_LABEL: &str = "Genitore";
const PARENT: &str = "parent";
const DEFAULT_SLUG_FROM: &str = "title";

impl Field {
    /// Checks one field definition; `place` is where it is ("types.notizia.fields[2]").
    pub(crate) fn parse(def: &FieldDef, place: &str) -> Result<Field, Vec<InvalidInput>> {
        let mut errors = Vec::new();
        let name = FieldName::parse(&def.name).map_err(|e| errors.push(at(&format!("{place}.name"), e))).ok();
        let kind = def.kind.as_str();
        let known = simple_kind(kind).is_some() || matches!(kind, "enum" | "reference");
        if !known {
            errors.push(error(
                &format!("{place}.kind"),
                "unknown_kind",
                format_args!(
                    "`{kind}` is not a kind: string, text, richtext, integer, decimal, boolean, date, datetime, enum, slug, email, url, media, reference, tags, geopoint or json"
                ),
            ));
            return Err(errors);
        }

        let not_applicable = |key: &str, to: &str| {
            error(
                &format!("{place}.{key}"),
                "key_not_applicable",
                format_args!("`{key}` applies only to {to}, not to a {kind} field"),
            )
        };
        if def.values.is_some() && kind != "enum" {
            errors.push(not_applicable("values", "enum fields"));
        }
        if def.to.is_some() && kind != "reference" {
            errors.push(not_applicable("to", "reference fields"));
        }
        if def.many && kind != "reference" {
            errors.push(not_applicable("many", "reference fields"));
        }
        if def.pattern.is_some() && !takes_pattern(kind) {
            errors.push(not_applicable("pattern", "string, text and slug fields"));
        }
        if def.unique && !takes_unique(kind) {
            errors.push(not_applicable("unique", "string, slug, email, url and integer fields"));
        }
        let measure = measure_of(kind, def.many);
        for (key, bound) in [("min", def.min), ("max", def.max)] {
            let Some(bound) = bound else { continue };
            let place = format!("{place}.{key}");
            match measure {
                None => errors.push(not_applicable(
                    key,
                    "string, text, richtext, slug, integer, decimal, tags and many-reference fields",
                )),
                Some(_) if !bound.is_finite() => {
                    errors.push(error(&place, "invalid_bound", "must be a finite number"));
                }
                Some(Measure::Chars | Measure::Count) if bound < 0.0 || bound.fract() != 0.0 => {
                    errors.push(error(
                        &place,
                        "invalid_bound",
                        format_args!("{bound} is not a whole number of characters or items"),
                    ));
                }
                Some(_) => {}
            }
        }
        if let (Some(min), Some(max)) = (def.min, def.max)
            && min > max
        {
            errors.push(error(&format!("{place}.max"), "min_above_max", format_args!("max {max} is below min {min}")));
        }
        let pattern = match def.pattern.as_deref().map(compile_pattern).transpose() {
            Ok(pattern) => pattern,
            Err(e) => {
                errors.push(error(
                    &format!("{place}.pattern"),
                    "invalid_pattern",
                    format_args!("not a valid regular expression: {e}"),
                ));
                None
            }
        };

        let kind = match kind {
            "enum" => {
                let values = def.values.clone().unwrap_or_default();
                if values.is_empty() {
                    errors.push(error(
                        &format!("{place}.values"),
                        "empty_enum",
                        "an enum field lists at least one value",
                    ));
                }
                for (i, value) in values.iter().enumerate() {
                    if values.get(..i).is_some_and(|before| before.contains(value)) {
                        errors.push(error(
                            &format!("{place}.values[{i}]"),
                            "duplicate_enum_value",
                            format_args!("`{value}` is listed twice"),
                        ));
                    }
                }
                Some(FieldKind::Enum { values })
            }
            "reference" => match def.to.as_deref() {
                None => {
                    errors.push(error(
                        &format!("{place}.to"),
                        "missing_reference_target",
                        "a reference field names the type it points to",
                    ));
                    None
                }
                Some(to) => match TypeId::parse(to) {
                    Ok(to) => Some(FieldKind::Reference { to, many: def.many }),
                    Err(e) => {
                        errors.push(at(&format!("{place}.to"), e));
                        None
                    }
                },
            },
            other => simple_kind(other),
        };

        let (Some(name), Some(kind), true) = (name, kind, errors.is_empty()) else {
            return Err(errors);
        };
        let field = Field {
            name,
            kind,
            label: def.label.clone(),
            description: def.description.clone(),
            required: def.required,
            unique: def.unique,
            min: def.min,
            max: def.max,
            pattern: def.pattern.clone(),
            default: def.default.clone(),
        };
        if let Some(default) = &field.default {
            let path = format!("{place}.default");
            let mut problems = Vec::new();
            check_value(&field, pattern.as_ref(), default, &path, &mut problems);
            for problem in problems {
                errors.push(InvalidInput::new("invalid_default", format!("{}: {}", problem.path, problem.message)));
            }
        }
        if errors.is_empty() { Ok(field) } else { Err(errors) }
    }

    /// The raw form: `Field::parse(&f.def(), …)` gives back `f`.
    fn def(&self) -> FieldDef {
        let (values, to, many) = match &self.kind {
            FieldKind::Enum { values } => (Some(values.clone()), None, false),
            FieldKind::Reference { to, many } => (None, Some(to.to_string()), *many),
            _ => (None, None, false),
        };
        FieldDef {
            name: self.name.to_string(),
            kind: self.kind.name().to_owned(),
            label: self.label.clone(),
            description: self.description.clone(),
            required: self.required,
            unique: self.unique,
            min: self.min,
            max: self.max,
            pattern: self.pattern.clone(),
            values,
            to,
            many,
            default: self.default.clone(),
        }
    }
}

impl ContentType {
    /// Checks a definition. Every problem is reported, each with a stable code and a message
    /// that starts with where it is: "types.notizia.fields[2].max: …". Reference targets are
    /// not checked here: see [`check_references`].
    pub fn parse(id: &str, def: &ContentTypeDef) -> Result<ContentType, Vec<InvalidInput>> {
        let place = format!("types.{id}");
        let mut errors = Vec::new();
        let type_id = TypeId::parse(id).map_err(|e| errors.push(at(&place, e))).ok();
        for (key, label) in [("singular", &def.singular), ("plural", &def.plural)] {
            if label.trim().is_empty() {
                errors.push(error(&format!("{place}.{key}"), "empty_label", "must not be empty"));
            }
        }
        for (locale, label) in &def.labels {
            let lplace = format!("{place}.labels.{locale}");
            if let Err(e) = Locale::parse(locale) {
                errors.push(at(&lplace, e));
            } else if label.trim().is_empty() {
                errors.push(error(&lplace, "empty_label", "must not be empty"));
            }
        }
        if def.fields.is_empty() {
            errors.push(error(&format!("{place}.fields"), "no_fields", "a content type has at least one field"));
        }

        let mut fields = Vec::with_capacity(def.fields.len() + 1);
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, fdef) in def.fields.iter().enumerate() {
            let fplace = format!("{place}.fields[{i}]");
            if let Some(first) = seen.get(fdef.name.as_str()) {
                errors.push(error(
                    &format!("{fplace}.name"),
                    "duplicate_field",
                    format_args!("`{}` is already fields[{first}]", fdef.name),
                ));
                continue;
            }
            seen.insert(&fdef.name, i);
            match Field::parse(fdef, &fplace) {
                Ok(field) => fields.push(field),
                Err(mut e) => errors.append(&mut e),
            }
        }

        let slug_place = format!("{place}.slug_from");
        let slug_from = def.slug_from.as_deref().unwrap_or(DEFAULT_SLUG_FROM);
        let slug_from = match FieldName::parse(slug_from) {
            Err(e) => {
                errors.push(at(&slug_place, e));
                None
            }
            Ok(name) => {
                match def.fields.iter().find(|f| f.name == name.as_str()) {
                    Some(f) if f.kind == "string" => {}
                    Some(f) => errors.push(error(
                        &slug_place,
                        "invalid_slug_from",
                        format_args!("`{name}` is a {} field; slugs come from a string field", f.kind),
                    )),
                    None if def.slug_from.is_none() => errors.push(error(
                        &slug_place,
                        "invalid_slug_from",
                        "a type needs a `title` string field, or `slug_from` naming another string field",
                    )),
                    None => {
                        errors.push(error(&slug_place, "invalid_slug_from", format_args!("there is no field `{name}`")))
                    }
                }
                Some(name)
            }
        };

        if def.tree
            && let Some(type_id) = &type_id
        {
            let parent_kind = FieldKind::Reference { to: type_id.clone(), many: false };
            match def.fields.iter().position(|f| f.name == PARENT) {
                None => {
                    if let Ok(name) = FieldName::parse(PARENT) {
                        fields.push(Field {
                            name,
                            kind: parent_kind,
                            label: PARENT_LABEL.to_owned(),
                            description: None,
                            required: false,
                            unique: false,
                            min: None,
                            max: None,
                            pattern: None,
                            default: None,
                        });
                    }
                }
                Some(i) => {
                    let parsed = fields.iter().find(|f| f.name.as_str() == PARENT);
                    if parsed.is_some_and(|f| f.kind != parent_kind) {
                        errors.push(error(
                            &format!("{place}.fields[{i}]"),
                            "invalid_parent_field",
                            format_args!("in a tree type `parent` is a reference to `{type_id}` with many = false"),
                        ));
                    }
                }
            }
        }

        match (type_id, slug_from) {
            (Some(id), Some(slug_from)) if errors.is_empty() => Ok(ContentType {
                id,
                singular: def.singular.clone(),
                plural: def.plural.clone(),
                description: def.description.clone(),
                labels: def.labels.clone(),
                tree: def.tree,
                slug_from,
                fields,
            }),
            _ => Err(errors),
        }
    }

    /// The raw form, for storage and the API: `ContentType::parse(id, &ct.def())` gives back
    /// `ct`. `slug_from` is left out when it is the default, `title`.
    pub fn def(&self) -> ContentTypeDef {
        ContentTypeDef {
            singular: self.singular.clone(),
            plural: self.plural.clone(),
            description: self.description.clone(),
            labels: self.labels.clone(),
            tree: self.tree,
            slug_from: (self.slug_from.as_str() != DEFAULT_SLUG_FROM).then(|| self.slug_from.to_string()),
            fields: self.fields.iter().map(Field::def).collect(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.as_str() == name)
    }
}

/// Every reference field of `types` points to a type in `types`.
pub fn check_references(types: &[ContentType]) -> Result<(), Vec<InvalidInput>> {
    let known: BTreeSet<&str> = types.iter().map(|t| t.id.as_str()).collect();
    let errors = reference_errors(types, &known);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn reference_errors(types: &[ContentType], known: &BTreeSet<&str>) -> Vec<InvalidInput> {
    let mut errors = Vec::new();
    for ct in types {
        for (i, field) in ct.fields.iter().enumerate() {
            if let FieldKind::Reference { to, .. } = &field.kind
                && !known.contains(to.as_str())
            {
                errors.push(error(
                    &format!("types.{}.fields[{i}].to", ct.id),
                    "unknown_reference_target",
                    format_args!("there is no content type `{to}`"),
                ));
            }
        }
    }
    errors
}

/// How `toml` hands a TOML date or date-time to a `serde_json::Value`.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// TOML dates and date-times (`default = 2026-01-01`) as the strings JSON data uses.
fn toml_datetimes_to_strings(value: &mut serde_json::Value) {
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

fn merge_type(ours: &mut ContentTypeDef, theirs: ContentTypeDef) {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    const SAMPLE: &str = r#"
[types.argomento]
singular = "Argomento"
plural = "Argomenti"
fields = [ { name = "title", kind = "string", label = "Nome", required = true, max = 100 } ]

[types.notizia]
singular = "Notizia"
plural = "Notizie"
description = "News"

[[types.notizia.fields]]
name = "title"
kind = "string"
label = "Titolo"
required = true

[[types.notizia.fields]]
name = "argomenti"
kind = "reference"
to = "argomento"
many = true
label = "Argomenti"
"#;

    fn fdef(v: serde_json::Value) -> FieldDef {
        let mut v = v;
        if v.get("label").is_none() {
            v["label"] = json!("Etichetta");
        }
        serde_json::from_value(v).unwrap()
    }

    fn title() -> FieldDef {
        fdef(json!({"name": "title", "kind": "string", "label": "Titolo"}))
    }

    fn tdef(fields: Vec<FieldDef>) -> ContentTypeDef {
        ContentTypeDef {
            singular: "Notizia".into(),
            plural: "Notizie".into(),
            description: None,
            labels: BTreeMap::new(),
            tree: false,
            slug_from: None,
            fields,
        }
    }

    /// The (code, message) of every error parsing `def` as `notizia`.
    fn errors(def: &ContentTypeDef) -> Vec<(&'static str, String)> {
        errors_as("notizia", def)
    }

    fn errors_as(id: &str, def: &ContentTypeDef) -> Vec<(&'static str, String)> {
        match ContentType::parse(id, def) {
            Ok(ct) => panic!("expected errors, got {ct:?}"),
            Err(e) => e.into_iter().map(|e| (e.code, e.message)).collect(),
        }
    }

    /// Exactly one error, with `code`, whose message starts with `place: `.
    #[track_caller]
    fn one_error(def: &ContentTypeDef, code: &str, place: &str) {
        let got = errors(def);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, code, "{got:?}");
        assert!(got[0].1.starts_with(&format!("{place}: ")), "{got:?}");
    }

    /// A `notizia` with `title` and one more field.
    #[track_caller]
    fn field_error(field: serde_json::Value, code: &str, key: &str) {
        let def = tdef(vec![title(), fdef(field)]);
        let place = if key.is_empty() {
            "types.notizia.fields[1]".to_owned()
        } else {
            format!("types.notizia.fields[1].{key}")
        };
        one_error(&def, code, &place);
    }

    #[test]
    fn type_ids_and_field_names() {
        for ok in ["notizia", "a", "luogo_2", &"a".repeat(40)] {
            assert!(TypeId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Notizia", "2a", "_a", "a-b", "à", &"a".repeat(41)] {
            assert_eq!(TypeId::parse(bad).map_err(|e| e.code), Err("invalid_type_id"));
        }
        for ok in ["title", "data_inizio", "parent", &"a".repeat(64)] {
            assert!(FieldName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Title", "1a", "a b", "data-inizio", &"a".repeat(65)] {
            assert_eq!(FieldName::parse(bad).map_err(|e| e.code), Err("invalid_field_name"));
        }
        for reserved in SYSTEM_FIELD_NAMES {
            assert_eq!(FieldName::parse(reserved).map_err(|e| e.code), Err("reserved_field_name"));
        }
        let id: TypeId = serde_json::from_str("\"notizia\"").unwrap();
        assert_eq!(id.to_string(), "notizia");
        assert!(serde_json::from_str::<FieldName>("\"id\"").is_err());
    }

    #[test]
    fn type_level_errors() {
        let def = tdef(vec![title()]);
        let bad_id = errors_as("Notizia", &def);
        assert_eq!(bad_id[0].0, "invalid_type_id");
        assert!(bad_id[0].1.starts_with("types.Notizia: "));

        let mut d = tdef(vec![title()]);
        d.singular = "  ".into();
        one_error(&d, "empty_label", "types.notizia.singular");
        let mut d = tdef(vec![title()]);
        d.plural = String::new();
        one_error(&d, "empty_label", "types.notizia.plural");
        let mut d = tdef(vec![title()]);
        d.labels.insert("EN".into(), "News".into());
        one_error(&d, "invalid_locale", "types.notizia.labels.EN");

        let got = errors(&tdef(vec![]));
        assert_eq!(got[0].0, "no_fields");
        assert!(got[0].1.starts_with("types.notizia.fields: "));
    }

    #[test]
    fn field_errors() {
        let dup = tdef(vec![title(), fdef(json!({"name": "title", "kind": "text"}))]);
        one_error(&dup, "duplicate_field", "types.notizia.fields[1].name");

        field_error(json!({"name": "Sotto", "kind": "string"}), "invalid_field_name", "name");
        field_error(json!({"name": "slug", "kind": "string"}), "reserved_field_name", "name");
        field_error(json!({"name": "x", "kind": "number"}), "unknown_kind", "kind");

        let na = "key_not_applicable";
        field_error(json!({"name": "x", "kind": "string", "values": ["a"]}), na, "values");
        field_error(json!({"name": "x", "kind": "string", "to": "luogo"}), na, "to");
        field_error(json!({"name": "x", "kind": "media", "many": true}), na, "many");
        field_error(json!({"name": "x", "kind": "integer", "pattern": "[0-9]+"}), na, "pattern");
        field_error(json!({"name": "x", "kind": "richtext", "pattern": "a"}), na, "pattern");
        field_error(json!({"name": "x", "kind": "boolean", "min": 1}), na, "min");
        field_error(json!({"name": "x", "kind": "date", "max": 1}), na, "max");
        field_error(json!({"name": "x", "kind": "reference", "to": "luogo", "max": 1}), na, "max");
        field_error(json!({"name": "x", "kind": "text", "unique": true}), na, "unique");
        field_error(json!({"name": "x", "kind": "tags", "unique": true}), na, "unique");

        field_error(json!({"name": "x", "kind": "string", "min": 5, "max": 3}), "min_above_max", "max");
        field_error(json!({"name": "x", "kind": "string", "min": -1}), "invalid_bound", "min");
        field_error(json!({"name": "x", "kind": "tags", "max": 2.5}), "invalid_bound", "max");
        field_error(json!({"name": "x", "kind": "string", "pattern": "(a"}), "invalid_pattern", "pattern");
        // cannot escape the anchoring group
        field_error(json!({"name": "x", "kind": "string", "pattern": "a)|(b"}), "invalid_pattern", "pattern");

        field_error(json!({"name": "x", "kind": "enum"}), "empty_enum", "values");
        field_error(json!({"name": "x", "kind": "enum", "values": []}), "empty_enum", "values");
        field_error(
            json!({"name": "x", "kind": "enum", "values": ["a", "b", "a"]}),
            "duplicate_enum_value",
            "values[2]",
        );
        field_error(json!({"name": "x", "kind": "reference"}), "missing_reference_target", "to");
        field_error(json!({"name": "x", "kind": "reference", "to": "Luogo"}), "invalid_type_id", "to");

        field_error(json!({"name": "x", "kind": "string", "max": 3, "default": "abcd"}), "invalid_default", "default");
        field_error(
            json!({"name": "x", "kind": "enum", "values": ["a"], "default": "b"}),
            "invalid_default",
            "default",
        );
        field_error(json!({"name": "x", "kind": "integer", "default": "1"}), "invalid_default", "default");
        field_error(json!({"name": "x", "kind": "tags", "default": ["a", 1]}), "invalid_default", "default[1]");

        // all the problems of a definition, in order
        let def = tdef(vec![
            title(),
            fdef(json!({"name": "a", "kind": "boolean", "min": 1, "pattern": "x"})),
            fdef(json!({"name": "B", "kind": "nope"})),
        ]);
        let got: Vec<_> = errors(&def).into_iter().map(|(code, _)| code).collect();
        assert_eq!(got, vec!["key_not_applicable", "key_not_applicable", "invalid_field_name", "unknown_kind"]);
    }

    #[test]
    fn valid_fields_and_defaults() {
        let def = tdef(vec![
            title(),
            fdef(json!({"name": "n", "kind": "integer", "min": -5, "max": 5.5, "unique": true, "default": 1})),
            fdef(json!({"name": "stato", "kind": "enum", "values": ["a", "b"], "default": "a"})),
            fdef(json!({"name": "mail", "kind": "email", "default": "A@B.IT"})),
            fdef(json!({"name": "luoghi", "kind": "reference", "to": "luogo", "many": true, "min": 1})),
        ]);
        let ct = ContentType::parse("notizia", &def).unwrap();
        assert_eq!(ct.field("stato").unwrap().kind, FieldKind::Enum { values: vec!["a".into(), "b".into()] });
        assert_eq!(
            ct.field("luoghi").unwrap().kind,
            FieldKind::Reference { to: TypeId::parse("luogo").unwrap(), many: true }
        );
        // defaults are stored as written and normalised when applied
        assert_eq!(ct.field("mail").unwrap().default, Some(json!("A@B.IT")));
        assert!(ct.field("nope").is_none());
        assert_eq!(ct.slug_from.as_str(), "title");
    }

    #[test]
    fn slug_from() {
        // no title and no slug_from
        let def = tdef(vec![fdef(json!({"name": "nome", "kind": "string"}))]);
        one_error(&def, "invalid_slug_from", "types.notizia.slug_from");
        // title of another kind
        let def = tdef(vec![fdef(json!({"name": "title", "kind": "text"}))]);
        one_error(&def, "invalid_slug_from", "types.notizia.slug_from");
        // slug_from naming a missing field, a non-string field, a bad name
        for (from, extra) in [("nome", None), ("corpo", Some("text")), ("Nome", None)] {
            let mut fields = vec![title()];
            if let Some(kind) = extra {
                fields.push(fdef(json!({"name": from, "kind": kind})));
            }
            let mut def = tdef(fields);
            def.slug_from = Some(from.into());
            let got = errors(&def);
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(got[0].1.starts_with("types.notizia.slug_from: "), "{got:?}");
        }
        let mut def = tdef(vec![fdef(json!({"name": "nome", "kind": "string"}))]);
        def.slug_from = Some("nome".into());
        assert_eq!(ContentType::parse("notizia", &def).unwrap().slug_from.as_str(), "nome");
    }

    #[test]
    fn trees_get_a_parent() {
        let mut def = tdef(vec![title()]);
        def.tree = true;
        let ct = ContentType::parse("pagina", &def).unwrap();
        let parent = ct.field("parent").unwrap();
        assert_eq!(parent.kind, FieldKind::Reference { to: TypeId::parse("pagina").unwrap(), many: false });
        assert!(!parent.required);
        assert_eq!(ContentType::parse("pagina", &ct.def()).unwrap(), ct);

        // a parent of the right shape is kept as written
        let mut def =
            tdef(vec![title(), fdef(json!({"name": "parent", "kind": "reference", "to": "pagina", "label": "Sopra"}))]);
        def.tree = true;
        let ct = ContentType::parse("pagina", &def).unwrap();
        assert_eq!(ct.fields.len(), 2);
        assert_eq!(ct.field("parent").unwrap().label, "Sopra");

        for wrong in [
            json!({"name": "parent", "kind": "reference", "to": "altro"}),
            json!({"name": "parent", "kind": "reference", "to": "pagina", "many": true}),
            json!({"name": "parent", "kind": "string"}),
        ] {
            let mut def = tdef(vec![title(), fdef(wrong)]);
            def.tree = true;
            let got = errors_as("pagina", &def);
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].0, "invalid_parent_field");
            assert!(got[0].1.starts_with("types.pagina.fields[1]: "));
        }
        // a parent field is an ordinary field outside trees
        let def = tdef(vec![title(), fdef(json!({"name": "parent", "kind": "string"}))]);
        assert!(ContentType::parse("pagina", &def).is_ok());
    }

    #[test]
    fn def_round_trips() {
        let mut def = tdef(vec![
            title(),
            fdef(
                json!({"name": "sottotitolo", "kind": "string", "description": "d", "min": 1, "max": 80, "pattern": "[^<>]*", "unique": true}),
            ),
            fdef(json!({"name": "corpo", "kind": "richtext", "required": true})),
            fdef(json!({"name": "note", "kind": "text", "max": 1000})),
            fdef(json!({"name": "n", "kind": "integer", "min": 0, "default": 3})),
            fdef(json!({"name": "prezzo", "kind": "decimal", "max": 9.99})),
            fdef(json!({"name": "attivo", "kind": "boolean", "default": true})),
            fdef(json!({"name": "giorno", "kind": "date"})),
            fdef(json!({"name": "quando", "kind": "datetime"})),
            fdef(json!({"name": "stato", "kind": "enum", "values": ["a", "b"]})),
            fdef(json!({"name": "codice", "kind": "slug"})),
            fdef(json!({"name": "mail", "kind": "email"})),
            fdef(json!({"name": "sito", "kind": "url"})),
            fdef(json!({"name": "img", "kind": "media"})),
            fdef(json!({"name": "luogo", "kind": "reference", "to": "luogo"})),
            fdef(json!({"name": "argomenti", "kind": "reference", "to": "argomento", "many": true, "max": 3})),
            fdef(json!({"name": "etichette", "kind": "tags", "max": 10})),
            fdef(json!({"name": "geo", "kind": "geopoint"})),
            fdef(json!({"name": "extra", "kind": "json", "default": {"a": [1]}})),
        ]);
        def.description = Some("News".into());
        def.labels.insert("en".into(), "News item".into());
        def.tree = true;
        def.slug_from = Some("sottotitolo".into());
        let ct = ContentType::parse("notizia", &def).unwrap();
        assert_eq!(ContentType::parse("notizia", &ct.def()).unwrap(), ct);
        // and through JSON, as the store keeps it
        let json = serde_json::to_value(ct.def()).unwrap();
        let back: ContentTypeDef = serde_json::from_value(json).unwrap();
        assert_eq!(ContentType::parse("notizia", &back).unwrap(), ct);
        // through TOML too
        let mut file = SchemaFile::default();
        file.types.insert("notizia".into(), ct.def());
        let text = toml::to_string(&file).unwrap();
        let again = SchemaFile::parse_toml(&text).unwrap();
        assert_eq!(ContentType::parse("notizia", &again.types["notizia"]).unwrap(), ct);
        // the default slug source is left out
        let plain = ContentType::parse("notizia", &tdef(vec![title()])).unwrap();
        assert_eq!(plain.def(), tdef(vec![title()]));
    }

    #[test]
    fn schema_files() {
        let file = SchemaFile::parse_toml(SAMPLE).unwrap();
        assert_eq!(file.types.len(), 2);
        assert_eq!(file.types["notizia"].description.as_deref(), Some("News"));
        let types = file.content_types().unwrap();
        let ids: Vec<&str> = types.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["argomento", "notizia"]);
        assert_eq!(types[0].field("title").unwrap().max, Some(100.0));
        assert!(types[0].field("title").unwrap().required);
        assert_eq!(
            types[1].field("argomenti").unwrap().kind,
            FieldKind::Reference { to: TypeId::parse("argomento").unwrap(), many: true }
        );
        assert!(check_references(&types).is_ok());

        // syntax errors and unknown keys name their line
        let e = SchemaFile::parse_toml("[types.a]\nsingular = \n").unwrap_err();
        assert_eq!(e.code, "invalid_toml");
        assert!(e.message.contains("line 2"), "{}", e.message);
        let e = SchemaFile::parse_toml("[types.a]\nsingular = \"A\"\nplural = \"A\"\nfields = []\ncolour = \"red\"\n")
            .unwrap_err();
        assert_eq!(e.code, "invalid_toml");
        assert!(e.message.contains("line 5") && e.message.contains("colour"), "{}", e.message);
        let e = SchemaFile::parse_toml("[types.a]\nsingular = \"A\"\nplural = \"A\"\nfields = [{ name = \"t\", kind = \"string\", label = \"T\", size = 1 }]\n").unwrap_err();
        assert!(e.message.contains("line 4") && e.message.contains("size"), "{}", e.message);
        assert!(SchemaFile::parse_toml("[things]\n").is_err());
        assert_eq!(SchemaFile::parse_toml("").unwrap(), SchemaFile::default());

        // TOML dates as defaults become the strings entry data uses
        let file = SchemaFile::parse_toml(
            r#"
[types.evento]
singular = "Evento"
plural = "Eventi"
fields = [
  { name = "title", kind = "string", label = "T" },
  { name = "giorno", kind = "date", label = "G", default = 2026-03-01 },
  { name = "inizio", kind = "datetime", label = "I", default = 2026-03-01T10:00:00+01:00 },
]
"#,
        )
        .unwrap();
        let types = file.content_types().unwrap();
        assert_eq!(types[0].field("giorno").unwrap().default, Some(json!("2026-03-01")));
        assert_eq!(types[0].field("inizio").unwrap().default, Some(json!("2026-03-01T10:00:00+01:00")));
    }

    #[test]
    fn references_across_types() {
        let file = SchemaFile::parse_toml(SAMPLE).unwrap();
        let types = file.content_types().unwrap();
        let only_news: Vec<ContentType> = types.iter().filter(|t| t.id.as_str() == "notizia").cloned().collect();
        let e = check_references(&only_news).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, "unknown_reference_target");
        assert!(e[0].message.starts_with("types.notizia.fields[1].to: "), "{}", e[0].message);

        // in a file: a missing type is an error, a type with errors of its own is not twice one
        let mut file = SchemaFile::parse_toml(SAMPLE).unwrap();
        file.types.get_mut("argomento").unwrap().plural = String::new();
        let e = file.content_types().unwrap_err();
        assert_eq!(e.iter().map(|e| e.code).collect::<Vec<_>>(), ["empty_label"]);
        let mut file = SchemaFile::parse_toml(SAMPLE).unwrap();
        file.types.remove("argomento");
        let e = file.content_types().unwrap_err();
        assert_eq!(e.iter().map(|e| e.code).collect::<Vec<_>>(), ["unknown_reference_target"]);
    }

    #[test]
    fn merging_schema_files() {
        let base = SchemaFile::parse_toml(SAMPLE).unwrap();
        let extra = SchemaFile::parse_toml(
            r#"
[types.luogo]
singular = "Luogo"
plural = "Luoghi"
fields = [ { name = "title", kind = "string", label = "Nome" } ]

[types.notizia]
singular = ""
plural = "Notizie e comunicati"
labels = { en = "News" }
tree = true

[[types.notizia.fields]]
name = "luogo"
kind = "reference"
to = "luogo"
label = "Luogo"

[[types.notizia.fields]]
name = "title"
kind = "string"
label = "Titolo della notizia"
max = 120
"#,
        )
        .unwrap();
        let merged = base.clone().merge(extra);
        assert_eq!(merged.types.len(), 3);
        let news = &merged.types["notizia"];
        assert_eq!(news.singular, "Notizia"); // not set in `other`: kept
        assert_eq!(news.plural, "Notizie e comunicati");
        assert_eq!(news.description.as_deref(), Some("News")); // kept
        assert_eq!(news.labels["en"], "News");
        assert!(news.tree);
        let names: Vec<&str> = news.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["title", "argomenti", "luogo"]);
        assert_eq!(news.fields[0].label, "Titolo della notizia");
        assert_eq!(news.fields[0].max, Some(120.0));
        assert_eq!(merged.types["argomento"], base.types["argomento"]);
        assert!(merged.content_types().is_ok());
        // merging nothing changes nothing
        assert_eq!(base.clone().merge(SchemaFile::default()), base);
    }
}
