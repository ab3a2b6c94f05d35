//! Forms and submissions from the public: what is served, what is accepted, and every abuse
//! defence refusing with a clear problem and nothing stored.

use cit_api::Settings;
use cit_core::forms::parse_forms;
use cit_core::{Action, Actor, PlatformAction, TenantId, authorize, authorize_platform};
use cit_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Gives `tenant` the preset's forms, as `cit schema apply` does.
pub async fn give_forms(app: &TestApp, tenant: &str) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/presets/cit.toml")).unwrap();
    let file = cit_core::content::SchemaFile::parse_toml(&text).unwrap();
    let forms = parse_forms(&file.forms).unwrap();
    let t = app.store.tenant(&TenantId::parse(tenant).unwrap()).await.unwrap().unwrap();
    let access = authorize(&Actor::System, t.facts(), Action::ManageSchema).unwrap();
    let report = app.store.scoped(&access).apply_forms(&forms, false, false).await.unwrap();
    assert_eq!(report.added.len(), 3, "{report:?}");
}

/// How many submissions `tenant` holds, read straight from the store.
pub async fn submissions(app: &TestApp, tenant: &str) -> u64 {
    let t = app.store.tenant(&TenantId::parse(tenant).unwrap()).await.unwrap().unwrap();
    let access = authorize(&Actor::System, t.facts(), Action::ReadRequests).unwrap();
    app.store.scoped(&access).count_submissions().await.unwrap()
}

/// Messages waiting in, and sent from, the outbox of every tenant.
pub async fn outbox(app: &TestApp) -> (u64, u64) {
    let access = authorize_platform(&Actor::System, PlatformAction::SendMail).unwrap();
    let c = app.store.outbox_counts(&access).await.unwrap();
    (c.waiting, c.sent)
}

/// The outbox's counts once they are `want`, or as they are after 5 s: the SMTP server has a
/// message a moment before the worker marks its row sent.
pub async fn outbox_settled(app: &TestApp, want: (u64, u64)) -> (u64, u64) {
    for _ in 0..100 {
        let now = outbox(app).await;
        if now == want {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    outbox(app).await
}

/// A fill token for `form`, aged past the minimum fill time.
pub async fn fill_token(app: &TestApp, tenant: &str, form: &str) -> String {
    let res = app.get(&format!("/api/v1/t/{tenant}/forms/{form}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let token = res.body["fill_token"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::seconds(5));
    token
}

pub fn contact(token: &str) -> Value {
    json!({
        "data": {"nome": "Maria Rossi", "email": "Maria@Comune.example", "oggetto": "Informazioni",
                 "messaggio": "<script>alert('x')</script> vorrei sapere di più"},
        "consent": {"accepted": true, "version": "2026-01"},
        "fill_token": token,
        "website": "",
        "page": "/contatti"
    })
}

pub fn assistance(token: &str, subject: &str) -> Value {
    json!({
        "data": {"nome": "Luca Bianchi", "email": "luca@comune-a.example", "oggetto": subject,
                 "descrizione": "Il protocollo informatico non si apre da stamattina."},
        "consent": {"accepted": true, "version": "2026-01"},
        "fill_token": token,
        "servizio": "assistenza-protocollo",
        "ente": "comune-di-a"
    })
}

pub async fn setup(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    app.create_tenant(&admin, "lecce").await;
    give_forms(app, "lecce").await;
    admin
}

#[tokio::test]
async fn forms_are_public_and_submissions_reach_only_the_staff() {
    let app = spawn_app().await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let author = app.member(&admin, "lecce", "autore@lecce.example", "author").await;

    let list = app.get("/api/v1/t/lecce/forms", None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["contatti", "richiesta-assistenza", "valutazione-pagina"]);
    let one = app.get("/api/v1/t/lecce/forms/valutazione-pagina", None).await;
    assert_eq!(one.header("cache-control"), Some("no-store"));
    assert_eq!(one.body["purpose"], "feedback");
    let rating = &one.body["fields"][0];
    assert_eq!(
        (rating["name"].as_str(), rating["kind"].as_str(), rating["min"].as_f64(), rating["max"].as_f64()),
        (Some("rating"), Some("integer"), Some(1.0), Some(5.0))
    );
    assert_eq!(app.get("/api/v1/t/lecce/forms/nope", None).await.status, 404);

    let token = fill_token(&app, "lecce", "contatti").await;
    let sent = app.post("/api/v1/t/lecce/forms/contatti/submissions", None, contact(&token)).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.body["form"], "contatti");
    assert!(sent.body["ticket"].is_null());
    let id = sent.body["id"].as_str().unwrap();

    // Only the staff read it; the script is kept as the text it was.
    assert_eq!(app.get("/api/v1/t/lecce/submissions", None).await.status, 401);
    assert_eq!(app.get("/api/v1/t/lecce/submissions", Some(&author)).await.status, 403);
    let seen = app.get(&format!("/api/v1/t/lecce/submissions/{id}"), Some(&operator)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["data"]["messaggio"], "<script>alert('x')</script> vorrei sapere di più");
    assert_eq!(seen.body["data"]["email"], "maria@comune.example");
    assert_eq!(seen.body["consent_version"], "2026-01");
    assert_eq!(seen.body["page"], "/contatti");
    let listed = app.get("/api/v1/t/lecce/submissions?form=contatti", Some(&operator)).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    // An operator has no content rights.
    let draft = app.post("/api/v1/t/lecce/entries/notizia", Some(&operator), json!({"data": {"title": "x"}})).await;
    assert_eq!(draft.status, 403, "{}", draft.text);

    // Another tenant's operator never sees it.
    app.create_tenant(&admin, "genova").await;
    let other = app.member(&admin, "genova", "operatore@genova.example", "operator").await;
    for path in [format!("/api/v1/t/lecce/submissions/{id}"), "/api/v1/t/lecce/submissions".into()] {
        let res = app.get(&path, Some(&other)).await;
        assert!(res.status == 403 || res.status == 404, "{path}: {}", res.status);
        assert!(!res.text.contains("Maria"), "{}", res.text);
    }
    assert_eq!(app.get(&format!("/api/v1/t/genova/submissions/{id}"), Some(&other)).await.status, 404);

    // The page rating is a submission too.
    let token = fill_token(&app, "lecce", "valutazione-pagina").await;
    let rated = app
        .post(
            "/api/v1/t/lecce/forms/valutazione-pagina/submissions",
            None,
            json!({"data": {"rating": 2, "difficolta": "indicazioni-confuse", "dettagli": "troppo lunga"}, "fill_token": token, "page": "/servizi/pago-pa"}),
        )
        .await;
    assert_eq!(rated.status, 201, "{}", rated.text);
    assert_eq!(submissions(&app, "lecce").await, 2);
}

#[tokio::test]
async fn every_abuse_defence_refuses_and_stores_nothing() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.requests.per_address = 12;
        s.requests.per_tenant = 1000;
    })
    .await;
    setup(&app).await;
    let url = "/api/v1/t/lecce/forms/contatti/submissions";
    let token = fill_token(&app, "lecce", "contatti").await;
    let before = (submissions(&app, "lecce").await, outbox(&app).await);

    let mut honeypot = contact(&token);
    honeypot["website"] = json!("http://spam.example");
    let cases: Vec<(Value, u16, &str)> = vec![
        (honeypot, 400, "honeypot"),
        (
            {
                let mut b = contact(&token);
                b["fill_token"] = json!("123.forged");
                b
            },
            400,
            "fill_token_invalid",
        ),
        (
            {
                let mut b = contact(&token);
                b["consent"] = Value::Null;
                b
            },
            422,
            "consent_required",
        ),
        (
            {
                let mut b = contact(&token);
                b["consent"]["version"] = json!("2020-01");
                b
            },
            422,
            "consent_required",
        ),
        (
            {
                let mut b = contact(&token);
                b["data"]["email"] = json!("non-una-email");
                b
            },
            422,
            "validation_failed",
        ),
        (
            {
                let mut b = contact(&token);
                b["data"]["extra"] = json!(1);
                b
            },
            422,
            "validation_failed",
        ),
        (
            {
                let mut b = contact(&token);
                b["data"]["messaggio"] = json!("x".repeat(5000));
                b
            },
            422,
            "validation_failed",
        ),
        (
            {
                let mut b = contact(&token);
                b["servizio"] = json!("pago-pa");
                b
            },
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let res = app.post(url, None, body.clone()).await;
        assert_eq!((res.status, res.code()), (status, code), "{body}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
    }
    let bad_email = app
        .post(url, None, {
            let mut b = contact(&token);
            b["data"]["email"] = json!("x");
            b
        })
        .await;
    assert_eq!(bad_email.field(), "email", "{}", bad_email.text);

    // Sent back at once: a robot.
    let fresh = app.get("/api/v1/t/lecce/forms/contatti", None).await.body["fill_token"].as_str().unwrap().to_owned();
    let res = app.post(url, None, contact(&fresh)).await;
    assert_eq!((res.status, res.code()), (400, "fill_too_fast"), "{}", res.text);
    // A token for another form, or kept for two days.
    let other =
        app.get("/api/v1/t/lecce/forms/valutazione-pagina", None).await.body["fill_token"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(app.post(url, None, contact(&other)).await.code(), "fill_token_invalid");
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(app.post(url, None, contact(&token)).await.code(), "fill_token_expired");

    // Ten megabytes: refused before it is read.
    let big = format!("{{\"data\": {{\"messaggio\": \"{}\"}}}}", "a".repeat(10 * 1024 * 1024));
    let res = app.post_raw(url, None, "application/json", big.into_bytes()).await;
    assert_eq!((res.status, res.code()), (413, "payload_too_large"));

    assert_eq!((submissions(&app, "lecce").await, outbox(&app).await), before, "nothing was stored");

    // The address has used its attempts: 429 with Retry-After, still nothing stored.
    let token = fill_token(&app, "lecce", "contatti").await;
    let res = app.post(url, None, contact(&token)).await;
    assert_eq!((res.status, res.code()), (429, "rate_limited"), "{}", res.text);
    assert!(res.header("retry-after").and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s > 0));
    assert_eq!(submissions(&app, "lecce").await, before.0);
}

#[tokio::test]
async fn the_tenant_limit_holds_across_addresses_and_proxies_are_trusted_only_from_loopback() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.requests.per_address = 2;
        s.requests.per_tenant = 3;
    })
    .await;
    setup(&app).await;
    let url = "/api/v1/t/lecce/forms/contatti/submissions";
    let token = fill_token(&app, "lecce", "contatti").await;
    let send = |ip: &'static str| {
        let body = contact(&token);
        let req = app.client.post(app.url(url)).header("x-forwarded-for", ip).json(&body);
        async move { cit_tests::read(req.send().await.unwrap()).await }
    };
    // The test talks from loopback, a trusted proxy: X-Forwarded-For names the end user.
    assert_eq!(send("192.0.2.1").await.status, 201);
    assert_eq!(send("192.0.2.1").await.status, 201);
    assert_eq!(send("192.0.2.1").await.status, 429, "two per address");
    assert_eq!(send("192.0.2.2").await.status, 201);
    let res = send("192.0.2.3").await;
    assert_eq!((res.status, res.code()), (429, "rate_limited"), "three per tenant");
    assert_eq!(submissions(&app, "lecce").await, 3);
}

/// The retention job anonymises a submission once its form's retention period has passed on
/// the server's clock, leaves younger ones and other tenants alone, and says so in the audit log.
#[tokio::test]
async fn retention_anonymises_only_what_is_past_its_period_and_audits_it() {
    let app = spawn_app().await;
    let admin = setup(&app).await;
    app.create_tenant(&admin, "genova").await;
    give_forms(&app, "genova").await;

    let token = fill_token(&app, "lecce", "contatti").await;
    let old = app.post("/api/v1/t/lecce/forms/contatti/submissions", None, contact(&token)).await;
    assert_eq!(old.status, 201, "{}", old.text);
    let old = old.body["id"].as_str().unwrap().to_owned();
    let token = fill_token(&app, "genova", "contatti").await;
    let genova = app.post("/api/v1/t/genova/forms/contatti/submissions", None, contact(&token)).await;
    assert_eq!(genova.status, 201, "{}", genova.text);
    let genova = genova.body["id"].as_str().unwrap().to_owned();

    // Nothing is due yet: the run changes nothing.
    assert_eq!(cit_api::requests::retention::run_once(&app.state).await.unwrap(), 0);

    // `contatti` keeps submissions 365 days. A year and a day on, a new one arrives in Lecce.
    app.clock.advance(chrono::Duration::days(366));
    let token = fill_token(&app, "lecce", "contatti").await;
    let young = app.post("/api/v1/t/lecce/forms/contatti/submissions", None, contact(&token)).await;
    assert_eq!(young.status, 201, "{}", young.text);
    let young = young.body["id"].as_str().unwrap().to_owned();
    // Genova's submission is as old as Lecce's: both are due; the young one is not.
    assert_eq!(cit_api::requests::retention::run_once(&app.state).await.unwrap(), 2);

    let admin = app.admin_token().await;
    let gone = app.get(&format!("/api/v1/t/lecce/submissions/{old}"), Some(&admin)).await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    assert!(!gone.text.contains("Maria") && !gone.text.contains("comune.example"), "{}", gone.text);
    let kept = app.get(&format!("/api/v1/t/lecce/submissions/{young}"), Some(&admin)).await;
    assert_eq!(kept.body["data"]["email"], "maria@comune.example", "{}", kept.text);
    let other = app.get(&format!("/api/v1/t/genova/submissions/{genova}"), Some(&admin)).await;
    assert!(!other.text.contains("Maria"), "{}", other.text);

    let audit = app.get("/api/v1/t/lecce/audit?limit=50", Some(&admin)).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let anonymised: Vec<&Value> =
        audit.body["data"].as_array().unwrap().iter().filter(|a| a["action"] == "submission.anonymise").collect();
    assert_eq!(anonymised.len(), 1, "{}", audit.text);
    assert_eq!(anonymised[0]["details"]["count"], 1);

    // A second run finds nothing more to do.
    assert_eq!(cit_api::requests::retention::run_once(&app.state).await.unwrap(), 0);
}
