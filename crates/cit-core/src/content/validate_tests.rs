//! Tests of [`super::validate_data`]: every field kind, its rules, and what is normalised.
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

    assert_eq!(ok(&t, json!({"mail": " Mario.Rossi@Comune.Lecce.IT "})).data["mail"], "mario.rossi@comune.lecce.it");
    assert_eq!(code(&t, "mail", json!("mario@")), e("mail", "invalid_email"));

    assert_eq!(
        ok(&t, json!({"sito": "https://www.comune.lecce.it/a?b=c"})).data["sito"],
        "https://www.comune.lecce.it/a?b=c"
    );
    assert_eq!(ok(&t, json!({"sito": "http://localhost:8080"})).data["sito"], "http://localhost:8080");
    for bad in ["www.comune.it", "/relativo", "ftp://x.it", "mailto:a@b.it", "javascript:alert(1)", "https://", ""] {
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
    assert_eq!(ok(&t, json!({"geo": {"lat": 40.35, "lon": 18.17}})).data["geo"], json!({"lat": 40.35, "lon": 18.17}));
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
    let unique = |v: &Validated| v.unique.iter().map(|(n, x)| (n.as_str().to_owned(), x.clone())).collect::<Vec<_>>();
    assert_eq!(unique(&v), vec![("mail".to_owned(), json!("x@y.it")), ("num".to_owned(), json!(7))]);
    // a default also satisfies `required`
    assert!(validate_data(&t, &obj(json!({"title": "T"})), Mode::Publish, true).is_ok());
    // not applied without apply_defaults, nor over an explicit null
    let v = validate_data(&t, &obj(json!({"mail": null})), Mode::Draft, false).unwrap();
    assert!(!v.data.contains_key("stato"));
    let v = validate_data(&t, &obj(json!({"mail": null})), Mode::Draft, true).unwrap();
    assert_eq!(v.data["mail"], Value::Null);
    assert!(v.unique.iter().all(|(name, _)| name.as_str() != "mail"));
    let v = validate_data(&t, &obj(json!({"codice": "A-1"})), Mode::Draft, false).unwrap();
    assert_eq!(unique(&v), vec![("codice".to_owned(), json!("A-1"))]);
}

#[test]
fn data_error_display() {
    let t = ct(vec![field("n", "integer")]);
    let err = validate_data(&t, &obj(json!({"n": 1.5})), Mode::Draft, false).unwrap_err();
    assert_eq!(err[0].to_string(), "n: expected a whole number");
}
