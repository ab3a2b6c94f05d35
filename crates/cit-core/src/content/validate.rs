//! Validation of entry data against a content type.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use regex::Regex;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{Field, FieldKind};
use super::slug::{SLUG_MAX_CHARS, Slug};
use crate::types::Email;

/// Drafts may be incomplete; publishing (or scheduling) needs every required field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Draft,
    Publish,
}

/// One problem, at a path inside `data`: `title`, `luogo.lat`, `argomenti[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub path: String,
    /// Stable code: unknown_field, required, invalid_type, too_short, too_long, too_small,
    /// too_large, too_few, too_many, pattern_mismatch, not_in_enum, invalid_date,
    /// invalid_datetime, invalid_email, invalid_url, invalid_slug, invalid_id, invalid_geopoint,
    /// not_an_integer.
    pub code: &'static str,
    pub message: String,
}

impl DataError {
    fn new(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { path: path.into(), code, message: message.into() }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Data that passed validation, normalised, plus what only the database can check.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The normalised data: defaults applied (`Mode` independent, only for fields absent from
    /// the input when `apply_defaults` is true), emails lower-cased, datetimes in UTC RFC 3339
    /// with `Z`, tags trimmed and de-duplicated, strings NOT trimmed. Fields given as `null`
    /// are kept as `null` (and are "missing" for `required`).
    pub data: Map<String, Value>,
    /// For each reference field with a value: (field name, target type, ids in order).
    pub references: Vec<(String, super::TypeId, Vec<uuid::Uuid>)>,
    /// For each `unique` field with a non-null value: (field name, value). The name is the
    /// checked [`super::FieldName`] of the type's field: the store builds SQL from it.
    pub unique: Vec<(super::FieldName, Value)>,
    /// For each media field with a value: (field name, media id).
    pub media: Vec<(String, uuid::Uuid)>,
}

/// Default maximum length, in characters, of a `string` value.
pub(super) const STRING_MAX_CHARS: f64 = 255.0;
/// Default maximum length of a `text` value.
pub(super) const TEXT_MAX_CHARS: f64 = 50_000.0;
/// Default maximum length of a `richtext` value.
pub(super) const RICHTEXT_MAX_CHARS: f64 = 200_000.0;
/// Length of one tag, in characters.
const TAG_MAX_CHARS: usize = 50;

static DATE_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").ok());

/// A field's pattern as used on values: the whole value must match. The raw pattern is compiled
/// on its own first, so that `a)|(b` cannot escape the anchoring group.
pub(super) fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(pattern)?;
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Validates `data` against `ct`. Collects every problem, in the order of the type's fields
/// (unknown keys last); see the module documentation for the rules of each kind.
pub fn validate_data(
    ct: &super::ContentType,
    data: &Map<String, Value>,
    mode: Mode,
    apply_defaults: bool,
) -> Result<Validated, Vec<DataError>> {
    let mut errors = Vec::new();
    let mut out = Validated { data: Map::new(), references: Vec::new(), unique: Vec::new(), media: Vec::new() };

    for field in &ct.fields {
        let name = field.name.as_str();
        let value = match data.get(name) {
            Some(given) => Some(given),
            None if apply_defaults => field.default.as_ref(),
            None => None,
        };
        if mode == Mode::Publish && field.required && is_missing(value) {
            errors.push(DataError::new(name, "required", "a value is required to publish"));
            continue;
        }
        let Some(value) = value else { continue };
        let pattern = match field.pattern.as_deref().map(compile_pattern).transpose() {
            Ok(pattern) => pattern,
            Err(_) => {
                errors.push(DataError::new(
                    name,
                    "pattern_mismatch",
                    "the field's pattern is not a valid regular expression",
                ));
                continue;
            }
        };
        let Some(normal) = check_value(field, pattern.as_ref(), value, name, &mut errors) else {
            continue;
        };
        if !normal.is_null() {
            match &field.kind {
                FieldKind::Reference { to, .. } => {
                    out.references.push((name.to_owned(), to.clone(), uuids_in(&normal)));
                }
                FieldKind::Media => {
                    if let Some(id) = uuids_in(&normal).first() {
                        out.media.push((name.to_owned(), *id));
                    }
                }
                _ => {}
            }
            if field.unique {
                out.unique.push((field.name.clone(), normal.clone()));
            }
        }
        out.data.insert(name.to_owned(), normal);
    }

    for key in data.keys() {
        if ct.field(key).is_none() {
            errors.push(DataError::new(key.as_str(), "unknown_field", format!("`{}` has no field `{key}`", ct.id)));
        }
    }

    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Absent, null, blank or an empty list: what `required` refuses.
fn is_missing(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The ids in a normalised media or reference value (a UUID string or an array of them).
fn uuids_in(value: &Value) -> Vec<Uuid> {
    match value {
        Value::String(s) => Uuid::parse_str(s).into_iter().collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).filter_map(|s| Uuid::parse_str(s).ok()).collect(),
        _ => Vec::new(),
    }
}

/// Checks one value (never "missing": `required` is the caller's business) against `field`.
/// Pushes every problem found to `errors` and returns the normalised value when there was none.
/// `null` is always accepted.
pub(super) fn check_value(
    field: &Field,
    pattern: Option<&Regex>,
    value: &Value,
    path: &str,
    errors: &mut Vec<DataError>,
) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    let before = errors.len();
    let mut c = Checker { path, errors };
    let normal = match &field.kind {
        FieldKind::String => {
            let s = c.string(value)?;
            if s.contains(['\n', '\r']) {
                c.error("invalid_type", "expected a single line of text, without line breaks");
            }
            c.chars(s, field.min, field.max.unwrap_or(STRING_MAX_CHARS));
            c.pattern(s, pattern);
            Value::String(s.to_owned())
        }
        FieldKind::Text => {
            let s = c.string(value)?;
            c.chars(s, field.min, field.max.unwrap_or(TEXT_MAX_CHARS));
            c.pattern(s, pattern);
            Value::String(s.to_owned())
        }
        FieldKind::Richtext => {
            let s = c.string(value)?;
            c.chars(s, field.min, field.max.unwrap_or(RICHTEXT_MAX_CHARS));
            Value::String(s.to_owned())
        }
        FieldKind::Integer => {
            let n = c.integer(value)?;
            c.bounds(n as f64, field.min, field.max);
            Value::from(n)
        }
        FieldKind::Decimal => {
            let Some(n) = value.as_f64() else {
                c.error("invalid_type", "expected a number");
                return None;
            };
            c.bounds(n, field.min, field.max);
            value.clone()
        }
        FieldKind::Boolean => {
            if !value.is_boolean() {
                c.error("invalid_type", "expected true or false");
                return None;
            }
            value.clone()
        }
        FieldKind::Date => {
            let s = c.string(value)?;
            let real =
                DATE_RE.as_ref().is_some_and(|re| re.is_match(s)) && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
            if !real {
                c.error("invalid_date", "expected a calendar date, YYYY-MM-DD");
            }
            Value::String(s.to_owned())
        }
        FieldKind::Datetime => {
            let s = c.string(value)?;
            match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Value::String(t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                Err(_) => {
                    c.error(
                        "invalid_datetime",
                        "expected an RFC 3339 date and time with an offset, 2026-03-01T09:30:00+01:00",
                    );
                    return None;
                }
            }
        }
        FieldKind::Enum { values } => {
            let s = c.string(value)?;
            if !values.iter().any(|v| v == s) {
                c.error("not_in_enum", format!("expected one of: {}", values.join(", ")));
            }
            Value::String(s.to_owned())
        }
        FieldKind::Slug => {
            let s = c.string(value)?;
            if let Err(e) = Slug::parse(s) {
                c.error(e.code, e.message);
            }
            let max = field.max.unwrap_or(SLUG_MAX_CHARS as f64);
            c.chars(s, field.min, max);
            c.pattern(s, pattern);
            Value::String(s.to_owned())
        }
        FieldKind::Email => {
            let s = c.string(value)?;
            match Email::parse(s) {
                Ok(email) => Value::String(email.into()),
                Err(e) => {
                    c.error(e.code, e.message);
                    return None;
                }
            }
        }
        FieldKind::Url => {
            let s = c.string(value)?.trim();
            let web = url::Url::parse(s)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
            if !web {
                c.error("invalid_url", "expected an absolute http or https address");
            }
            Value::String(s.to_owned())
        }
        FieldKind::Media => Value::String(c.uuid(value, path)?),
        FieldKind::Reference { many: false, .. } => Value::String(c.uuid(value, path)?),
        FieldKind::Reference { many: true, .. } => {
            let items = c.array(value)?;
            let mut ids = Vec::with_capacity(items.len());
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                if let Some(id) = c.uuid(item, &at) {
                    if seen.insert(id.clone()) {
                        ids.push(Value::String(id));
                    } else {
                        c.errors.push(DataError::new(at, "duplicate", "this entry is already referenced"));
                    }
                }
            }
            c.count(items.len(), field.min, field.max);
            Value::Array(ids)
        }
        FieldKind::Tags => {
            let items = c.array(value)?;
            let mut tags: Vec<Value> = Vec::with_capacity(items.len());
            let mut invalid = 0;
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                let Some(tag) = item.as_str() else {
                    invalid += 1;
                    c.errors.push(DataError::new(at, "invalid_type", "expected a string"));
                    continue;
                };
                let tag = tag.trim();
                let len = tag.chars().count();
                if len == 0 {
                    invalid += 1;
                    c.errors.push(DataError::new(at, "too_short", "a tag must not be blank"));
                } else if len > TAG_MAX_CHARS {
                    invalid += 1;
                    c.errors.push(DataError::new(
                        at,
                        "too_long",
                        format!("a tag has at most {TAG_MAX_CHARS} characters"),
                    ));
                } else if !tags.iter().any(|t| t.as_str() == Some(tag)) {
                    tags.push(Value::String(tag.to_owned()));
                }
            }
            // Items in error still count: the count reported is of what was sent.
            c.count(tags.len() + invalid, field.min, field.max);
            Value::Array(tags)
        }
        FieldKind::Geopoint => c.geopoint(value)?,
        FieldKind::Json => value.clone(),
    };
    (errors.len() == before).then_some(normal)
}

/// Pushes errors at one path.
struct Checker<'a> {
    path: &'a str,
    errors: &'a mut Vec<DataError>,
}

impl Checker<'_> {
    fn error(&mut self, code: &'static str, message: impl Into<String>) {
        self.errors.push(DataError::new(self.path, code, message));
    }

    fn string<'v>(&mut self, value: &'v Value) -> Option<&'v str> {
        let s = value.as_str();
        if s.is_none() {
            self.error("invalid_type", "expected a string");
        }
        s
    }

    fn array<'v>(&mut self, value: &'v Value) -> Option<&'v Vec<Value>> {
        let items = value.as_array();
        if items.is_none() {
            self.error("invalid_type", "expected an array");
        }
        items
    }

    fn chars(&mut self, s: &str, min: Option<f64>, max: f64) {
        let len = s.chars().count() as f64;
        if let Some(min) = min.filter(|min| len < *min) {
            self.error("too_short", format!("must have at least {min} characters"));
        }
        if len > max {
            self.error("too_long", format!("must have at most {max} characters"));
        }
    }

    fn count(&mut self, n: usize, min: Option<f64>, max: Option<f64>) {
        let n = n as f64;
        if let Some(min) = min.filter(|min| n < *min) {
            self.error("too_few", format!("must have at least {min} items"));
        }
        if let Some(max) = max.filter(|max| n > *max) {
            self.error("too_many", format!("must have at most {max} items"));
        }
    }

    fn bounds(&mut self, n: f64, min: Option<f64>, max: Option<f64>) {
        if let Some(min) = min.filter(|min| n < *min) {
            self.error("too_small", format!("must be at least {min}"));
        }
        if let Some(max) = max.filter(|max| n > *max) {
            self.error("too_large", format!("must be at most {max}"));
        }
    }

    fn pattern(&mut self, s: &str, pattern: Option<&Regex>) {
        if let Some(re) = pattern
            && !re.is_match(s)
        {
            self.error("pattern_mismatch", format!("does not match the pattern `{re}`"));
        }
    }

    /// A JSON integer fitting i64; a number with no fractional part counts (1.0 is 1).
    fn integer(&mut self, value: &Value) -> Option<i64> {
        let Value::Number(n) = value else {
            self.error("invalid_type", "expected an integer");
            return None;
        };
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        if n.is_u64() {
            self.error("too_large", "does not fit a 64-bit integer");
            return None;
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if !f.is_finite() || f.fract() != 0.0 {
            self.error("not_an_integer", "expected a whole number");
            return None;
        }
        // -2^63 is exact in f64; 2^63 is the first value too large.
        if f < -9_223_372_036_854_775_808.0 {
            self.error("too_small", "does not fit a 64-bit integer");
            return None;
        }
        if f >= 9_223_372_036_854_775_808.0 {
            self.error("too_large", "does not fit a 64-bit integer");
            return None;
        }
        Some(f as i64)
    }

    /// A UUID string at `path`, normalised to the hyphenated lower-case form.
    fn uuid(&mut self, value: &Value, path: &str) -> Option<String> {
        let Some(s) = value.as_str() else {
            self.errors.push(DataError::new(path, "invalid_type", "expected an id (a UUID string)"));
            return None;
        };
        match Uuid::parse_str(s) {
            Ok(id) => Some(id.hyphenated().to_string()),
            Err(_) => {
                self.errors.push(DataError::new(path, "invalid_id", "not a valid id (UUID)"));
                None
            }
        }
    }

    /// `{"lat": -90..=90, "lon": -180..=180}`, exactly those keys.
    fn geopoint(&mut self, value: &Value) -> Option<Value> {
        let Some(point) = value.as_object() else {
            self.error("invalid_type", "expected an object {\"lat\": …, \"lon\": …}");
            return None;
        };
        let before = self.errors.len();
        let mut out = Map::new();
        for (key, limit) in [("lat", 90.0), ("lon", 180.0)] {
            let at = format!("{}.{key}", self.path);
            match point.get(key) {
                None | Some(Value::Null) => {
                    self.errors.push(DataError::new(at, "invalid_geopoint", format!("a point needs `{key}`")))
                }
                Some(v) => match v.as_f64() {
                    None => self.errors.push(DataError::new(at, "invalid_type", "expected a number")),
                    Some(n) if !(-limit..=limit).contains(&n) => {
                        self.errors.push(DataError::new(
                            at,
                            "invalid_geopoint",
                            format!("`{key}` is between -{limit} and {limit}"),
                        ));
                    }
                    Some(_) => {
                        out.insert(key.to_owned(), v.clone());
                    }
                },
            }
        }
        for key in point.keys().filter(|k| !matches!(k.as_str(), "lat" | "lon")) {
            self.errors.push(DataError::new(
                format!("{}.{key}", self.path),
                "invalid_geopoint",
                "a point has only `lat` and `lon`",
            ));
        }
        (self.errors.len() == before).then_some(Value::Object(out))
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
