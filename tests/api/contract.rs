//! The contract: a method a path does not have is a 405 with `Allow`, and the OpenAPI document
//! lists the problems each operation can answer. tests/contract/run tries the whole document with
//! a property-based tester; these pin the mechanisms.

use cit_tests::spawn_app;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_method_a_path_does_not_have_is_405_with_allow() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_tenant(&admin, "lecce").await;

    let cases: [(Method, &str, &str); 6] = [
        (Method::DELETE, "/api/v1/tenants", "GET, POST"),
        (Method::PUT, "/api/v1/tenants/lecce", "GET, PATCH"),
        (Method::POST, "/healthz", "GET"),
        (Method::PUT, "/api/v1/t/lecce/entries/notizia/some-slug", "GET, PATCH, DELETE"),
        (Method::PATCH, "/api/v1/t/lecce/graphql", "GET, POST"),
        (Method::POST, "/api/v1/t/lecce/content-types/notizia", "GET, PUT, DELETE"),
    ];
    for (method, path, allow) in cases {
        let res = app.request(method.clone(), path, Some(&admin), Some(json!({"name": "x"}))).await;
        assert_eq!(res.status, 405, "{method} {path}: {}", res.text);
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.code(), "method_not_allowed");
        assert_eq!(res.body["status"], 405);
    }
    // HEAD and OPTIONS are methods like the others: no route has them.
    let head = app.client.head(app.url("/api/v1/tenants")).send().await.unwrap();
    assert_eq!(head.status(), 405);
    assert_eq!(head.headers()["allow"], "GET, POST");

    // Nothing was done by the refused requests.
    let tenant = app.get("/api/v1/tenants/lecce", Some(&admin)).await;
    assert_eq!(tenant.body["name"], "CIT lecce");
    assert_eq!(app.get("/api/v1/tenants", Some(&admin)).await.body["data"].as_array().unwrap().len(), 1);

    // A path no route has is still a 404, whatever the method.
    for (method, path) in
        [(Method::DELETE, "/api/v1/nothing-here"), (Method::GET, "/api/v1/tenants/"), (Method::POST, "/healthz/x")]
    {
        let res = app.request(method.clone(), path, None, None).await;
        assert_eq!(res.status, 404, "{method} {path}");
        assert_eq!(res.code(), "not_found");
        assert!(res.header("allow").is_none());
    }
}

fn problem_statuses(op: &Value) -> Vec<String> {
    let responses = op["responses"].as_object().expect("responses");
    responses
        .iter()
        .filter(|(_, r)| r["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem")
        .map(|(status, _)| status.clone())
        .collect()
}

#[tokio::test]
async fn the_document_lists_the_problems_each_operation_can_answer() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.body;

    let create_tenant = &doc["paths"]["/api/v1/tenants"]["post"];
    let statuses = problem_statuses(create_tenant);
    for status in ["400", "401", "403", "409", "413", "415", "422"] {
        assert!(statuses.iter().any(|s| s == status), "POST /api/v1/tenants lists {status}: {statuses:?}");
    }
    assert!(
        create_tenant["responses"]["415"]["description"].as_str().unwrap().contains("unsupported_media_type"),
        "{}",
        create_tenant["responses"]["415"]
    );

    // The rules hold for every operation, not only the one above.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses = problem_statuses(op);
            let has = |s: &str| statuses.iter().any(|x| x == s);
            let name = format!("{} {path}", method.to_uppercase());
            if op["requestBody"]["content"].get("application/json").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(has(s), "{name} has a JSON body but does not list {s}");
                }
            }
            if op.get("security").is_some() {
                assert!(has("401") && has("403"), "{name} needs a token but does not list 401 and 403");
            }
            if path.contains('{') {
                assert!(has("404"), "{name} has path parameters but does not list 404");
            }
            let has_query = op["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
            if has_query {
                assert!(has("400"), "{name} has query parameters but does not list 400");
            }
        }
    }

    // Constraints the server enforces are declared.
    let search = &doc["paths"]["/api/v1/t/{tenant}/search"]["get"]["parameters"];
    let q = search.as_array().unwrap().iter().find(|p| p["name"] == "q").unwrap();
    assert_eq!(q["required"], true);
    assert_eq!(q["schema"]["minLength"], 1);
    let password = &doc["components"]["schemas"]["CreateUser"]["properties"]["password"];
    assert_eq!(password["minLength"], 10);
    let role = &doc["components"]["schemas"]["ChangeRole"]["properties"]["role"];
    assert_eq!(role["enum"], json!(["admin", "editor", "author", "member"]));
}

#[tokio::test]
async fn the_documented_413_and_415_are_what_a_post_answers() {
    let app = spawn_app_with_small_body().await;
    let admin = app.admin_token().await;
    let wrong_type = app.post_raw("/api/v1/tenants", Some(&admin), "text/plain", b"{\"id\":\"bari\"}".to_vec()).await;
    assert_eq!(wrong_type.status, 415);
    assert_eq!(wrong_type.header("content-type"), Some("application/problem+json"));
    assert_eq!(wrong_type.code(), "unsupported_media_type");
    let big = json!({"id": "bari", "name": "x".repeat(4096)});
    let too_large = app.post("/api/v1/tenants", Some(&admin), big).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.code(), "payload_too_large");
    assert_eq!(app.get("/api/v1/tenants/bari", Some(&admin)).await.status, 404, "nothing was stored");
}

async fn spawn_app_with_small_body() -> cit_tests::TestApp {
    cit_tests::spawn_app_with(|s| s.body_limit = 1024).await
}

#[tokio::test]
async fn deleting_a_type_that_others_refer_to_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_tenant(&admin, "lecce").await;
    app.apply_preset(&admin, "lecce").await;
    let before = app.get("/api/v1/t/lecce/content-types/argomento", None).await;
    assert_eq!(before.status, 200);

    let res = app.delete("/api/v1/t/lecce/content-types/argomento?force=true", Some(&admin)).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.code(), "type_in_use");
    assert!(res.body["detail"].as_str().unwrap().contains("argomento"), "{}", res.text);

    let after = app.get("/api/v1/t/lecce/content-types/argomento", None).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body["version"], before.body["version"]);
}
