//! The contact form of "Contatti" and the "Richiedi assistenza" page: one flow for any form the
//! API describes. GET shows the form with a fresh fill token; POST checks the CSRF token, sends
//! the submission and shows the confirmation, or the form again with the errors next to their
//! fields and the typed values kept.

use serde_json::{Value, json};

use super::client;
use super::forms::{self, FieldErrors, FormView, Posted};
use super::multipart::File;
use super::{Outcome, Visitor, crumbs, refusal_message};
use crate::api::ApiError;
use crate::api::types::{Ente, Servizio};
use crate::pages::{Answer, Ctx, Page, SiteError};

/// The service a request is about.
#[derive(Debug, Clone, Default)]
struct About {
    servizio: Option<Value>,
}

const SESSION_EXPIRED: &str =
    "La sessione del modulo è scaduta o il modulo è già stato inviato. Controlla i dati e invialo di nuovo.";

pub async fn contact(
    cx: &Ctx,
    visitor: &mut Visitor,
    posted: Option<&Posted>,
    files: &[File],
) -> Result<Outcome, SiteError> {
    let Answer::Page(page) = crate::pages::contacts(cx).await? else { return Err(SiteError::NotFound) };
    let form = match client::form(cx, "contatti").await {
        Ok(f) => f,
        // Without the form (a tenant that has not applied it, or the API failing) the page
        // still gives the addresses.
        Err(e) => {
            if !matches!(e, ApiError::NotFound) {
                tracing::warn!(tenant = %cx.theme.tenant, "contact form unavailable: {e}");
            }
            return Ok(Outcome::Page(unavailable(page, posted.is_some())));
        }
    };
    run(cx, visitor, posted, files, form, page, About::default(), "/contatti".into()).await
}

pub async fn assistance(
    cx: &Ctx,
    visitor: &mut Visitor,
    posted: Option<&Posted>,
    files: &[File],
) -> Result<Outcome, SiteError> {
    let slug = match posted {
        Some(p) => p.get("servizio").map(str::to_owned),
        None => cx.query.get("servizio").cloned(),
    }
    .filter(|s| !s.is_empty());
    let servizio = match slug {
        Some(s) => match cx.entry::<Servizio>("servizio", &s, "").await {
            Ok(v) => serde_json::to_value(v).ok(),
            Err(SiteError::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let form = client::form(cx, "richiesta-assistenza").await?;
    let mut page = Page::new("requests/assistance.html", "Richiedi assistenza");
    page.section = Some("servizi");
    page.description =
        Some("Chiedi assistenza tecnica al CIT: ricevi un numero di richiesta e segui le risposte.".into());
    let title = servizio.as_ref().and_then(|s| s.pointer("/data/title")).and_then(Value::as_str).unwrap_or("");
    let service_url =
        servizio.as_ref().and_then(|s| s.get("slug")).and_then(Value::as_str).map(|s| format!("/servizi/{s}"));
    match &service_url {
        Some(u) => crumbs(&mut page, &[("Servizi", Some("/servizi")), (title, Some(u)), ("Richiedi assistenza", None)]),
        None => crumbs(&mut page, &[("Servizi", Some("/servizi")), ("Richiedi assistenza", None)]),
    }
    let action = match servizio.as_ref().and_then(|s| s.get("slug")).and_then(Value::as_str) {
        Some(s) => format!("/assistenza/richiesta?servizio={s}"),
        None => "/assistenza/richiesta".into(),
    };
    run(cx, visitor, posted, files, form, page, About { servizio }, action).await
}

/// The contacts page when its form cannot be shown; a post that could not be sent says so.
fn unavailable(mut page: Page, posted: bool) -> Page {
    page.ctx.insert("request_unavailable".into(), json!(true));
    if posted {
        page.status = 503;
    }
    page
}

#[allow(clippy::too_many_arguments)]
async fn run(
    cx: &Ctx,
    visitor: &mut Visitor,
    posted: Option<&Posted>,
    files: &[File],
    form: FormView,
    mut page: Page,
    about: About,
    action: String,
) -> Result<Outcome, SiteError> {
    let enti = if form.links.ente {
        cx.list::<Ente>(
            "ente",
            vec![("sort".into(), "title".into()), ("limit".into(), "100".into()), ("fields".into(), "title".into())],
        )
        .await?
        .items
        .into_iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect()
    } else {
        Vec::new()
    };
    let Some(posted) = posted else {
        let token = form.fill_token.clone().unwrap_or_default();
        page.ctx.insert(
            "request".into(),
            context(cx, visitor, &form, None, &FieldErrors::new(), &token, &action, &about, &enti),
        );
        return Ok(Outcome::Page(page));
    };
    let posted_token = posted.get("fill_token").unwrap_or("").to_owned();
    if !visitor.verify(cx, &form.id, posted.get("csrf")) {
        let errors = FieldErrors::from([("_form".to_owned(), SESSION_EXPIRED.to_owned())]);
        let token = form.fill_token.clone().unwrap_or(posted_token);
        page.ctx.insert(
            "request".into(),
            context(cx, visitor, &form, Some(posted), &errors, &token, &action, &about, &enti),
        );
        page.status = 400;
        return Ok(Outcome::Page(page));
    }
    let consent = match (&form.privacy, posted.get("consent")) {
        (Some(p), Some(_)) => json!({"accepted": true, "version": p.version}),
        _ => Value::Null,
    };
    let ente = posted.get("ente").filter(|e| form.links.ente && !e.is_empty());
    let servizio = about.servizio.as_ref().and_then(|s| s.get("id")).cloned().filter(|_| form.links.servizio);
    let payload = json!({
        "data": forms::data_of(&form, posted),
        "consent": consent,
        "fill_token": posted_token,
        "website": posted.get("website").unwrap_or(""),
        "servizio": servizio,
        "ente": ente,
        "page": action.split('?').next(),
    });
    let reply = client::submit(cx, &form.id, &payload, files, &visitor.address).await?;
    if reply.status == 201 {
        visitor.rotate();
        return Ok(Outcome::Page(sent(cx, &form, &reply.body, &about)));
    }
    let mut errors = forms::errors_of(&form, &reply.body);
    if reply.code() == "consent_required" {
        errors.insert("consent".into(), forms::message_for("consent_required", None, ""));
    }
    if let Some(m) = refusal_message(&reply) {
        errors.insert("_form".into(), m);
    }
    if errors.is_empty() {
        errors.insert("_form".into(), "Non è stato possibile inviare il modulo: controlla i dati.".into());
    }
    // A token the API no longer takes is replaced; otherwise the first one is kept, so that the
    // time already spent on the form counts.
    let token =
        if reply.code().starts_with("fill_token") { form.fill_token.clone().unwrap_or_default() } else { posted_token };
    page.ctx
        .insert("request".into(), context(cx, visitor, &form, Some(posted), &errors, &token, &action, &about, &enti));
    page.status = if reply.status == 429 || reply.status == 413 { reply.status } else { 422 };
    page.title = format!("Errore: {}", page.title);
    Ok(Outcome::Page(page))
}

#[allow(clippy::too_many_arguments)]
fn context(
    cx: &Ctx,
    visitor: &Visitor,
    form: &FormView,
    posted: Option<&Posted>,
    errors: &FieldErrors,
    fill_token: &str,
    action: &str,
    about: &About,
    enti: &[Value],
) -> Value {
    let chosen = posted.and_then(|p| p.get("ente")).unwrap_or("");
    let enti: Vec<Value> = enti
        .iter()
        .map(|e| {
            let id = e.get("id").and_then(Value::as_str).unwrap_or("");
            json!({"id": id, "title": e.pointer("/data/title"), "selected": !chosen.is_empty() && chosen == id})
        })
        .collect();
    json!({
        "form": forms::view(form, posted, errors),
        "csrf": visitor.token(cx, &form.id),
        "fill_token": fill_token,
        "action": action,
        "servizio": about.servizio.as_ref().map(|s| json!({"slug": s.get("slug"), "title": s.pointer("/data/title")})),
        "enti": enti,
    })
}

/// The confirmation page; for a ticket, its number and the follow-up link.
fn sent(cx: &Ctx, form: &FormView, created: &Value, about: &About) -> Page {
    let ticket = created.get("ticket").filter(|t| !t.is_null());
    let title = if ticket.is_some() { "Richiesta di assistenza inviata" } else { "Messaggio inviato" };
    let mut page = Page::new("requests/sent.html", title);
    crumbs(&mut page, &[(title, None)]);
    let link = ticket
        .and_then(|t| t.get("secret"))
        .and_then(Value::as_str)
        .map(|s| cx.absolute(&format!("/assistenza/ticket/{s}")));
    page.ctx.insert(
        "sent".into(),
        json!({
            "form": {"id": form.id, "title": form.title, "purpose": form.purpose},
            "number": ticket.and_then(|t| t.get("number")),
            "link": link,
            "servizio": about.servizio.as_ref().map(|s| json!({"slug": s.get("slug"), "title": s.pointer("/data/title")})),
        }),
    );
    page
}
