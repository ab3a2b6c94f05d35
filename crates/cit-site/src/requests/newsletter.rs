//! The newsletter on the partner site, without JavaScript:
//! - the footer of every page carries an e-mail box that posts to `/newsletter` (the page is
//!   cached, so it carries no token): the site answers with the whole form, the address kept,
//!   the privacy notice to accept and the tokens;
//! - `GET/POST /newsletter`: the form; a sent form is followed by a redirect to
//!   `/newsletter?inviata=1`, which says to look at the e-mail (never whether the address was
//!   subscribed already);
//! - `GET/POST /newsletter/conferma/{token}`: the link of the double opt-in shows a button; the
//!   POST confirms (a mail scanner that opens links confirms nothing);
//! - `GET/POST /newsletter/disiscrizione/{token}`: the link of every message; the POST
//!   unsubscribes, also as the one-click POST of a mail client (RFC 8058), so it needs no CSRF
//!   token: the signed link is the credential.

use serde_json::{Value, json};

use super::client;
use super::forms::{FieldErrors, Posted, message_for};
use super::{Outcome, Visitor, crumbs, refusal_message};
use crate::api::ApiError;
use crate::pages::{Ctx, Page, SiteError};

const FORM: &str = "newsletter";
const CONFIRM_FORM: &str = "newsletter-confirm";

fn page(template: &str, title: &str) -> Page {
    let mut page = Page::new(template, title);
    crumbs(&mut page, &[("Newsletter", None)]);
    page
}

pub async fn subscribe(cx: &Ctx, visitor: &mut Visitor, posted: Option<&Posted>) -> Result<Outcome, SiteError> {
    let lists = client::newsletter_lists(cx).await?;
    let lists: Vec<Value> = lists.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut page = page("requests/newsletter.html", "Iscriviti alla newsletter");
    page.description = Some("Ricevi per email le notizie, i nuovi servizi e i prossimi eventi del CIT.".into());
    let Some(first) = lists.first().and_then(|l| l.get("id")).and_then(Value::as_str) else {
        page.ctx.insert("newsletter".into(), json!({"none": true}));
        return Ok(Outcome::Page(page));
    };
    let chosen = posted
        .and_then(|p| p.get("lista"))
        .filter(|l| lists.iter().any(|x| x.get("id").and_then(Value::as_str) == Some(l)))
        .unwrap_or(first)
        .to_owned();
    let list = client::newsletter_list(cx, &chosen).await?;
    let mut errors = FieldErrors::new();
    let mut fill_token = list.get("fill_token").and_then(Value::as_str).unwrap_or("").to_owned();
    // A post from the footer box carries no CSRF token: it is the first step, shown as the form.
    if let Some(posted) = posted.filter(|p| p.get("csrf").is_some()) {
        let posted_token = posted.get("fill_token").unwrap_or("").to_owned();
        if !visitor.verify(cx, FORM, posted.get("csrf")) {
            errors.insert(
                "_form".into(),
                "La sessione del modulo è scaduta o il modulo è già stato inviato. Controlla i dati e invialo di nuovo."
                    .into(),
            );
            page.status = 400;
        } else {
            let version = list.pointer("/privacy/version").and_then(Value::as_str).unwrap_or("");
            let payload = json!({
                "email": posted.get("email").unwrap_or(""),
                "consent": posted.get("consent").map(|_| json!({"accepted": true, "version": version})),
                "fill_token": posted_token,
                "website": posted.get("website").unwrap_or(""),
            });
            let reply = client::newsletter_subscribe(cx, &chosen, &payload, &visitor.address).await?;
            if reply.status == 202 {
                visitor.rotate();
                return Ok(Outcome::SeeOther("/newsletter?inviata=1".into()));
            }
            for e in reply.body.get("errors").and_then(Value::as_array).into_iter().flatten() {
                let field = e.get("field").and_then(Value::as_str).unwrap_or("");
                let code = e.get("code").and_then(Value::as_str).unwrap_or("");
                let message = match code {
                    "consent_required" => {
                        "Per iscriverti devi dichiarare di aver letto l'informativa sulla privacy.".to_owned()
                    }
                    _ => message_for(code, None, e.get("message").and_then(Value::as_str).unwrap_or("")),
                };
                if field == "email" || field == "consent" {
                    errors.insert(field.to_owned(), message);
                }
            }
            if let Some(m) = refusal_message(&reply) {
                errors.insert("_form".into(), m);
            }
            if errors.is_empty() {
                errors.insert("_form".into(), "Non è stato possibile inviare l'iscrizione: controlla i dati.".into());
            }
            if !reply.code().starts_with("fill_token") {
                fill_token = posted_token;
            }
            page.status = if reply.status == 429 { 429 } else { 422 };
        }
        page.title = format!("Errore: {}", page.title);
    }
    let summary: Vec<Value> =
        [("email", "newsletter-email", "Email"), ("consent", "newsletter-consenso", "Informativa sulla privacy")]
            .iter()
            .filter_map(|(f, id, label)| errors.get(*f).map(|m| json!({"id": id, "label": label, "message": m})))
            .chain(errors.get("_form").map(|m| json!({"id": "modulo", "message": m})))
            .collect();
    let lists: Vec<Value> = lists
        .iter()
        .map(|l| {
            let id = l.get("id").and_then(Value::as_str).unwrap_or("");
            json!({"id": id, "title": l.get("title"), "description": l.get("description"), "checked": id == chosen})
        })
        .collect();
    page.ctx.insert(
        "newsletter".into(),
        json!({
            "lists": lists,
            "list": {"id": chosen, "title": list.get("title"), "description": list.get("description")},
            "privacy": list.get("privacy"),
            "csrf": visitor.token(cx, FORM),
            "fill_token": fill_token,
            "email": posted.and_then(|p| p.get("email")).unwrap_or(""),
            "consent_checked": posted.is_some_and(|p| p.get("consent").is_some()),
            "email_error": errors.get("email"),
            "consent_error": errors.get("consent"),
            "summary": summary,
            "sent": posted.is_none() && cx.query.contains_key("inviata"),
        }),
    );
    Ok(Outcome::Page(page))
}

pub async fn confirm(
    cx: &Ctx,
    visitor: &mut Visitor,
    token: &str,
    posted: Option<&Posted>,
) -> Result<Outcome, SiteError> {
    let path = format!("/newsletter/conferma/{token}");
    let mut p = page("requests/newsletter_link.html", "Conferma l'iscrizione alla newsletter");
    let mut view = json!({"kind": "confirm", "action": path, "csrf": visitor.token(cx, CONFIRM_FORM)});
    let reply = match posted {
        Some(posted) if !visitor.verify(cx, CONFIRM_FORM, posted.get("csrf")) => {
            view["error"] = json!("La sessione è scaduta: premi di nuovo il pulsante per confermare.");
            p.status = 400;
            client::newsletter_confirmation(cx, token).await
        }
        Some(_) => client::newsletter_confirm(cx, token, &visitor.address).await,
        None => client::newsletter_confirmation(cx, token).await,
    };
    let reply = match reply {
        Err(ApiError::NotFound) => return Err(SiteError::NotFound),
        other => other?,
    };
    match (reply.status, reply.code()) {
        (200, _) => {
            view["list"] = reply.body.get("list").cloned().unwrap_or(Value::Null);
            // Confirmed now, or earlier (the link followed twice).
            if reply.body.get("status").and_then(Value::as_str) == Some("active") {
                if posted.is_some() {
                    visitor.rotate();
                }
                p.title = "Iscrizione confermata".into();
                view["done"] = json!(true);
            }
        }
        (_, "link_expired") => {
            view["expired"] = json!(true);
            view["error"] = json!("Il collegamento è scaduto: iscriviti di nuovo, ti invieremo un nuovo collegamento.");
            p.status = 410;
        }
        (400 | 404 | 422, _) => return Err(SiteError::NotFound),
        _ => {
            let message = refusal_message(&reply)
                .unwrap_or_else(|| "Non è stato possibile confermare l'iscrizione. Riprova.".into());
            view["error"] = json!(message);
            p.status = reply.status;
        }
    }
    p.ctx.insert("link".into(), view);
    Ok(Outcome::Page(p))
}

pub async fn unsubscribe(
    cx: &Ctx,
    visitor: &Visitor,
    token: &str,
    posted: Option<&Posted>,
) -> Result<Outcome, SiteError> {
    let path = format!("/newsletter/disiscrizione/{token}");
    let reply = match client::newsletter_unsubscribe(cx, token, posted.is_some(), &visitor.address).await {
        Err(ApiError::NotFound) => return Err(SiteError::NotFound),
        other => other?,
    };
    match reply.status {
        200 => {}
        404 | 400 => return Err(SiteError::NotFound),
        s => return Err(SiteError::Unavailable(format!("unsubscribe: status {s}"))),
    }
    let status = reply.body.get("status").and_then(Value::as_str).unwrap_or("");
    let title = if status == "unsubscribed" { "Iscrizione annullata" } else { "Annulla l'iscrizione alla newsletter" };
    let mut p = page("requests/newsletter_link.html", title);
    p.ctx.insert(
        "link".into(),
        json!({"kind": "unsubscribe", "action": path, "list": reply.body.get("list"), "status": status,
               "done": status == "unsubscribed"}),
    );
    Ok(Outcome::Page(p))
}
