//! The submissions of the tenant's forms (contact, interest, assistance, feedback): a list per
//! form, newest first, and one submission with its answers and its attachments, downloaded
//! through the desk with the user's token (never in an address).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{DeskError, DeskResult};
use crate::model::List;
use crate::pages::content::as_text;
use crate::pages::{InTenant, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/richieste/moduli", web::get().to(list))
        .route("/t/{tenant}/richieste/moduli/{id}", web::get().to(one))
        .route("/t/{tenant}/richieste/moduli/{id}/allegati/{attachment}", web::get().to(attachment));
}

#[derive(Debug, Deserialize, Serialize)]
struct Form {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize, Serialize)]
struct Attachment {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    size: u64,
}

#[derive(Debug, Deserialize, Serialize)]
struct Submission {
    id: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    data: Map<String, Value>,
    #[serde(default)]
    ente: Option<String>,
    #[serde(default)]
    servizio: Option<String>,
    #[serde(default)]
    ticket: Option<i64>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    anonymised_at: Option<String>,
    #[serde(default)]
    attachments: Option<Vec<Attachment>>,
}

#[derive(Debug, Deserialize)]
struct Query {
    modulo: Option<String>,
    cursor: Option<String>,
}

/// A line that says what a submission is about: its subject, else its first answers.
fn summary(s: &Submission) -> String {
    for key in ["oggetto", "subject", "titolo"] {
        if let Some(v) = s.data.get(key).map(as_text).filter(|v| !v.is_empty()) {
            return v;
        }
    }
    let text: String = s.data.values().map(as_text).filter(|v| !v.is_empty()).take(2).collect::<Vec<_>>().join(" · ");
    text.chars().take(120).collect()
}

async fn list(t: InTenant, q: web::Query<Query>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let forms = t.get::<List<Form>>(&t.api("forms"), &[]).await?.data;
    let chosen = q.modulo.clone().filter(|m| forms.iter().any(|f| &f.id == m)).unwrap_or_default();
    let mut query: Vec<(&str, &str)> = vec![("limit", "25")];
    if !chosen.is_empty() {
        query.push(("form", &chosen));
    }
    let cursor = q.cursor.clone().filter(|c| uuid_like(c));
    if let Some(c) = &cursor {
        query.push(("cursor", c));
    }
    let found = t.get::<List<Submission>>(&t.api("submissions"), &query).await?;
    let title_of = |id: &str| forms.iter().find(|f| f.id == id).map_or_else(|| id.to_owned(), |f| f.title.clone());
    let rows: Vec<Value> = found
        .data
        .iter()
        .map(|s| {
            json!({
                "href": t.link(&format!("richieste/moduli/{}", enc(&s.id))),
                "form": title_of(&s.form),
                "summary": summary(s),
                "created_at": s.created_at,
                "ente": s.ente,
                "ticket": s.ticket.map(|n| (n, t.link(&format!("richieste/{n}")))),
            })
        })
        .collect();
    let base = format!("richieste/moduli?modulo={}", enc(&chosen));
    let next = found.next_cursor.as_ref().map(|c| t.link(&format!("{base}&cursor={}", enc(c))));
    let first = cursor.is_some().then(|| t.link(&base));
    let page = t.page("Moduli ricevuti", "richieste").crumb("Richieste", Some(t.link("richieste")));
    Ok(page
        .render("requests/submissions.html", context! { rows => val(rows), forms => val(&forms), chosen, next, first }))
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

async fn one(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let (_, id) = path.into_inner();
    if !uuid_like(&id) {
        return Err(DeskError::NotFound);
    }
    let s = t.get::<Submission>(&t.api(&format!("submissions/{}", enc(&id))), &[]).await?;
    let answers: Vec<(String, String)> = s.data.iter().map(|(k, v)| (k.clone(), as_text(v))).collect();
    let files: Vec<Value> = s
        .attachments
        .iter()
        .flatten()
        .map(|a| json!({"a": a, "href": t.link(&format!("richieste/moduli/{}/allegati/{}", enc(&s.id), enc(&a.id)))}))
        .collect();
    let page = t
        .page(format!("Modulo «{}» del {}", s.form, crate::render::datetime(s.created_at.clone())), "richieste")
        .crumb("Richieste", Some(t.link("richieste")))
        .crumb("Moduli ricevuti", Some(t.link("richieste/moduli")));
    Ok(page.render(
        "requests/submission.html",
        context! {
            s => val(&s),
            answers => val(answers),
            files => val(files),
            ticket_href => s.ticket.map(|n| t.link(&format!("richieste/{n}"))),
        },
    ))
}

/// The file as the API sends it to this user: always a download, never a page.
async fn attachment(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let (_, id, att) = path.into_inner();
    if !uuid_like(&id) || !uuid_like(&att) {
        return Err(DeskError::NotFound);
    }
    let raw = t.raw(&t.api(&format!("submissions/{}/attachments/{}", enc(&id), enc(&att))), &[], &[]).await?;
    if raw.status != 200 {
        return Err(DeskError::NotFound);
    }
    let mut res = HttpResponse::build(StatusCode::OK);
    res.insert_header((header::CONTENT_TYPE, raw.content_type.unwrap_or_else(|| "application/octet-stream".into())));
    let disposition = raw
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "attachment".to_owned(), str::to_owned);
    res.insert_header((header::CONTENT_DISPOSITION, disposition));
    Ok(res.body(raw.bytes))
}
