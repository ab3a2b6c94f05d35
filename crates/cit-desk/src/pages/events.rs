//! Event registrations for staff: the events that take registrations, with their places; one
//! event's attendees (confirmed by place, then waiting in order, then cancelled), the CSV, and
//! an "invite the bodies" button. Operators, editors and admins (the API checks each call again).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::context;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::Body;
use crate::error::{DeskError, DeskResult};
use crate::pages::InTenant;
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/iscrizioni", web::get().to(list))
        .route("/t/{tenant}/iscrizioni/{id}", web::get().to(one))
        .route("/t/{tenant}/iscrizioni/{id}/inviti", web::post().to(invite))
        .route("/t/{tenant}/iscrizioni/{id}/iscritti.csv", web::get().to(csv));
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

const STATUSES: &[(&str, &str)] =
    &[("confirmed", "Confermata"), ("waiting", "In lista d'attesa"), ("cancelled", "Annullata")];

fn label(value: &str) -> &'static str {
    STATUSES.iter().find(|(v, _)| *v == value).map_or("—", |(_, l)| l)
}

async fn list(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let events = t
        .get::<Value>(&t.api("entries/evento"), &[("limit", "100"), ("sort", "-start"), ("status", "published")])
        .await?;
    let rows: Vec<Value> = events
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.pointer("/data/registration_capacity").is_some_and(|c| !c.is_null()))
        .map(|e| {
            json!({"title": e.pointer("/data/title"), "start": e.pointer("/data/start"),
                   "capacity": e.pointer("/data/registration_capacity"),
                   "href": t.link(&format!("iscrizioni/{}", text(e, "id")))})
        })
        .collect();
    Ok(t.page("Iscrizioni agli eventi", "iscrizioni").render("events/list.html", context! { rows => val(rows) }))
}

async fn one(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let id = path.into_inner().1;
    if !uuid_like(&id) {
        return Err(DeskError::NotFound);
    }
    let event = t.get::<Value>(&t.api(&format!("entries/evento/{id}")), &[]).await?;
    let a = t.get::<Value>(&t.api(&format!("events/{id}/registrations")), &[]).await?;
    let rows: Vec<Value> = a
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            json!({"status": label(text(r, "status")), "place": r.get("place"), "name": text(r, "name"),
                   "email": text(r, "email"), "ente": r.get("ente"), "created_at": r.get("created_at")})
        })
        .collect();
    let title = event.pointer("/data/title").and_then(Value::as_str).unwrap_or("Evento").to_owned();
    let page =
        t.page(format!("Iscritti: {title}"), "iscrizioni").crumb("Iscrizioni agli eventi", Some(t.link("iscrizioni")));
    Ok(page.render(
        "events/event.html",
        context! {
            start => event.pointer("/data/start").and_then(Value::as_str).map(str::to_owned),
            counts => val(json!({"capacity": a.get("capacity"), "confirmed": a.get("confirmed"), "waiting": a.get("waiting"),
                                 "cancelled": a.get("cancelled")})),
            rows => val(rows),
            csv => t.link(&format!("iscrizioni/{id}/iscritti.csv")),
            invite_action => t.link(&format!("iscrizioni/{id}/inviti")),
        },
    ))
}

/// `POST …/iscrizioni/{id}/inviti`: every published body is invited once, at its PEC.
async fn invite(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let id = path.into_inner().1;
    if !uuid_like(&id) {
        return Err(DeskError::NotFound);
    }
    let back = t.link(&format!("iscrizioni/{id}"));
    let done = t
        .try_call::<Value>(Method::POST, &t.api(&format!("events/{id}/invitations")), &[], Body::Json(json!({})))
        .await?;
    Ok(match done {
        Ok(r) => {
            let without = r.get("without_address").and_then(Value::as_array).map_or(0, Vec::len);
            let mut said = format!(
                "Enti invitati ora: {}; già invitati prima: {}.",
                r.get("invited").and_then(Value::as_u64).unwrap_or(0),
                r.get("already_invited").and_then(Value::as_u64).unwrap_or(0)
            );
            if without > 0 {
                said.push_str(&format!(" {without} enti non hanno una PEC."));
            }
            t.redirect_with(&back, "success", said)
        }
        Err(p) => {
            t.redirect_with(&back, "danger", p.detail.unwrap_or_else(|| "Gli inviti non sono stati mandati.".into()))
        }
    })
}

/// The attendees as the API exports them to this user: a download.
async fn csv(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let id = path.into_inner().1;
    if !uuid_like(&id) {
        return Err(DeskError::NotFound);
    }
    let raw = t.raw(&t.api(&format!("events/{id}/registrations.csv")), &[], &[]).await?;
    if raw.status != 200 {
        return Err(DeskError::NotFound);
    }
    let mut res = HttpResponse::build(StatusCode::OK);
    res.insert_header((header::CONTENT_TYPE, raw.content_type.unwrap_or_else(|| "text/csv".into())));
    let disposition = raw
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "attachment".to_owned(), str::to_owned);
    res.insert_header((header::CONTENT_DISPOSITION, disposition));
    Ok(res.body(raw.bytes))
}
