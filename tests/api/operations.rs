use cit_tests::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.body["status"], "ok");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");

    // The route of a path is remembered per worker (metrics.rs): asked again, and for another
    // path of the same pattern, it is still the pattern.
    for path in ["/api/v1/t/nowhere", "/api/v1/t/nowhere", "/api/v1/t/elsewhere"] {
        app.get(path, None).await;
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"cit_http_requests_total{method="GET",route="/readyz",status="200"} 1"#), "{metrics}");
    assert!(
        metrics.contains(r#"cit_http_requests_total{method="GET",route="/api/v1/t/{tenant}",status="404"} 3"#),
        "routes are labelled by pattern, not by path"
    );
    assert!(metrics.contains("cit_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metrics_count_requests_per_tenant_and_never_for_a_made_up_one() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for id in ["lecce", "genova"] {
        assert_eq!(app.create_tenant(&admin, id).await.status, 201);
    }
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/t/lecce", None).await.status, 200);
    }
    assert_eq!(app.get("/api/v1/t/lecce/entries/nothing", None).await.status, 404);
    assert_eq!(app.get("/api/v1/t/genova", None).await.status, 200);
    for made_up in ["nowhere", "elsewhere", "nowhere"] {
        assert_eq!(app.get(&format!("/api/v1/t/{made_up}"), None).await.status, 404);
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"cit_tenant_http_requests_total{status="2xx",tenant="lecce"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"cit_tenant_http_requests_total{status="4xx",tenant="lecce"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"cit_tenant_http_requests_total{status="2xx",tenant="genova"} 1"#), "{metrics}");
    assert!(!metrics.contains("nowhere") && !metrics.contains("elsewhere"), "a made-up tenant is no series: {metrics}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.header("x-request-id").map(str::len), Some(32));
    let echoed = app.client.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let hostile = app.client.get(app.url("/healthz")).header("x-request-id", "a b\"c").send().await.unwrap();
    assert_ne!(hostile.headers()["x-request-id"], "a b\"c");
}

#[tokio::test]
async fn unknown_routes_are_problems() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.code(), "not_found");
    assert_eq!(app.get("/api/v1/t/Not_A_Tenant", None).await.status, 404);
}

#[tokio::test]
async fn the_committed_openapi_document_matches_the_server() {
    let app = spawn_app().await;
    let served = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(served.status, 200);
    assert!(served.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json"))
        .expect("openapi/openapi.json is committed");
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert!(
        committed == served.body,
        "openapi/openapi.json is stale: run `cargo run -p cit -- openapi > openapi/openapi.json`"
    );
}

/// The Grafana dashboard in the repository reads only metrics the server really exports: a
/// renamed metric breaks this test, not a dashboard in production.
#[tokio::test]
async fn the_grafana_dashboard_reads_metrics_the_server_exports() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_eq!(app.create_tenant(&admin, "lecce").await.status, 201);
    assert_eq!(app.get("/api/v1/t/lecce", None).await.status, 200);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let exported: std::collections::HashSet<&str> =
        metrics.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/grafana/cit-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut read = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("cit_") {
                let name: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                rest = &rest[at + name.len()..];
                read.push(name);
            }
        }
    }
    assert!(read.len() >= 5, "the dashboard reads cit's metrics: {read:?}");
    for name in read {
        assert!(exported.contains(name.as_str()), "the dashboard reads {name}, which /metrics does not export");
    }
}
