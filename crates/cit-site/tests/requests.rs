//! The request pages of cit-site against a stand-in API over real HTTP: forms rendered from the
//! API's description, CSRF refusals that send nothing, the visitor's address forwarded, the API's
//! field errors next to their fields with the values kept, the ticket page and its reply, and the
//! two steps of the page rating. (The whole journey against the real API is in
//! tests/site/requests.test.mjs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use cit_site::SiteSettings;
use serde_json::{Value, json};

/// What the stand-in API received: path, X-Forwarded-For, JSON body.
#[derive(Default)]
struct Seen(Mutex<Vec<(String, Option<String>, Value)>>);

fn form(id: &str) -> Option<Value> {
    let privacy = json!({"version": "2026-01", "label": "Ho letto l'informativa sulla privacy", "url": "/privacy"});
    Some(match id {
        "contatti" => json!({"id": "contatti", "purpose": "contact", "title": "Scrivi al CIT", "description": null,
            "fields": [
                {"name": "nome", "kind": "string", "label": "Nome e cognome", "help": null, "required": true, "values": null, "min": null, "max": null, "max_length": 120.0},
                {"name": "email", "kind": "email", "label": "Email", "help": "Per risponderti", "required": true, "values": null, "min": null, "max": null, "max_length": null},
                {"name": "argomento", "kind": "enum", "label": "Argomento", "help": null, "required": false, "values": ["Servizi", "Formazione"], "min": null, "max": null, "max_length": null},
                {"name": "messaggio", "kind": "text", "label": "Messaggio", "help": null, "required": true, "values": null, "min": null, "max": null, "max_length": 2000.0}
            ],
            "privacy": privacy, "links": {"servizio": false, "ente": false}, "fill_token": "ft-contatti"}),
        "richiesta-assistenza" => {
            json!({"id": "richiesta-assistenza", "purpose": "assistance", "title": "Richiesta di assistenza",
            "fields": [
                {"name": "email", "kind": "email", "label": "Email", "required": true},
                {"name": "problema", "kind": "text", "label": "Descrivi il problema", "required": true}
            ],
            "privacy": privacy, "links": {"servizio": true, "ente": false}, "fill_token": "ft-assistenza"})
        }
        "valutazione-pagina" => json!({"id": "valutazione-pagina", "purpose": "feedback", "title": "Valutazione",
            "fields": [
                {"name": "rating", "kind": "integer", "label": "Voto", "required": true, "min": 1.0, "max": 5.0},
                {"name": "aspetti_positivi", "kind": "enum", "label": "Quali sono stati gli aspetti che hai preferito?", "values": ["a", "b", "c", "d", "altro"]},
                {"name": "difficolta", "kind": "enum", "label": "Dove hai incontrato le maggiori difficoltà?", "values": ["v", "w", "x", "problemi-tecnici", "altro"]},
                {"name": "dettagli", "kind": "text", "label": "Dettagli", "max_length": 200.0}
            ],
            "privacy": null, "links": {"servizio": false, "ente": false}, "fill_token": "ft-valutazione"}),
        _ => return None,
    })
}

fn ticket() -> Value {
    json!({"number": 7, "subject": "Protocollo bloccato", "state": "waiting", "created_at": "2026-12-01T09:00:00Z",
    "updated_at": "2026-12-01T10:00:00Z", "can_reply": true,
    "messages": [
        {"author": "requester", "author_name": "", "body": "Non si apre.", "created_at": "2026-12-01T09:00:00Z"},
        {"author": "staff", "author_name": "Anna", "body": "Riprovi <b>ora</b>.", "created_at": "2026-12-01T10:00:00Z"}
    ]})
}

async fn fake(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let path = req.path().trim_start_matches("/api/v1/t/demo").to_owned();
    let xff = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if req.method() == actix_web::http::Method::POST {
        seen.0.lock().unwrap().push((path.clone(), xff, json.clone()));
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("GET", []) => HttpResponse::Ok().json(json!({"id": "demo", "name": "CIT Demo", "locales": ["it"]})),
        ("GET", ["entries", "servizio", "assistenza"]) => HttpResponse::Ok().json(json!({
            "id": "00000000-0000-7000-8000-000000000001", "slug": "assistenza", "type": "servizio",
            "data": {"title": "Assistenza tecnica", "category": "assistenza-tecnica"}, "html": {}})),
        ("GET", ["entries", _]) => HttpResponse::Ok().json(json!({"data": [], "next_cursor": null})),
        ("GET", ["forms", id]) => match form(id) {
            Some(f) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(f),
            None => HttpResponse::NotFound().json(json!({"code": "not_found"})),
        },
        ("POST", ["forms", id, "submissions"]) => {
            if json["fill_token"].as_str()
                != form(id).and_then(|f| f["fill_token"].as_str().map(str::to_owned)).as_deref()
            {
                return HttpResponse::BadRequest().json(json!({"code": "fill_token_invalid"}));
            }
            if *id == "contatti" && json["data"].get("email").is_none() {
                return HttpResponse::UnprocessableEntity().json(json!({"code": "validation_failed", "errors": [
                    {"field": "data.email", "code": "required", "message": "a value is required"}]}));
            }
            let ticket = (*id == "richiesta-assistenza").then(|| json!({"number": 7, "secret": "s3cr3t-abc"}));
            HttpResponse::Created()
                .json(json!({"id": "0192", "form": id, "created_at": "2026-12-01T09:00:00Z", "ticket": ticket}))
        }
        ("GET", ["tickets", "by-secret", "s3cr3t-abc"]) => HttpResponse::Ok().json(ticket()),
        ("POST", ["tickets", "by-secret", "s3cr3t-abc", "messages"]) => HttpResponse::Created().json(ticket()),
        _ => HttpResponse::NotFound().json(json!({"code": "not_found"})),
    }
}

struct Running {
    seen: Arc<Seen>,
    site: String,
    _themes: tempfile::TempDir,
}

async fn start() -> Running {
    let seen = Arc::new(Seen::default());
    let (port, _) = common::fake_api(web::Data::from(seen.clone()), fake);
    let themes = common::themes_dir();
    common::write_theme(themes.path(), "demo", &[], "#0066cc");
    let site = common::start_site(SiteSettings {
        cache_ttl_secs: 30,
        api_timeout_secs: 5,
        secret: Some("test-secret".into()),
        ..common::settings(port, themes.path())
    });
    Running { seen, site: format!("{site}/demo"), _themes: themes }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of hidden field `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// GET a form page: its HTML and the CSRF cookie the site set.
async fn open(c: &reqwest::Client, url: &str) -> (String, String) {
    let resp = c.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(resp.headers()["cache-control"], "no-store", "{url}: a form page is never cached");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    (resp.text().await.unwrap(), cookie.split(';').next().unwrap().to_owned())
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut r = c.post(url).header("Content-Type", "application/x-www-form-urlencoded").body(body.to_owned());
    if let Some(k) = cookie {
        r = r.header("Cookie", k);
    }
    common::parts(r.send().await.unwrap()).await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_form_is_rendered_from_the_api_and_protected_against_csrf() {
    let app = start().await;
    let c = client();
    let (html, cookie) = open(&c, &format!("{}/contatti", app.site)).await;
    for want in [
        "name=\"f.nome\"",
        "type=\"email\"",
        "<textarea id=\"campo-messaggio\"",
        "type=\"radio\"",
        "name=\"consent\"",
        "name=\"website\"",
    ] {
        assert!(html.contains(want), "{want}");
    }
    let token = hidden(&html, "csrf");
    assert_eq!(hidden(&html, "fill_token"), "ft-contatti");

    // Without the cookie, with a forged token, or with the token of another form: refused, nothing sent.
    let body =
        format!("csrf={token}&fill_token=ft-contatti&f.nome=Ada&f.email=a%40b.it&f.messaggio=ciao&consent=2026-01");
    let (status, _, page) = post(&c, &format!("{}/contatti", app.site), None, &body).await;
    assert_eq!(status, 400);
    assert!(page.contains("sessione del modulo è scaduta"));
    assert!(page.contains("value=\"Ada\""), "values kept even then");
    let forged = body.replace(&token, "forged");
    assert_eq!(post(&c, &format!("{}/contatti", app.site), Some(&cookie), &forged).await.0, 400);
    let other = body.replace("fill_token=ft-contatti", "fill_token=ft-assistenza");
    assert_eq!(post(&c, &format!("{}/assistenza/richiesta", app.site), Some(&cookie), &other).await.0, 400);
    assert!(app.seen.0.lock().unwrap().is_empty(), "nothing reached the API");

    // A field the API refuses: the error next to it, the summary on top, the values kept.
    let missing = format!(
        "csrf={token}&fill_token=ft-contatti&f.nome=Ada+%3Cb%3E&f.messaggio={}&f.argomento=Formazione&consent=2026-01",
        enc("riga 1\nriga 2")
    );
    let (status, _, page) = post(&c, &format!("{}/contatti", app.site), Some(&cookie), &missing).await;
    assert_eq!(status, 422);
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"campo-email-aiuto campo-email-errore\""), "{page}");
    assert!(page.contains("id=\"campo-email-errore\">Questo campo è obbligatorio"));
    assert!(page.contains("<a href=\"#campo-email\">Email: Questo campo è obbligatorio"));
    assert!(page.contains("value=\"Ada &lt;b&gt;\""), "typed value kept, escaped");
    assert!(page.contains(">riga 1\nriga 2</textarea>"));
    assert!(page.contains("value=\"Formazione\" checked"));
    {
        let seen = app.seen.0.lock().unwrap();
        let (path, xff, sent) = seen.last().unwrap();
        assert_eq!(path, "/forms/contatti/submissions");
        assert_eq!(xff.as_deref(), Some("127.0.0.1"), "the visitor's address is forwarded");
        assert_eq!(sent["data"]["nome"], "Ada <b>");
        assert_eq!(sent["consent"], json!({"accepted": true, "version": "2026-01"}));
        assert_eq!(sent["website"], "");
    }

    let ok = format!("{missing}&f.email=ada%40comune.it");
    let (status, headers, page) = post(&c, &format!("{}/contatti", app.site), Some(&cookie), &ok).await;
    assert_eq!(status, 200);
    assert!(page.contains("Messaggio inviato"));
    assert!(headers.get("set-cookie").is_some(), "a new cookie after a success");
    // The same post again (a reload) is refused: the cookie changed.
    let fresh = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(post(&c, &format!("{}/contatti", app.site), Some(&fresh), &ok).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistance_request_gives_its_ticket_and_the_ticket_page_takes_a_reply() {
    let app = start().await;
    let c = client();
    let (html, cookie) = open(&c, &format!("{}/assistenza/richiesta?servizio=assistenza", app.site)).await;
    assert!(html.contains("Assistenza tecnica"), "the service is named");
    let token = hidden(&html, "csrf");
    let body = format!(
        "csrf={token}&fill_token=ft-assistenza&servizio=assistenza&f.email=a%40b.it&f.problema=bloccato&consent=2026-01"
    );
    let (status, _, page) = post(&c, &format!("{}/assistenza/richiesta", app.site), Some(&cookie), &body).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("class=\"cit-ticket-number\">7<"));
    assert!(page.replace("&#x2f;", "/").contains("/demo/assistenza/ticket/s3cr3t-abc"), "{page}");
    let sent = app.seen.0.lock().unwrap().last().unwrap().2.clone();
    assert_eq!(sent["servizio"], "00000000-0000-7000-8000-000000000001");

    let url = format!("{}/assistenza/ticket/s3cr3t-abc", app.site);
    let (html, cookie) = open(&c, &url).await;
    assert!(html.contains("In attesa di una tua risposta"));
    assert!(html.replace("&#x2f;", "/").contains("Riprovi &lt;b&gt;ora&lt;/b&gt;."), "staff text escaped");
    let token = hidden(&html, "csrf");
    let (status, _, page) = post(&c, &url, Some(&cookie), &format!("csrf={token}&messaggio=+")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"campo-messaggio-errore\">Scrivi il testo"));
    let (status, headers, _) = post(&c, &url, Some(&cookie), &format!("csrf={token}&messaggio=Funziona")).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/demo/assistenza/ticket/s3cr3t-abc?inviata=1");
    assert_eq!(app.seen.0.lock().unwrap().last().unwrap().2, json!({"body": "Funziona"}));
    assert_eq!(c.get(format!("{}/assistenza/ticket/forged", app.site)).send().await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_rating_is_confirmed_then_stored() {
    let app = start().await;
    let c = client();
    // The widget of a shared page posts without a token: nothing is stored yet.
    let (status, headers, page) = post(
        &c,
        &format!("{}/valutazione", app.site),
        None,
        "rating=2&negative=5&positive=1&details=boh&page=%2Fservizi",
    )
    .await;
    assert_eq!(status, 200);
    assert!(app.seen.0.lock().unwrap().is_empty());
    assert!(page.contains("data-element=\"feedback-rate-2\" checked"));
    assert!(page.contains("id=\"feedback-negative-5\" checked"), "the answer is kept");
    let cookie = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = hidden(&page, "csrf");
    let body = format!("rating=2&negative=5&details=boh&page=%2Fservizi&csrf={token}&fill_token=ft-valutazione");
    let (status, _, page) = post(&c, &format!("{}/valutazione", app.site), Some(&cookie), &body).await;
    assert_eq!(status, 200);
    assert!(page.contains("Grazie per il tuo parere"));
    let seen = app.seen.0.lock().unwrap();
    let (path, _, sent) = seen.last().unwrap();
    assert_eq!(path, "/forms/valutazione-pagina/submissions");
    assert_eq!(sent["data"], json!({"rating": 2, "difficolta": "altro", "dettagli": "boh"}));
    assert_eq!(sent["page"], "/servizi");
}
