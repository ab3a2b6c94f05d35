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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::content::{ContentType, ContentTypeDef};

    const ID1: &str = "0192f0c1-6f7e-7a00-8000-000000000001";
    const ID2: &str = "0192f0c1-6f7e-7a00-8000-000000000002";

    fn field(name: &str, kind: &str) -> serde_json::Value {
        json!({ "name": name, "kind": kind, "label": name })
    }

    /// A type with `title` plus the given fields.
    fn ct(fields: Vec<Value>) -> ContentType {
        let mut all = vec![field("title", "string")];
        all.extend(fields);
        let def: ContentTypeDef = serde_json::from_value(json!({
            "singular": "Prova", "plural": "Prove", "fields": all,
        }))
        .unwrap();
        ContentType::parse("prova", &def).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn errs(ct: &ContentType, data: Value, mode: Mode) -> Vec<(String, &'static str)> {
        match validate_data(ct, &obj(data), mode, false) {
            Ok(v) => panic!("expected errors, got {v:?}"),
            Err(e) => e.into_iter().map(|e| (e.path, e.code)).collect(),
        }
    }

    fn ok(ct: &ContentType, data: Value) -> Validated {
        validate_data(ct, &obj(data), Mode::Draft, false).unwrap()
    }

    /// The one error of a single-field value.
    fn code(ct: &ContentType, key: &str, v: Value) -> Vec<(String, &'static str)> {
        errs(ct, json!({ key: v }), Mode::Draft)
    }

    fn e(path: &str, code: &'static str) -> Vec<(String, &'static str)> {
        vec![(path.to_owned(), code)]
    }

    #[test]
    fn strings() {
        let t = ct(vec![
            json!({"name": "s", "kind": "string", "label": "S", "min": 2, "max": 5, "pattern": "[a-z]+"}),
            field("plain", "string"),
        ]);
        assert_eq!(ok(&t, json!({"s": "abc"})).data["s"], "abc");
        assert_eq!(code(&t, "s", json!(12)), e("s", "invalid_type"));
        assert_eq!(code(&t, "s", json!("a")), e("s", "too_short"));
        assert_eq!(code(&t, "s", json!("abcdef")), e("s", "too_long"));
        assert_eq!(code(&t, "s", json!("ab1")), e("s", "pattern_mismatch"));
        // the pattern is anchored: a match inside is not enough
        assert_eq!(code(&t, "s", json!("1ab")), e("s", "pattern_mismatch"));
        assert_eq!(code(&t, "plain", json!("a\nb")), e("plain", "invalid_type"));
        assert_eq!(code(&t, "plain", json!("a\rb")), e("plain", "invalid_type"));
        // lengths count characters, not bytes
        assert!(validate_data(&t, &obj(json!({"s": "àèìòù"})), Mode::Draft, false).is_err());
        assert_eq!(ok(&t, json!({"plain": "x".repeat(255)})).data["plain"], "x".repeat(255));
        assert_eq!(code(&t, "plain", json!("x".repeat(256))), e("plain", "too_long"));
        // not trimmed
        assert_eq!(ok(&t, json!({"plain": "  a "})).data["plain"], "  a ");
    }

    #[test]
    fn texts() {
        let t = ct(vec![
            field("t", "text"),
            field("r", "richtext"),
            json!({"name": "short", "kind": "text", "label": "S", "max": 3}),
        ]);
        assert_eq!(ok(&t, json!({"t": "a\nb", "r": "# T\n\n*x*"})).data["t"], "a\nb");
        assert_eq!(code(&t, "t", json!("x".repeat(50_001))), e("t", "too_long"));
        assert!(validate_data(&t, &obj(json!({"r": "x".repeat(50_001)})), Mode::Draft, false).is_ok());
        assert_eq!(code(&t, "r", json!("x".repeat(200_001))), e("r", "too_long"));
        assert_eq!(code(&t, "r", json!(true)), e("r", "invalid_type"));
        assert_eq!(code(&t, "short", json!("abcd")), e("short", "too_long"));
    }

    #[test]
    fn numbers() {
        let t = ct(vec![
            json!({"name": "n", "kind": "integer", "label": "N", "min": 1, "max": 10}),
            field("big", "integer"),
            json!({"name": "d", "kind": "decimal", "label": "D", "min": -1.5, "max": 2.5}),
        ]);
        assert_eq!(ok(&t, json!({"n": 3})).data["n"], json!(3));
        assert_eq!(ok(&t, json!({"n": 1.0})).data["n"], json!(1));
        assert!(ok(&t, json!({"n": 1.0})).data["n"].is_i64());
        assert_eq!(code(&t, "n", json!(1.5)), e("n", "not_an_integer"));
        assert_eq!(code(&t, "n", json!("3")), e("n", "invalid_type"));
        assert_eq!(code(&t, "n", json!(0)), e("n", "too_small"));
        assert_eq!(code(&t, "n", json!(11)), e("n", "too_large"));
        assert_eq!(ok(&t, json!({"big": i64::MIN})).data["big"], json!(i64::MIN));
        assert_eq!(code(&t, "big", json!(u64::MAX)), e("big", "too_large"));
        assert_eq!(code(&t, "big", json!(1e19)), e("big", "too_large"));
        assert_eq!(code(&t, "big", json!(-1e19)), e("big", "too_small"));
        assert_eq!(ok(&t, json!({"d": 2.5})).data["d"], json!(2.5));
        assert_eq!(ok(&t, json!({"d": 2})).data["d"], json!(2));
        assert_eq!(code(&t, "d", json!(2.6)), e("d", "too_large"));
        assert_eq!(code(&t, "d", json!(-2)), e("d", "too_small"));
        assert_eq!(code(&t, "d", json!("1")), e("d", "invalid_type"));
    }

    #[test]
    fn booleans_dates_datetimes() {
        let t = ct(vec![field("b", "boolean"), field("d", "date"), field("dt", "datetime")]);
        assert_eq!(ok(&t, json!({"b": false})).data["b"], json!(false));
        assert_eq!(code(&t, "b", json!("true")), e("b", "invalid_type"));
        assert_eq!(code(&t, "b", json!(1)), e("b", "invalid_type"));

        assert_eq!(ok(&t, json!({"d": "2028-02-29"})).data["d"], "2028-02-29");
        for bad in ["2026-02-30", "2026-2-3", "26-01-01", "2026-01-01T00:00:00Z", "oggi", "+2026-01-01"] {
            assert_eq!(code(&t, "d", json!(bad)), e("d", "invalid_date"), "{bad}");
        }
        assert_eq!(code(&t, "d", json!(20260101)), e("d", "invalid_type"));

        let norm = |v: &str| ok(&t, json!({"dt": v})).data["dt"].clone();
        assert_eq!(norm("2026-03-01T10:30:00+01:00"), "2026-03-01T09:30:00Z");
        assert_eq!(norm("2026-03-01T09:30:00Z"), "2026-03-01T09:30:00Z");
        assert_eq!(norm("2026-03-01T09:30:00.250-00:30"), "2026-03-01T10:00:00.250Z");
        assert_eq!(norm("2026-03-01T09:30:00.123456+00:00"), "2026-03-01T09:30:00.123456Z");
        for bad in ["2026-03-01T09:30:00", "2026-03-01", "2026-02-30T10:00:00Z", "ieri"] {
            assert_eq!(code(&t, "dt", json!(bad)), e("dt", "invalid_datetime"), "{bad}");
        }
    }

    #[test]
    fn enums_slugs_emails_urls() {
        let t = ct(vec![
            json!({"name": "stato", "kind": "enum", "label": "S", "values": ["aperto", "chiuso"]}),
            field("s", "slug"),
            json!({"name": "s2", "kind": "slug", "label": "S", "max": 5, "pattern": "x.*"}),
            field("mail", "email"),
            field("sito", "url"),
        ]);
        assert_eq!(ok(&t, json!({"stato": "chiuso"})).data["stato"], "chiuso");
        assert_eq!(code(&t, "stato", json!("Chiuso")), e("stato", "not_in_enum"));
        assert_eq!(code(&t, "stato", json!(1)), e("stato", "invalid_type"));

        assert_eq!(ok(&t, json!({"s": "a-b-1"})).data["s"], "a-b-1");
        assert_eq!(code(&t, "s", json!("A b")), e("s", "invalid_slug"));
        assert_eq!(code(&t, "s2", json!("xaaaaa")), e("s2", "too_long"));
        assert_eq!(code(&t, "s2", json!("abc")), e("s2", "pattern_mismatch"));

        assert_eq!(
            ok(&t, json!({"mail": " Mario.Rossi@Comune.Lecce.IT "})).data["mail"],
            "mario.rossi@comune.lecce.it"
        );
        assert_eq!(code(&t, "mail", json!("mario@")), e("mail", "invalid_email"));

        assert_eq!(
            ok(&t, json!({"sito": "https://www.comune.lecce.it/a?b=c"})).data["sito"],
            "https://www.comune.lecce.it/a?b=c"
        );
        assert_eq!(ok(&t, json!({"sito": "http://localhost:8080"})).data["sito"], "http://localhost:8080");
        for bad in ["www.comune.it", "/relativo", "ftp://x.it", "mailto:a@b.it", "javascript:alert(1)", "https://", ""]
        {
            assert_eq!(code(&t, "sito", json!(bad)), e("sito", "invalid_url"), "{bad}");
        }
    }

    #[test]
    fn media_and_references() {
        let t = ct(vec![
            field("img", "media"),
            json!({"name": "luogo", "kind": "reference", "label": "L", "to": "luogo"}),
            json!({"name": "argomenti", "kind": "reference", "label": "A", "to": "argomento", "many": true, "max": 2}),
        ]);
        let upper = ID1.to_uppercase();
        let v = ok(&t, json!({"img": upper, "luogo": ID2, "argomenti": [ID2, ID1]}));
        assert_eq!(v.data["img"], ID1);
        assert_eq!(v.media, vec![("img".to_owned(), Uuid::parse_str(ID1).unwrap())]);
        let id1 = Uuid::parse_str(ID1).unwrap();
        let id2 = Uuid::parse_str(ID2).unwrap();
        let luogo = crate::content::TypeId::parse("luogo").unwrap();
        let argomento = crate::content::TypeId::parse("argomento").unwrap();
        assert_eq!(
            v.references,
            vec![("luogo".to_owned(), luogo, vec![id2]), ("argomenti".to_owned(), argomento, vec![id2, id1]),]
        );
        assert_eq!(code(&t, "img", json!("nope")), e("img", "invalid_id"));
        assert_eq!(code(&t, "luogo", json!([ID1])), e("luogo", "invalid_type"));
        assert_eq!(code(&t, "argomenti", json!(ID1)), e("argomenti", "invalid_type"));
        assert_eq!(code(&t, "argomenti", json!([ID1, "x"])), e("argomenti[1]", "invalid_id"));
        assert_eq!(code(&t, "argomenti", json!([ID1, 3])), e("argomenti[1]", "invalid_type"));
        assert_eq!(code(&t, "argomenti", json!([ID1, ID1])), e("argomenti[1]", "duplicate"));
        assert_eq!(code(&t, "argomenti", json!([ID1, ID2, Uuid::nil()])), e("argomenti", "too_many"));
        // null: no reference, no media
        let v = ok(&t, json!({"img": null, "luogo": null}));
        assert!(v.references.is_empty() && v.media.is_empty());
        assert_eq!(v.data["img"], Value::Null);
    }

    #[test]
    fn tags() {
        let t = ct(vec![json!({"name": "tags", "kind": "tags", "label": "T", "min": 2, "max": 3})]);
        assert_eq!(
            ok(&t, json!({"tags": [" scuola ", "mensa", "scuola", "Scuola"]})).data["tags"],
            json!(["scuola", "mensa", "Scuola"])
        );
        assert_eq!(code(&t, "tags", json!(["a", "a"])), e("tags", "too_few"));
        assert_eq!(code(&t, "tags", json!(["a", "b", "c", "d"])), e("tags", "too_many"));
        assert_eq!(code(&t, "tags", json!(["a", "  "])), e("tags[1]", "too_short"));
        assert_eq!(code(&t, "tags", json!(["a", "x".repeat(51)])), e("tags[1]", "too_long"));
        assert_eq!(code(&t, "tags", json!(["a", 1, "b"])), e("tags[1]", "invalid_type"));
        assert_eq!(code(&t, "tags", json!("a, b")), e("tags", "invalid_type"));
    }

    #[test]
    fn geopoints_and_json() {
        let t = ct(vec![field("geo", "geopoint"), field("extra", "json")]);
        assert_eq!(
            ok(&t, json!({"geo": {"lat": 40.35, "lon": 18.17}})).data["geo"],
            json!({"lat": 40.35, "lon": 18.17})
        );
        assert_eq!(code(&t, "geo", json!({"lat": 91, "lon": 0})), e("geo.lat", "invalid_geopoint"));
        assert_eq!(code(&t, "geo", json!({"lat": 0, "lon": -180.5})), e("geo.lon", "invalid_geopoint"));
        assert_eq!(code(&t, "geo", json!({"lat": "40", "lon": 0})), e("geo.lat", "invalid_type"));
        assert_eq!(code(&t, "geo", json!({"lon": 0})), e("geo.lat", "invalid_geopoint"));
        assert_eq!(code(&t, "geo", json!({"lat": 0, "lon": 0, "alt": 3})), e("geo.alt", "invalid_geopoint"));
        assert_eq!(code(&t, "geo", json!([40, 18])), e("geo", "invalid_type"));
        let anything = json!({"a": [1, {"b": null}], "c": "d"});
        assert_eq!(ok(&t, json!({"extra": anything.clone()})).data["extra"], anything);
    }

    #[test]
    fn required_only_to_publish() {
        let t = ct(vec![
            json!({"name": "body", "kind": "text", "label": "B", "required": true}),
            json!({"name": "tags", "kind": "tags", "label": "T", "required": true}),
            json!({"name": "flag", "kind": "boolean", "label": "F", "required": true}),
        ]);
        let draft = json!({"body": "", "tags": [], "flag": null});
        let v = validate_data(&t, &obj(draft.clone()), Mode::Draft, false).unwrap();
        assert_eq!(v.data["flag"], Value::Null);
        assert!(!v.data.contains_key("title"));
        assert_eq!(
            errs(&t, draft, Mode::Publish),
            vec![("body".to_owned(), "required"), ("tags".to_owned(), "required"), ("flag".to_owned(), "required"),]
        );
        assert_eq!(
            errs(&t, json!({"body": "   ", "tags": ["a"]}), Mode::Publish),
            vec![("body".to_owned(), "required"), ("flag".to_owned(), "required")]
        );
        let full = json!({"body": "x", "tags": ["a"], "flag": false});
        assert!(validate_data(&t, &obj(full), Mode::Publish, false).is_ok());
    }

    #[test]
    fn unknown_fields_and_order() {
        let t = ct(vec![field("n", "integer"), json!({"name": "s", "kind": "string", "label": "S", "max": 2})]);
        let got = errs(&t, json!({"s": "abc", "zzz": 1, "n": "x", "title": 5, "aaa": 2}), Mode::Draft);
        assert_eq!(
            got,
            vec![
                ("title".to_owned(), "invalid_type"),
                ("n".to_owned(), "invalid_type"),
                ("s".to_owned(), "too_long"),
                ("aaa".to_owned(), "unknown_field"),
                ("zzz".to_owned(), "unknown_field"),
            ]
        );
    }

    #[test]
    fn defaults_and_unique() {
        let t = ct(vec![
            json!({"name": "stato", "kind": "enum", "label": "S", "values": ["a", "b"], "default": "a"}),
            json!({"name": "mail", "kind": "email", "label": "M", "unique": true, "default": "X@Y.IT"}),
            json!({"name": "codice", "kind": "string", "label": "C", "unique": true}),
            json!({"name": "num", "kind": "integer", "label": "N", "unique": true, "required": true, "default": 7}),
        ]);
        let v = validate_data(&t, &obj(json!({"stato": "b"})), Mode::Draft, true).unwrap();
        assert_eq!(v.data["stato"], "b");
        assert_eq!(v.data["mail"], "x@y.it");
        assert_eq!(v.data["num"], 7);
        assert!(!v.data.contains_key("codice"));
        assert_eq!(v.unique, vec![("mail".to_owned(), json!("x@y.it")), ("num".to_owned(), json!(7))]);
        // a default also satisfies `required`
        assert!(validate_data(&t, &obj(json!({"title": "T"})), Mode::Publish, true).is_ok());
        // not applied without apply_defaults, nor over an explicit null
        let v = validate_data(&t, &obj(json!({"mail": null})), Mode::Draft, false).unwrap();
        assert!(!v.data.contains_key("stato"));
        let v = validate_data(&t, &obj(json!({"mail": null})), Mode::Draft, true).unwrap();
        assert_eq!(v.data["mail"], Value::Null);
        assert!(v.unique.iter().all(|(name, _)| name != "mail"));
        let v = validate_data(&t, &obj(json!({"codice": "A-1"})), Mode::Draft, false).unwrap();
        assert_eq!(v.unique, vec![("codice".to_owned(), json!("A-1"))]);
    }

    #[test]
    fn data_error_display() {
        let t = ct(vec![field("n", "integer")]);
        let err = validate_data(&t, &obj(json!({"n": 1.5})), Mode::Draft, false).unwrap_err();
        assert_eq!(err[0].to_string(), "n: expected a whole number");
    }
}
