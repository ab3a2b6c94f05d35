//! Content types as checked, and the references between them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::definitions::*;
use super::fields::*;
use super::ids::*;
use crate::error::InvalidInput;
use crate::types::Locale;

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

pub(super) fn reference_errors(types: &[ContentType], known: &BTreeSet<&str>) -> Vec<InvalidInput> {
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
