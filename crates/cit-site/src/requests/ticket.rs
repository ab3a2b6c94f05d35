//! The ticket page behind the requester's secret link: state, the public thread, and a reply
//! box while the ticket accepts answers. A reply is posted to the same address and followed by a
//! redirect (so a reload does not send it twice).

use serde_json::{Value, json};

use super::client;
use super::forms::Posted;
use super::{Outcome, Visitor, crumbs, refusal_message};
use crate::api::ApiError;
use crate::pages::{Ctx, Page, SiteError};

/// CSRF form name of the reply box.
const FORM: &str = "ticket";
/// Longest reply the site sends.
const MAX_REPLY: usize = 10_000;

pub fn state_label(state: &str) -> &'static str {
    match state {
        "new" => "Ricevuta",
        "open" => "In lavorazione",
        "waiting" => "In attesa di una tua risposta",
        "resolved" => "Risolta",
        "closed" => "Chiusa",
        _ => "In lavorazione",
    }
}

pub async fn page(
    cx: &Ctx,
    visitor: &mut Visitor,
    secret: &str,
    posted: Option<&Posted>,
) -> Result<Outcome, SiteError> {
    let path = format!("/assistenza/ticket/{secret}");
    let mut error: Option<String> = None;
    let mut typed = String::new();
    if let Some(posted) = posted {
        typed = posted.get("messaggio").unwrap_or("").to_owned();
        let text = typed.trim();
        if !visitor.verify(cx, FORM, posted.get("csrf")) {
            error = Some(
                "La sessione è scaduta o la risposta è già stata inviata. Controlla il testo e invialo di nuovo."
                    .into(),
            );
        } else if text.is_empty() {
            error = Some("Scrivi il testo della risposta.".into());
        } else if text.chars().count() > MAX_REPLY {
            error = Some(format!("La risposta è troppo lunga: al massimo {MAX_REPLY} caratteri."));
        } else {
            let reply = match client::reply(cx, secret, text, &visitor.address).await {
                Err(ApiError::NotFound) => return Err(SiteError::NotFound),
                other => other?,
            };
            match reply.status {
                201 | 200 => {
                    visitor.rotate();
                    return Ok(Outcome::SeeOther(format!("{path}?inviata=1")));
                }
                404 => return Err(SiteError::NotFound),
                _ => {
                    let field = reply
                        .body
                        .get("errors")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first())
                        .and_then(|e| e.get("code"))
                        .and_then(Value::as_str)
                        .map(|c| super::forms::message_for(c, None, ""));
                    error = field.or_else(|| refusal_message(&reply)).or_else(|| {
                        Some("Non è stato possibile inviare la risposta: la richiesta non accetta più risposte.".into())
                    });
                }
            }
        }
    }
    let ticket = client::ticket(cx, secret).await?;
    let number = ticket.get("number").cloned().unwrap_or(Value::Null);
    let state = ticket.get("state").and_then(Value::as_str).unwrap_or("");
    let title = format!("Richiesta di assistenza n. {}", number);
    let messages: Vec<Value> = ticket
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let staff = m.get("author").and_then(Value::as_str) == Some("staff");
            let name = m.get("author_name").and_then(Value::as_str).unwrap_or("");
            let who = match (staff, name.is_empty()) {
                (true, true) => "Staff del CIT".to_owned(),
                (true, false) => format!("{name} (staff del CIT)"),
                (false, _) => "Tu".to_owned(),
            };
            json!({"staff": staff, "who": who, "body": m.get("body"), "created_at": m.get("created_at")})
        })
        .collect();
    let mut page = Page::new("requests/ticket.html", title.clone());
    crumbs(&mut page, &[("Assistenza", None), (&title, None)]);
    if error.is_some() {
        page.status = 422;
        page.title = format!("Errore: {title}");
    }
    page.ctx.insert(
        "ticket".into(),
        json!({
            "number": number,
            "subject": ticket.get("subject"),
            "state": state,
            "state_label": state_label(state),
            "created_at": ticket.get("created_at"),
            "updated_at": ticket.get("updated_at"),
            "can_reply": ticket.get("can_reply").and_then(Value::as_bool).unwrap_or(false),
            "messages": messages,
        }),
    );
    page.ctx.insert(
        "reply".into(),
        json!({
            "action": path,
            "csrf": visitor.token(cx, FORM),
            "error": error,
            "value": typed,
            "sent": cx.query.contains_key("inviata") && posted.is_none(),
            "max_length": MAX_REPLY,
        }),
    );
    Ok(Outcome::Page(page))
}
