//! Bad input gets a problem+json naming the field, and leaves the database as it was.

use cit_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::json;

async fn counts(app: &TestApp) -> (u64, u64) {
    (app.store.count_tenants().await.unwrap(), app.store.count_users().await.unwrap())
}

#[tokio::test]
async fn malformed_unknown_and_mistyped_input_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let before = counts(&app).await;

    let malformed =
        app.post_raw("/api/v1/tenants", Some(&root), "application/json", br#"{"id": "lecce", "name": "#.to_vec()).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.code(), "malformed_json");
    assert_eq!(malformed.header("content-type"), Some("application/problem+json"));

    let cases = [
        (json!({"id": "lecce", "name": "CIT Lecce", "colour": "red"}), "colour", "unknown_field"),
        (json!({"id": "lecce", "name": 42}), "name", "invalid_type"),
        (json!({"id": "lecce", "name": "CIT", "public_read": "yes"}), "public_read", "invalid_type"),
        (json!({"name": "CIT Lecce"}), "id", "missing_field"),
        (json!({"id": "Lecce Città", "name": "CIT Lecce"}), "id", "invalid_value"),
        (json!({"id": "api", "name": "CIT"}), "id", "invalid_value"),
        (json!({"id": "lecce", "name": "   "}), "name", "invalid_value"),
        (json!({"id": "lecce", "name": "CIT", "domains": ["not a host"]}), "domains[0]", "invalid_value"),
        (json!({"id": "lecce", "name": "CIT", "locales": ["italiano"]}), "locales[0]", "invalid_value"),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/tenants", Some(&root), body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.text);
        assert_eq!(res.code(), "validation_failed");
        assert_eq!(res.field(), field, "{body}");
        assert_eq!(res.body["errors"][0]["code"], code, "{body}");
    }

    let bad_emails = [
        json!({"email": "not-an-email", "name": "X", "password": "long-enough-1"}),
        json!({"email": "a@b", "name": "X", "password": "long-enough-1"}),
    ];
    for body in bad_emails {
        let res = app.post("/api/v1/users", Some(&root), body).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.field(), "email");
    }
    let short =
        app.post("/api/v1/users", Some(&root), json!({"email": "a@b.it", "name": "X", "password": "short"})).await;
    assert_eq!(short.field(), "password");

    let login_bad_email = app.post("/api/v1/auth/login", None, json!({"email": "nope", "password": "x"})).await;
    assert_eq!(login_bad_email.status, 422);
    assert_eq!(login_bad_email.field(), "email");

    let not_json = app.post_raw("/api/v1/tenants", Some(&root), "text/plain", b"id=lecce".to_vec()).await;
    assert_eq!(not_json.status, 415);
    assert_eq!(not_json.code(), "unsupported_media_type");

    let array = app.post("/api/v1/tenants", Some(&root), json!([1, 2])).await;
    assert_eq!(array.status, 422);

    assert_eq!(counts(&app).await, before, "no bad request wrote anything");
    assert_eq!(app.get("/api/v1/tenants", Some(&root)).await.body["data"], json!([]));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_nothing_changes() {
    let app = spawn_app_with(|s| s.body_limit = 4096).await;
    let root = app.admin_token().await;
    let before = counts(&app).await;
    let huge_name = "x".repeat(10_000);
    let res = app.post("/api/v1/tenants", Some(&root), json!({"id": "lecce", "name": huge_name})).await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert_eq!(res.code(), "payload_too_large");

    // Without a Content-Length (chunked), the cap still holds.
    let stream = futures_stream(20_000);
    let chunked = app
        .client
        .post(app.url("/api/v1/tenants"))
        .bearer_auth(&root)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status().as_u16(), 413);

    // Just under the limit is fine.
    let ok = app.post("/api/v1/tenants", Some(&root), json!({"id": "lecce", "name": "x".repeat(150)})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(counts(&app).await.0, before.0 + 1);
}

/// The body in 1 KB chunks, sent without a Content-Length.
fn futures_stream(size: usize) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let body = format!("{{\"id\": \"lecce\", \"name\": \"{}\"}}", "y".repeat(size));
    let parts: Vec<Result<Vec<u8>, std::io::Error>> = body.into_bytes().chunks(1000).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(parts)
}
