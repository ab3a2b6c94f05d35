//! E-mail through a real SMTP server process (Python's aiosmtpd, storing what it receives in a
//! Maildir): delivered with the secret link, kept while the server is down and delivered after
//! it comes back across a restart of cit, and sent once with two API nodes.

use std::time::Duration;

use cit_api::Settings;
use cit_api::mail::{TlsMode, TransportKind};
use cit_tests::smtp::{Smtp, free_port};
use cit_tests::spawn_app_with;
use serde_json::json;

use super::requests::{assistance, fill_token, outbox, outbox_settled, setup};

pub(crate) fn smtp_settings(port: u16) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.mail.transport = TransportKind::Smtp;
        s.mail.smtp.host = "127.0.0.1".into();
        s.mail.smtp.port = port;
        s.mail.smtp.tls = TlsMode::None;
        s.mail.smtp.timeout_secs = 2;
        s.mail.poll_ms = 50;
        s.mail.backoff_secs = 5;
        s.requests.per_address = 100;
    }
}

#[tokio::test]
async fn the_reply_reaches_a_real_smtp_server_with_the_secret_link() {
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, box_dir.path());
    let app = spawn_app_with(smtp_settings(port)).await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent = app
        .post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "Firma digitale"))
        .await;
    let secret = sent.body["ticket"]["secret"].as_str().unwrap().to_owned();
    let reply =
        app.post("/api/v1/t/lecce/tickets/1/messages", Some(&operator), json!({"body": "Ecco la procedura."})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    let got = smtp.wait_for(3).await;
    let link = format!("http://127.0.0.1:8081/lecce/assistenza/ticket/{secret}");
    let answer: Vec<&String> = got.iter().filter(|m| m.contains("Risposta alla richiesta n. 1")).collect();
    assert_eq!(answer.len(), 1, "{got:?}");
    assert!(answer[0].contains("To: luca@comune-a.example") && answer[0].contains(&link), "{}", answer[0]);
    assert!(answer[0].contains("CIT lecce"), "the partner's name: {}", answer[0]);
    // The link works.
    let page = app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}"), None).await;
    assert_eq!(page.body["messages"][1]["body"], "Ecco la procedura.");
    assert_eq!(outbox_settled(&app, (0, 3)).await, (0, 3));
}

#[tokio::test]
async fn with_the_smtp_server_down_mail_waits_and_is_delivered_after_a_restart() {
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let mut app = spawn_app_with(smtp_settings(port)).await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent =
        app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "VPN")).await;
    assert_eq!(sent.status, 201, "acknowledged although mail cannot go out: {}", sent.text);
    let reply = app.post("/api/v1/t/lecce/tickets/1/messages", Some(&operator), json!({"body": "Provi ora."})).await;
    assert_eq!(reply.status, 201);

    // The worker tries, fails, and puts the messages back with a back-off.
    let access = cit_core::authorize_platform(&cit_core::Actor::System, cit_core::PlatformAction::SendMail).unwrap();
    let mut tried = false;
    for _ in 0..200 {
        if app.store.outbox_counts(&access).await.unwrap().retrying == 3 {
            tried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tried, "the worker attempted the messages and scheduled a retry");
    assert_eq!(outbox(&app).await, (3, 0), "waiting, none lost");

    // The server comes back; cit restarts; the back-off passes: everything is delivered once.
    let smtp = Smtp::start(port, box_dir.path());
    app.restart().await;
    app.clock.advance(chrono::Duration::seconds(60));
    let got = smtp.wait_for(3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().any(|m| m.contains("Provi ora.")));
    for _ in 0..40 {
        if outbox(&app).await == (0, 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outbox(&app).await, (0, 3));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 3, "nothing sent twice");
}

#[tokio::test]
async fn two_api_nodes_send_each_message_exactly_once() {
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, box_dir.path());
    let app = spawn_app_with(smtp_settings(port)).await;
    let node = app.another_node().await;
    setup(&app).await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    // Each request opens a ticket and e-mails the requester: 12 messages, sent by either node.
    for i in 0..12 {
        let mut body = assistance(&token, &format!("Richiesta {i}"));
        body["data"]["email"] = json!(format!("richiedente{i}@comune.example"));
        let res = app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, body).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let got = smtp.wait_for(12).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if got.len() < 12 { got } else { smtp.received() };
    let mut ids: Vec<String> = got
        .iter()
        .filter_map(|m| m.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).map(str::to_owned))
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!((total, ids.len()), (12, 12), "every message once: {ids:?}");
    assert_eq!(outbox_settled(&app, (0, 12)).await, (0, 12));
    node.handle.stop(true).await;
}
