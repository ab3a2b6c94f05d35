//! Files attached to form submissions: recognised from their bytes, kept privately, downloaded
//! byte for byte by the tenant's staff and nobody else, refused with a problem naming
//! `attachments` and nothing stored, and deleted by retention.

use std::path::{Path, PathBuf};

use cit_api::Settings;
use cit_core::{Action, Actor, TenantId, authorize};
use cit_tests::{Res, TestApp, read, spawn_app_with};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::requests::{assistance, contact, fill_token, setup, submissions};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0This program cannot be run in DOS mode.";

/// A file to send: name, declared type, bytes.
type Upload<'a> = (&'a str, &'a str, &'a [u8]);
/// A refused case: form, submission, files, expected status and code.
type Refusal<'a> = (&'a str, Value, Vec<Upload<'a>>, u16, &'a str);

async fn app() -> TestApp {
    spawn_app_with(|s: &mut Settings| s.requests.per_address = 50).await
}

/// Sends `submission` as `multipart/form-data` with `files` (name, declared type, bytes).
async fn send(app: &TestApp, tenant: &str, form: &str, submission: &Value, files: &[Upload<'_>]) -> Res {
    let mut body = Form::new().text("submission", submission.to_string());
    for (name, mime, bytes) in files {
        let part = Part::bytes(bytes.to_vec()).file_name((*name).to_owned()).mime_str(mime).unwrap();
        body = body.part("attachments", part);
    }
    let url = app.url(&format!("/api/v1/t/{tenant}/forms/{form}/submissions"));
    read(app.client.post(url).multipart(body).send().await.unwrap()).await
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every attachment file on disk.
fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files_under(&app.settings.data_dir.join("attachments"), &mut out);
    out
}

/// Submissions, attachment rows and attachment files of Lecce.
async fn counts(app: &TestApp) -> (u64, u64, usize) {
    let t = app.store.tenant(&TenantId::parse("lecce").unwrap()).await.unwrap().unwrap();
    let access = authorize(&Actor::System, t.facts(), Action::ReadRequests).unwrap();
    let rows = app.store.scoped(&access).count_attachments().await.unwrap();
    (submissions(app, "lecce").await, rows, stored_files(app).len())
}

#[tokio::test]
async fn attachments_reach_the_staff_byte_for_byte_and_nobody_else() {
    let app = app().await;
    let admin = setup(&app).await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    let author = app.member(&admin, "lecce", "autore@lecce.example", "author").await;
    app.create_tenant(&admin, "genova").await;
    let stranger = app.member(&admin, "genova", "operatore@genova.example", "operator").await;

    // The form says what it takes.
    let form = app.get("/api/v1/t/lecce/forms/richiesta-assistenza", None).await;
    let rules = &form.body["attachments"];
    assert_eq!((rules["max_files"].as_u64(), rules["max_bytes"].as_u64()), (Some(3), Some(5 * 1024 * 1024)));
    assert_eq!(rules["types"][0], "application/pdf");
    assert!(app.get("/api/v1/t/lecce/forms/contatti", None).await.body["attachments"].is_null());

    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let note = "Errore alle 9:15, vedi schermata.\n".as_bytes();
    let sent = send(
        &app,
        "lecce",
        "richiesta-assistenza",
        &assistance(&token, "Protocollo bloccato"),
        // Browsers often declare octet-stream: the bytes decide.
        &[("../relazione è.pdf", "application/octet-stream", PDF), ("note.txt", "text/plain", note)],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let id = sent.body["id"].as_str().unwrap().to_owned();
    let number = sent.body["ticket"]["number"].as_i64().unwrap();

    let seen = app.get(&format!("/api/v1/t/lecce/submissions/{id}"), Some(&operator)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let listed = seen.body["attachments"].as_array().unwrap().clone();
    let described: Vec<(&str, &str, i64)> = listed
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["content_type"].as_str().unwrap(), a["size"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        described,
        [("relazione è.pdf", "application/pdf", PDF.len() as i64), ("note.txt", "text/plain", note.len() as i64)]
    );
    let ticket = app.get(&format!("/api/v1/t/lecce/tickets/{number}"), Some(&operator)).await;
    assert_eq!(ticket.body["attachments"].as_array().map(Vec::len), Some(2), "{}", ticket.text);
    // GraphQL lists the same files to the same staff, on the submission and on its ticket.
    let query = format!(
        r#"{{ submission(id: "{id}") {{ attachments {{ id name contentType size sha256 }} }}
            ticket(number: {number}) {{ attachments {{ id name }} }} }}"#
    );
    let gql = app.post("/api/v1/t/lecce/graphql", Some(&operator), serde_json::json!({ "query": query })).await;
    assert_eq!(gql.status, 200, "{}", gql.text);
    let over_graphql = gql.body["data"]["submission"]["attachments"].as_array().cloned().unwrap_or_default();
    assert_eq!(over_graphql.len(), listed.len(), "{}", gql.text);
    for (g, r) in over_graphql.iter().zip(&listed) {
        assert_eq!((&g["id"], &g["name"], &g["contentType"]), (&r["id"], &r["name"], &r["content_type"]));
        assert_eq!((&g["size"], &g["sha256"]), (&r["size"], &r["sha256"]));
    }
    assert_eq!(gql.body["data"]["ticket"]["attachments"].as_array().map(Vec::len), Some(2), "{}", gql.text);
    let anonymous = app.post("/api/v1/t/lecce/graphql", None, serde_json::json!({ "query": query })).await;
    assert!(anonymous.body["data"].is_null() || anonymous.body["data"]["submission"].is_null(), "{}", anonymous.text);

    for (a, bytes) in listed.iter().zip([PDF, note]) {
        let path = format!("/api/v1/t/lecce/submissions/{id}/attachments/{}", a["id"].as_str().unwrap());
        let res = app.client.get(app.url(&path)).bearer_auth(&operator).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let header = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(header("content-disposition").starts_with("attachment;"), "{}", header("content-disposition"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "private, no-store");
        assert_eq!(header("content-type"), a["content_type"].as_str().unwrap());
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes, "byte-identical");

        // Nobody else gets the bytes: no login, no request rights, another tenant's operator,
        // and Lecce's file asked for under Genova.
        assert_eq!(app.get(&path, None).await.status, 401);
        assert_eq!(app.get(&path, Some(&author)).await.status, 403);
        let other = app.get(&path, Some(&stranger)).await;
        assert!(other.status == 403 || other.status == 404, "{}", other.text);
        let genova = path.replace("/t/lecce/", "/t/genova/");
        assert_eq!(app.get(&genova, Some(&stranger)).await.status, 404);
    }
    // A file of another submission is not found under this one.
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let second = send(&app, "lecce", "richiesta-assistenza", &assistance(&token, "Altro"), &[]).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let wrong = format!(
        "/api/v1/t/lecce/submissions/{}/attachments/{}",
        second.body["id"].as_str().unwrap(),
        listed[0]["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&wrong, Some(&operator)).await.status, 404);

    // The bytes are under the data directory's private folder, never in the media folder.
    let files = stored_files(&app);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.starts_with(app.settings.data_dir.join("attachments"))));
}

#[tokio::test]
async fn refused_files_leave_nothing_behind() {
    let app = app().await;
    setup(&app).await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let good = assistance(&token, "Stampante");
    let before = counts(&app).await;
    let big = vec![b'a'; 5 * 1024 * 1024 + 1];
    let small: &[u8] = b"riga di testo\n";

    let cases: Vec<Refusal> = vec![
        // A program dressed as a PDF, by name and declared type.
        ("richiesta-assistenza", good.clone(), vec![("fattura.pdf", "application/pdf", EXE)], 422, "unsupported_type"),
        // An allowed type under another type's name.
        ("richiesta-assistenza", good.clone(), vec![("scansione.pdf", "application/pdf", PNG)], 422, "type_mismatch"),
        (
            "richiesta-assistenza",
            good.clone(),
            vec![("pagina.txt", "text/html", &b"<html><script>x</script>"[..])],
            422,
            "unsupported_type",
        ),
        ("richiesta-assistenza", good.clone(), vec![("vuoto.txt", "text/plain", &b""[..])], 422, "empty_file"),
        ("richiesta-assistenza", good.clone(), vec![("grande.txt", "text/plain", &big[..])], 422, "file_too_large"),
        ("richiesta-assistenza", good.clone(), vec![("a.txt", "text/plain", small); 4], 422, "too_many_files"),
        ("contatti", contact(&token), vec![("a.txt", "text/plain", small)], 422, "attachments_not_accepted"),
    ];
    for (form, submission, files, status, code) in cases {
        let res = send(&app, "lecce", form, &submission, &files).await;
        assert_eq!(res.status, status, "{code}: {}", res.text);
        let error = &res.body["errors"][0];
        assert_eq!(
            (error["field"].as_str(), error["code"].as_str()),
            (Some("attachments"), Some(code)),
            "{}",
            res.text
        );
        assert_eq!(counts(&app).await, before, "{code} stored something");
    }

    // A good file does not rescue a bad submission, and is not kept either.
    let mut no_email = good.clone();
    no_email["data"].as_object_mut().unwrap().remove("email");
    let res = send(&app, "lecce", "richiesta-assistenza", &no_email, &[("a.pdf", "application/pdf", PDF)]).await;
    assert_eq!((res.status, res.field()), (422, "email"), "{}", res.text);
    let mut bot = good.clone();
    bot["website"] = "http://spam.example".into();
    let res = send(&app, "lecce", "richiesta-assistenza", &bot, &[("a.pdf", "application/pdf", PDF)]).await;
    assert_eq!((res.status, res.code()), (400, "honeypot"), "{}", res.text);
    let res = send(
        &app,
        "lecce",
        "richiesta-assistenza",
        &assistance("forged.token", "x"),
        &[("a.pdf", "application/pdf", PDF)],
    )
    .await;
    assert_eq!((res.status, res.code()), (400, "fill_token_invalid"), "{}", res.text);
    assert_eq!(counts(&app).await, before);

    // A form without attachments keeps its small body cap for multipart too.
    let boundary = "XbOuNdArY";
    let mut raw = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"submission\"\r\n\r\n{}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n",
        contact(&token)
    )
    .into_bytes();
    raw.extend(vec![b'a'; 100 * 1024]);
    raw.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let res = app
        .post_raw(
            "/api/v1/t/lecce/forms/contatti/submissions",
            None,
            &format!("multipart/form-data; boundary={boundary}"),
            raw,
        )
        .await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert_eq!(counts(&app).await, before);

    // And the same submission with an allowed file is accepted.
    let res = send(&app, "lecce", "richiesta-assistenza", &good, &[("schermata.png", "image/png", PNG)]).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(counts(&app).await, (before.0 + 1, before.1 + 1, before.2 + 1));
}

#[tokio::test]
async fn retention_deletes_the_files_with_the_data() {
    let app = app().await;
    let admin = setup(&app).await;
    let token = fill_token(&app, "lecce", "richiesta-assistenza").await;
    let sent = send(
        &app,
        "lecce",
        "richiesta-assistenza",
        &assistance(&token, "Vecchia"),
        &[("a.pdf", "application/pdf", PDF)],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let id = sent.body["id"].as_str().unwrap().to_owned();
    let seen = app.get(&format!("/api/v1/t/lecce/submissions/{id}"), Some(&admin)).await;
    let file = seen.body["attachments"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored_files(&app).len(), 1);

    // Not yet due: nothing happens.
    assert_eq!(cit_api::requests::retention::run_once(&app.state).await.unwrap(), 0);
    assert_eq!(stored_files(&app).len(), 1);

    // `richiesta-assistenza` keeps submissions 730 days.
    app.clock.advance(chrono::Duration::days(731));
    assert_eq!(cit_api::requests::retention::run_once(&app.state).await.unwrap(), 1);
    assert_eq!(stored_files(&app), Vec::<PathBuf>::new());
    // Two years on, the first login has long expired.
    let admin = app.admin_token().await;
    let after = app.get(&format!("/api/v1/t/lecce/submissions/{id}"), Some(&admin)).await;
    assert_eq!(after.body["attachments"], serde_json::json!([]), "{}", after.text);
    let gone = app.get(&format!("/api/v1/t/lecce/submissions/{id}/attachments/{file}"), Some(&admin)).await;
    assert_eq!(gone.status, 404, "{}", gone.text);
    assert_eq!(counts(&app).await, (1, 0, 0));
}
