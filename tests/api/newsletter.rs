//! The newsletter over HTTP, with the e-mails caught by a real SMTP server: double opt-in, the
//! consent recorded, a subscribe form that never tells who is subscribed, a campaign sent at a
//! pace through the outbox (resumed after a restart, each message once), one-click unsubscribe
//! withdrawing what was not sent yet, a digest of the latest content, and every refusal with
//! nothing stored.

use chrono::Duration;
use cit_api::clock::Clock;
use cit_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};

use super::requests::outbox;
use super::requests_mail::smtp_settings;
use cit_tests::smtp::{Smtp, free_port};

async fn fill_token(app: &TestApp, tenant: &str, list: &str) -> String {
    let res = app.get(&format!("/api/v1/t/{tenant}/newsletter/lists/{list}"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let token = res.body["fill_token"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(5));
    token
}

fn ask(email: &str, token: &str) -> Value {
    json!({"email": email, "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "website": ""})
}

async fn subscribe(app: &TestApp, tenant: &str, list: &str, email: &str) -> cit_tests::Res {
    let token = fill_token(app, tenant, list).await;
    app.post(&format!("/api/v1/t/{tenant}/newsletter/lists/{list}/subscriptions"), None, ask(email, &token)).await
}

/// The token at the end of `prefix` in a message.
fn token_after(mail: &str, prefix: &str) -> String {
    let at = mail.find(prefix).unwrap_or_else(|| panic!("{prefix} in {mail}")) + prefix.len();
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect::<String>()
        .trim_end_matches('.')
        .to_owned()
}

fn to<'a>(got: &'a [String], to: &str, what: &str) -> Vec<&'a String> {
    got.iter().filter(|m| m.contains(&format!("To: {to}")) && m.contains(what)).collect()
}

async fn tenant_with_list(app: &TestApp, tenant: &str) -> String {
    let admin = app.admin_token().await;
    assert_eq!(app.create_tenant(&admin, tenant).await.status, 201);
    let editor = app.member(&admin, tenant, &format!("redazione@{tenant}.example"), "editor").await;
    let res = app
        .put(
            &format!("/api/v1/t/{tenant}/newsletter/lists/notizie"),
            Some(&editor),
            json!({"title": "Notizie dal CIT", "description": "Una volta al mese."}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    editor
}

#[tokio::test]
async fn double_opt_in_a_paced_campaign_across_a_restart_and_one_click_unsubscribe() {
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, box_dir.path());
    let mut app = spawn_app_with(|s| {
        smtp_settings(port)(s);
        s.newsletter.per_minute = 2;
    })
    .await;
    let editor = tenant_with_list(&app, "lecce").await;
    let people = ["anna", "bruno", "carla", "dario", "elena"];
    for p in people {
        let res = subscribe(&app, "lecce", "notizie", &format!("{p}@comune-a.example")).await;
        assert_eq!((res.status, &res.body), (202, &json!({"received": true})), "{}", res.text);
    }
    let got = smtp.wait_for(5).await;
    // Nobody is subscribed before following the link; Elena never does.
    let before = app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", Some(&editor)).await;
    assert_eq!(
        (before.body["pending"].as_u64(), before.body["active"].as_u64()),
        (Some(5), Some(0)),
        "{}",
        before.text
    );
    for p in &people[..4] {
        let mails = to(&got, &format!("{p}@comune-a.example"), "Conferma l'iscrizione");
        assert_eq!(mails.len(), 1, "{p}: {got:?}");
        let token = token_after(mails[0], "/newsletter/conferma/");
        let res = app.post("/api/v1/t/lecce/newsletter/confirmations", None, json!({"token": token})).await;
        assert_eq!((res.status, res.body["status"].as_str()), (200, Some("active")), "{}", res.text);
        // Following it twice changes nothing.
        let again = app.post("/api/v1/t/lecce/newsletter/confirmations", None, json!({"token": token})).await;
        assert_eq!(again.body["status"], "active");
    }
    // Bruno asks again: the same answer, and an e-mail that says he is subscribed, with his link.
    let res = subscribe(&app, "lecce", "notizie", "bruno@comune-a.example").await;
    assert_eq!((res.status, &res.body), (202, &json!({"received": true})));
    let got = smtp.wait_for(6).await;
    let already = to(&got, "bruno@comune-a.example", "iscritto alla newsletter");
    assert_eq!(already.len(), 1, "{got:?}");
    let bruno_out = token_after(already[0], "/newsletter/disiscrizione/");

    let subs = app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", Some(&editor)).await;
    assert_eq!((subs.body["active"].as_u64(), subs.body["pending"].as_u64()), (Some(4), Some(1)), "{}", subs.text);
    let anna = subs.body["data"].as_array().unwrap().iter().find(|s| s["email"] == "anna@comune-a.example").unwrap();
    assert_eq!(anna["consent_version"], "2026-01");
    assert!(anna["consent_at"].is_string(), "the consent is recorded with its time: {anna}");

    // A campaign, paced at 2 a minute: Anna's message is due now, the others 30 s apart.
    let draft = app
        .post(
            "/api/v1/t/lecce/newsletter/campaigns",
            Some(&editor),
            json!({"list": "notizie", "subject": "Notizie di dicembre", "body": "# Dicembre\n\nIl nuovo **catalogo** dei servizi."}),
        )
        .await;
    assert_eq!((draft.status, draft.body["status"].as_str()), (201, Some("draft")), "{}", draft.text);
    let id = draft.body["id"].as_str().unwrap().to_owned();
    let sent = app.post(&format!("/api/v1/t/lecce/newsletter/campaigns/{id}/send"), Some(&editor), json!({})).await;
    assert_eq!((sent.status, sent.body["recipients"].as_u64()), (202, Some(4)), "{}", sent.text);
    let twice = app.post(&format!("/api/v1/t/lecce/newsletter/campaigns/{id}/send"), Some(&editor), json!({})).await;
    assert_eq!(twice.status, 409, "{}", twice.text);

    let got = smtp.wait_for(7).await;
    let first = to(&got, "anna@comune-a.example", "Subject: Notizie di dicembre");
    assert_eq!(first.len(), 1, "{got:?}");
    assert!(
        first[0].contains("List-Unsubscribe: <http://127.0.0.1:8081/lecce/newsletter/disiscrizione/"),
        "{}",
        first[0]
    );
    assert!(first[0].contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{}", first[0]);
    assert!(first[0].contains("Il nuovo **catalogo** dei servizi.") && first[0].contains("Per non riceverla pi"));
    let status = app.get(&format!("/api/v1/t/lecce/newsletter/campaigns/{id}"), Some(&editor)).await;
    assert_eq!((status.body["sent"].as_u64(), status.body["waiting"].as_u64()), (Some(1), Some(3)), "{}", status.text);
    assert_eq!(status.body["status"], "sending");

    // Bruno leaves with one click before his turn: his message is withdrawn.
    let view = app.get(&format!("/api/v1/t/lecce/newsletter/unsubscribe/{bruno_out}"), None).await;
    assert_eq!((view.status, view.body["status"].as_str()), (200, Some("active")), "{}", view.text);
    let out = app
        .post_raw(
            &format!("/api/v1/t/lecce/newsletter/unsubscribe/{bruno_out}"),
            None,
            "application/x-www-form-urlencoded",
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!((out.status, out.body["status"].as_str()), (200, Some("unsubscribed")), "{}", out.text);

    // A restart in the middle of the sending loses nothing and sends nothing twice.
    app.restart().await;
    app.clock.advance(Duration::minutes(3));
    let got = smtp.wait_for(9).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = if got.len() > 9 { got } else { smtp.received() };
    let campaign: Vec<&String> = got.iter().filter(|m| m.contains("Subject: Notizie di dicembre")).collect();
    assert_eq!(campaign.len(), 3, "Anna, Carla and Dario, each once: {got:?}");
    for p in ["anna", "carla", "dario"] {
        assert_eq!(to(&got, &format!("{p}@comune-a.example"), "Subject: Notizie di dicembre").len(), 1, "{p}");
    }
    assert!(to(&got, "bruno@comune-a.example", "Subject: Notizie di dicembre").is_empty(), "Bruno left");
    assert!(to(&got, "elena@comune-a.example", "Subject: Notizie di dicembre").is_empty(), "Elena never confirmed");
    let done = app.get(&format!("/api/v1/t/lecce/newsletter/campaigns/{id}"), Some(&editor)).await;
    assert_eq!(
        (done.body["status"].as_str(), done.body["sent"].as_u64(), done.body["waiting"].as_u64()),
        (Some("sent"), Some(3), Some(0)),
        "{}",
        done.text
    );
    assert_eq!(outbox(&app).await.0, 0);
}

#[tokio::test]
async fn bad_subscriptions_and_forged_links_are_refused_with_nothing_stored() {
    let app = spawn_app_with(|s| s.requests.per_address = 1000).await;
    let editor = tenant_with_list(&app, "lecce").await;
    let genova_editor = tenant_with_list(&app, "genova").await;
    let admin = app.admin_token().await;
    let author = app.member(&admin, "lecce", "autore@lecce.example", "author").await;
    let path = "/api/v1/t/lecce/newsletter/lists/notizie/subscriptions";
    let token = fill_token(&app, "lecce", "notizie").await;
    let genova_token = fill_token(&app, "genova", "notizie").await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"email": "not-an-address", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token}),
            422,
            "validation_failed",
        ),
        (json!({"email": "anna@a.example", "fill_token": token}), 422, "consent_required"),
        (
            json!({"email": "anna@a.example", "consent": {"accepted": false, "version": "2026-01"}, "fill_token": token}),
            422,
            "consent_required",
        ),
        (
            json!({"email": "anna@a.example", "consent": {"accepted": true, "version": "2019-01"}, "fill_token": token}),
            422,
            "consent_required",
        ),
        (
            json!({"email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "website": "x"}),
            400,
            "honeypot",
        ),
        (
            json!({"email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": genova_token}),
            422,
            "fill_token_invalid",
        ),
        (
            json!({"email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "name": "x"}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in &cases {
        let res = app.post(path, None, body.clone()).await;
        assert_eq!((res.status, res.code()), (*status, *code), "{body}: {}", res.text);
    }
    assert_eq!(
        app.post("/api/v1/t/lecce/newsletter/lists/nessuna/subscriptions", None, ask("a@a.example", &token))
            .await
            .status,
        404
    );
    let subs = app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", Some(&editor)).await;
    assert_eq!(subs.body["data"], json!([]), "nothing stored: {}", subs.text);
    assert_eq!(outbox(&app).await, (0, 0), "nothing sent");

    // Links: forged, for another tenant, expired.
    for forged in ["x", "a.b.c.d", &format!("{}.{}", uuid::Uuid::new_v4().simple(), "A".repeat(32))] {
        let res = app.post("/api/v1/t/lecce/newsletter/confirmations", None, json!({"token": forged})).await;
        assert_eq!((res.status, res.code(), res.field()), (422, "link_invalid", "token"), "{forged}");
        assert_eq!(app.get(&format!("/api/v1/t/lecce/newsletter/unsubscribe/{forged}"), None).await.status, 404);
        assert_eq!(
            app.post(&format!("/api/v1/t/lecce/newsletter/unsubscribe/{forged}"), None, json!({})).await.status,
            404
        );
    }
    let res = app.post(path, None, ask("anna@a.example", &token)).await;
    assert_eq!(res.status, 202);
    // The confirmation link is in the outbox row; read it as the worker would send it.
    let body =
        outbox_bodies(&app).await.into_iter().find(|b| b.contains("/newsletter/conferma/")).expect("a confirmation");
    let confirm = token_after(&body, "/newsletter/conferma/");
    let shown = app.get(&format!("/api/v1/t/lecce/newsletter/confirmations/{confirm}"), None).await;
    assert_eq!(
        (shown.status, shown.body["status"].as_str()),
        (200, Some("pending")),
        "looking confirms nothing: {}",
        shown.text
    );
    assert_eq!(app.get("/api/v1/t/lecce/newsletter/confirmations/a.b.c.d", None).await.code(), "link_invalid");
    let foreign = app.post("/api/v1/t/genova/newsletter/confirmations", None, json!({"token": confirm})).await;
    assert_eq!((foreign.status, foreign.code()), (422, "link_invalid"), "a Lecce link does not confirm in Genova");
    app.clock.advance(Duration::hours(49));
    let late = app.post("/api/v1/t/lecce/newsletter/confirmations", None, json!({"token": confirm})).await;
    assert_eq!((late.status, late.code()), (422, "link_expired"));
    let subs = app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", Some(&editor)).await;
    assert_eq!((subs.body["pending"].as_u64(), subs.body["active"].as_u64()), (Some(1), Some(0)));

    // Staff rights and bad campaigns.
    assert_eq!(
        app.put("/api/v1/t/lecce/newsletter/lists/altra", Some(&author), json!({"title": "Altra"})).await.status,
        403
    );
    assert_eq!(app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", Some(&author)).await.status, 403);
    assert_eq!(app.get("/api/v1/t/lecce/newsletter/lists/notizie/subscribers", None).await.status, 401);
    let bad_list = app.put("/api/v1/t/lecce/newsletter/lists/Non%20Valida", Some(&editor), json!({"title": ""})).await;
    assert_eq!(bad_list.status, 422, "{}", bad_list.text);
    let fields: Vec<&str> =
        bad_list.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["id", "title"]);
    for (body, field) in [
        (json!({"list": "notizie", "subject": "S", "body": "x", "digest": {}}), "body"),
        (json!({"list": "notizie", "subject": "S"}), "body"),
        (json!({"list": "notizie", "subject": " ", "body": "x"}), "subject"),
        (json!({"list": "nessuna", "subject": "S", "body": "x"}), "list"),
        (json!({"list": "notizie", "subject": "S", "digest": {"days": 0}}), "digest.days"),
    ] {
        let res = app.post("/api/v1/t/lecce/newsletter/campaigns", Some(&editor), body.clone()).await;
        assert_eq!((res.status, res.field()), (422, field), "{body}: {}", res.text);
    }
    let ours = app
        .post(
            "/api/v1/t/lecce/newsletter/campaigns",
            Some(&editor),
            json!({"list": "notizie", "subject": "S", "body": "x"}),
        )
        .await;
    let id = ours.body["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/t/genova/newsletter/campaigns/{id}"), Some(&genova_editor)).await.status, 404);
    assert_eq!(
        app.post(&format!("/api/v1/t/genova/newsletter/campaigns/{id}/send"), Some(&genova_editor), json!({}))
            .await
            .status,
        404
    );
    assert_eq!(app.get(&format!("/api/v1/t/lecce/newsletter/campaigns/{id}"), Some(&genova_editor)).await.status, 403);
}

/// The bodies of the messages in the outbox (sent or not).
async fn outbox_bodies(app: &TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT body FROM outbox".to_owned()))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "body").unwrap()).collect()
}

#[tokio::test]
async fn a_digest_gathers_the_latest_news_and_the_upcoming_events() {
    let app = spawn_app_with(|_| {}).await;
    let editor = tenant_with_list(&app, "lecce").await;
    let admin = app.admin_token().await;
    app.apply_preset(&admin, "lecce").await;
    let news = app
        .post("/api/v1/t/lecce/entries/notizia", Some(&admin), json!({"status": "published", "data": {"title": "Nuovo catalogo dei servizi", "summary": "Tutti i servizi del CIT.", "body": "Testo."}}))
        .await;
    assert_eq!(news.status, 201, "{}", news.text);
    let start = (app.clock.now() + Duration::days(20)).to_rfc3339();
    let event = app
        .post("/api/v1/t/lecce/entries/evento", Some(&admin), json!({"status": "published", "data": {"title": "Webinar pagoPA", "summary": "s", "kind": "webinar", "start": start}}))
        .await;
    assert_eq!(event.status, 201, "{}", event.text);
    let past = (app.clock.now() - Duration::days(20)).to_rfc3339();
    app.post("/api/v1/t/lecce/entries/evento", Some(&admin), json!({"status": "published", "data": {"title": "Incontro passato", "summary": "s", "kind": "incontro", "start": past}}))
        .await;
    let res = app
        .post("/api/v1/t/lecce/newsletter/campaigns", Some(&editor), json!({"list": "notizie", "subject": "Il mese del CIT", "digest": {"days": 30, "intro": "Le novità del mese."}}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let body = res.body["body"].as_str().unwrap();
    assert!(body.starts_with("Le novità del mese."), "{body}");
    assert!(
        body.contains("## Notizie")
            && body.contains("Nuovo catalogo dei servizi")
            && body.contains("/lecce/notizie/nuovo-catalogo-dei-servizi"),
        "{body}"
    );
    assert!(
        body.contains("## Prossimi eventi")
            && body.contains("Webinar pagoPA")
            && body.contains("/lecce/eventi/webinar-pagopa"),
        "{body}"
    );
    assert!(!body.contains("Incontro passato"), "{body}");
}
