//! One ticket: its thread (internal notes marked), a reply or an internal note, its state and
//! priority, and who it is assigned to.

use actix_web::{HttpResponse, http::StatusCode, web};
use minijinja::context;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PRIORITIES, STATES, Ticket, label};
use crate::api::{Body, Problem};
use crate::error::DeskResult;
use crate::model::List;
use crate::pages::InTenant;
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/richieste/{number}", web::get().to(show))
        .route("/t/{tenant}/richieste/{number}", web::post().to(change))
        .route("/t/{tenant}/richieste/{number}/messaggi", web::post().to(reply));
}

#[derive(Debug, Deserialize)]
struct Member {
    user_id: String,
    #[serde(default)]
    name: String,
}

/// The people a ticket can be assigned to: the tenant's members when this user may read them
/// (admins), else only themselves.
async fn assignable(t: &InTenant) -> Vec<(String, String)> {
    let me = t.session.user();
    match t.get::<List<Member>>(&t.api("members"), &[]).await {
        Ok(l) if t.rights.admin => l.data.into_iter().map(|m| (m.user_id, m.name)).collect(),
        _ => vec![(me.id, me.name)],
    }
}

/// The ticket's page, with what was typed in the reply when it comes back refused.
async fn page(
    t: &InTenant,
    number: i64,
    typed: (&str, bool),
    problem: Option<Problem>,
    status: StatusCode,
) -> DeskResult<HttpResponse> {
    let tk = t.get::<Ticket>(&t.api(&format!("tickets/{number}")), &[]).await?;
    let people = assignable(t).await;
    let me = t.session.user().id;
    let assignee = tk.assignee.as_ref().map(|a| {
        people.iter().find(|(id, _)| id == a).map_or_else(|| a.clone(), |(_, n)| n.clone())
            + if *a == me { " (tu)" } else { "" }
    });
    let here = t.link(&format!("richieste/{number}"));
    Ok(t.page(format!("Richiesta n. {number}: {}", tk.subject), "richieste")
        .crumb("Richieste", Some(t.link("richieste")))
        .render_status(
            status,
            "requests/ticket.html",
            context! {
                tk => val(&tk),
                state => label(STATES, &tk.state),
                priority => label(PRIORITIES, &tk.priority),
                states => val(STATES),
                priorities => val(PRIORITIES),
                people => val(&people),
                assignee,
                assigned_to_me => tk.assignee.as_deref() == Some(me.as_str()),
                me,
                action => here.clone(),
                reply_action => format!("{here}/messaggi"),
                typed_body => typed.0,
                typed_internal => typed.1,
                problem => val(&problem),
            },
        ))
}

async fn show(t: InTenant, path: web::Path<(String, i64)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    page(&t, path.1, ("", false), None, StatusCode::OK).await
}

/// `POST …/richieste/{number}/messaggi`: a public reply (the API e-mails the requester and the
/// ticket waits for them) or, with `tipo=interna`, a note for staff only. An empty one is
/// refused next to the field before anything is sent.
async fn reply(t: InTenant, path: web::Path<(String, i64)>, form: crate::pages::Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let number = path.1;
    let body = form.text("body").unwrap_or_default();
    let internal = form.get("tipo") == Some("interna");
    if body.is_empty() {
        let p = Problem::of_field("body", "required", "Scrivi il testo della risposta o della nota.");
        return page(&t, number, ("", internal), Some(p), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let path = t.api(&format!("tickets/{number}/messages"));
    match t.try_send(Method::POST, &path, &[], Body::Json(json!({"body": body, "internal": internal}))).await? {
        Ok(()) => Ok(t.redirect_with(
            &t.link(&format!("richieste/{number}")),
            "success",
            if internal { "Nota interna aggiunta." } else { "Risposta inviata al richiedente." },
        )),
        Err(p) => page(&t, number, (&body, internal), Some(p), StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

/// `POST …/richieste/{number}`: `PATCH …/tickets/{number}` with the state, the priority or the
/// assignee the form sent (`assegna=me`, `assegna=nessuno` or a member's id).
async fn change(t: InTenant, path: web::Path<(String, i64)>, form: crate::pages::Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let number = path.1;
    let mut patch = serde_json::Map::new();
    if let Some(s) = form.text("state") {
        patch.insert("state".into(), json!(s));
    }
    if let Some(p) = form.text("priority") {
        patch.insert("priority".into(), json!(p));
    }
    match form.text("assegna").as_deref() {
        Some("me") => {
            patch.insert("assignee".into(), json!(t.session.user().id));
        }
        Some("nessuno") => {
            patch.insert("assignee".into(), Value::Null);
        }
        Some(id) => {
            patch.insert("assignee".into(), json!(id));
        }
        None => {}
    }
    let back = t.link(&format!("richieste/{number}"));
    if patch.is_empty() {
        return Ok(t.redirect_with(&back, "info", "Niente da cambiare."));
    }
    let path = t.api(&format!("tickets/{number}"));
    match t.try_send(Method::PATCH, &path, &[], Body::Json(Value::Object(patch))).await? {
        Ok(()) => Ok(t.redirect_with(&back, "success", "Richiesta aggiornata.")),
        Err(p) => page(&t, number, ("", false), Some(p), StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}
