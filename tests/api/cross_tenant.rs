//! One tenant's editors and tokens against another tenant's entries over REST: reading, PATCH,
//! DELETE, revisions, diff, restore and `expand`, through their own tenant's routes and through
//! the other tenant's. Every refusal is checked against a positive control (the same request on
//! the actor's own entry succeeds), so a 404 cannot come from a missing type or route.

use cit_tests::{Res, TestApp, spawn_app};
use serde_json::{Value, json};

use crate::content::{prova, tema, with_types};

const LECCE_TITLE: &str = "Segreto di Lecce";
const LECCE_TOPIC: &str = "Tema di Lecce";

/// Lecce and Genova, both with `tema` and `prova`; returns the platform admin's token.
async fn two_tenants(app: &TestApp) -> String {
    let root = with_types(app).await;
    app.create_tenant(&root, "genova").await;
    for (id, def) in [("tema", tema()), ("prova", prova())] {
        let res = app.put(&format!("/api/v1/t/genova/content-types/{id}"), Some(&root), def).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    root
}

async fn create(app: &TestApp, token: &str, tenant: &str, ty: &str, body: Value) -> Value {
    let res = app.post(&format!("/api/v1/t/{tenant}/entries/{ty}"), Some(token), body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body
}

/// An entry with two revisions, so that revisions, diff and restore all have something to show.
async fn entry_with_history(app: &TestApp, token: &str, tenant: &str, title: &str) -> String {
    let e =
        create(app, token, tenant, "prova", json!({"data": {"title": title, "count": 1}, "status": "published"})).await;
    let id = e["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/t/{tenant}/entries/prova/{id}");
    let v2 = app.patch(&path, Some(token), json!({"data": {"count": 2}})).await;
    assert_eq!(v2.status, 200, "{}", v2.text);
    id
}

/// Every entry operation on `/api/v1/t/{tenant}/entries/prova/{id}`, as `who`.
async fn every_operation(app: &TestApp, who: &str, tenant: &str, id: &str) -> Vec<(&'static str, Res)> {
    let path = format!("/api/v1/t/{tenant}/entries/prova/{id}");
    vec![
        ("read", app.get(&format!("{path}?status=any"), Some(who)).await),
        ("expand", app.get(&format!("{path}?status=any&expand=topic,topics"), Some(who)).await),
        ("revisions", app.get(&format!("{path}/revisions"), Some(who)).await),
        ("diff", app.get(&format!("{path}/revisions/2/diff?against=1"), Some(who)).await),
        ("patch", app.patch(&path, Some(who), json!({"data": {"title": "Preso da fuori"}})).await),
        ("restore", app.post(&format!("{path}/revisions/1/restore"), Some(who), json!({})).await),
        ("delete", app.delete(&path, Some(who)).await),
    ]
}

/// Lecce's entry and its history exactly as the platform admin sees them.
async fn snapshot(app: &TestApp, root: &str, id: &str) -> (Value, Value) {
    let path = format!("/api/v1/t/lecce/entries/prova/{id}");
    let entry = app.get(&format!("{path}?status=any"), Some(root)).await;
    assert_eq!(entry.status, 200, "{}", entry.text);
    let history = app.get(&format!("{path}/revisions"), Some(root)).await;
    assert_eq!(history.status, 200, "{}", history.text);
    (entry.body, history.body)
}

#[tokio::test]
async fn genova_cannot_read_change_delete_or_restore_an_entry_of_lecce() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let genova_editor = app.member(&root, "genova", "redazione@genova.it", "editor").await;
    let (genova_token, _) = app.api_token(&root, "genova", &["read", "preview", "write"]).await;
    let lecce_editor = app.member(&root, "lecce", "redazione@lecce.it", "editor").await;
    let lecce_id = entry_with_history(&app, &root, "lecce", LECCE_TITLE).await;
    let before = snapshot(&app, &root, &lecce_id).await;

    for (name, who) in [("Genova's editor", genova_editor.as_str()), ("Genova's token", genova_token.as_str())] {
        // Control: on an entry of its own, through its own routes, every operation works; so
        // the refusals below are about whose entry it is, not about the route or the type.
        let own = entry_with_history(&app, who, "genova", "Di Genova").await;
        for (op, res) in every_operation(&app, who, "genova", &own).await {
            assert!((200..300).contains(&res.status), "{name}, own entry, {op}: {} {}", res.status, res.text);
        }

        // Lecce's id through Genova's routes: no such entry in Genova.
        for (op, res) in every_operation(&app, who, "genova", &lecce_id).await {
            assert_eq!(res.status, 404, "{name}, Lecce's id under /t/genova, {op}: {}", res.text);
            assert!(!res.text.contains(LECCE_TITLE), "{name}, {op} leaks: {}", res.text);
        }

        // Lecce's id through Lecce's routes: not a member of Lecce.
        for (op, res) in every_operation(&app, who, "lecce", &lecce_id).await {
            assert_eq!(res.status, 403, "{name}, under /t/lecce, {op}: {}", res.text);
            assert!(!res.text.contains(LECCE_TITLE), "{name}, {op} leaks: {}", res.text);
        }
    }

    // Lecce's entry is exactly as it was: same data, same revision, same history.
    let after = snapshot(&app, &root, &lecce_id).await;
    assert_eq!(after, before);
    assert_eq!(after.0["revision"], 2);
    assert_eq!(after.0["data"]["title"], LECCE_TITLE);

    // Control: Lecce's own editor can do to it what Genova could not.
    let ops = every_operation(&app, &lecce_editor, "lecce", &lecce_id).await;
    for (op, res) in ops {
        assert!((200..300).contains(&res.status), "Lecce's editor, {op}: {} {}", res.status, res.text);
    }
    assert_eq!(app.get(&format!("/api/v1/t/lecce/entries/prova/{lecce_id}?status=any"), Some(&root)).await.status, 404);
}

#[tokio::test]
async fn a_reference_never_crosses_into_another_tenant() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let genova = app.member(&root, "genova", "redazione@genova.it", "editor").await;
    let lecce_topic =
        create(&app, &root, "lecce", "tema", json!({"data": {"title": LECCE_TOPIC}, "status": "published"})).await;
    let lecce_topic = lecce_topic["id"].as_str().unwrap();
    let genova_topic =
        create(&app, &genova, "genova", "tema", json!({"data": {"title": "Tema di Genova"}, "status": "published"}))
            .await;
    let genova_topic = genova_topic["id"].as_str().unwrap();

    // Written through the API, a reference to Lecce's entry is refused and nothing is stored.
    let refused = app
        .post(
            "/api/v1/t/genova/entries/prova",
            Some(&genova),
            json!({"data": {"title": "Rimando", "topic": lecce_topic}, "status": "published"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "reference_not_found", "{}", refused.text);
    let list = app.get("/api/v1/t/genova/entries/prova?status=any", Some(&genova)).await;
    assert_eq!(list.body["data"], json!([]), "nothing stored");

    let e = create(
        &app,
        &genova,
        "genova",
        "prova",
        json!({"data": {"title": "Rimando", "topic": genova_topic, "topics": [genova_topic]}, "status": "published"}),
    )
    .await;
    let id = e["id"].as_str().unwrap();
    let path = format!("/api/v1/t/genova/entries/prova/{id}");
    let patch = app.patch(&path, Some(&genova), json!({"data": {"topics": [genova_topic, lecce_topic]}})).await;
    assert_eq!(patch.status, 422, "{}", patch.text);
    assert_eq!(patch.body["errors"][0]["code"], "reference_not_found", "{}", patch.text);

    // Control: expand resolves Genova's own topic.
    let own = app.get(&format!("{path}?expand=topic,topics"), None).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["data"]["topic"]["data"]["title"], "Tema di Genova");
    assert_eq!(own.body["data"]["topics"].as_array().map(Vec::len), Some(1), "{}", own.text);
    assert_eq!(own.body["revision"], 1, "the refused PATCH changed nothing");

    // Planted behind the API (an import, a hand edit): references that name Lecce's topic. On
    // an entry not read before, so that no cached answer can stand in for the planted data.
    let planted = create(
        &app,
        &genova,
        "genova",
        "prova",
        json!({"data": {"title": "Da piantare", "topic": genova_topic}, "status": "published"}),
    )
    .await;
    let planted = planted["id"].as_str().unwrap();
    let path = format!("/api/v1/t/genova/entries/prova/{planted}");
    let data = json!({"title": "Rimando piantato", "topic": lecce_topic, "topics": [lecce_topic, genova_topic]});
    plant(&app, planted, data).await;
    for (who, token) in
        [("anonymous", None), ("Genova's editor", Some(genova.as_str())), ("platform admin", Some(root.as_str()))]
    {
        let res = app.get(&format!("{path}?expand=topic,topics"), token).await;
        assert_eq!(res.status, 200, "{who}: {}", res.text);
        assert_eq!(res.body["data"]["title"], "Rimando piantato", "{who}: the planted data is what is read");
        assert!(!res.text.contains(LECCE_TOPIC), "{who}: Lecce's entry leaked through expand: {}", res.text);
        assert!(res.body["data"]["topic"].get("data").is_none(), "{who}: {}", res.text);
        let topics = res.body["data"]["topics"].as_array().cloned().unwrap_or_default();
        let titles: Vec<&Value> = topics.iter().map(|t| &t["data"]["title"]).collect();
        assert_eq!(titles, [&json!("Tema di Genova")], "{who}: only Genova's topic expands: {}", res.text);
    }
}

/// Replaces an entry's data in the database, behind the API's validation.
async fn plant(app: &TestApp, id: &str, data: Value) {
    use sea_orm::ConnectionTrait;
    let backend = if app.db.is_postgres() { sea_orm::DbBackend::Postgres } else { sea_orm::DbBackend::Sqlite };
    let sql = match backend {
        sea_orm::DbBackend::Postgres => r#"UPDATE "entries" SET "data" = $1 WHERE "id" = $2"#,
        _ => r#"UPDATE "entries" SET "data" = ? WHERE "id" = ?"#,
    };
    let statement = sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [sea_orm::Value::Json(Some(Box::new(data))), sea_orm::Value::Uuid(Some(id.parse().unwrap()))],
    );
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    assert_eq!(db.execute_raw(statement).await.unwrap().rows_affected(), 1);
    db.close().await.ok();
}
