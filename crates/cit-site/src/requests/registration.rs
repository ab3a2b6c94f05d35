//! Registration for an event, on the partner site, without JavaScript:
//! - `GET/POST /eventi/{slug}/iscrizione`: the form (name, e-mail, body, consent), the places
//!   left and whether a waiting list takes the rest; a sent form is followed by a redirect to
//!   the same page with `?inviata=1`, which says to look at the e-mail (the API never tells
//!   whether the address was registered before, and neither does the site);
//! - `GET/POST /eventi/iscrizione/{secret}`: the registration behind the link of the e-mails,
//!   and a button that cancels it.
//!
//! The event page itself stays cacheable: it only links here (a form carries a fresh fill token
//! and a per-visitor CSRF token, so it cannot be cached).

use serde_json::{Value, json};

use super::client;
use super::forms::{FieldErrors, Posted, message_for};
use super::{Outcome, Visitor, crumbs, refusal_message};
use crate::api::ApiError;
use crate::api::types::{Ente, Evento};
use crate::pages::{Ctx, Page, SiteError};

/// CSRF form name of the cancel button.
const CANCEL_FORM: &str = "registration-cancel";

/// The inputs of the form, by API field name: (API field, element id, label).
const FIELDS: [(&str, &str, &str); 4] = [
    ("name", "campo-nome", "Nome e cognome"),
    ("email", "campo-email", "Email"),
    ("ente", "campo-ente", "Ente aderente"),
    ("consent", "campo-consenso", "Informativa sulla privacy"),
];

fn status_label(status: &str) -> &'static str {
    match status {
        "confirmed" => "Iscrizione confermata",
        "waiting" => "In lista d'attesa",
        "cancelled" => "Iscrizione annullata",
        _ => "Iscrizione ricevuta",
    }
}

fn window_message(window: &str) -> &'static str {
    match window {
        "not_yet" => "Le iscrizioni a questo evento non sono ancora aperte.",
        "closed" => "Le iscrizioni a questo evento sono chiuse.",
        _ => "Questo evento non prevede l'iscrizione dal sito.",
    }
}

pub async fn form(cx: &Ctx, visitor: &mut Visitor, slug: &str, posted: Option<&Posted>) -> Result<Outcome, SiteError> {
    let event = cx.entry::<Evento>("evento", slug, "").await?;
    let info = client::registration(cx, &event.id).await?;
    let window = info.get("window").and_then(Value::as_str).unwrap_or("not_taken").to_owned();
    let path = format!("/eventi/{}/iscrizione", event.slug);
    let title = event.data.title.clone().unwrap_or_else(|| "Evento".into());
    let csrf_form = format!("event:{}", event.id);
    let mut page = Page::new("requests/registration.html", format!("Iscrizione: {title}"));
    page.section = Some("eventi");
    page.description = Some(format!("Iscriviti all'evento «{title}»."));
    let event_url = format!("/eventi/{}", event.slug);
    crumbs(&mut page, &[("Eventi", Some("/eventi")), (&title, Some(&event_url)), ("Iscrizione", None)]);
    if window == "not_taken" {
        return Err(SiteError::NotFound);
    }
    let mut errors = FieldErrors::new();
    let mut status = if posted.is_some() && window != "open" { 409 } else { 0 };
    let mut fill_token = info.get("fill_token").and_then(Value::as_str).unwrap_or("").to_owned();
    if let Some(posted) = posted.filter(|_| window == "open") {
        let posted_token = posted.get("fill_token").unwrap_or("").to_owned();
        if !visitor.verify(cx, &csrf_form, posted.get("csrf")) {
            status = 400;
            errors.insert(
                "_form".into(),
                "La sessione del modulo è scaduta o il modulo è già stato inviato. Controlla i dati e invialo di nuovo."
                    .into(),
            );
        } else {
            let version = info.pointer("/privacy/version").and_then(Value::as_str).unwrap_or("");
            let consent = posted.get("consent").map(|_| json!({"accepted": true, "version": version}));
            let payload = json!({
                "name": posted.get("name").unwrap_or(""),
                "email": posted.get("email").unwrap_or(""),
                "ente": posted.get("ente").filter(|e| !e.is_empty()),
                "consent": consent,
                "fill_token": posted_token,
                "website": posted.get("website").unwrap_or(""),
            });
            let reply = client::register(cx, &event.id, &payload, &visitor.address).await?;
            if reply.status == 202 {
                visitor.rotate();
                return Ok(Outcome::SeeOther(format!("{path}?inviata=1")));
            }
            for e in reply.body.get("errors").and_then(Value::as_array).into_iter().flatten() {
                let field = e.get("field").and_then(Value::as_str).unwrap_or("");
                let code = e.get("code").and_then(Value::as_str).unwrap_or("");
                if FIELDS.iter().any(|(f, _, _)| *f == field) {
                    let message = match code {
                        "invalid_name" => "Scrivi il tuo nome e cognome.".to_owned(),
                        "consent_required" => {
                            "Per iscriverti devi dichiarare di aver letto l'informativa sulla privacy.".to_owned()
                        }
                        "invalid_slug" => "Scegli uno degli enti proposti.".to_owned(),
                        _ => message_for(code, None, e.get("message").and_then(Value::as_str).unwrap_or("")),
                    };
                    errors.insert(field.to_owned(), message);
                }
            }
            let whole = match reply.code() {
                "event_full" => Some("I posti sono esauriti e l'evento non ha una lista d'attesa.".to_owned()),
                "registration_closed" | "registration_not_open" => Some(window_message("closed").to_owned()),
                _ => refusal_message(&reply),
            };
            if let Some(m) = whole {
                errors.insert("_form".into(), m);
            }
            if errors.is_empty() {
                errors.insert("_form".into(), "Non è stato possibile inviare l'iscrizione: controlla i dati.".into());
            }
            if !reply.code().starts_with("fill_token") {
                fill_token = posted_token;
            }
            status = if reply.status == 429 { 429 } else { 422 };
        }
    }
    if status != 0 {
        page.status = status;
        page.title = format!("Errore: {}", page.title);
    }
    let enti = cx
        .list::<Ente>("ente", vec![("sort".into(), "title".into()), ("limit".into(), "100".into())])
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let chosen = posted.and_then(|p| p.get("ente")).unwrap_or("");
    let enti: Vec<Value> = enti
        .iter()
        .map(|e| json!({"slug": e.slug, "title": e.data.title.as_deref().unwrap_or(&e.slug), "selected": e.slug == chosen}))
        .collect();
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(name, id, label)| {
            json!({"name": name, "id": id, "label": label, "error": errors.get(*name),
                   "value": posted.and_then(|p| p.get(name)).unwrap_or("")})
        })
        .collect();
    let summary: Vec<Value> = FIELDS
        .iter()
        .filter_map(|(name, id, label)| errors.get(*name).map(|m| json!({"id": id, "label": label, "message": m})))
        .chain(errors.get("_form").map(|m| json!({"id": "modulo", "message": m})))
        .collect();
    let privacy_url = info.pointer("/privacy/url").and_then(Value::as_str).unwrap_or("/privacy");
    page.ctx.insert(
        "registration".into(),
        json!({
            "event": {"title": title, "slug": event.slug, "start": event.data.start, "url": event_url},
            "window": window,
            "message": window_message(&window),
            "opens": info.get("opens"),
            "closes": info.get("closes"),
            "capacity": info.get("capacity"),
            "places_left": info.get("places_left"),
            "waiting_list": info.get("waiting_list"),
            "privacy": {"version": info.pointer("/privacy/version"), "url": privacy_url},
            "action": path,
            "csrf": visitor.token(cx, &csrf_form),
            "fill_token": fill_token,
            "fields": fields,
            "field": fields.iter().map(|f| (f["name"].as_str().unwrap_or("").to_owned(), f.clone())).collect::<serde_json::Map<_, _>>(),
            "consent_checked": posted.is_some_and(|p| p.get("consent").is_some()),
            "summary": summary,
            "enti": enti,
            "sent": posted.is_none() && cx.query.contains_key("inviata"),
        }),
    );
    Ok(Outcome::Page(page))
}

pub async fn own(cx: &Ctx, visitor: &mut Visitor, secret: &str, posted: Option<&Posted>) -> Result<Outcome, SiteError> {
    let path = format!("/eventi/iscrizione/{secret}");
    let mut error = None;
    if let Some(posted) = posted {
        if !visitor.verify(cx, CANCEL_FORM, posted.get("csrf")) {
            error = Some("La sessione è scaduta: premi di nuovo il pulsante per annullare l'iscrizione.".to_owned());
        } else {
            let reply = match client::cancel_registration(cx, secret, &visitor.address).await {
                Err(ApiError::NotFound) => return Err(SiteError::NotFound),
                other => other?,
            };
            match reply.status {
                200 => {
                    visitor.rotate();
                    return Ok(Outcome::SeeOther(format!("{path}?annullata=1")));
                }
                404 => return Err(SiteError::NotFound),
                _ if reply.code() == "event_started" => {
                    error = Some("L'evento è già iniziato: l'iscrizione non si può più annullare.".into());
                }
                _ => error = refusal_message(&reply),
            }
        }
    }
    let r = client::own_registration(cx, secret).await?;
    let status = r.get("status").and_then(Value::as_str).unwrap_or("");
    let title = r.get("event_title").and_then(Value::as_str).unwrap_or("Evento").to_owned();
    let mut page = Page::new("requests/registration_own.html", format!("La tua iscrizione: {title}"));
    page.section = Some("eventi");
    crumbs(&mut page, &[("Eventi", Some("/eventi")), ("La tua iscrizione", None)]);
    if error.is_some() {
        page.status = 409;
        page.title = format!("Errore: {}", page.title);
    }
    page.ctx.insert(
        "registration".into(),
        json!({
            "event": {"title": title, "url": format!("/eventi/{}", r.get("event_slug").and_then(Value::as_str).unwrap_or("")),
                      "start": r.get("event_start")},
            "name": r.get("name"),
            "status": status,
            "status_label": status_label(status),
            "created_at": r.get("created_at"),
            "cancelled_at": r.get("cancelled_at"),
            "can_cancel": r.get("can_cancel").and_then(Value::as_bool).unwrap_or(false),
            "action": path,
            "csrf": visitor.token(cx, CANCEL_FORM),
            "error": error,
            "cancelled_now": posted.is_none() && cx.query.contains_key("annullata"),
        }),
    );
    Ok(Outcome::Page(page))
}
