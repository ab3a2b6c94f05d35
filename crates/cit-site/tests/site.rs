//! cit-site against a stand-in API over real HTTP: ETag revalidation, stale answers while the
//! API is down, themed errors, host routing, template overrides and hostile paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{HttpRequest, HttpResponse, web};
use cit_site::SiteSettings;
use serde_json::{Value, json};

/// A stand-in for the cit API: fixed JSON documents with strong ETags.
struct FakeApi {
    docs: HashMap<String, Value>,
    full: AtomicUsize,
    not_modified: AtomicUsize,
}

async fn fake(req: HttpRequest, api: web::Data<FakeApi>) -> HttpResponse {
    let key = req.path().to_owned();
    if req.query_string().contains("cursor=bad") {
        return HttpResponse::BadRequest().json(json!({"code": "invalid_query"}));
    }
    let Some(doc) = api.docs.get(&key) else {
        return HttpResponse::NotFound().json(json!({"code": "not_found"}));
    };
    let etag = format!("\"{:x}\"", doc.to_string().len() * 31 + key.len());
    if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        api.not_modified.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::NotModified().insert_header(("ETag", etag)).finish();
    }
    api.full.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().insert_header(("ETag", etag)).json(doc)
}

fn entry(ty: &str, slug: &str, data: Value) -> Value {
    json!({"id": format!("00000000-0000-7000-8000-{:012}", slug.len()), "type": ty, "locale": "it", "slug": slug,
           "status": "published", "data": data, "html": {}, "published_at": "2026-11-01T09:00:00Z",
           "updated_at": "2026-11-01T09:00:00Z"})
}

fn fake_docs() -> HashMap<String, Value> {
    let service = entry(
        "servizio",
        "protocollo",
        json!({"title": "Protocollo", "summary": "Protocollo informatico condiviso.", "category": "istanze-e-protocollo",
               "access_channel": "online", "service_status": "attivo", "description": "d", "how_to": "h"}),
    );
    let mut docs = HashMap::new();
    docs.insert("/api/v1/t/demo".into(), json!({"id": "demo", "name": "CIT Demo", "locales": ["it"]}));
    docs.insert("/api/v1/t/demo/entries/servizio".into(), json!({"data": [service.clone()], "next_cursor": null}));
    docs.insert("/api/v1/t/demo/entries/servizio/protocollo".into(), service);
    for ty in ["notizia", "evento", "progetto", "argomento", "pagina", "ente", "luogo", "documento", "pillola"] {
        docs.insert(format!("/api/v1/t/demo/entries/{ty}"), json!({"data": [], "next_cursor": null}));
    }
    docs
}

struct Running {
    api: Arc<FakeApi>,
    api_handle: actix_web::dev::ServerHandle,
    site: String,
    _themes: tempfile::TempDir,
}

async fn start() -> Running {
    start_with_ttl(0).await
}

async fn start_with_ttl(cache_ttl_secs: u64) -> Running {
    let api = Arc::new(FakeApi { docs: fake_docs(), full: AtomicUsize::new(0), not_modified: AtomicUsize::new(0) });
    let (port, api_handle) = common::fake_api(web::Data::from(api.clone()), fake);

    let themes = common::themes_dir();
    common::write_theme(themes.path(), "demo", &["demo.example"], "#9b1b30");
    // A broken partner folder must not take the others down.
    std::fs::create_dir_all(themes.path().join("broken")).unwrap();
    std::fs::write(themes.path().join("broken/theme.toml"), "name = 1\n").unwrap();

    let site = common::start_site(SiteSettings { cache_ttl_secs, ..common::settings(port, themes.path()) });
    Running { api, api_handle, site, _themes: themes }
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    common::parts(reqwest::get(url).await.unwrap()).await
}

/// Writes the demo partner's own version of a template.
fn override_template(app: &Running, name: &str, source: &str) {
    let templates = app._themes.path().join("demo/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join(name), source).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_revalidated_with_etags_and_served_stale_while_the_api_is_down() {
    let app = start().await;
    let (status, headers, body) = get(&format!("{}/demo/servizi", app.site)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Protocollo"));
    assert!(headers.get("x-cit-stale").is_none());
    let (full, revalidated) = (app.api.full.load(Ordering::SeqCst), app.api.not_modified.load(Ordering::SeqCst));

    let (status, _, _) = get(&format!("{}/demo/servizi", app.site)).await;
    assert_eq!(status, 200);
    assert_eq!(app.api.full.load(Ordering::SeqCst), full, "nothing changed: no full answer again");
    assert!(app.api.not_modified.load(Ordering::SeqCst) > revalidated, "revalidated with If-None-Match");

    for page in ["/demo/", "/demo/eventi"] {
        assert_eq!(get(&format!("{}{page}", app.site)).await.0, 200);
    }

    app.api_handle.stop(true).await;
    // Pages whose queries depend on the date (upcoming events) are cached too.
    for page in ["/demo/", "/demo/eventi"] {
        let (status, headers, _) = get(&format!("{}{page}", app.site)).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(headers.get("x-cit-stale").unwrap(), "1", "{page}");
    }
    let (status, headers, body) = get(&format!("{}/demo/servizi", app.site)).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("x-cit-stale").unwrap(), "1");
    assert!(headers.get("warning").unwrap().to_str().unwrap().starts_with("110 "));
    assert!(body.contains("data-cit=\"stale-notice\""));

    let (status, headers, body) = get(&format!("{}/demo/servizi/protocollo", app.site)).await;
    assert_eq!(status, 503, "never fetched, nothing cached");
    assert_eq!(headers.get("retry-after").unwrap(), "30");
    assert!(body.contains("Servizio momentaneamente non disponibile"));
    assert!(body.contains("/_assets/themes/demo/logo.svg"), "the error page is themed");
    assert!(!body.contains("Connection refused") && !body.contains("reqwest") && !body.contains(".rs:"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_are_found_by_host_name_or_path_and_unknown_ones_are_404() {
    let app = start().await;
    let client = reqwest::Client::new();
    let by_host = client.get(format!("{}/servizi", app.site)).header("Host", "demo.example").send().await.unwrap();
    assert_eq!(by_host.status().as_u16(), 200);
    assert!(by_host.text().await.unwrap().contains("CIT Demo"));

    let (status, _, _) = get(&format!("{}/broken/", app.site)).await;
    assert_eq!(status, 404, "an invalid theme is skipped");
    let (status, _, _) = get(&format!("{}/nessuno/", app.site)).await;
    assert_eq!(status, 404);
    let (status, _, index) = get(&format!("{}/", app.site)).await;
    assert_eq!(status, 200);
    assert!(index.contains("CIT Demo") && !index.contains("broken"));

    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = redirect.get(format!("{}/demo", app.site)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 301);
    assert_eq!(r.headers().get("location").unwrap(), "/demo/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paths_and_parameters_get_clean_answers() {
    let app = start().await;
    for (path, want) in [
        ("/_assets/themes/demo/theme.toml", 404),
        ("/_assets/themes/demo/..%2ftheme.toml", 404),
        ("/_assets/bi/../../package.json", 404),
        ("/_assets/base/.hidden", 404),
        ("/demo/servizi/%00", 404),
        ("/demo/servizi/a%2fb", 404),
        ("/demo/anteprima/servizio/protocollo", 403),
        ("/demo/anteprima/servizio/protocollo?token=nope", 403),
        ("/demo/anteprima/tipo-ignoto/x?token=cit_abc", 404),
        ("/demo/servizi?argomento=non-esiste", 404),
        ("/demo/notizie?cursor=%FF%FE", 200),
        ("/demo/notizie?cursor=bad", 404),
        ("/demo/cerca?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 200),
        ("/demo/a/b/c/d/e/f/g/h", 404),
    ] {
        let (status, _, body) = get(&format!("{}{path}", app.site)).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(!body.contains("panicked") && !body.contains("<script>alert"), "{path}");
    }
    // A preview asked with a token in the Authorization header (as the desk asks, server to
    // server): the token goes to the API (this fake one accepts any), the page is `no-store`, and
    // it is never kept for the next visitor, who has no token.
    let preview = format!("{}/demo/anteprima/servizio/protocollo", app.site);
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let r = client.get(&preview).bearer_auth("cit_any-token").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(r.headers().get("x-cit-page-cache").is_none());
    }
    assert_eq!(get(&preview).await.0, 403, "the anonymous visitor after it gets no preview");
    let long = "x".repeat(5000);
    let (status, _, _) = get(&format!("{}/demo/{long}", app.site)).await;
    assert!(status == 404 || status == 414 || status == 400, "{status}");
    let form = reqwest::Client::new()
        .post(format!("{}/demo/valutazione", app.site))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("rating=9&page=//evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let text = form.text().await.unwrap();
    assert!(!text.contains("evil.example"), "the return link stays on the site");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_template_overrides_the_base_one_and_assets_are_served() {
    let app = start().await;
    override_template(
        &app,
        "services.html",
        "{% extends \"base.html\" %}{% block content %}<h1>Catalogo su misura</h1>{% endblock %}",
    );
    let (status, _, body) = get(&format!("{}/demo/servizi", app.site)).await;
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Catalogo su misura</h1>"));

    let (status, headers, css) = get(&format!("{}/_assets/themes/demo/theme.css", app.site)).await;
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
    assert!(css.contains("--cit-primary:#9b1b30"));
    let (status, headers, _) = get(&format!("{}/_assets/themes/demo/logo.svg", app.site)).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "image/svg+xml");
    let (status, _, _) = get(&format!("{}/_assets/base/site.css", app.site)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_template_is_a_themed_500_without_details() {
    let app = start().await;
    override_template(&app, "projects.html", "{% extends \"base.html\" %}{% block content %}{{ 1 / 0 }}{% endblock %}");
    let (status, headers, body) = get(&format!("{}/demo/progetti", app.site)).await;
    assert_eq!(status, 500);
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert!(body.contains("Errore del sito"), "{body}");
    assert!(body.contains("/_assets/themes/demo/logo.svg"), "themed");
    assert!(!body.contains("projects.html") && !body.contains("division"), "no internal detail: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_pages_are_kept_only_while_their_api_answers_are_fresh() {
    let app = start_with_ttl(1).await;
    let url = format!("{}/demo/servizi/protocollo", app.site);
    let (status, headers, first) = get(&url).await;
    assert_eq!(status, 200, "{first}");
    assert!(headers.get("x-cit-page-cache").is_none());
    let asked = app.api.full.load(Ordering::SeqCst) + app.api.not_modified.load(Ordering::SeqCst);

    // Within the window the page is not rendered again, and the API is not asked.
    let (status, headers, again) = get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("x-cit-page-cache").map(|v| v.to_str().unwrap()), Some("hit"));
    assert_eq!(headers.get("cache-control").unwrap(), "public, max-age=30");
    assert!(headers.get("content-security-policy").is_some(), "a kept page has the security headers too");
    assert_eq!(again, first);
    assert_eq!(app.api.full.load(Ordering::SeqCst) + app.api.not_modified.load(Ordering::SeqCst), asked);

    // After it, the API is asked again (a 304 here) before the page is served.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, headers, _) = get(&url).await;
    assert_eq!(status, 200);
    assert!(headers.get("x-cit-page-cache").is_none(), "expired pages are rendered again");
    assert!(app.api.not_modified.load(Ordering::SeqCst) + app.api.full.load(Ordering::SeqCst) > asked);

    // A page made of stale answers (the API is down) is not kept.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.api_handle.stop(true).await;
    let (status, headers, _) = get(&url).await;
    assert_eq!(status, 200);
    assert!(headers.get("x-cit-stale").is_some());
    let (_, headers, _) = get(&url).await;
    assert!(headers.get("x-cit-page-cache").is_none(), "stale pages are not kept");
    assert!(headers.get("x-cit-stale").is_some());
}
