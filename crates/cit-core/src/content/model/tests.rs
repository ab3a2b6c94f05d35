#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::json;

use super::definitions::*;
use super::fields::*;
use super::ids::*;
use super::types::*;

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
    let place =
        if key.is_empty() { "types.notizia.fields[1]".to_owned() } else { format!("types.notizia.fields[1].{key}") };
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
    field_error(json!({"name": "x", "kind": "enum", "values": ["a", "b", "a"]}), "duplicate_enum_value", "values[2]");
    field_error(json!({"name": "x", "kind": "reference"}), "missing_reference_target", "to");
    field_error(json!({"name": "x", "kind": "reference", "to": "Luogo"}), "invalid_type_id", "to");

    field_error(json!({"name": "x", "kind": "string", "max": 3, "default": "abcd"}), "invalid_default", "default");
    field_error(json!({"name": "x", "kind": "enum", "values": ["a"], "default": "b"}), "invalid_default", "default");
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
