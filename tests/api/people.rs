use cit_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn tenant_admins_manage_members_and_keep_one_admin() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    let admin = app.member(&root, "lecce", "admin@lecce.it", "admin").await;
    let me = app.get("/api/v1/me", Some(&admin)).await;
    let admin_id = me.body["id"].as_str().unwrap().to_owned();

    // A new person, created on the spot.
    let editor = app
        .post(
            "/api/v1/t/lecce/members",
            Some(&admin),
            json!({"email": "Redazione@Lecce.it", "role": "editor", "name": "Redazione", "password": "redazione-2026"}),
        )
        .await;
    assert_eq!(editor.status, 201, "{}", editor.text);
    assert_eq!(editor.body["email"], "redazione@lecce.it");
    assert_eq!(editor.body["role"], "editor");
    let editor_id = editor.body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(app.login("redazione@lecce.it", "redazione-2026").await.status, 200);

    // An existing person, found by email; adding them twice is a conflict.
    app.create_tenant(&root, "genova").await;
    let again = app
        .post("/api/v1/t/genova/members", Some(&root), json!({"email": "redazione@lecce.it", "role": "author"}))
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["user_id"], editor_id.as_str());
    let twice = app
        .post("/api/v1/t/lecce/members", Some(&admin), json!({"email": "redazione@lecce.it", "role": "author"}))
        .await;
    assert_eq!(twice.status, 409);

    // Unknown email without name and password.
    let unknown =
        app.post("/api/v1/t/lecce/members", Some(&admin), json!({"email": "ghost@lecce.it", "role": "member"})).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.field(), "email");
    let half = app
        .post(
            "/api/v1/t/lecce/members",
            Some(&admin),
            json!({"email": "ghost@lecce.it", "role": "member", "name": "Ghost"}),
        )
        .await;
    assert_eq!(half.status, 422);
    assert_eq!(half.field(), "password");

    // Roles change; an editor cannot manage people.
    let editor_token = app.token_for("redazione@lecce.it", "redazione-2026").await;
    assert_eq!(app.get("/api/v1/t/lecce/members", Some(&editor_token)).await.status, 403);
    let promoted =
        app.patch(&format!("/api/v1/t/lecce/members/{editor_id}"), Some(&admin), json!({"role": "admin"})).await;
    assert_eq!(promoted.status, 200);
    assert_eq!(promoted.body["role"], "admin");
    assert_eq!(
        app.get("/api/v1/t/lecce/members", Some(&editor_token)).await.status,
        200,
        "the new role applies at once"
    );

    // The last admin stays.
    app.delete(&format!("/api/v1/t/lecce/members/{editor_id}"), Some(&admin)).await;
    let demote =
        app.patch(&format!("/api/v1/t/lecce/members/{admin_id}"), Some(&admin), json!({"role": "editor"})).await;
    assert_eq!(demote.status, 409);
    assert_eq!(demote.code(), "last_admin");
    let leave = app.delete(&format!("/api/v1/t/lecce/members/{admin_id}"), Some(&admin)).await;
    assert_eq!(leave.status, 409);
    let members = app.get("/api/v1/t/lecce/members", Some(&admin)).await;
    assert_eq!(members.body["data"].as_array().unwrap().len(), 1);

    assert_eq!(app.delete("/api/v1/t/lecce/members/not-a-uuid", Some(&admin)).await.status, 404);
    let bad_role =
        app.patch(&format!("/api/v1/t/lecce/members/{admin_id}"), Some(&admin), json!({"role": "king"})).await;
    assert_eq!(bad_role.status, 422);
    assert_eq!(bad_role.field(), "role");
}

#[tokio::test]
async fn the_audit_log_says_who_did_what() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    let admin = app.member(&root, "lecce", "admin@lecce.it", "admin").await;
    let (_, token_id) = app.api_token(&admin, "lecce", &["read"]).await;
    app.delete(&format!("/api/v1/t/lecce/tokens/{token_id}"), Some(&admin)).await;

    let log = app.get("/api/v1/t/lecce/audit?limit=10", Some(&admin)).await;
    assert_eq!(log.status, 200);
    let actions: Vec<&str> =
        log.body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token.revoke", "token.create", "member.add", "tenant.create"]);
    let me = app.get("/api/v1/me", Some(&admin)).await;
    assert_eq!(log.body["data"][0]["actor"], format!("user:{}", me.body["id"].as_str().unwrap()));
    assert_eq!(log.body["data"][0]["object_id"], token_id.as_str());

    let too_many = app.get("/api/v1/t/lecce/audit?limit=100000", Some(&admin)).await;
    assert_eq!(too_many.status, 422);
    assert_eq!(too_many.field(), "limit");
    let nonsense = app.get("/api/v1/t/lecce/audit?limit=abc", Some(&admin)).await;
    assert_eq!(nonsense.status, 400);
    assert_eq!(nonsense.code(), "invalid_query");
}

#[tokio::test]
async fn platform_admins_create_users() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/users",
            Some(&root),
            json!({"email": "ops@cit.test", "name": "Ops", "password": "ops-password-1", "platform_admin": true}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(res.body.get("password_hash").is_none() && !res.text.contains("argon2"));
    let ops = app.token_for("ops@cit.test", "ops-password-1").await;
    assert_eq!(app.get("/api/v1/tenants", Some(&ops)).await.status, 200);
    let dup = app
        .post(
            "/api/v1/users",
            Some(&root),
            json!({"email": "OPS@cit.test", "name": "Ops", "password": "ops-password-1"}),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.field(), "email");
}
