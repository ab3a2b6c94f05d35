//! A campaign to 1,000 subscribers, sent by a `cit serve` process that is killed (SIGKILL) in
//! the middle of the sending and started again: every confirmed subscriber gets the message,
//! nobody else does, and no message is sent twice — beyond, at most, the one that was in flight
//! when the process died, which keeps its Message-ID (SMTP cannot tell the sender whether an
//! accepted message was recorded; see docs/engagement.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use cit_tests::TestDb;
use cit_tests::smtp::{Smtp, free_port};
use serde_json::{Value, json};

mod common;

use common::{Server, login};

const SUBSCRIBERS: usize = 1000;
const SUBJECT: &str = "Subject: Il mese del CIT";

/// (recipient, Message-ID) of every campaign message received.
fn campaign_messages(smtp: &Smtp) -> Vec<(String, String)> {
    let header = |m: &str, name: &str| {
        m.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).unwrap_or_default()
    };
    smtp.received()
        .iter()
        .filter(|m| m.contains(SUBJECT))
        .map(|m| (header(m, "X-RcptTo:"), header(m, "Message-ID:")))
        .collect()
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < until, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_campaign_to_1000_subscribers_is_sent_once_across_a_kill_and_a_restart() {
    let db = TestDb::new().await;
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, box_dir.path());
    let port = port.to_string();
    let env = [
        ("CIT_MAIL__TRANSPORT", "smtp"),
        ("CIT_MAIL__SMTP__HOST", "127.0.0.1"),
        ("CIT_MAIL__SMTP__PORT", port.as_str()),
        ("CIT_MAIL__SMTP__TLS", "none"),
        ("CIT_MAIL__POLL_MS", "20"),
        // A message claimed by the killed process is taken up again after this.
        ("CIT_MAIL__LEASE_SECS", "2"),
        ("CIT_REQUESTS__MIN_FILL_SECS", "0"),
        ("CIT_REQUESTS__PER_ADDRESS", "1000000"),
        ("CIT_REQUESTS__PER_TENANT", "1000000"),
        ("CIT_NEWSLETTER__PER_MINUTE", "60000"),
    ];
    let mut server = Server::start_with(&db, &env);
    let client = reqwest::Client::new();
    let admin = login(&client, &server.base).await;
    let base = server.base.clone();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = client.request(method, format!("{base}{path}")).bearer_auth(&admin);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let res = call(reqwest::Method::POST, "/api/v1/tenants", Some(json!({"id": "lecce", "name": "CIT Lecce"})))
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = call(reqwest::Method::PUT, "/api/v1/t/lecce/newsletter/lists/notizie", Some(json!({"title": "Notizie"})))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let form: Value = client
        .get(format!("{base}/api/v1/t/lecce/newsletter/lists/notizie"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = form["fill_token"].as_str().unwrap().to_owned();

    // 1,000 subscribers and two more: one never confirms, one confirms and leaves.
    let address = |i: usize| format!("lettore{i:04}@comune.example");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SUBSCRIBERS + 2 {
        let (client, base, token, email) = (client.clone(), base.clone(), token.clone(), address(i));
        tasks.spawn(async move {
            let body =
                json!({"email": email, "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token});
            let res = client
                .post(format!("{base}/api/v1/t/lecce/newsletter/lists/notizie/subscriptions"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
        });
        if tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    let mut links = HashMap::new();
    wait_until("every confirmation e-mail", Duration::from_secs(180), || {
        for m in smtp.received() {
            if let Some(at) = m.find("/newsletter/conferma/") {
                let token: String = m[at + "/newsletter/conferma/".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                let to = m.lines().find_map(|l| l.strip_prefix("X-RcptTo:")).unwrap_or("").trim().to_owned();
                links.insert(to, token);
            }
        }
        links.len() == SUBSCRIBERS + 2
    })
    .await;
    let never = address(SUBSCRIBERS);
    let leaver = address(SUBSCRIBERS + 1);
    for (to, token) in &links {
        if *to == never {
            continue;
        }
        let res = client
            .post(format!("{base}/api/v1/t/lecce/newsletter/confirmations"))
            .json(&json!({"token": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{to}");
    }
    // The leaver uses the link of the "already subscribed" answer.
    let body = json!({"email": leaver, "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token});
    client
        .post(format!("{base}/api/v1/t/lecce/newsletter/lists/notizie/subscriptions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut leave = String::new();
    wait_until("the answer to an address already subscribed", Duration::from_secs(30), || {
        leave = smtp
            .received()
            .iter()
            .filter(|m| m.contains(&format!("X-RcptTo: {leaver}")))
            .find_map(|m| {
                m.find("/newsletter/disiscrizione/").map(|at| {
                    m[at + "/newsletter/disiscrizione/".len()..].split_whitespace().next().unwrap_or("").to_owned()
                })
            })
            .unwrap_or_default();
        !leave.is_empty()
    })
    .await;
    let res = client.post(format!("{base}/api/v1/t/lecce/newsletter/unsubscribe/{leave}")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    let draft: Value = call(
        reqwest::Method::POST,
        "/api/v1/t/lecce/newsletter/campaigns",
        Some(json!({"list": "notizie", "subject": "Il mese del CIT", "body": "Le novità del mese."})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    let sent =
        call(reqwest::Method::POST, &format!("/api/v1/t/lecce/newsletter/campaigns/{id}/send"), None).await.unwrap();
    assert_eq!(sent.status(), 202);
    assert_eq!(sent.json::<Value>().await.unwrap()["recipients"], SUBSCRIBERS);

    // Killed in the middle of the sending.
    wait_until("a fifth of the messages", Duration::from_secs(120), || {
        campaign_messages(&smtp).len() >= SUBSCRIBERS / 5
    })
    .await;
    server.kill();
    let at_kill = campaign_messages(&smtp).len();
    assert!(at_kill < SUBSCRIBERS, "the kill came in the middle ({at_kill} sent)");

    let server = Server::start_with(&db, &env);
    wait_until("every subscriber's message after the restart", Duration::from_secs(240), || {
        let got = campaign_messages(&smtp);
        got.iter().map(|(to, _)| to.clone()).collect::<std::collections::HashSet<_>>().len() >= SUBSCRIBERS
    })
    .await;
    // Past one more lease, nothing else arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = campaign_messages(&smtp);
    let mut by_rcpt: HashMap<&str, Vec<&str>> = HashMap::new();
    for (to, mid) in &got {
        by_rcpt.entry(to).or_default().push(mid);
    }
    assert_eq!(by_rcpt.len(), SUBSCRIBERS, "every confirmed subscriber");
    assert!(!by_rcpt.contains_key(never.as_str()), "an unconfirmed address gets nothing");
    assert!(!by_rcpt.contains_key(leaver.as_str()), "an unsubscribed address gets nothing");
    let twice: Vec<_> = by_rcpt.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.len() <= 1, "at most the message in flight at the kill is sent again: {twice:?}");
    for (to, ids) in &twice {
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{to}: a resend keeps its Message-ID: {ids:?}");
    }
    let status: Value = client
        .get(format!("{}/api/v1/t/lecce/newsletter/campaigns/{id}", server.base))
        .bearer_auth(login(&client, &server.base).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status["status"].as_str(), status["sent"].as_u64(), status["waiting"].as_u64()),
        (Some("sent"), Some(SUBSCRIBERS as u64), Some(0)),
        "{status}"
    );
    println!("killed after {at_kill} of {SUBSCRIBERS}; sent again: {}", twice.len());
}
