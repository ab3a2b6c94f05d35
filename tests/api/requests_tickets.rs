//! Assistance tickets: numbered per tenant, answered by staff, followed by the requester through
//! a secret link, audited, exported, and never visible from another tenant.

use cit_tests::spawn_app;
use serde_json::json;

use super::requests::{assistance, fill_token, give_forms, outbox, outbox_settled, setup};

fn mails(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| t.replace("=\r\n", "").replace("=\n", ""))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_ticket_goes_from_request_to_resolution_with_its_thread_and_audit() {
    let app = spawn_app().await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let me = app.get("/api/v1/me", Some(&operator)).await.body["id"].as_str().unwrap().to_owned();

    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent = app
        .post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "Protocollo fermo"))
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.body["ticket"]["number"], 1);
    let secret = sent.body["ticket"]["secret"].as_str().unwrap().to_owned();
    let second =
        app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "PEC")).await;
    assert_eq!(second.body["ticket"]["number"], 2);

    // The requester follows it by the secret; a forged one says nothing.
    let public = app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}"), None).await;
    assert_eq!(public.status, 200, "{}", public.text);
    assert_eq!((public.body["number"].as_i64(), public.body["state"].as_str()), (Some(1), Some("new")));
    assert_eq!(public.body["messages"][0]["body"], "Il protocollo informatico non si apre da stamattina.");
    assert_eq!(public.body["can_reply"], true);
    let forged = app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{}x", &secret[..secret.len() - 1]), None).await;
    assert_eq!((forged.status, forged.code()), (404, "not_found"));
    assert!(!forged.text.contains("Protocollo"));

    // The operator sees both, assigns the first to themself, notes and replies.
    let list = app.get("/api/v1/t/lecce/tickets", Some(&operator)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let numbers: Vec<i64> =
        list.body["data"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(list.body["data"][1]["category"], "assistenza-protocollo");
    assert_eq!(list.body["data"][1]["requester"]["email"], "luca@comune-a.example");
    let page = app.get("/api/v1/t/lecce/tickets?limit=1", Some(&operator)).await;
    assert_eq!(page.body["data"].as_array().map(Vec::len), Some(1));
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/api/v1/t/lecce/tickets?limit=1&cursor={cursor}"), Some(&operator)).await;
    assert_eq!(rest.body["data"][0]["number"], 1);

    let patched = app
        .patch(
            "/api/v1/t/lecce/tickets/1",
            Some(&operator),
            json!({"assignee": me, "state": "open", "priority": "high"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!((patched.body["state"].as_str(), patched.body["priority"].as_str()), (Some("open"), Some("high")));
    let stranger =
        app.patch("/api/v1/t/lecce/tickets/1", Some(&operator), json!({"assignee": uuid::Uuid::new_v4()})).await;
    assert_eq!((stranger.status, stranger.field()), (422, "assignee"));
    let bad_move = app.patch("/api/v1/t/lecce/tickets/2", Some(&operator), json!({"state": "new"})).await;
    assert_eq!(bad_move.status, 200, "staying put is fine");
    let waiting = app.get("/api/v1/t/lecce/tickets?state=open", Some(&operator)).await;
    assert_eq!(waiting.body["data"].as_array().map(Vec::len), Some(1));

    let total = |c: (u64, u64)| c.0 + c.1;
    let before = total(outbox(&app).await);
    let note = app
        .post(
            "/api/v1/t/lecce/tickets/1/messages",
            Some(&operator),
            json!({"body": "Nota interna: sentire il fornitore", "internal": true}),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.text);
    let reply = app
        .post(
            "/api/v1/t/lecce/tickets/1/messages",
            Some(&operator),
            json!({"body": "Abbiamo riavviato il servizio: riprovi?"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["state"], "waiting");
    assert!(reply.body["first_response_at"].is_string());
    assert_eq!(total(outbox(&app).await), before + 1, "the reply e-mails the requester; the note e-mails nobody");

    // The requester sees the reply and not the note, and answers.
    let public = app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}"), None).await;
    let bodies: Vec<&str> =
        public.body["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        ["Il protocollo informatico non si apre da stamattina.", "Abbiamo riavviato il servizio: riprovi?"]
    );
    assert!(!public.text.contains("Nota interna"));
    let answer = app
        .post(
            &format!("/api/v1/t/lecce/tickets/by-secret/{secret}/messages"),
            None,
            json!({"body": "Ora funziona, grazie!"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["state"], "open");
    let empty =
        app.post(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}/messages"), None, json!({"body": "  "})).await;
    assert_eq!((empty.status, empty.field()), (422, "body"));

    // Resolved, then closed: the requester can no longer write; the audit trail has it all.
    assert_eq!(app.patch("/api/v1/t/lecce/tickets/1", Some(&operator), json!({"state": "resolved"})).await.status, 200);
    let closed = app.patch("/api/v1/t/lecce/tickets/1", Some(&operator), json!({"state": "closed"})).await;
    assert_eq!(closed.body["state"], "closed");
    let late = app
        .post(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}/messages"), None, json!({"body": "ancora io"}))
        .await;
    assert_eq!((late.status, late.code()), (409, "ticket_closed"));
    assert_eq!(app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}"), None).await.body["can_reply"], false);
    let full = app.get("/api/v1/t/lecce/tickets/1", Some(&operator)).await;
    let actions: Vec<&str> =
        full.body["audit"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "ticket.create",
            "ticket.update",
            "ticket.note",
            "ticket.reply",
            "ticket.requester_reply",
            "ticket.update",
            "ticket.update"
        ]
    );
    assert_eq!(full.body["messages"].as_array().map(Vec::len), Some(4));
    // Reopening waits no longer than the window.
    app.clock.advance(chrono::Duration::days(30));
    let reopen = app.patch("/api/v1/t/lecce/tickets/1", Some(&operator), json!({"state": "open"})).await;
    assert_eq!((reopen.status, reopen.body["errors"][0]["code"].as_str()), (422, Some("reopen_window_passed")));
    // The link dies 90 days after closing.
    app.clock.advance(chrono::Duration::days(61));
    assert_eq!(app.get(&format!("/api/v1/t/lecce/tickets/by-secret/{secret}"), None).await.status, 404);

    // Ticket 2 was never answered: long overdue now. (Months later: log in again.)
    let operator = app.token_for("operatore@lecce.example", "member-password-1").await;
    let overdue = app.get("/api/v1/t/lecce/tickets?overdue=true", Some(&operator)).await;
    let numbers: Vec<i64> =
        overdue.body["data"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2]);
    assert_eq!(overdue.body["data"][0]["overdue"], true);

    let csv = app.client.get(app.url("/api/v1/t/lecce/tickets.csv")).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(csv.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("1,Protocollo fermo,closed,high,assistenza-protocollo,comune-di-a,"), "{csv}");
    assert!(lines[2].starts_with("2,PEC,new,normal,") && lines[2].ends_with(",true"), "{csv}");
}

#[tokio::test]
async fn tickets_stay_inside_their_tenant() {
    let app = spawn_app().await;
    let admin = setup(&app).await;
    app.create_tenant(&admin, "genova").await;
    give_forms(&app, "genova").await;
    let lecce_op = app.member(&admin, "lecce", "op@lecce.example", "operator").await;
    let genova_op = app.member(&admin, "genova", "op@genova.example", "operator").await;
    let member = app.member(&admin, "lecce", "socio@lecce.example", "member").await;

    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent = app
        .post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "Segreto di Lecce"))
        .await;
    let secret = sent.body["ticket"]["secret"].as_str().unwrap().to_owned();
    let token = fill_token(&app, "genova", "richiesta-assistenza").await;
    let g =
        app.post("/api/v1/t/genova/forms/richiesta-assistenza/submissions", None, assistance(&token, "Genova")).await;
    assert_eq!(g.body["ticket"]["number"], 1, "numbers are per tenant");

    for (method, path, body) in [
        ("GET", "/api/v1/t/lecce/tickets", None),
        ("GET", "/api/v1/t/lecce/tickets/1", None),
        ("GET", "/api/v1/t/lecce/tickets.csv", None),
        ("PATCH", "/api/v1/t/lecce/tickets/1", Some(json!({"state": "closed"}))),
        ("POST", "/api/v1/t/lecce/tickets/1/messages", Some(json!({"body": "intruso"}))),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for who in [&genova_op, &member] {
            let res = app.request(m.clone(), path, Some(who), body.clone()).await;
            assert!(res.status == 403 || res.status == 404, "{method} {path}: {}", res.status);
            assert!(!res.text.contains("Segreto"), "{}", res.text);
        }
    }
    // The secret of a Lecce ticket is no key to Genova, and Genova's operator sees only Genova.
    assert_eq!(app.get(&format!("/api/v1/t/genova/tickets/by-secret/{secret}"), None).await.status, 404);
    let theirs = app.get("/api/v1/t/genova/tickets/1", Some(&genova_op)).await;
    assert_eq!(theirs.body["subject"], "Genova");
    let ours = app.get("/api/v1/t/lecce/tickets/1", Some(&lecce_op)).await;
    assert_eq!(ours.body["subject"], "Segreto di Lecce");
    assert_eq!(ours.body["state"], "new", "the intruders changed nothing");
}

#[tokio::test]
async fn the_default_transport_writes_eml_files_with_the_secret_link() {
    let app = cit_tests::spawn_app_with(|s| s.mail.poll_ms = 50).await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent =
        app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "Stampanti")).await;
    let secret = sent.body["ticket"]["secret"].as_str().unwrap().to_owned();
    let reply =
        app.post("/api/v1/t/lecce/tickets/1/messages", Some(&operator), json!({"body": "Ci pensiamo noi."})).await;
    assert_eq!(reply.status, 201);
    let dir = app.db.data_dir().join("mail");
    let link = format!("http://127.0.0.1:8081/lecce/assistenza/ticket/{secret}");
    let mut found = Vec::new();
    for _ in 0..100 {
        found = mails(&dir);
        if found.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // To the operator (new request), to the requester (opened, then answered).
    assert_eq!(found.len(), 3, "{found:?}");
    let to_requester: Vec<&String> = found.iter().filter(|m| m.contains("To: luca@comune-a.example")).collect();
    assert_eq!(to_requester.len(), 2, "{found:?}");
    assert!(to_requester.iter().all(|m| m.contains(&link)), "{to_requester:?}");
    assert!(found.iter().any(|m| m.contains("To: operatore@lecce.example") && !m.contains(&secret)));
    assert_eq!(outbox_settled(&app, (0, 3)).await, (0, 3));
}
