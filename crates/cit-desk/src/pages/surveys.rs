//! Surveys for staff: the list; one survey with its invitations (who has answered, the links to
//! pass on), an "invite every body" button, the results with their charts and tables, and the
//! exports; and, for an assessment, every body's profile side by side. Operators, editors and
//! admins (the API checks each call again).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::context;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::Body;
use crate::error::{DeskError, DeskResult};
use crate::pages::{InTenant, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/questionari", web::get().to(list))
        .route("/t/{tenant}/questionari/{slug}", web::get().to(one))
        .route("/t/{tenant}/questionari/{slug}/inviti", web::post().to(invite))
        .route("/t/{tenant}/questionari/{slug}/profili", web::get().to(profiles))
        .route("/t/{tenant}/questionari/{slug}/risposte.{format}", web::get().to(export));
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

const STATES: &[(&str, &str)] = &[("not_yet", "Non ancora aperto"), ("open", "Aperto"), ("closed", "Chiuso")];
const ANSWERS: &[(&str, &str)] = &[("none", "Non ancora"), ("draft", "Bozza salvata"), ("sent", "Inviate")];

fn label(of: &[(&'static str, &'static str)], value: &str) -> &'static str {
    of.iter().find(|(v, _)| *v == value).map_or("—", |(_, l)| l)
}

/// A number as Italian writes it, one decimal at most.
fn it_number(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}").replace('.', ",") }
}

async fn list(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let all = t.get::<Value>(&t.api("surveys"), &[]).await?;
    let rows: Vec<Value> = list_of(&all, "data")
        .iter()
        .map(|s| {
            json!({"title": text(s, "title"), "href": t.link(&format!("questionari/{}", enc(text(s, "slug")))),
                   "state": label(STATES, text(s, "state")), "closes": s.get("closes"),
                   "audience": if text(s, "audience") == "anonymous" { "Anonimo" } else { "Su invito agli enti" },
                   "public": text(s, "results") == "public"})
        })
        .collect();
    Ok(t.page("Questionari", "questionari").render("surveys/list.html", context! { rows => val(rows) }))
}

async fn one(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let slug = path.into_inner().1;
    if !slug_ok(&slug) {
        return Err(DeskError::NotFound);
    }
    let s = t.get::<Value>(&t.api(&format!("surveys/{slug}")), &[]).await?;
    let invitations = t.get::<Value>(&t.api(&format!("surveys/{slug}/invitations")), &[]).await?;
    let results = t.get::<Value>(&t.api(&format!("surveys/{slug}/results")), &[("charts", "svg")]).await?;
    let rows: Vec<Value> = list_of(&invitations, "data")
        .iter()
        .map(|r| {
            json!({"ente": r.get("ente_name").and_then(Value::as_str).or(r.get("ente").and_then(Value::as_str)).unwrap_or("—"),
                   "status": label(ANSWERS, text(r, "status")), "sent_at": r.get("sent_at"), "saved_at": r.get("saved_at"),
                   "link": text(r, "link")})
        })
        .collect();
    let questions: Vec<Value> = list_of(&results, "questions")
        .iter()
        .map(|q| {
            let choices: Vec<Value> = list_of(q, "choices")
                .iter()
                .map(|c| {
                    json!({"label": text(c, "label"), "count": c.get("count"),
                                "percent": it_number(c.get("percent").and_then(Value::as_f64).unwrap_or(0.0))})
                })
                .collect();
            let chart =
                list_of(q, "charts").iter().find(|c| text(c, "by") == "question").map(|c| text(c, "svg").to_owned());
            json!({"name": text(q, "name"), "label": text(q, "label"), "summary": text(q, "summary"), "chart": chart,
                   "choices": choices, "kind": text(q, "kind")})
        })
        .collect();
    let title = text(&s, "title").to_owned();
    let page =
        t.page(format!("Questionario: {title}"), "questionari").crumb("Questionari", Some(t.link("questionari")));
    Ok(page.render(
        "surveys/survey.html",
        context! {
            s => val(&s),
            state => label(STATES, text(&s, "state")),
            counts => val(json!({"invited": invitations.get("invited"), "drafts": invitations.get("drafts"), "sent": invitations.get("sent")})),
            rows => val(rows),
            responses => results.get("responses").and_then(Value::as_u64).unwrap_or(0),
            questions => val(questions),
            invite_action => t.link(&format!("questionari/{slug}/inviti")),
            csv => t.link(&format!("questionari/{slug}/risposte.csv")),
            xlsx => t.link(&format!("questionari/{slug}/risposte.xlsx")),
            profiles => s.get("assessment").is_some_and(|a| !a.is_null()).then(|| t.link(&format!("questionari/{slug}/profili"))),
        },
    ))
}

/// `POST …/questionari/{slug}/inviti`: every published body is invited once, its link e-mailed
/// to its PEC.
async fn invite(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let slug = path.into_inner().1;
    if !slug_ok(&slug) {
        return Err(DeskError::NotFound);
    }
    let back = t.link(&format!("questionari/{slug}"));
    let done = t
        .try_call::<Value>(Method::POST, &t.api(&format!("surveys/{slug}/invitations")), &[], Body::Json(json!({})))
        .await?;
    Ok(match done {
        Ok(r) => {
            let without = list_of(&r, "without_address").len();
            let mut text = format!(
                "Enti invitati ora: {}; già invitati prima: {}.",
                r.get("invited").and_then(Value::as_u64).unwrap_or(0),
                r.get("already_invited").and_then(Value::as_u64).unwrap_or(0)
            );
            if without > 0 {
                text.push_str(&format!(
                    " {without} enti non hanno una PEC: consegnate loro il collegamento dall'elenco."
                ));
            }
            t.redirect_with(&back, "success", text)
        }
        Err(p) => {
            t.redirect_with(&back, "danger", p.detail.unwrap_or_else(|| "Gli inviti non sono stati mandati.".into()))
        }
    })
}

async fn profiles(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let slug = path.into_inner().1;
    if !slug_ok(&slug) {
        return Err(DeskError::NotFound);
    }
    let s = t.get::<Value>(&t.api(&format!("surveys/{slug}")), &[]).await?;
    let p = t.get::<Value>(&t.api(&format!("surveys/{slug}/profiles")), &[]).await?;
    let rows: Vec<Value> = list_of(&p, "data")
        .iter()
        .map(|b| {
            let areas: Vec<Value> = list_of(b, "areas")
                .iter()
                .map(|a| json!({"percent": it_number(a.get("percent").and_then(Value::as_f64).unwrap_or(0.0)),
                                "level": a.get("level"), "level_label": text(a, "level_label")}))
                .collect();
            json!({"ente": b.get("ente_name").and_then(Value::as_str).or(b.get("ente").and_then(Value::as_str)).unwrap_or("—"),
                   "kind": b.get("kind"), "province": b.get("province"), "areas": areas})
        })
        .collect();
    let title = text(&s, "title").to_owned();
    let page = t
        .page(format!("Profili di maturità: {title}"), "questionari")
        .crumb("Questionari", Some(t.link("questionari")))
        .crumb(title.clone(), Some(t.link(&format!("questionari/{slug}"))));
    Ok(page.render(
        "surveys/profiles.html",
        context! { areas => val(p.get("areas")), levels => val(p.get("levels")), rows => val(rows), chart => text(&p, "chart") },
    ))
}

/// The answers as CSV or XLSX, as the API exports them to this user: a download.
async fn export(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let (_, slug, format) = path.into_inner();
    if !slug_ok(&slug) || !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(DeskError::NotFound);
    }
    let raw = t.raw(&t.api(&format!("surveys/{slug}/responses.{format}")), &[], &[]).await?;
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
