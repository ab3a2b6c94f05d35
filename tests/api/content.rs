//! Content types over the admin API, and every field kind and rule, accepted and refused.

use cit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

pub fn tema() -> Value {
    json!({"singular": "Tema", "plural": "Temi", "fields": [{"name": "title", "kind": "string", "label": "Titolo", "required": true}]})
}

pub fn prova() -> Value {
    json!({"singular": "Prova", "plural": "Prove", "description": "Every field kind", "fields": [
        {"name": "title", "kind": "string", "label": "Titolo", "required": true, "max": 20},
        {"name": "code", "kind": "string", "label": "Codice", "pattern": "[A-Z]{3}", "unique": true},
        {"name": "notes", "kind": "text", "label": "Note", "max": 50},
        {"name": "body", "kind": "richtext", "label": "Corpo"},
        {"name": "count", "kind": "integer", "label": "Numero", "min": 0, "max": 10},
        {"name": "price", "kind": "decimal", "label": "Prezzo", "min": 0},
        {"name": "active", "kind": "boolean", "label": "Attivo", "default": true},
        {"name": "day", "kind": "date", "label": "Giorno"},
        {"name": "at", "kind": "datetime", "label": "Quando"},
        {"name": "level", "kind": "enum", "label": "Livello", "values": ["base", "avanzato"]},
        {"name": "handle", "kind": "slug", "label": "Handle"},
        {"name": "mail", "kind": "email", "label": "Email"},
        {"name": "site", "kind": "url", "label": "Sito"},
        {"name": "cover", "kind": "media", "label": "Immagine"},
        {"name": "topic", "kind": "reference", "label": "Tema", "to": "tema"},
        {"name": "topics", "kind": "reference", "label": "Temi", "to": "tema", "many": true, "max": 3},
        {"name": "tags", "kind": "tags", "label": "Tag", "max": 3},
        {"name": "geo", "kind": "geopoint", "label": "Posizione"},
        {"name": "extra", "kind": "json", "label": "Extra"}
    ]})
}

/// A tenant `lecce` with the `tema` and `prova` types; returns the platform admin's token.
pub async fn with_types(app: &TestApp) -> String {
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    for (id, def) in [("tema", tema()), ("prova", prova())] {
        let res = app.put(&format!("/api/v1/t/lecce/content-types/{id}"), Some(&root), def).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    root
}

async fn count(app: &TestApp, root: &str) -> usize {
    let res = app.get("/api/v1/t/lecce/entries/prova?status=any&limit=100", Some(root)).await;
    res.body["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn every_field_kind_accepts_what_it_should_and_refuses_the_rest() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let topic =
        app.post("/api/v1/t/lecce/entries/tema", Some(&root), json!({"data": {"title": "Servizi digitali"}})).await;
    assert_eq!(topic.status, 201, "{}", topic.text);
    let topic_id = topic.body["id"].as_str().unwrap().to_owned();
    let uuid = "0190f3e4-8a2b-7c3d-9e4f-a1b2c3d4e5f6";

    let good = json!({
        "title": "Prova completa", "code": "ABC", "notes": "due\nrighe", "body": "**grassetto**",
        "count": 10, "price": 12.5, "active": false, "day": "2026-02-28", "at": "2026-03-01T10:00:00+01:00",
        "level": "avanzato", "handle": "una-prova", "mail": "Uff.CIT@Comune.Lecce.IT", "site": "https://cit.comune.lecce.it/servizi",
        "topic": topic_id, "topics": [topic_id], "tags": [" spid ", "pagopa", "spid"],
        "geo": {"lat": 40.35, "lon": 18.17}, "extra": {"any": ["thing", 1]}
    });
    let created = app.post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": good})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let data = &created.body["data"];
    assert_eq!(data["mail"], "uff.cit@comune.lecce.it", "emails are normalised");
    assert_eq!(data["at"], "2026-03-01T09:00:00Z", "datetimes are stored in UTC");
    assert_eq!(data["tags"], json!(["spid", "pagopa"]), "tags trimmed and de-duplicated");
    assert_eq!(created.body["html"]["body"].as_str().unwrap().trim(), "<p><strong>grassetto</strong></p>");
    assert_eq!(created.body["slug"], "prova-completa");
    let defaults =
        app.post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": "Con default"}})).await;
    assert_eq!(defaults.body["data"]["active"], true, "defaults apply to new entries");

    let before = count(&app, &root).await;
    let long_title = "x".repeat(21);
    let bad: Vec<(&str, Value, &str)> = vec![
        ("title", json!(long_title), "too_long"),
        ("title", json!("due\nrighe"), "invalid_type"),
        ("title", json!(42), "invalid_type"),
        ("code", json!("abc"), "pattern_mismatch"),
        ("notes", json!("y".repeat(51)), "too_long"),
        ("body", json!(["not", "text"]), "invalid_type"),
        ("count", json!(11), "too_large"),
        ("count", json!(-1), "too_small"),
        ("count", json!(1.5), "not_an_integer"),
        ("count", json!("3"), "invalid_type"),
        ("price", json!(-0.01), "too_small"),
        ("active", json!("yes"), "invalid_type"),
        ("day", json!("2026-02-30"), "invalid_date"),
        ("day", json!("28/02/2026"), "invalid_date"),
        ("at", json!("2026-03-01 10:00"), "invalid_datetime"),
        ("level", json!("esperto"), "not_in_enum"),
        ("handle", json!("Non Uno Slug"), "invalid_slug"),
        ("mail", json!("non-una-mail"), "invalid_email"),
        ("site", json!("ftp://cit.example"), "invalid_url"),
        ("site", json!("javascript:alert(1)"), "invalid_url"),
        ("cover", json!("not-a-uuid"), "invalid_id"),
        ("cover", json!(uuid), "media_not_found"),
        ("topic", json!(12), "invalid_type"),
        ("topics", json!([topic_id, topic_id]), "duplicate"),
        ("topics", json!([uuid, uuid, uuid, uuid]), "too_many"),
        ("tags", json!(["a", "b", "c", "d"]), "too_many"),
        ("tags", json!("spid"), "invalid_type"),
        ("geo", json!({"lat": 91, "lon": 0}), "invalid_geopoint"),
        ("geo", json!({"lat": 40}), "invalid_geopoint"),
        ("nonsense", json!(1), "unknown_field"),
    ];
    for (field, value, code) in bad {
        let res = app
            .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": "ok", field: value}}))
            .await;
        assert_eq!(res.status, 422, "{field} = {value}: {}", res.text);
        let errors = res.body["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"].as_str().unwrap_or("").starts_with(&format!("data.{field}")) && e["code"] == code),
            "{field} = {value}: expected {code} in {errors:?}"
        );
    }
    // Several problems are reported together.
    let many = app
        .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": 1, "count": 99, "level": "x"}}))
        .await;
    assert_eq!(many.body["errors"].as_array().unwrap().len(), 3, "{}", many.text);
    assert_eq!(count(&app, &root).await, before, "nothing was written");
}

#[tokio::test]
async fn required_fields_are_enforced_on_publishing_not_on_drafts() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let draft =
        app.post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"notes": "bozza senza titolo"}})).await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    assert_eq!(draft.body["status"], "draft");
    let published = app
        .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"notes": "x"}, "status": "published"}))
        .await;
    assert_eq!(published.status, 422);
    assert_eq!(published.field(), "data.title");
    assert_eq!(published.body["errors"][0]["code"], "required");
    let id = draft.body["id"].as_str().unwrap();
    let publish =
        app.patch(&format!("/api/v1/t/lecce/entries/prova/{id}"), Some(&root), json!({"status": "published"})).await;
    assert_eq!(publish.status, 422, "publishing the incomplete draft is refused");
    let fixed = app
        .patch(
            &format!("/api/v1/t/lecce/entries/prova/{id}"),
            Some(&root),
            json!({"data": {"title": "Ora sì"}, "status": "published"}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    assert_eq!(fixed.body["status"], "published");
    assert!(fixed.body["published_at"].is_string());
}

#[tokio::test]
async fn unique_values_and_references_are_checked_against_the_database() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    app.create_tenant(&root, "genova").await;
    app.put("/api/v1/t/genova/content-types/tema", Some(&root), tema()).await;
    let ours =
        app.post("/api/v1/t/lecce/entries/tema", Some(&root), json!({"data": {"title": "Nostro"}})).await.body["id"]
            .clone();
    let theirs = app.post("/api/v1/t/genova/entries/tema", Some(&root), json!({"data": {"title": "Loro"}})).await.body
        ["id"]
        .clone();
    let not_a_tema = app
        .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": "Una prova", "code": "AAA"}}))
        .await;
    assert_eq!(not_a_tema.status, 201);
    let before = count(&app, &root).await;

    let cases = [
        (json!({"title": "t", "topic": "0190f3e4-8a2b-7c3d-9e4f-a1b2c3d4e5f6"}), "data.topic", "reference_not_found"),
        (json!({"title": "t", "topic": not_a_tema.body["id"]}), "data.topic", "reference_wrong_type"),
        (json!({"title": "t", "topic": theirs}), "data.topic", "reference_not_found"),
        (json!({"title": "t", "topics": [ours, theirs]}), "data.topics[1]", "reference_not_found"),
        (json!({"title": "t", "code": "AAA"}), "data.code", "not_unique"),
    ];
    for (data, field, code) in cases {
        let res = app.post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": data})).await;
        assert_eq!(res.status, 422, "{data}: {}", res.text);
        assert_eq!(res.field(), field, "{data}");
        assert_eq!(res.body["errors"][0]["code"], code, "{data}");
        assert!(!res.text.contains("Loro"), "nothing of genova leaks");
    }
    assert_eq!(count(&app, &root).await, before);
    let fine = app
        .post(
            "/api/v1/t/lecce/entries/prova",
            Some(&root),
            json!({"data": {"title": "t", "topics": [ours], "code": "BBB"}}),
        )
        .await;
    assert_eq!(fine.status, 201, "{}", fine.text);
}

#[tokio::test]
async fn content_types_are_validated_versioned_and_public() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let list = app.get("/api/v1/t/lecce/content-types", None).await;
    assert_eq!(list.status, 200);
    let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|t| t["api_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["prova", "tema"]);

    let bad = [
        (json!({"singular": "X", "plural": "X", "fields": []}), "no_fields"),
        (
            json!({"singular": "X", "plural": "X", "fields": [{"name": "title", "kind": "colour", "label": "T"}]}),
            "unknown_kind",
        ),
        (
            json!({"singular": "X", "plural": "X", "fields": [{"name": "title", "kind": "string", "label": "T", "min": 5, "max": 2}]}),
            "min_above_max",
        ),
        (
            json!({"singular": "X", "plural": "X", "fields": [{"name": "title", "kind": "string", "label": "T"}, {"name": "r", "kind": "reference", "to": "nowhere", "label": "R"}]}),
            "unknown_reference_target",
        ),
        (
            json!({"singular": "X", "plural": "X", "fields": [{"name": "title", "kind": "string", "label": "T", "values": ["a"]}]}),
            "key_not_applicable",
        ),
    ];
    for (def, code) in bad {
        let res = app.put("/api/v1/t/lecce/content-types/nuovo", Some(&root), def.clone()).await;
        assert_eq!(res.status, 422, "{def}: {}", res.text);
        assert!(res.body["errors"].as_array().unwrap().iter().any(|e| e["code"] == code), "{code}: {}", res.text);
    }
    let typo = app
        .put("/api/v1/t/lecce/content-types/nuovo", Some(&root), json!({"singular": "X", "plural": "X", "feilds": []}))
        .await;
    assert_eq!(typo.status, 422);

    // Adding a field is a new version; the same definition again changes nothing.
    let mut v2 = tema();
    v2["fields"].as_array_mut().unwrap().push(json!({"name": "colore", "kind": "string", "label": "Colore"}));
    let applied = app.put("/api/v1/t/lecce/content-types/tema", Some(&root), v2.clone()).await;
    assert_eq!(applied.body["applied"], true, "{}", applied.text);
    assert_eq!(applied.body["changes"][0]["change"], "+ tema.colore");
    let again = app.put("/api/v1/t/lecce/content-types/tema", Some(&root), v2).await;
    assert_eq!(again.body["applied"], false);
    assert_eq!(again.body["changes"], json!([]));
    let one = app.get("/api/v1/t/lecce/content-types/tema", None).await;
    assert_eq!(one.body["version"], 2);
    let versions = app.get("/api/v1/t/lecce/content-types/tema/versions", Some(&root)).await;
    assert_eq!(versions.body["data"].as_array().unwrap().len(), 2);

    let editor = app.member(&root, "lecce", "editor@lecce.it", "editor").await;
    assert_eq!(
        app.put("/api/v1/t/lecce/content-types/tema", Some(&editor), tema()).await.status,
        403,
        "only admins change the model"
    );
}

#[tokio::test]
async fn a_destructive_change_is_refused_and_changes_nothing_unless_forced() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    app.post(
        "/api/v1/t/lecce/entries/prova",
        Some(&root),
        json!({"data": {"title": "Con note", "notes": "importante"}}),
    )
    .await;
    let before = app.get("/api/v1/t/lecce/content-types/prova", None).await;

    // Dropping `notes`, which has a value, and narrowing `title`.
    let mut narrower = prova();
    let fields = narrower["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["name"] != "notes");
    fields[0]["max"] = json!(5);
    let refused = app.put("/api/v1/t/lecce/content-types/prova", Some(&root), narrower.clone()).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.code(), "destructive_change");
    assert!(refused.text.contains("prova.notes"), "{}", refused.text);
    let after = app.get("/api/v1/t/lecce/content-types/prova", None).await;
    assert_eq!(before.body, after.body, "the type is unchanged");
    let entries = app.get("/api/v1/t/lecce/entries/prova?status=any", Some(&root)).await;
    assert_eq!(entries.body["data"][0]["data"]["notes"], "importante", "the data is unchanged");

    let dry =
        app.put("/api/v1/t/lecce/content-types/prova?dry_run=true&force=true", Some(&root), narrower.clone()).await;
    assert_eq!(dry.body["applied"], false);
    assert!(
        dry.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["may_lose_data"] == true && c["affected_entries"] == 1)
    );

    let forced = app.put("/api/v1/t/lecce/content-types/prova?force=true", Some(&root), narrower).await;
    assert_eq!(forced.status, 200, "{}", forced.text);
    let entries = app.get("/api/v1/t/lecce/entries/prova?status=any", Some(&root)).await;
    assert!(entries.body["data"][0]["data"].get("notes").is_none(), "a forced drop removes the values");

    // Removing a type that has entries is refused too; so is one other types still reference.
    assert_eq!(app.delete("/api/v1/t/lecce/content-types/prova", Some(&root)).await.status, 409);
    let referenced = app.delete("/api/v1/t/lecce/content-types/tema", Some(&root)).await;
    assert_eq!(referenced.status, 409, "{}", referenced.text);
    assert_eq!(referenced.code(), "type_in_use");
    assert_eq!(app.delete("/api/v1/t/lecce/content-types/prova?force=true", Some(&root)).await.status, 200);
    assert_eq!(app.get("/api/v1/t/lecce/entries/prova", None).await.status, 404);
}
