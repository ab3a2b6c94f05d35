//! The node's memory of tenants, tokens, roles and content types (`cit_api::lookups`): it saves
//! the statements every request begins with, and what it kept is forgotten on every node before
//! a change is acknowledged, so that a revoked token, a removed member and a disabled tenant are
//! refused at once everywhere.

use std::time::{Duration, Instant};

use cit_tests::{Node, Res, TestApp, spawn_app};
use serde_json::json;

const DRAFTS: &str = "/api/v1/t/lecce/entries/notizia?status=draft&limit=5";

/// On PostgreSQL a second node on the same database; on SQLite (one file, one API process) the
/// first node again.
async fn other_node(app: &TestApp) -> Option<Node> {
    if !app.db.is_postgres() {
        return None;
    }
    let node = app.another_node().await;
    let started = Instant::now();
    while !(app.state.changes.serving() && node.state.changes.serving() && node.state.changes.peers() >= 1) {
        assert!(started.elapsed() < Duration::from_secs(15), "the nodes did not find each other");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(node)
}

async fn get_on(app: &TestApp, node: Option<&Node>, path: &str, token: &str) -> Res {
    match node {
        Some(n) => app.get_at(n, path, Some(token)).await,
        None => app.get(path, Some(token)).await,
    }
}

/// Statements the node runs for one GET.
async fn statements_of(app: &TestApp, node: Option<&Node>, path: &str, token: &str) -> u64 {
    let store = node.map_or(&app.store, |n| &n.state.store);
    let before = store.query_count();
    let res = get_on(app, node, path, token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    store.query_count() - before
}

#[tokio::test]
async fn revoked_tokens_removed_members_and_disabled_tenants_are_refused_at_once_on_every_node() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    app.apply_preset(&root, "lecce").await;
    let (token, token_id) = app.api_token(&root, "lecce", &["read", "preview"]).await;
    let added = app
        .post(
            "/api/v1/t/lecce/members",
            Some(&root),
            json!({"email": "redattrice@lecce.example", "role": "editor", "name": "Redattrice", "password": "redattrice-2026"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let editor_id = added.body["user_id"].as_str().unwrap().to_owned();
    let editor = app.token_for("redattrice@lecce.example", "redattrice-2026").await;
    let node = other_node(&app).await;
    let node = node.as_ref();

    // The lookups are kept: the second read of the same kind costs fewer statements than the
    // first (the token, the tenant and the content type are not read again).
    for who in [&token, &editor] {
        let first = statements_of(&app, node, DRAFTS, who).await;
        let second = statements_of(&app, node, DRAFTS, who).await;
        assert!(second < first, "kept lookups save statements: {first} then {second}");
    }

    // A token revoked on the first node is refused by the other at once.
    let revoked = app.delete(&format!("/api/v1/t/lecce/tokens/{token_id}"), Some(&root)).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let res = get_on(&app, node, DRAFTS, &token).await;
    assert_eq!((res.status, res.code()), (401, "invalid_token"), "{}", res.text);

    // A member removed on the first node has no role on the other at once.
    let removed = app.delete(&format!("/api/v1/t/lecce/members/{editor_id}"), Some(&root)).await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let res = get_on(&app, node, DRAFTS, &editor).await;
    assert_eq!(res.status, 403, "{}", res.text);

    // A tenant disabled on the first node answers nobody but platform admins on the other.
    let (reader, _) = app.api_token(&root, "lecce", &["read", "preview"]).await;
    statements_of(&app, node, DRAFTS, &reader).await;
    statements_of(&app, node, DRAFTS, &reader).await;
    let disabled = app.patch("/api/v1/tenants/lecce", Some(&root), json!({"disabled": true})).await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    let res = get_on(&app, node, DRAFTS, &reader).await;
    assert!(matches!(res.status, 403 | 404), "a disabled tenant refuses its own token: {} {}", res.status, res.text);
    let res = get_on(&app, node, "/api/v1/t/lecce", &reader).await;
    assert!(matches!(res.status, 403 | 404), "{} {}", res.status, res.text);
    // …and comes back as soon as it is enabled again.
    assert_eq!(app.patch("/api/v1/tenants/lecce", Some(&root), json!({"disabled": false})).await.status, 200);
    assert_eq!(get_on(&app, node, DRAFTS, &reader).await.status, 200);
}

#[tokio::test]
async fn a_changed_content_type_is_used_at_once_on_every_node() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    let (token, _) = app.api_token(&root, "lecce", &["read", "preview", "write"]).await;
    let define = |max: u32| {
        json!({"singular": "Avviso", "plural": "Avvisi", "fields": [
            {"name": "title", "kind": "string", "label": "Titolo", "required": true, "max": max}
        ]})
    };
    let path = "/api/v1/t/lecce/content-types/avviso?force=true";
    assert_eq!(app.put(path, Some(&root), define(200)).await.status, 200);
    let node = other_node(&app).await;
    let node = node.as_ref();
    let post = |n: Option<&Node>| {
        let url = match n {
            Some(n) => format!("{}/api/v1/t/lecce/entries/avviso", n.address),
            None => app.url("/api/v1/t/lecce/entries/avviso"),
        };
        let req = app.client.post(url).bearer_auth(&token);
        async move {
            let body = json!({"status": "published", "data": {"title": format!("Avviso {}", uuid::Uuid::new_v4())}});
            cit_tests::read(req.json(&body).send().await.expect("sent")).await
        }
    };
    // Kept on the other node: a title of 43 characters is taken while the limit is 200…
    assert_eq!(post(node).await.status, 201);
    assert_eq!(post(node).await.status, 201);
    // …and refused there as soon as the first node lowers it to 20.
    let changed = app.put(path, Some(&root), define(20)).await;
    assert_eq!((changed.status, &changed.body["applied"]), (200, &json!(true)), "{}", changed.text);
    let refused = post(node).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
}
