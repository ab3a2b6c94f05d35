//! Event registration over HTTP, with the e-mails caught by a real SMTP server: places, the
//! waiting list and its promotion, the `.ics` of the confirmation, the cancellation link, the
//! reminder across a restart, the attendee list and its CSV, invitations to the member bodies,
//! and every refusal with nothing stored.

use chrono::Duration;
use cit_api::clock::Clock;
use cit_core::{Actor, PlatformAction, authorize_platform};
use cit_tests::{TestApp, spawn_app, spawn_app_with};
use icalendar::{Calendar, Component};
use serde_json::{Value, json};

use super::requests::{outbox, outbox_settled};
use super::requests_mail::smtp_settings;
use cit_tests::smtp::{Smtp, free_port};

/// A tenant with the CIT content model; answers the admin's token.
async fn tenant(app: &TestApp, admin: &str, id: &str) {
    let res = app.create_tenant(admin, id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.apply_preset(admin, id).await;
}

/// A published `evento` starting in `days` days, with `extra` fields; answers its id.
async fn event(app: &TestApp, admin: &str, tenant: &str, title: &str, days: i64, extra: Value) -> String {
    let start = (app.clock.now() + Duration::days(days)).to_rfc3339();
    let mut data = json!({"title": title, "summary": "Un incontro per gli enti aderenti.", "kind": "webinar",
                          "start": start, "online_room_url": "https://meet.example/pnrr"});
    for (k, v) in extra.as_object().unwrap() {
        data[k] = v.clone();
    }
    let res = app
        .post(&format!("/api/v1/t/{tenant}/entries/evento"), Some(admin), json!({"status": "published", "data": data}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_str().unwrap().to_owned()
}

/// The registration form's token, aged past the minimum fill time.
async fn fill_token(app: &TestApp, tenant: &str, event: &str) -> String {
    let res = app.get(&format!("/api/v1/t/{tenant}/events/{event}/registration"), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let token = res.body["fill_token"].as_str().unwrap_or_default().to_owned();
    app.clock.advance(Duration::seconds(5));
    token
}

fn person(name: &str, email: &str, token: &str) -> Value {
    json!({"name": name, "email": email, "ente": "comune-di-a",
           "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "website": ""})
}

async fn register(app: &TestApp, tenant: &str, event: &str, body: Value) -> cit_tests::Res {
    app.post(&format!("/api/v1/t/{tenant}/events/{event}/registrations"), None, body).await
}

async fn attendees(app: &TestApp, token: &str, tenant: &str, event: &str) -> Value {
    let res = app.get(&format!("/api/v1/t/{tenant}/events/{event}/registrations"), Some(token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

/// The messages to `to` whose subject holds `subject`.
fn to<'a>(got: &'a [String], to: &str, subject: &str) -> Vec<&'a String> {
    got.iter().filter(|m| m.contains(&format!("To: {to}")) && m.contains(subject)).collect()
}

/// The secret of the cancellation link in a message.
fn secret_in(mail: &str) -> String {
    let at = mail.find("/eventi/iscrizione/").expect("a cancellation link") + "/eventi/iscrizione/".len();
    mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// The `.ics` attached to a message, decoded (quoted-printable or base64) and parsed.
fn calendar_in(mail: &str) -> Calendar {
    use base64::Engine;
    let at = mail.find("Content-Type: text/calendar").expect("an .ics attachment");
    let part = &mail[at..];
    let body_at = part.find("\r\n\r\n").or_else(|| part.find("\n\n")).unwrap();
    let (headers, body) = part.split_at(body_at);
    let body = &body[..body.find("\n--").unwrap_or(body.len())];
    let text = if headers.contains("Content-Transfer-Encoding: base64") {
        let encoded: String = body.split_whitespace().collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 .ics")).unwrap()
    } else {
        // Quoted-printable; the soft line breaks are undone already.
        let b = body.trim().as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match (b[i], b.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
                (b'=', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    };
    text.parse::<Calendar>().unwrap_or_else(|e| panic!("the .ics parses: {e}\n{text}"))
}

#[tokio::test]
async fn three_places_five_people_a_waiting_list_that_moves_up_and_reminders_after_a_restart() {
    let port = free_port();
    let box_dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, box_dir.path());
    let mut app = spawn_app_with(smtp_settings(port)).await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let id = event(&app, &admin, "lecce", "Webinar PNRR 1.4.4", 10, json!({"registration_capacity": 3})).await;

    let info = app.get(&format!("/api/v1/t/lecce/events/{id}/registration"), None).await;
    assert_eq!(info.body["window"], "open", "{}", info.text);
    assert_eq!(info.body["places_left"], 3);
    let people = ["anna", "bruno", "carla", "dario", "elena"];
    for p in people {
        let token = fill_token(&app, "lecce", &id).await;
        let res =
            register(&app, "lecce", &id, person(&format!("{p} Rossi"), &format!("{p}@comune-a.example"), &token)).await;
        assert_eq!(res.status, 202, "{}", res.text);
        assert_eq!(res.body, json!({"received": true}));
    }
    // Again with the same address: the same answer, nothing new stored, and an e-mail that says so.
    let token = fill_token(&app, "lecce", &id).await;
    let again = register(&app, "lecce", &id, person("Anna Rossi", "ANNA@comune-a.example", &token)).await;
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(again.body, json!({"received": true}));

    let list = attendees(&app, &operator, "lecce", &id).await;
    assert_eq!((list["confirmed"].as_u64(), list["waiting"].as_u64()), (Some(3), Some(2)), "{list}");
    let rows: Vec<(String, Value)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["email"].as_str().unwrap().to_owned(), r["place"].clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("anna@comune-a.example".to_owned(), json!(1)),
            ("bruno@comune-a.example".to_owned(), json!(2)),
            ("carla@comune-a.example".to_owned(), json!(3)),
            ("dario@comune-a.example".to_owned(), Value::Null),
            ("elena@comune-a.example".to_owned(), Value::Null),
        ]
    );

    let got = smtp.wait_for(6).await;
    for p in ["anna", "bruno", "carla"] {
        let mails = to(&got, &format!("{p}@comune-a.example"), "Iscrizione confermata");
        assert_eq!(mails.len(), 1, "{p}: {got:?}");
        let cal = calendar_in(mails[0]);
        let ev = cal.components.iter().find_map(|c| c.as_event()).expect("a VEVENT");
        assert_eq!(ev.get_summary(), Some("Webinar PNRR 1.4.4"));
        assert_eq!(ev.get_uid(), Some(format!("{id}@lecce.cit").as_str()));
        assert!(ev.get_start().is_some() && ev.get_url().is_some_and(|u| u.contains("/eventi/")), "{ev:?}");
    }
    for p in ["dario", "elena"] {
        let mails = to(&got, &format!("{p}@comune-a.example"), "In lista d'attesa");
        assert_eq!(mails.len(), 1, "{p}: {got:?}");
        assert!(!mails[0].contains("text/calendar"), "no .ics without a place");
    }
    assert_eq!(to(&got, "anna@comune-a.example", "iscritto: Webinar").len(), 1, "{got:?}");

    // Bruno cancels through his link: his place goes to Dario, who is told, with the .ics.
    let bruno = secret_in(to(&got, "bruno@comune-a.example", "Iscrizione confermata")[0]);
    let mine = app.get(&format!("/api/v1/t/lecce/registrations/by-secret/{bruno}"), None).await;
    assert_eq!((mine.status, mine.body["status"].as_str()), (200, Some("confirmed")), "{}", mine.text);
    assert_eq!(mine.body["can_cancel"], true);
    assert!(mine.body.get("email").is_none(), "the page behind the link shows no address");
    let cancelled = app.post(&format!("/api/v1/t/lecce/registrations/by-secret/{bruno}/cancel"), None, json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    let twice = app.post(&format!("/api/v1/t/lecce/registrations/by-secret/{bruno}/cancel"), None, json!({})).await;
    assert_eq!((twice.status, twice.body["status"].as_str()), (200, Some("cancelled")));

    let got = smtp.wait_for(8).await;
    assert_eq!(to(&got, "bruno@comune-a.example", "Iscrizione annullata").len(), 1, "{got:?}");
    let promoted = to(&got, "dario@comune-a.example", "Posto confermato");
    assert_eq!(promoted.len(), 1, "{got:?}");
    calendar_in(promoted[0]);
    let list = attendees(&app, &operator, "lecce", &id).await;
    let dario = list["data"].as_array().unwrap().iter().find(|r| r["email"] == "dario@comune-a.example").unwrap();
    assert_eq!((dario["status"].as_str(), &dario["place"]), (Some("confirmed"), &json!(2)), "{list}");
    assert!(dario["promoted_at"].is_string());
    assert_eq!(
        (list["confirmed"].as_u64(), list["waiting"].as_u64(), list["cancelled"].as_u64()),
        (Some(3), Some(1), Some(1))
    );

    // The reminders are rows of the outbox: a restart loses none. A day before the start they
    // reach the three who hold a place, and not Bruno.
    app.restart().await;
    app.clock.advance(Duration::days(9) + Duration::hours(1));
    let got = smtp.wait_for(11).await;
    let reminded: Vec<&String> = got.iter().filter(|m| m.contains("Promemoria")).collect();
    assert_eq!(reminded.len(), 3, "{got:?}");
    for p in ["anna", "carla", "dario"] {
        assert_eq!(to(&got, &format!("{p}@comune-a.example"), "Promemoria").len(), 1, "{p}");
    }
    assert_eq!(outbox_settled(&app, (0, 11)).await, (0, 11));

    // The attendee list as CSV, formula-safe.
    let csv = app.get(&format!("/api/v1/t/lecce/events/{id}/registrations.csv"), Some(&operator)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("status,place,name,email,ente"), "{}", csv.text);
    assert_eq!(lines.len(), 6, "{}", csv.text);
    assert!(lines[1].starts_with("confirmed,1,anna Rossi,anna@comune-a.example,comune-di-a"), "{}", csv.text);
}

#[tokio::test]
async fn bad_registrations_are_refused_with_nothing_stored() {
    let app = spawn_app_with(|s| s.requests.per_address = 1000).await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    tenant(&app, &admin, "genova").await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let genova_operator = app.member(&admin, "genova", "operatore@genova.example", "operator").await;
    let id = event(&app, &admin, "lecce", "Incontro", 10, json!({"registration_capacity": 2})).await;
    let token = fill_token(&app, "lecce", &id).await;

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"name": " ", "email": "not-an-address", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "Anna", "email": "anna@a.example", "ente": "Comune di A!", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token}),
            422,
            "validation_failed",
        ),
        (json!({"name": "Anna", "email": "anna@a.example", "fill_token": token}), 422, "consent_required"),
        (
            json!({"name": "Anna", "email": "anna@a.example", "consent": {"accepted": true, "version": "2019-01"}, "fill_token": token}),
            422,
            "consent_required",
        ),
        (
            json!({"name": "Anna", "email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "website": "http://spam"}),
            400,
            "honeypot",
        ),
        (
            json!({"name": "Anna", "email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": "1.forged"}),
            400,
            "fill_token_invalid",
        ),
        (
            json!({"name": "Anna", "email": "anna@a.example", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token, "extra": 1}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in &cases {
        let res = register(&app, "lecce", &id, body.clone()).await;
        assert_eq!((res.status, res.code()), (*status, *code), "{body}: {}", res.text);
    }
    let bad = register(
        &app,
        "lecce",
        &id,
        json!({"name": "", "email": "x", "consent": {"accepted": true, "version": "2026-01"}, "fill_token": token}),
    )
    .await;
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email"], "every wrong field is named: {}", bad.text);

    // Too fast: a token just issued.
    let res = app.get(&format!("/api/v1/t/lecce/events/{id}/registration"), None).await;
    let young = res.body["fill_token"].as_str().unwrap();
    let res = register(&app, "lecce", &id, person("Anna", "anna@a.example", young)).await;
    assert_eq!((res.status, res.code()), (400, "fill_too_fast"));
    // A token of another event does not open this one.
    let other = event(&app, &admin, "lecce", "Altro", 10, json!({"registration_capacity": 2})).await;
    let other_token = fill_token(&app, "lecce", &other).await;
    let res = register(&app, "lecce", &id, person("Anna", "anna@a.example", &other_token)).await;
    assert_eq!(res.code(), "fill_token_invalid");

    // Events that take no registration now, or none at all.
    let no_places = event(&app, &admin, "lecce", "Senza iscrizioni", 10, json!({})).await;
    let later = (app.clock.now() + Duration::days(3)).to_rfc3339();
    let not_yet =
        event(&app, &admin, "lecce", "Apre dopo", 10, json!({"registration_capacity": 5, "registration_opens": later}))
            .await;
    let past = (app.clock.now() - Duration::hours(1)).to_rfc3339();
    let closed =
        event(&app, &admin, "lecce", "Chiuso", 10, json!({"registration_capacity": 5, "registration_closes": past}))
            .await;
    for (ev, window, code) in [
        (&no_places, "not_taken", "registration_not_taken"),
        (&not_yet, "not_yet", "registration_not_open"),
        (&closed, "closed", "registration_closed"),
    ] {
        let info = app.get(&format!("/api/v1/t/lecce/events/{ev}/registration"), None).await;
        assert_eq!(info.body["window"], window, "{}", info.text);
        assert!(info.body["fill_token"].is_null());
        let res = register(&app, "lecce", ev, person("Anna", "anna@a.example", &token)).await;
        assert_eq!((res.status, res.code()), (409, code), "{}", res.text);
    }
    // A draft, a news item and an unknown id are not events that take registrations.
    let draft = app
        .post("/api/v1/t/lecce/entries/evento", Some(&admin), json!({"data": {"title": "Bozza", "summary": "s", "kind": "webinar", "start": later, "registration_capacity": 5}}))
        .await;
    let draft = draft.body["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::new_v4().to_string();
    for ev in [&draft, &unknown] {
        assert_eq!(register(&app, "lecce", ev, person("Anna", "anna@a.example", &token)).await.status, 404);
        assert_eq!(app.get(&format!("/api/v1/t/lecce/events/{ev}/registration"), None).await.status, 404);
    }

    // Genova sees nothing of Lecce's event: not by its path, not its attendees.
    let token = fill_token(&app, "lecce", &id).await;
    assert_eq!(register(&app, "lecce", &id, person("Anna", "anna@a.example", &token)).await.status, 202);
    assert_eq!(app.get(&format!("/api/v1/t/genova/events/{id}/registration"), None).await.status, 404);
    assert_eq!(register(&app, "genova", &id, person("Bea", "bea@a.example", &token)).await.status, 404);
    let foreign = app.get(&format!("/api/v1/t/lecce/events/{id}/registrations"), Some(&genova_operator)).await;
    assert_eq!(foreign.status, 403, "{}", foreign.text);
    assert_eq!(
        app.get(&format!("/api/v1/t/genova/events/{id}/registrations"), Some(&genova_operator)).await.status,
        404
    );
    assert_eq!(app.get(&format!("/api/v1/t/lecce/events/{id}/registrations"), None).await.status, 401);

    // A forged secret names nothing; Lecce's secret names nothing in Genova.
    let forged = "A".repeat(43);
    assert_eq!(app.get(&format!("/api/v1/t/lecce/registrations/by-secret/{forged}"), None).await.status, 404);
    assert_eq!(
        app.post(&format!("/api/v1/t/lecce/registrations/by-secret/{forged}/cancel"), None, json!({})).await.status,
        404
    );
    let access = authorize_platform(&Actor::System, PlatformAction::SendMail).unwrap();
    let waiting = app.store.outbox_counts(&access).await.unwrap().waiting;
    assert_eq!(waiting, 2, "the one registration that passed: its confirmation and its reminder");

    let list = attendees(&app, &operator, "lecce", &id).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "only Anna: {list}");
    assert_eq!(attendees(&app, &operator, "lecce", &not_yet).await["data"], json!([]));
}

#[tokio::test]
async fn without_a_waiting_list_a_full_event_says_so_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let id = event(
        &app,
        &admin,
        "lecce",
        "Sala piccola",
        5,
        json!({"registration_capacity": 1, "registration_waitlist": false}),
    )
    .await;
    let token = fill_token(&app, "lecce", &id).await;
    assert_eq!(register(&app, "lecce", &id, person("Anna", "anna@a.example", &token)).await.status, 202);
    let before = outbox(&app).await;
    let full = register(&app, "lecce", &id, person("Bruno", "bruno@a.example", &token)).await;
    assert_eq!((full.status, full.code()), (409, "event_full"), "{}", full.text);
    assert_eq!(outbox(&app).await, before);
    let list = attendees(&app, &operator, "lecce", &id).await;
    assert_eq!((list["confirmed"].as_u64(), list["waiting"].as_u64()), (Some(1), Some(0)));
}

#[tokio::test]
async fn invitations_reach_each_member_body_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let author = app.member(&admin, "lecce", "autore@lecce.example", "author").await;
    for (slug, pec) in [
        ("comune-di-a", Some("protocollo@pec.comune-a.example")),
        ("comune-di-b", Some("protocollo@pec.comune-b.example")),
        ("comune-di-c", None),
    ] {
        let mut data = json!({"title": format!("Comune {slug}"), "kind": "comune"});
        if let Some(p) = pec {
            data["pec"] = json!(p);
        }
        let res = app
            .post(
                "/api/v1/t/lecce/entries/ente",
                Some(&admin),
                json!({"status": "published", "slug": slug, "data": data}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let id = event(&app, &admin, "lecce", "Riunione della community", 7, json!({"registration_capacity": 50})).await;
    let path = format!("/api/v1/t/lecce/events/{id}/invitations");
    assert_eq!(app.post(&path, Some(&author), json!({})).await.status, 403);
    assert_eq!(app.post(&path, None, json!({})).await.status, 401);

    let first = app.post(&path, Some(&operator), json!({})).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["invited"], 2);
    assert_eq!(first.body["without_address"], json!(["comune-di-c"]));
    let again = app.post(&path, Some(&operator), json!({"enti": ["comune-di-a", "comune-di-z"]})).await;
    assert_eq!(
        (again.body["invited"].as_u64(), again.body["already_invited"].as_u64()),
        (Some(0), Some(1)),
        "{}",
        again.text
    );
    assert_eq!(again.body["unknown"], json!(["comune-di-z"]));
    assert_eq!(outbox(&app).await.0 + outbox(&app).await.1, 2, "two invitations, each once");

    let past = event(&app, &admin, "lecce", "Già iniziato", 0, json!({})).await;
    app.clock.advance(Duration::minutes(1));
    let late = app.post(&format!("/api/v1/t/lecce/events/{past}/invitations"), Some(&operator), json!({})).await;
    assert_eq!((late.status, late.code()), (409, "event_past"));
}
