//! The Italian messages, with the partner's name. Plain text: nothing a requester typed can
//! become markup in a mail client.

use cit_core::forms::Form;
use cit_store::requests::OutMail;
use serde_json::{Map, Value};

/// What every message says about the sender.
pub struct Partner<'a> {
    pub name: &'a str,
    /// The partner site, without a trailing slash.
    pub site: &'a str,
}

impl Partner<'_> {
    pub fn ticket_link(&self, secret: &str) -> String {
        format!("{}/assistenza/ticket/{secret}", self.site)
    }

    fn signature(&self) -> String {
        format!(
            "\n\n--\n{}\n{}\n\nQuesto messaggio è stato inviato automaticamente: per rispondere usa il collegamento indicato sopra.\n",
            self.name, self.site
        )
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// To the staff: a form was sent.
pub fn submission_received(
    p: &Partner<'_>,
    form: &Form,
    data: &Map<String, Value>,
    ticket: Option<i64>,
    to: &str,
) -> OutMail {
    let mut body = match ticket {
        Some(n) => format!("È arrivata la richiesta di assistenza n. {n} dal modulo «{}».\n\n", form.title),
        None => format!("È arrivato un nuovo messaggio dal modulo «{}».\n\n", form.title),
    };
    for field in form.fields() {
        if let Some(v) = data.get(field.name.as_str()) {
            body.push_str(&format!("{}: {}\n", field.label, value_text(v)));
        }
    }
    body.push_str(&p.signature());
    let subject = match ticket {
        Some(n) => format!("[{}] Nuova richiesta di assistenza n. {n}", p.name),
        None => format!("[{}] Nuovo messaggio: {}", p.name, form.title),
    };
    OutMail::new("submission_received", to, subject, body)
}

/// To the requester: the ticket is open, here is the link to follow it.
pub fn ticket_opened(p: &Partner<'_>, number: i64, subject: &str, secret: &str, to: &str) -> OutMail {
    let body = format!(
        "Gentile utente,\n\nabbiamo ricevuto la tua richiesta n. {number} («{subject}»).\n\nPuoi seguirla e rispondere qui:\n{}\n\nConserva questo collegamento: chi lo possiede può leggere la richiesta.{}",
        p.ticket_link(secret),
        p.signature()
    );
    OutMail::new("ticket_opened", to, format!("[{}] Richiesta n. {number} ricevuta", p.name), body)
}

/// To the requester: staff answered.
pub fn ticket_reply(
    p: &Partner<'_>,
    number: i64,
    subject: &str,
    author: &str,
    reply: &str,
    secret: &str,
    to: &str,
) -> OutMail {
    let body = format!(
        "Gentile utente,\n\n{author} ha risposto alla tua richiesta n. {number} («{subject}»):\n\n{reply}\n\nPer leggere tutta la conversazione e rispondere:\n{}{}",
        p.ticket_link(secret),
        p.signature()
    );
    OutMail::new("ticket_reply", to, format!("[{}] Risposta alla richiesta n. {number}", p.name), body)
}

/// To the staff: the requester wrote.
pub fn requester_replied(p: &Partner<'_>, number: i64, subject: &str, message: &str, to: &str) -> OutMail {
    let body =
        format!("Il richiedente ha scritto sulla richiesta n. {number} («{subject}»):\n\n{message}{}", p.signature());
    OutMail::new("requester_replied", to, format!("[{}] Nuovo messaggio sulla richiesta n. {number}", p.name), body)
}
