//! Webhooks over real HTTP: a receiver started here on a free port (allowed by
//! `webhooks.allow_private`), signatures checked by a verifier written from the Standard Webhooks
//! specification in Python (not the server's signer), retries, automatic disabling, refused
//! targets and the tenant boundary.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cit_api::settings::Settings;
use cit_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::content::tema;

#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

/// An HTTP server that records each request and answers the given statuses in order, then 200.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(statuses: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.into_iter()));
        let task = {
            let got = got.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut socket, _)) = listener.accept().await else { return };
                    let got = got.clone();
                    let statuses = statuses.clone();
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 4096];
                        let head_end = loop {
                            let n = socket.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                        let headers: HashMap<String, String> = head
                            .lines()
                            .skip(1)
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                            .collect();
                        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                        while buf.len() < head_end + len {
                            let n = socket.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                        let status = statuses.lock().unwrap().next().unwrap_or(200);
                        got.lock().unwrap().push(Received { headers, body });
                        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                        let _ = socket.write_all(answer.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    });
                }
            })
        };
        Self { port, got, task }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/cit", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A worker polling often, retrying soon (the test moves the server's clock past each back-off),
/// giving up after 5 attempts, turning a subscription off after `disable_after` failures.
fn hooks(disable_after: u32) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.webhooks.allow_private = true;
        s.webhooks.poll_ms = 20;
        s.webhooks.backoff_ms = 100;
        s.webhooks.max_backoff_ms = 100;
        s.webhooks.timeout_ms = 2000;
        s.webhooks.max_attempts = 5;
        s.webhooks.disable_after = disable_after;
    }
}

/// Waits (at most 20 s) until `done` holds, moving the server's clock 150 ms at each look so
/// that deliveries waiting out a back-off come due.
async fn until(app: &TestApp, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        app.clock.advance(chrono::Duration::milliseconds(150));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out");
}

async fn tenant_with_type(app: &TestApp, tenant: &str) -> String {
    let admin = app.admin_token().await;
    app.create_tenant(&admin, tenant).await;
    let res = app.put(&format!("/api/v1/t/{tenant}/content-types/tema"), Some(&admin), tema()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    admin
}

async fn subscribe(app: &TestApp, admin: &str, tenant: &str, url: &str, events: &[&str]) -> Value {
    let res =
        app.post(&format!("/api/v1/t/{tenant}/webhooks"), Some(admin), json!({"url": url, "events": events})).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body
}

/// Checks a signature with Python's standard library, following the Standard Webhooks
/// specification (and with the `standardwebhooks` package too, where it is installed).
fn verify_in_python(secret: &str, r: &Received) -> String {
    const SCRIPT: &str = r#"
import base64, hashlib, hmac, sys, time
secret, msg_id, ts, header = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
fresh = abs(time.time() - int(ts)) < 300
ok = fresh and any(hmac.compare_digest(p[3:], expected) for p in header.split(" ") if p.startswith("v1,"))
try:
    from standardwebhooks.webhooks import Webhook
    Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": header})
except ImportError:
    pass
except Exception:
    ok = False
print("valid" if ok else "invalid")
"#;
    let h = |k: &str| r.headers.get(k).cloned().unwrap_or_default();
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT, secret, &h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(r.body.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn publishing_an_entry_delivers_one_signed_event() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app_with(hooks(10)).await;
    let admin = tenant_with_type(&app, "lecce").await;
    let hook = subscribe(&app, &admin, "lecce", &receiver.url(), &["entry.published"]).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    // The secret is shown once.
    let read = app.get(&format!("/api/v1/t/lecce/webhooks/{}", hook["id"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("secret").is_none(), "{}", read.text);
    assert!(!read.text.contains(&secret));

    // A draft sets off entry.created only: nothing for this subscription.
    let draft = app.post("/api/v1/t/lecce/entries/tema", Some(&admin), json!({"data": {"title": "Bozza"}})).await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    let published = app
        .post(
            "/api/v1/t/lecce/entries/tema",
            Some(&admin),
            json!({"data": {"title": "Webinar"}, "status": "published"}),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.text);
    until(&app, || !receiver.received().is_empty()).await;
    // Give a second (wrong) delivery the time to arrive.
    for _ in 0..10 {
        app.clock.advance(chrono::Duration::milliseconds(150));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(verify_in_python(&secret, r), "valid", "{r:?}");
    // A tampered body does not verify.
    let tampered = Received { body: r.body.replace("Webinar", "webinar"), ..r.clone() };
    let tampered = Received { body: tampered.body.replace("published", "publishe_"), ..tampered };
    assert_eq!(verify_in_python(&secret, &tampered), "invalid");

    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], "entry.published");
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["id"], published.body["id"]);
    assert_eq!(body["data"]["content_type"], "tema");
    assert_eq!(body["data"]["status"], "published");
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));

    let log =
        app.get(&format!("/api/v1/t/lecce/webhooks/{}/deliveries", hook["id"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(log.status, 200, "{}", log.text);
    let d = &log.body["data"][0];
    assert_eq!(log.body["data"].as_array().unwrap().len(), 1, "{}", log.text);
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["id"].as_str(), r.headers.get("webhook-id").map(String::as_str));
    assert_eq!(d["attempts"][0]["status_code"], 200);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt() {
    let receiver = Receiver::start(vec![500, 503, 502]).await;
    let app = spawn_app_with(hooks(10)).await;
    let admin = tenant_with_type(&app, "lecce").await;
    let hook = subscribe(&app, &admin, "lecce", &receiver.url(), &["entry.created"]).await;
    let id = hook["id"].as_str().unwrap();
    let created = app.post("/api/v1/t/lecce/entries/tema", Some(&admin), json!({"data": {"title": "Uno"}})).await;
    assert_eq!(created.status, 201);

    let deliveries = format!("/api/v1/t/lecce/webhooks/{id}/deliveries");
    until(&app, || receiver.received().len() >= 4).await;
    let mut log = app.get(&deliveries, Some(&admin)).await;
    for _ in 0..100 {
        if log.body["data"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = app.get(&deliveries, Some(&admin)).await;
    }
    let d = &log.body["data"][0];
    assert_eq!(d["status"], "delivered", "{}", log.text);
    let attempts = d["attempts"].as_array().unwrap();
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(502), &json!(200)], "{}", log.text);
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"), "{}", log.text);
    assert!(attempts[3]["error"].is_null());
    // The same message each time: one webhook-id, one body.
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.headers["webhook-id"] == got[0].headers["webhook-id"] && r.body == got[0].body));
    // A success resets the count of failures.
    let hook = app.get(&format!("/api/v1/t/lecce/webhooks/{id}"), Some(&admin)).await;
    assert_eq!(hook.body["consecutive_failures"], 0);
    assert_eq!(hook.body["enabled"], true);

    // Manual redelivery sends it once more, with the same id.
    let again = app
        .post(
            &format!("/api/v1/t/lecce/webhooks/{id}/deliveries/{}/redeliver", d["id"].as_str().unwrap()),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.text);
    until(&app, || receiver.received().len() >= 5).await;
    assert_eq!(receiver.received()[4].headers["webhook-id"], got[0].headers["webhook-id"]);
}

#[tokio::test]
async fn a_dead_receiver_ends_with_the_subscription_turned_off_and_the_reason() {
    // A free port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(hooks(3)).await;
    let admin = tenant_with_type(&app, "lecce").await;
    let url = format!("http://127.0.0.1:{port}/hooks");
    let hook = subscribe(&app, &admin, "lecce", &url, &["entry.created", "entry.deleted"]).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let created = app.post("/api/v1/t/lecce/entries/tema", Some(&admin), json!({"data": {"title": "Uno"}})).await;
    assert_eq!(created.status, 201);

    let path = format!("/api/v1/t/lecce/webhooks/{id}");
    let mut state = app.get(&path, Some(&admin)).await;
    for _ in 0..500 {
        if state.body["enabled"] == false {
            break;
        }
        app.clock.advance(chrono::Duration::milliseconds(150));
        tokio::time::sleep(Duration::from_millis(20)).await;
        state = app.get(&path, Some(&admin)).await;
    }
    assert_eq!(state.body["enabled"], false, "{}", state.text);
    let reason = state.body["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("3 consecutive failed attempts") && reason.contains("connect"), "{reason}");

    let log = app.get(&format!("{path}/deliveries"), Some(&admin)).await;
    let d = &log.body["data"][0];
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{}", log.text);
    assert!(attempts.iter().all(|a| a["status_code"].is_null() && a["error"].as_str().unwrap().contains("connect")));

    // Turned off, it gets no new deliveries; turned on again, it does.
    let deleted = app
        .delete(&format!("/api/v1/t/lecce/entries/tema/{}", created.body["id"].as_str().unwrap()), Some(&admin))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let log = app.get(&format!("{path}/deliveries"), Some(&admin)).await;
    assert_eq!(log.body["data"].as_array().unwrap().len(), 1, "{}", log.text);
    let on = app.patch(&path, Some(&admin), json!({"enabled": true})).await;
    assert_eq!(on.status, 200, "{}", on.text);
    assert_eq!(on.body["consecutive_failures"], 0);
    assert!(on.body["disabled_reason"].is_null());
}

#[tokio::test]
async fn private_targets_are_refused_unless_the_operator_allows_them() {
    let app = spawn_app_with(|_| {}).await;
    let admin = tenant_with_type(&app, "lecce").await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://localhost/",
    ] {
        let res =
            app.post("/api/v1/t/lecce/webhooks", Some(&admin), json!({"url": url, "events": ["entry.created"]})).await;
        assert_eq!(res.status, 422, "{url}: {}", res.text);
        assert_eq!(res.field(), "url", "{}", res.text);
        assert!(res.text.contains("private"), "{}", res.text);
    }
    for (body, field) in [
        (json!({"url": "ftp://hooks.example.org/", "events": ["entry.created"]}), "url"),
        (json!({"url": "https://hooks.example.org/", "events": ["entry.exploded"]}), "events[0]"),
        (json!({"url": "https://hooks.example.org/", "events": []}), "events"),
    ] {
        let res = app.post("/api/v1/t/lecce/webhooks", Some(&admin), body).await;
        assert_eq!(res.status, 422, "{}", res.text);
        assert_eq!(res.field(), field, "{}", res.text);
    }
    let list = app.get("/api/v1/t/lecce/webhooks", Some(&admin)).await;
    assert_eq!(list.body["data"], json!([]), "nothing stored: {}", list.text);
    // A public target is fine, and a patch to a private one is refused too.
    let ok = subscribe(&app, &admin, "lecce", "https://hooks.example.org/cit", &["entry.created"]).await;
    let path = format!("/api/v1/t/lecce/webhooks/{}", ok["id"].as_str().unwrap());
    let res = app.patch(&path, Some(&admin), json!({"url": "http://192.168.1.10/"})).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(app.get(&path, Some(&admin)).await.body["url"], "https://hooks.example.org/cit");
}

#[tokio::test]
async fn another_tenant_cannot_see_or_touch_a_subscription() {
    let app = spawn_app_with(|_| {}).await;
    let root = tenant_with_type(&app, "lecce").await;
    app.create_tenant(&root, "genova").await;
    let lecce_admin = app.member(&root, "lecce", "admin@lecce.example", "admin").await;
    let genova_admin = app.member(&root, "genova", "admin@genova.example", "admin").await;
    let editor = app.member(&root, "lecce", "editor@lecce.example", "editor").await;
    let hook = subscribe(&app, &lecce_admin, "lecce", "https://hooks.example.org/lecce", &["entry.created"]).await;
    let id = hook["id"].as_str().unwrap();

    // Genova's admin, in Genova's own routes, finds nothing of Lecce's.
    let theirs = format!("/api/v1/t/genova/webhooks/{id}");
    assert_eq!(app.get(&theirs, Some(&genova_admin)).await.status, 404);
    assert_eq!(app.patch(&theirs, Some(&genova_admin), json!({"enabled": false})).await.status, 404);
    assert_eq!(app.get(&format!("{theirs}/deliveries"), Some(&genova_admin)).await.status, 404);
    assert_eq!(app.delete(&theirs, Some(&genova_admin)).await.status, 404);
    assert_eq!(app.get("/api/v1/t/genova/webhooks", Some(&genova_admin)).await.body["data"], json!([]));
    // In Lecce's routes, Genova's admin is not a member; Lecce's editor is not an admin.
    let ours = format!("/api/v1/t/lecce/webhooks/{id}");
    assert_eq!(app.get(&ours, Some(&genova_admin)).await.status, 403);
    assert_eq!(app.get(&ours, Some(&editor)).await.status, 403);
    assert_eq!(app.get("/api/v1/t/lecce/webhooks", None).await.status, 401);
    // Still there, unchanged.
    let still = app.get(&ours, Some(&lecce_admin)).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.body["enabled"], true);
    assert_eq!(app.delete(&ours, Some(&lecce_admin)).await.status, 204);
    assert_eq!(app.get(&ours, Some(&lecce_admin)).await.status, 404);
}

#[tokio::test]
async fn two_api_nodes_deliver_each_event_exactly_once() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app_with(hooks(10)).await;
    if !app.db.is_postgres() {
        // SQLite is one API process per database file: several nodes need PostgreSQL.
        return;
    }
    let node = app.another_node().await;
    let admin = tenant_with_type(&app, "lecce").await;
    subscribe(&app, &admin, "lecce", &receiver.url(), &["entry.created"]).await;
    for i in 0..12 {
        let res = app
            .post("/api/v1/t/lecce/entries/tema", Some(&admin), json!({"data": {"title": format!("Voce {i}")}}))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    until(&app, || receiver.received().len() >= 12).await;
    // Both workers keep polling a while longer: a second send of any row would show up here.
    for _ in 0..15 {
        app.clock.advance(chrono::Duration::milliseconds(150));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut ids: Vec<String> = receiver.received().iter().map(|r| r.headers["webhook-id"].clone()).collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!((total, ids.len()), (12, 12), "every event once: {ids:?}");
    node.handle.stop(true).await;
}

#[tokio::test]
async fn a_scheduled_publication_sends_entry_published() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app_with(hooks(10)).await;
    let admin = tenant_with_type(&app, "lecce").await;
    subscribe(&app, &admin, "lecce", &receiver.url(), &["entry.published"]).await;
    let at = cit_core::clock::Clock::now(app.clock.as_ref()) + chrono::Duration::minutes(5);
    let res = app
        .post(
            "/api/v1/t/lecce/entries/tema",
            Some(&admin),
            json!({"data": {"title": "Più tardi"}, "publish_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "draft");
    app.clock.set(at + chrono::Duration::seconds(1));
    assert_eq!(app.tick().await.published.len(), 1);
    until(&app, || !receiver.received().is_empty()).await;
    let body: Value = serde_json::from_str(&receiver.received()[0].body).unwrap();
    assert_eq!(body["type"], "entry.published");
    assert_eq!(body["data"]["id"], res.body["id"]);
}

#[tokio::test]
async fn media_content_types_submissions_and_tickets_are_events_too() {
    use super::requests::{assistance, fill_token, give_forms};
    let receiver = Receiver::start(vec![]).await;
    let other = Receiver::start(vec![]).await;
    let app = spawn_app_with(hooks(10)).await;
    let admin = app.admin_token().await;
    app.create_tenant(&admin, "lecce").await;
    app.create_tenant(&admin, "genova").await;
    give_forms(&app, "lecce").await;
    let events = [
        "media.created",
        "media.deleted",
        "content_type.changed",
        "submission.created",
        "ticket.created",
        "ticket.updated",
    ];
    let hook = subscribe(&app, &admin, "lecce", &receiver.url(), &events).await;
    subscribe(&app, &admin, "genova", &other.url(), &events).await;

    let res = app.put("/api/v1/t/lecce/content-types/tema", Some(&admin), tema()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let part =
        reqwest::multipart::Part::bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec())
            .file_name("verbale.pdf")
            .mime_str("application/pdf")
            .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part).text("title", "Verbale");
    let up =
        app.client.post(app.url("/api/v1/t/lecce/media")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    assert_eq!(up.status(), 201);
    let media: Value = up.json().await.unwrap();
    let media_id = media["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/v1/t/lecce/media/{media_id}"), Some(&admin)).await.status, 204);
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent =
        app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, assistance(&token, "PEC ferma")).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    // A refused submission is no event.
    let mut bad = assistance(&token, "Senza consenso");
    bad["consent"]["accepted"] = json!(false);
    let refused = app.post("/api/v1/t/lecce/forms/richiesta-assistenza/submissions", None, bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    let moved = app.patch("/api/v1/t/lecce/tickets/1", Some(&admin), json!({"state": "open"})).await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let reply = app
        .post("/api/v1/t/lecce/tickets/1/messages", Some(&admin), json!({"body": "La PEC è di nuovo attiva."}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    until(&app, || receiver.received().len() >= 7).await;
    for _ in 0..10 {
        app.clock.advance(chrono::Duration::milliseconds(150));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let got: Vec<Value> = receiver.received().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let mut types: Vec<&str> = got.iter().map(|b| b["type"].as_str().unwrap()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "content_type.changed",
            "media.created",
            "media.deleted",
            "submission.created",
            "ticket.created",
            "ticket.updated",
            "ticket.updated"
        ],
        "{got:?}"
    );
    let of = |t: &str| got.iter().filter(|b| b["type"] == t).map(|b| &b["data"]).collect::<Vec<_>>();
    assert_eq!(
        (of("content_type.changed")[0]["api_id"].as_str(), of("content_type.changed")[0]["removed"].as_bool()),
        (Some("tema"), Some(false))
    );
    assert_eq!(of("media.created")[0]["id"].as_str(), Some(media_id.as_str()));
    assert_eq!(of("media.created")[0]["content_type"], "application/pdf");
    assert_eq!(of("media.deleted")[0]["id"].as_str(), Some(media_id.as_str()));
    assert_eq!(of("submission.created")[0]["id"], sent.body["id"]);
    assert_eq!(of("submission.created")[0]["form"], "richiesta-assistenza");
    assert_eq!(of("submission.created")[0]["ticket"], 1);
    assert_eq!(
        (of("ticket.created")[0]["number"].as_i64(), of("ticket.created")[0]["state"].as_str()),
        (Some(1), Some("new"))
    );
    let updates = of("ticket.updated");
    assert!(updates.iter().any(|d| d["changed"] == json!(["state"]) && d["state"] == "open"), "{updates:?}");
    assert!(updates.iter().any(|d| d["message"] == "reply" && d["state"] == "waiting"), "{updates:?}");
    // What the requester wrote stays behind the API's checks: no name, address or text.
    let all = receiver.received().iter().map(|r| r.body.clone()).collect::<String>();
    for private in ["Luca", "luca@comune-a.example", "protocollo informatico", "La PEC"] {
        assert!(!all.contains(private), "{private} in {all}");
    }
    assert!(other.received().is_empty(), "genova's subscription hears nothing of lecce");
    let log =
        app.get(&format!("/api/v1/t/lecce/webhooks/{}/deliveries", hook["id"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(log.body["data"].as_array().map(Vec::len), Some(7), "{}", log.text);
}

#[tokio::test]
async fn the_delivery_log_pages_and_forgets_what_ended_past_its_retention() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app_with(hooks(10)).await;
    let admin = tenant_with_type(&app, "lecce").await;
    let hook = subscribe(&app, &admin, "lecce", &receiver.url(), &["entry.published"]).await;
    let log_url = format!("/api/v1/t/lecce/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
    for n in 0..5 {
        let body = json!({"data": {"title": format!("Avviso {n}")}, "status": "published"});
        assert_eq!(app.post("/api/v1/t/lecce/entries/tema", Some(&admin), body).await.status, 201);
        app.clock.advance(chrono::Duration::seconds(1));
    }
    until(&app, || receiver.received().len() >= 5).await;

    let mut seen = Vec::new();
    let mut url = format!("{log_url}?limit=2");
    loop {
        let page = app.get(&url, Some(&admin)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => url = format!("{log_url}?limit=2&cursor={c}"),
            None => break,
        }
    }
    let whole = app.get(&log_url, Some(&admin)).await;
    let all: Vec<String> =
        whole.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 5);
    assert_eq!(seen, all, "the pages are the whole log, newest first, each once");
    let bad = app.get(&format!("{log_url}?cursor={}", uuid::Uuid::new_v4()), Some(&admin)).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_query"), "{}", bad.text);
    let bad = app.get(&format!("{log_url}?limit=0"), Some(&admin)).await;
    assert_eq!(bad.status, 400);

    // 31 days on, a new event; the retention job forgets the five that ended, keeps the new one.
    app.clock.advance(chrono::Duration::days(31));
    let body = json!({"data": {"title": "Avviso recente"}, "status": "published"});
    assert_eq!(app.post("/api/v1/t/lecce/entries/tema", Some(&admin), body).await.status, 201);
    cit_api::requests::retention::run_once(&app.state).await.unwrap();
    let after = app.get(&log_url, Some(&admin)).await;
    assert_eq!(after.body["data"].as_array().map(Vec::len), Some(1), "{}", after.text);
    assert!(!all.contains(&after.body["data"][0]["id"].as_str().unwrap().to_owned()));
}
