//! Fields as checked: their kinds, what `min`/`max` measure, and how a definition becomes a field.

use std::fmt;

use super::super::validate::{check_value, compile_pattern};
use super::definitions::*;
use super::ids::*;
use crate::error::InvalidInput;

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

/// What `min` and `max` measure on a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::content) enum Measure {
    /// Length in characters.
    Chars,
    /// The number itself.
    Value,
    /// Items in a list.
    Count,
}

impl FieldKind {
    /// The name written in `kind`.
    /// The kind's name as schema files and the APIs spell it.
    pub fn name(&self) -> &'static str {
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

    pub(in crate::content) fn measure(&self) -> Option<Measure> {
        measure_of(self.name(), matches!(self, FieldKind::Reference { many: true, .. }))
    }
}

/// Kinds written without further keys.
pub(super) fn simple_kind(kind: &str) -> Option<FieldKind> {
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

pub(super) fn measure_of(kind: &str, many: bool) -> Option<Measure> {
    match kind {
        "string" | "text" | "richtext" | "slug" => Some(Measure::Chars),
        "integer" | "decimal" => Some(Measure::Value),
        "tags" => Some(Measure::Count),
        "reference" if many => Some(Measure::Count),
        _ => None,
    }
}

pub(super) fn takes_pattern(kind: &str) -> bool {
    matches!(kind, "string" | "text" | "slug")
}

pub(super) fn takes_unique(kind: &str) -> bool {
    matches!(kind, "string" | "slug" | "email" | "url" | "integer")
}

/// `e` placed: "types.notizia.fields[2].max: …".
pub(super) fn at(place: &str, e: InvalidInput) -> InvalidInput {
    InvalidInput::new(e.code, format!("{place}: {}", e.message))
}

pub(super) fn error(place: &str, code: &'static str, message: impl fmt::Display) -> InvalidInput {
    InvalidInput::new(code, format!("{place}: {message}"))
}

/// Label of the `parent` field a tree type gets when its definition has none.
pub(super) const PARENT_LABEL: &str = "Genitore";
pub(super) const PARENT: &str = "parent";
pub(super) const DEFAULT_SLUG_FROM: &str = "title";

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
    pub(super) fn def(&self) -> FieldDef {
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
