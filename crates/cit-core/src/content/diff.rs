//! What changes when a set of content types replaces another, and which changes could lose data.

use std::fmt;

use super::model::{Field, FieldKind, Measure};
use super::slug::SLUG_MAX_CHARS;
use super::validate::{RICHTEXT_MAX_CHARS, STRING_MAX_CHARS, TEXT_MAX_CHARS};
use super::{ContentType, FieldName, TypeId};

/// One change, in the order: added types, removed types, then per kept type its field changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    AddType(TypeId),
    RemoveType(TypeId),
    /// Labels, description, tree or slug_from changed.
    ChangeTypeInfo(TypeId),
    AddField(TypeId, FieldName),
    RemoveField(TypeId, FieldName),
    /// The kind changed in a way existing values may not survive (e.g. text → integer,
    /// string → text is widening and is NOT this).
    ChangeFieldKind {
        ty: TypeId,
        field: FieldName,
        from: String,
        to: String,
    },
    /// A rule became stricter: max lowered, min raised, pattern added or changed, enum values
    /// removed, required/unique added, reference target changed, many → one.
    NarrowField {
        ty: TypeId,
        field: FieldName,
        what: String,
    },
    /// Labels, description, default, or a rule relaxed.
    ChangeField(TypeId, FieldName),
}

impl Change {
    /// Whether the change can lose or orphan data that exists: removing a type or a field, a
    /// kind change, or a narrowing. The store asks the database whether there actually is data
    /// affected before refusing.
    pub fn may_lose_data(&self) -> bool {
        matches!(
            self,
            Change::RemoveType(_)
                | Change::RemoveField(..)
                | Change::ChangeFieldKind { .. }
                | Change::NarrowField { .. }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaDiff {
    pub changes: Vec<Change>,
}

impl fmt::Display for Change {
    /// One line a person reads in `cit schema apply` output: `+` added, `-` removed, `~` changed
    /// without risk, `!` a change that may not fit the data there is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::AddType(ty) => write!(f, "+ type {ty}"),
            Change::RemoveType(ty) => write!(f, "- type {ty}"),
            Change::ChangeTypeInfo(ty) => write!(f, "~ type {ty}: labels"),
            Change::AddField(ty, field) => write!(f, "+ {ty}.{field}"),
            Change::RemoveField(ty, field) => write!(f, "- {ty}.{field}"),
            Change::ChangeFieldKind { ty, field, from, to } => write!(f, "! {ty}.{field}: kind {from} → {to}"),
            Change::NarrowField { ty, field, what } => write!(f, "! {ty}.{field}: {what}"),
            Change::ChangeField(ty, field) => write!(f, "~ {ty}.{field}"),
        }
    }
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes that [may lose data](Change::may_lose_data).
    pub fn destructive(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.may_lose_data())
    }
}

/// What it takes to go from `current` to `desired`. Types only in `current` are removed only
/// when `prune` is true (otherwise they are left alone and not reported). Fields are matched by
/// name, so a new field order alone is not a change.
pub fn diff_types(current: &[ContentType], desired: &[ContentType], prune: bool) -> SchemaDiff {
    fn find<'a>(types: &'a [ContentType], id: &TypeId) -> Option<&'a ContentType> {
        types.iter().find(|t| &t.id == id)
    }
    let mut changes = Vec::new();
    for ty in desired {
        if find(current, &ty.id).is_none() {
            changes.push(Change::AddType(ty.id.clone()));
        }
    }
    if prune {
        for ty in current {
            if find(desired, &ty.id).is_none() {
                changes.push(Change::RemoveType(ty.id.clone()));
            }
        }
    }
    for des in desired {
        if let Some(cur) = find(current, &des.id) {
            diff_type(cur, des, &mut changes);
        }
    }
    SchemaDiff { changes }
}

fn diff_type(cur: &ContentType, des: &ContentType, changes: &mut Vec<Change>) {
    let ty = &des.id;
    if cur.singular != des.singular
        || cur.plural != des.plural
        || cur.description != des.description
        || cur.labels != des.labels
        || cur.tree != des.tree
        || cur.slug_from != des.slug_from
    {
        changes.push(Change::ChangeTypeInfo(ty.clone()));
    }
    for field in &des.fields {
        match cur.field(field.name.as_str()) {
            None => changes.push(Change::AddField(ty.clone(), field.name.clone())),
            Some(before) => diff_field(ty, before, field, changes),
        }
    }
    for field in &cur.fields {
        if des.field(field.name.as_str()).is_none() {
            changes.push(Change::RemoveField(ty.clone(), field.name.clone()));
        }
    }
}

/// Whether every value valid for `from` (with that kind's own limits) is valid for `to`, so
/// that changing the kind keeps the data: string → text, integer → decimal, anything → json.
fn widens(from: &FieldKind, to: &FieldKind) -> bool {
    matches!(
        (from.name(), to.name()),
        (_, "json")
            | ("string", "text" | "richtext")
            | ("text", "richtext")
            | ("slug" | "email" | "enum" | "date" | "datetime", "string" | "text" | "richtext")
            | ("url", "text" | "richtext")
            | ("integer", "decimal")
    )
}

/// The effective upper bound of a field: its `max`, or its kind's built-in limit.
fn effective_max(field: &Field) -> f64 {
    let builtin = match field.kind {
        FieldKind::String => STRING_MAX_CHARS,
        FieldKind::Text => TEXT_MAX_CHARS,
        FieldKind::Richtext => RICHTEXT_MAX_CHARS,
        FieldKind::Slug => SLUG_MAX_CHARS as f64,
        _ => f64::INFINITY,
    };
    field.max.unwrap_or(builtin)
}

fn effective_min(field: &Field) -> f64 {
    match field.kind.measure() {
        Some(Measure::Chars | Measure::Count) => field.min.unwrap_or(0.0),
        _ => field.min.unwrap_or(f64::NEG_INFINITY),
    }
}

fn bound(value: f64) -> String {
    if value.is_finite() { value.to_string() } else { "none".to_owned() }
}

fn diff_field(ty: &TypeId, cur: &Field, des: &Field, changes: &mut Vec<Change>) {
    if cur == des {
        return;
    }
    let same_kind = cur.kind.name() == des.kind.name();
    if !same_kind && !widens(&cur.kind, &des.kind) {
        changes.push(Change::ChangeFieldKind {
            ty: ty.clone(),
            field: des.name.clone(),
            from: cur.kind.name().to_owned(),
            to: des.kind.name().to_owned(),
        });
        return;
    }

    let mut narrowed: Vec<String> = Vec::new();
    let mut relaxed =
        !same_kind || cur.label != des.label || cur.description != des.description || cur.default != des.default;

    for (what, before, after) in [("required", cur.required, des.required), ("unique", cur.unique, des.unique)] {
        match (before, after) {
            (false, true) => narrowed.push(format!("{what} false → true")),
            (true, false) => relaxed = true,
            _ => {}
        }
    }

    let measure = cur.kind.measure();
    if measure.is_some() && measure == des.kind.measure() {
        let (before, after) = (effective_min(cur), effective_min(des));
        if after > before {
            narrowed.push(format!("min {} → {}", bound(before), bound(after)));
        } else if after < before {
            relaxed = true;
        }
        let (before, after) = (effective_max(cur), effective_max(des));
        if after < before {
            narrowed.push(format!("max {} → {}", bound(before), bound(after)));
        } else if after > before {
            relaxed = true;
        }
    } else {
        // The bounds now measure something else (or nothing did): any explicit one is new.
        if let Some(min) = des.min {
            narrowed.push(format!("min none → {min}"));
        }
        if let Some(max) = des.max {
            narrowed.push(format!("max none → {max}"));
        }
    }

    if cur.pattern != des.pattern {
        match &des.pattern {
            Some(after) => narrowed.push(format!("pattern {} → {after}", cur.pattern.as_deref().unwrap_or("none"))),
            None => relaxed = true,
        }
    }

    match (&cur.kind, &des.kind) {
        (FieldKind::Enum { values: before }, FieldKind::Enum { values: after }) => {
            let removed: Vec<&str> = before.iter().filter(|v| !after.contains(v)).map(String::as_str).collect();
            if !removed.is_empty() {
                narrowed.push(format!("values removed: {}", removed.join(", ")));
            }
            if after.iter().any(|v| !before.contains(v)) {
                relaxed = true;
            }
        }
        (
            FieldKind::Reference { to: to_before, many: many_before },
            FieldKind::Reference { to: to_after, many: many_after },
        ) => {
            if to_before != to_after {
                narrowed.push(format!("to {to_before} → {to_after}"));
            }
            match (many_before, many_after) {
                (true, false) => narrowed.push("many → one".to_owned()),
                (false, true) => relaxed = true,
                _ => {}
            }
        }
        _ => {}
    }

    let nothing_else = narrowed.is_empty();
    for what in narrowed {
        changes.push(Change::NarrowField { ty: ty.clone(), field: des.name.clone(), what });
    }
    // The fields differ: when no narrowing explains it, it is a plain change.
    if relaxed || nothing_else {
        changes.push(Change::ChangeField(ty.clone(), des.name.clone()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::content::SchemaFile;

    const BASE: &str = r#"
[types.argomento]
singular = "Argomento"
plural = "Argomenti"
fields = [ { name = "title", kind = "string", label = "Nome" } ]

[types.luogo]
singular = "Luogo"
plural = "Luoghi"
fields = [ { name = "title", kind = "string", label = "Nome" } ]

[types.notizia]
singular = "Notizia"
plural = "Notizie"
fields = [
  { name = "title", kind = "string", label = "Titolo", max = 200 },
  { name = "corpo", kind = "text", label = "Corpo" },
  { name = "numero", kind = "text", label = "Numero" },
  { name = "stato", kind = "enum", label = "Stato", values = ["bozza", "pronta", "vecchia"] },
  { name = "argomenti", kind = "reference", to = "argomento", many = true, label = "Argomenti" },
  { name = "quanti", kind = "integer", label = "Quanti", min = 0 },
  { name = "codice", kind = "string", label = "Codice" },
]
"#;

    fn types(text: &str) -> Vec<ContentType> {
        SchemaFile::parse_toml(text).unwrap().content_types().unwrap()
    }

    /// BASE with `from` replaced by `to` (which must occur).
    fn edited(from: &str, to: &str) -> Vec<ContentType> {
        assert!(BASE.contains(from), "{from}");
        types(&BASE.replacen(from, to, 1))
    }

    fn lines(diff: &SchemaDiff) -> Vec<String> {
        diff.changes.iter().map(ToString::to_string).collect()
    }

    fn diff_of(from: &str, to: &str) -> Vec<String> {
        lines(&diff_types(&types(BASE), &edited(from, to), false))
    }

    #[test]
    fn nothing_changed() {
        let d = diff_types(&types(BASE), &types(BASE), true);
        assert!(d.is_empty());
        assert_eq!(d.destructive().count(), 0);
    }

    #[test]
    fn field_order_alone_is_no_change() {
        let reordered = BASE.replacen(
            "  { name = \"title\", kind = \"string\", label = \"Titolo\", max = 200 },\n  { name = \"corpo\", kind = \"text\", label = \"Corpo\" },\n",
            "  { name = \"corpo\", kind = \"text\", label = \"Corpo\" },\n  { name = \"title\", kind = \"string\", label = \"Titolo\", max = 200 },\n",
            1,
        );
        assert_ne!(reordered, BASE);
        assert!(diff_types(&types(BASE), &types(&reordered), true).is_empty());
    }

    #[test]
    fn types_added_and_removed() {
        let current = types(BASE);
        let mut desired: Vec<ContentType> = current.iter().filter(|t| t.id.as_str() != "luogo").cloned().collect();
        let mut evento = current[0].clone();
        evento.id = TypeId::parse("evento").unwrap();
        desired.push(evento);

        let kept = diff_types(&current, &desired, false);
        assert_eq!(lines(&kept), ["+ type evento"]);
        assert_eq!(kept.changes, [Change::AddType(TypeId::parse("evento").unwrap())]);
        assert_eq!(kept.destructive().count(), 0);

        let pruned = diff_types(&current, &desired, true);
        assert_eq!(lines(&pruned), ["+ type evento", "- type luogo"]);
        let destructive: Vec<&Change> = pruned.destructive().collect();
        assert_eq!(destructive, [&Change::RemoveType(TypeId::parse("luogo").unwrap())]);
    }

    #[test]
    fn type_info() {
        assert_eq!(diff_of("plural = \"Notizie\"", "plural = \"Notizie e avvisi\""), ["~ type notizia: labels"]);
        assert_eq!(
            diff_of("plural = \"Notizie\"", "plural = \"Notizie\"\nlabels = { en = \"News\" }"),
            ["~ type notizia: labels"]
        );
        assert_eq!(
            diff_of("plural = \"Notizie\"", "plural = \"Notizie\"\nslug_from = \"codice\""),
            ["~ type notizia: labels"]
        );
        // becoming a tree adds the parent field
        let d = diff_types(&types(BASE), &edited("plural = \"Notizie\"", "plural = \"Notizie\"\ntree = true"), false);
        assert_eq!(lines(&d), ["~ type notizia: labels", "+ notizia.parent"]);
        assert!(!d.changes[0].may_lose_data());
    }

    #[test]
    fn fields_added_and_removed() {
        let d = diff_types(
            &types(BASE),
            &edited(
                "  { name = \"codice\", kind = \"string\", label = \"Codice\" },\n",
                "  { name = \"sottotitolo\", kind = \"string\", label = \"Sottotitolo\" },\n",
            ),
            false,
        );
        assert_eq!(lines(&d), ["+ notizia.sottotitolo", "- notizia.codice"]);
        let destructive: Vec<String> = d.destructive().map(ToString::to_string).collect();
        assert_eq!(destructive, ["- notizia.codice"]);
    }

    #[test]
    fn kind_changes() {
        let d = diff_types(
            &types(BASE),
            &edited("{ name = \"numero\", kind = \"text\"", "{ name = \"numero\", kind = \"integer\""),
            false,
        );
        assert_eq!(lines(&d), ["! notizia.numero: kind text → integer"]);
        assert!(d.changes[0].may_lose_data());
        assert_eq!(
            d.changes[0],
            Change::ChangeFieldKind {
                ty: TypeId::parse("notizia").unwrap(),
                field: FieldName::parse("numero").unwrap(),
                from: "text".into(),
                to: "integer".into(),
            }
        );
        assert_eq!(
            diff_of("{ name = \"corpo\", kind = \"text\"", "{ name = \"corpo\", kind = \"string\""),
            ["! notizia.corpo: kind text → string"]
        );
        assert_eq!(
            diff_of("{ name = \"numero\", kind = \"text\"", "{ name = \"numero\", kind = \"date\""),
            ["! notizia.numero: kind text → date"]
        );
    }

    #[test]
    fn widening_is_not_a_kind_change() {
        // string → text: a plain change, nothing lost (the max of 200 still holds)
        let d = diff_types(
            &types(BASE),
            &edited("{ name = \"codice\", kind = \"string\"", "{ name = \"codice\", kind = \"text\""),
            false,
        );
        assert_eq!(lines(&d), ["~ notizia.codice"]);
        assert_eq!(d.destructive().count(), 0);
        // text → richtext, integer → decimal, enum → string, anything → json
        assert_eq!(
            diff_of("{ name = \"corpo\", kind = \"text\"", "{ name = \"corpo\", kind = \"richtext\""),
            ["~ notizia.corpo"]
        );
        assert_eq!(
            diff_of("{ name = \"quanti\", kind = \"integer\"", "{ name = \"quanti\", kind = \"decimal\""),
            ["~ notizia.quanti"]
        );
        assert_eq!(
            diff_of(
                "{ name = \"stato\", kind = \"enum\", label = \"Stato\", values = [\"bozza\", \"pronta\", \"vecchia\"] }",
                "{ name = \"stato\", kind = \"string\", label = \"Stato\" }"
            ),
            ["~ notizia.stato"]
        );
        assert_eq!(
            diff_of("{ name = \"numero\", kind = \"text\"", "{ name = \"numero\", kind = \"json\""),
            ["~ notizia.numero"]
        );
        // a widened kind with a new explicit bound is narrower there
        assert_eq!(
            diff_of(
                "{ name = \"stato\", kind = \"enum\", label = \"Stato\", values = [\"bozza\", \"pronta\", \"vecchia\"] }",
                "{ name = \"stato\", kind = \"string\", label = \"Stato\", max = 5 }"
            ),
            ["! notizia.stato: max none → 5", "~ notizia.stato"]
        );
        // string → slug can refuse existing values: a kind change
        assert_eq!(
            diff_of("{ name = \"codice\", kind = \"string\"", "{ name = \"codice\", kind = \"slug\""),
            ["! notizia.codice: kind string → slug"]
        );
    }

    #[test]
    fn narrowing() {
        let title = "{ name = \"title\", kind = \"string\", label = \"Titolo\", max = 200 }";
        let with = |rest: &str| {
            diff_of(title, &format!("{{ name = \"title\", kind = \"string\", label = \"Titolo\"{rest} }}"))
        };
        assert_eq!(with(", max = 100"), ["! notizia.title: max 200 → 100"]);
        assert_eq!(with(", max = 200, min = 3"), ["! notizia.title: min 0 → 3"]);
        assert_eq!(with(", max = 200, pattern = \"[A-Z].*\""), ["! notizia.title: pattern none → [A-Z].*"]);
        assert_eq!(with(", max = 200, required = true"), ["! notizia.title: required false → true"]);
        assert_eq!(with(", max = 200, unique = true"), ["! notizia.title: unique false → true"]);
        // no max means the string's own 255
        assert_eq!(with(""), ["~ notizia.title"]);
        assert_eq!(
            diff_of(
                "{ name = \"codice\", kind = \"string\", label = \"Codice\" }",
                "{ name = \"codice\", kind = \"string\", label = \"Codice\", max = 20 }"
            ),
            ["! notizia.codice: max 255 → 20"]
        );
        assert_eq!(
            diff_of(
                "{ name = \"quanti\", kind = \"integer\", label = \"Quanti\", min = 0 }",
                "{ name = \"quanti\", kind = \"integer\", label = \"Quanti\", min = 1, max = 9 }"
            ),
            ["! notizia.quanti: min 0 → 1", "! notizia.quanti: max none → 9"]
        );
        // several narrowings and a label change: each one, then the plain change
        let d = diff_types(
            &types(BASE),
            &edited(
                title,
                "{ name = \"title\", kind = \"string\", label = \"Titolo breve\", max = 80, required = true }",
            ),
            false,
        );
        assert_eq!(
            lines(&d),
            ["! notizia.title: required false → true", "! notizia.title: max 200 → 80", "~ notizia.title"]
        );
        assert_eq!(d.destructive().count(), 2);

        let stato = "values = [\"bozza\", \"pronta\", \"vecchia\"]";
        assert_eq!(diff_of(stato, "values = [\"bozza\", \"pronta\"]"), ["! notizia.stato: values removed: vecchia"]);
        let refs = "to = \"argomento\", many = true";
        assert_eq!(diff_of(refs, "to = \"luogo\", many = true"), ["! notizia.argomenti: to argomento → luogo"]);
        let d = diff_types(&types(BASE), &edited(refs, "to = \"argomento\""), false);
        assert_eq!(lines(&d), ["! notizia.argomenti: many → one"]);
        assert!(d.changes[0].may_lose_data());
    }

    #[test]
    fn relaxing_and_relabelling() {
        let title = "{ name = \"title\", kind = \"string\", label = \"Titolo\", max = 200 }";
        for relaxed in [
            "{ name = \"title\", kind = \"string\", label = \"Titolo\", max = 250 }",
            "{ name = \"title\", kind = \"string\", label = \"Titolo\" }",
            "{ name = \"title\", kind = \"string\", label = \"Title\", max = 200 }",
            "{ name = \"title\", kind = \"string\", label = \"Titolo\", max = 200, description = \"d\" }",
            "{ name = \"title\", kind = \"string\", label = \"Titolo\", max = 200, default = \"Senza titolo\" }",
        ] {
            let d = diff_types(&types(BASE), &edited(title, relaxed), false);
            assert_eq!(lines(&d), ["~ notizia.title"], "{relaxed}");
            assert_eq!(
                d.changes,
                [Change::ChangeField(TypeId::parse("notizia").unwrap(), FieldName::parse("title").unwrap())]
            );
            assert!(!d.changes[0].may_lose_data());
        }
        let stato = "values = [\"bozza\", \"pronta\", \"vecchia\"]";
        assert_eq!(diff_of(stato, "values = [\"bozza\", \"pronta\", \"vecchia\", \"nuova\"]"), ["~ notizia.stato"]);
        // values removed and added: the narrowing, then the change
        assert_eq!(
            diff_of(stato, "values = [\"bozza\", \"nuova\"]"),
            ["! notizia.stato: values removed: pronta, vecchia", "~ notizia.stato"]
        );
        let refs = "to = \"argomento\", many = true";
        let d = diff_types(&types(&BASE.replacen(refs, "to = \"argomento\"", 1)), &types(BASE), false);
        assert_eq!(lines(&d), ["~ notizia.argomenti"]);
    }

    #[test]
    fn order_of_changes() {
        let current = types(BASE);
        let mut desired = edited(
            "  { name = \"codice\", kind = \"string\", label = \"Codice\" },\n",
            "  { name = \"nuovo\", kind = \"string\", label = \"Nuovo\" },\n",
        );
        desired.retain(|t| t.id.as_str() != "luogo");
        let mut evento = current[0].clone();
        evento.id = TypeId::parse("evento").unwrap();
        desired.insert(0, evento);
        desired[1].plural = "Temi".into();
        let d = diff_types(&current, &desired, true);
        assert_eq!(
            lines(&d),
            ["+ type evento", "- type luogo", "~ type argomento: labels", "+ notizia.nuovo", "- notizia.codice",]
        );
    }
}
