use cit_tests::{TestApp, spawn_app};
use serde_json::json;

async fn two_tenants(app: &TestApp) -> String {
    let root = app.admin_token().await;
    app.create_tenant(&root, "lecce").await;
    app.create_tenant(&root, "genova").await;
    root
}

#[tokio::test]
async fn platform_admins_create_list_update_and_disable_tenants() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let created = app
        .post(
            "/api/v1/tenants",
            Some(&root),
            json!({"id": "lecce", "name": "CIT Lecce", "domains": ["CIT.Comune.Lecce.it"], "locales": ["it", "en"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["id"], "lecce");
    assert_eq!(created.body["domains"], json!(["cit.comune.lecce.it"]));
    assert_eq!(created.body["locales"], json!(["it", "en"]));
    assert_eq!(created.body["public_read"], true);
    assert_eq!(created.body["disabled"], false);

    let dup = app.post("/api/v1/tenants", Some(&root), json!({"id": "lecce", "name": "Again"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.field(), "id");

    app.create_tenant(&root, "genova").await;
    let list = app.get("/api/v1/tenants", Some(&root)).await;
    let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["genova", "lecce"]);

    let renamed = app.patch("/api/v1/tenants/lecce", Some(&root), json!({"name": "CIT Lecce e Provincia"})).await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.body["name"], "CIT Lecce e Provincia");
    assert_eq!(app.get("/api/v1/t/lecce", None).await.body["name"], "CIT Lecce e Provincia");

    assert_eq!(app.patch("/api/v1/tenants/nowhere", Some(&root), json!({"name": "x"})).await.status, 404);
    assert_eq!(app.get("/api/v1/tenants/nowhere", Some(&root)).await.status, 404);
}

#[tokio::test]
async fn only_platform_admins_provision_tenants() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let lecce_admin = app.member(&root, "lecce", "admin@lecce.it", "admin").await;
    let (token, _) = app.api_token(&root, "lecce", &["read", "preview", "write"]).await;
    for who in [Some(lecce_admin.as_str()), Some(token.as_str())] {
        assert_eq!(app.get("/api/v1/tenants", who).await.status, 403);
        assert_eq!(app.post("/api/v1/tenants", who, json!({"id": "brescia", "name": "CIT Brescia"})).await.status, 403);
        assert_eq!(app.patch("/api/v1/tenants/genova", who, json!({"disabled": true})).await.status, 403);
    }
    assert_eq!(app.post("/api/v1/tenants", None, json!({"id": "brescia", "name": "CIT Brescia"})).await.status, 401);
    assert_eq!(app.store.count_tenants().await.unwrap(), 2);
}

#[tokio::test]
async fn an_admin_of_lecce_gets_nothing_of_genova() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let lecce = app.member(&root, "lecce", "admin@lecce.it", "admin").await;
    let _genova_admin = app.member(&root, "genova", "admin@genova.it", "admin").await;
    let (genova_token, genova_token_id) = app.api_token(&root, "genova", &["read"]).await;

    // Lecce's admin does everything in Lecce...
    assert_eq!(app.get("/api/v1/t/lecce/members", Some(&lecce)).await.status, 200);
    assert_eq!(app.get("/api/v1/t/lecce/tokens", Some(&lecce)).await.status, 200);
    assert_eq!(app.get("/api/v1/t/lecce/audit", Some(&lecce)).await.status, 200);

    // ...and nothing in Genova.
    for path in ["/api/v1/t/genova/members", "/api/v1/t/genova/tokens", "/api/v1/t/genova/audit"] {
        let res = app.get(path, Some(&lecce)).await;
        assert_eq!(res.status, 403, "{path}");
        assert!(!res.text.contains("genova.it"), "no data leaks in the error: {}", res.text);
    }
    let steal = app.post("/api/v1/t/genova/tokens", Some(&lecce), json!({"name": "x", "scopes": ["write"]})).await;
    assert_eq!(steal.status, 403);
    let join =
        app.post("/api/v1/t/genova/members", Some(&lecce), json!({"email": "admin@lecce.it", "role": "admin"})).await;
    assert_eq!(join.status, 403);
    assert_eq!(app.delete(&format!("/api/v1/t/genova/tokens/{genova_token_id}"), Some(&lecce)).await.status, 403);

    // Addressing Genova's token through Lecce's URL finds nothing, and changes nothing.
    let sideways = app.delete(&format!("/api/v1/t/lecce/tokens/{genova_token_id}"), Some(&lecce)).await;
    assert_eq!(sideways.status, 404);
    assert_eq!(app.get("/api/v1/t/genova", Some(&genova_token)).await.status, 200, "Genova's token still works");

    // Lecce's lists hold nothing of Genova.
    let tokens = app.get("/api/v1/t/lecce/tokens", Some(&lecce)).await;
    assert_eq!(tokens.body["data"].as_array().unwrap().len(), 0);
    let members = app.get("/api/v1/t/lecce/members", Some(&lecce)).await;
    let emails: Vec<&str> =
        members.body["data"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["admin@lecce.it"]);
    let audit = app.get("/api/v1/t/lecce/audit", Some(&lecce)).await;
    assert!(!audit.text.contains("genova"), "{}", audit.text);

    let me = app.get("/api/v1/me", Some(&lecce)).await;
    assert_eq!(me.body["memberships"], json!([{"tenant": "lecce", "role": "admin"}]));
}

#[tokio::test]
async fn a_disabled_tenant_stops_answering() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let genova_admin = app.member(&root, "genova", "admin@genova.it", "admin").await;
    let (genova_token, _) = app.api_token(&root, "genova", &["read"]).await;

    let off = app.patch("/api/v1/tenants/genova", Some(&root), json!({"disabled": true})).await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["disabled"], true);

    for (who, token) in
        [("anonymous", None), ("its admin", Some(genova_admin.as_str())), ("its token", Some(genova_token.as_str()))]
    {
        let res = app.get("/api/v1/t/genova", token).await;
        assert_eq!(res.status, 403, "{who}");
        assert_eq!(res.code(), "tenant_disabled", "{who}");
    }
    assert_eq!(app.get("/api/v1/t/genova/members", Some(&genova_admin)).await.code(), "tenant_disabled");
    assert_eq!(app.get("/api/v1/t/lecce", None).await.status, 200, "other tenants carry on");
    assert_eq!(app.get("/api/v1/t/genova/members", Some(&root)).await.status, 200, "platform admins still see it");

    app.patch("/api/v1/tenants/genova", Some(&root), json!({"disabled": false})).await;
    assert_eq!(app.get("/api/v1/t/genova", Some(&genova_token)).await.status, 200);
}

#[tokio::test]
async fn api_token_scopes_are_enforced_and_revoked_tokens_refused() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let (read, read_id) = app.api_token(&root, "lecce", &["read"]).await;
    assert!(read.starts_with("cit_"));

    assert_eq!(app.get("/api/v1/t/lecce", Some(&read)).await.status, 200);
    for path in ["/api/v1/t/lecce/members", "/api/v1/t/lecce/tokens", "/api/v1/t/lecce/audit", "/api/v1/me"] {
        assert_eq!(app.get(path, Some(&read)).await.status, 403, "{path}");
    }
    let (write, _) = app.api_token(&root, "lecce", &["write"]).await;
    let mint = app.post("/api/v1/t/lecce/tokens", Some(&write), json!({"name": "more", "scopes": ["write"]})).await;
    assert_eq!(mint.status, 403, "a token cannot mint tokens, whatever its scope");
    assert_eq!(app.get("/api/v1/t/genova", Some(&write)).await.status, 403, "a token belongs to one tenant");

    // Secrets are never listed.
    let list = app.get("/api/v1/t/lecce/tokens", Some(&root)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert!(!list.text.contains(&read) && !list.text.contains(&write));
    assert_eq!(list.body["data"][0]["scopes"], json!(["read"]));

    let revoked = app.delete(&format!("/api/v1/t/lecce/tokens/{read_id}"), Some(&root)).await;
    assert_eq!(revoked.status, 204);
    let refused = app.get("/api/v1/t/lecce", Some(&read)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.code(), "invalid_token");
    assert_eq!(app.get("/api/v1/t/lecce", None).await.status, 200, "anonymous reads of public tenants still work");

    let bad_scope = app.post("/api/v1/t/lecce/tokens", Some(&root), json!({"name": "x", "scopes": ["admin"]})).await;
    assert_eq!(bad_scope.status, 422);
    assert_eq!(bad_scope.field(), "scopes[0]");
    let none = app.post("/api/v1/t/lecce/tokens", Some(&root), json!({"name": "x", "scopes": []})).await;
    assert_eq!(none.status, 422);
    assert_eq!(none.field(), "scopes");
}

#[tokio::test]
async fn an_expired_api_token_is_refused() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    let past = app
        .post(
            "/api/v1/t/lecce/tokens",
            Some(&root),
            json!({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.status, 422);
    assert_eq!(past.field(), "expires_at");
}

#[tokio::test]
async fn a_private_tenant_needs_credentials_to_read() {
    let app = spawn_app().await;
    let root = two_tenants(&app).await;
    app.patch("/api/v1/tenants/lecce", Some(&root), json!({"public_read": false})).await;
    let anon = app.get("/api/v1/t/lecce", None).await;
    assert_eq!(anon.status, 401);
    let (read, _) = app.api_token(&root, "lecce", &["read"]).await;
    assert_eq!(app.get("/api/v1/t/lecce", Some(&read)).await.status, 200);
    let member = app.member(&root, "lecce", "socio@comune.it", "member").await;
    assert_eq!(app.get("/api/v1/t/lecce", Some(&member)).await.status, 200);
    let outsider = app.member(&root, "genova", "other@genova.it", "admin").await;
    assert_eq!(app.get("/api/v1/t/lecce", Some(&outsider)).await.status, 403);
}
