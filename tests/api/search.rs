//! Search: Italian stems, ranking, facets, snippets, drafts and tenants kept apart, hostile input.

use cit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

async fn entry(app: &TestApp, token: &str, tenant: &str, ty: &str, body: Value) -> Value {
    let res = app.post(&format!("/api/v1/t/{tenant}/entries/{ty}"), Some(token), body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body
}

async fn total(app: &TestApp, q: &str) -> u64 {
    app.get(&format!("/api/v1/t/lecce/search?q={q}"), None).await.body["total"].as_u64().unwrap()
}

fn slugs(res: &Value) -> Vec<String> {
    res["data"].as_array().unwrap().iter().map(|h| h["slug"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn italian_words_find_their_relatives_and_nothing_else_leaks() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    for t in ["lecce", "genova"] {
        app.create_tenant(&root, t).await;
        app.apply_preset(&root, t).await;
    }
    let topic = entry(
        &app,
        &root,
        "lecce",
        "argomento",
        json!({"data": {"title": "Transizione digitale"}, "status": "published"}),
    )
    .await;
    entry(
        &app,
        &root,
        "lecce",
        "servizio",
        json!({"status": "published", "data": {
            "title": "Supporto al RTD", "summary": "Un servizio di digitalizzazione dei procedimenti per i piccoli Comuni.",
            "category": "transizione-digitale", "description": "Affiancamento", "how_to": "Scrivere al CIT", "access_channel": "online",
            "argomenti": [topic["id"]]
        }}),
    )
    .await;
    entry(&app, &root, "lecce", "notizia", json!({"status": "published", "data": {
        "title": "Biciclette in comune", "summary": "La bicicletta elettrica per i dipendenti", "body": "Nessun legame con i servizi online."
    }}))
    .await;
    entry(&app, &root, "lecce", "notizia", json!({"data": {"title": "Bozza: servizi digitali riservati"}})).await;
    entry(
        &app,
        &root,
        "genova",
        "notizia",
        json!({"status": "published", "data": {
            "title": "Servizi digitali a Genova", "summary": "Digitalizzazione dei servizi", "body": "Testo"
        }}),
    )
    .await;

    let res = app.get("/api/v1/t/lecce/search?q=servizi%20digitali", None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(slugs(&res.body), ["supporto-al-rtd"], "stems meet, drafts and genova stay out: {}", res.text);
    let hit = &res.body["data"][0];
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>digitalizzazione</mark>"), "{hit}");
    assert_eq!(res.body["facets"]["types"], json!([{"value": "servizio", "count": 1}]));
    assert_eq!(res.body["facets"]["topics"][0]["title"], "Transizione digitale");

    assert_eq!(slugs(&app.get("/api/v1/t/lecce/search?q=biciclette", None).await.body), ["biciclette-in-comune"]);
    let drafts = app.get("/api/v1/t/lecce/search?q=riservati&status=any", Some(&root)).await;
    assert_eq!(slugs(&drafts.body), ["bozza-servizi-digitali-riservati"]);
    assert_eq!(app.get("/api/v1/t/lecce/search?q=riservati&status=any", None).await.status, 401);
    assert_eq!(app.get("/api/v1/t/lecce/search?q=genova", None).await.body["total"], 0);

    // Filters by type and topic; a broad query ranks title matches first.
    let typed = app.get("/api/v1/t/lecce/search?q=servizi&type=notizia", None).await;
    assert_eq!(slugs(&typed.body), ["biciclette-in-comune"]);
    let by_topic =
        app.get(&format!("/api/v1/t/lecce/search?q=servizi&topic={}", topic["id"].as_str().unwrap()), None).await;
    assert_eq!(slugs(&by_topic.body), ["supporto-al-rtd"]);

    for hostile in [
        "%22",
        "NOT",
        "e-bike",
        "AND%20OR",
        "*",
        "%27%3B%20DROP%20TABLE%20entries%3B--",
        "%E2%80%9Cservizi%E2%80%9D",
        "NEAR(a%20b)",
    ] {
        let res = app.get(&format!("/api/v1/t/lecce/search?q={hostile}"), None).await;
        assert!(res.status == 200 || res.status == 400, "{hostile}: {} {}", res.status, res.text);
        if res.status == 400 {
            assert_eq!(res.code(), "invalid_query");
        }
    }
    let long = "parola ".repeat(100);
    assert_eq!(app.get(&format!("/api/v1/t/lecce/search?q={}", long.replace(' ', "%20")), None).await.status, 400);
    assert_eq!(app.get("/api/v1/t/lecce/search", None).await.status, 400);
    assert_eq!(app.get("/api/v1/t/lecce/search?q=servizi&limit=500", None).await.status, 400);
}

#[tokio::test]
async fn the_index_follows_every_write() {
    let mut app = spawn_app().await;
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    app.apply_preset(&root, "lecce").await;
    let e = entry(&app, &root, "lecce", "argomento", json!({"data": {"title": "Connettività"}, "status": "published"}))
        .await;
    let path = format!("/api/v1/t/lecce/entries/argomento/{}", e["id"].as_str().unwrap());
    assert_eq!(total(&app, "connettivita").await, 1, "accents do not matter");
    app.patch(&path, Some(&root), json!({"data": {"title": "Reti Wi-Fi pubbliche"}})).await;
    assert_eq!(total(&app, "connettivita").await, 0);
    assert_eq!(total(&app, "reti").await, 1);
    app.patch(&path, Some(&root), json!({"status": "draft"})).await;
    assert_eq!(total(&app, "reti").await, 0, "unpublished entries leave public search");

    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    app.patch(&path, Some(&root), json!({"publish_at": at.to_rfc3339()})).await;
    app.clock.set(at + chrono::Duration::seconds(1));
    app.tick().await;
    assert_eq!(total(&app, "reti").await, 1, "the scheduler's publication is searchable");
    app.restart().await;
    assert_eq!(total(&app, "reti").await, 1, "the index is durable");
    app.delete(&path, Some(&root)).await;
    assert_eq!(total(&app, "reti").await, 0);
}
