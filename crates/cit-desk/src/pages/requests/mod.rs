//! The requests inbox: the tenant's tickets with their states, priorities, assignees and SLA due
//! dates ([`list`]), and one ticket with its thread, where an operator replies to the requester
//! or writes an internal note, changes state and priority, and assigns it ([`ticket`]). For
//! operators, editors and admins (the API checks each call again).

use actix_web::web;
use serde::{Deserialize, Serialize};

mod list;
mod submissions;
mod ticket;

pub fn configure(cfg: &mut web::ServiceConfig) {
    list::configure(cfg);
    // Before the tickets: `/richieste/moduli` is not a ticket number.
    submissions::configure(cfg);
    ticket::configure(cfg);
}

/// The states of a ticket, in the order of its life, with their Italian names.
pub const STATES: &[(&str, &str)] = &[
    ("new", "Nuova"),
    ("open", "In lavorazione"),
    ("waiting", "In attesa del richiedente"),
    ("resolved", "Risolta"),
    ("closed", "Chiusa"),
];

/// The priorities, lowest first.
pub const PRIORITIES: &[(&str, &str)] =
    &[("low", "Bassa"), ("normal", "Normale"), ("high", "Alta"), ("urgent", "Urgente")];

/// The Italian name of a state or a priority.
fn label(of: &[(&'static str, &'static str)], value: &str) -> &'static str {
    of.iter().find(|(v, _)| *v == value).map_or("—", |(_, l)| l)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct Requester {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct Message {
    #[serde(default)]
    author: String,
    #[serde(default)]
    author_name: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    created_at: Option<String>,
}

/// A ticket as the API reads it out (`GET …/tickets`, `GET …/tickets/{number}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Ticket {
    number: i64,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    ente: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    requester: Requester,
    #[serde(default)]
    first_response_due: Option<String>,
    #[serde(default)]
    resolution_due: Option<String>,
    #[serde(default)]
    first_response_at: Option<String>,
    #[serde(default)]
    resolved_at: Option<String>,
    #[serde(default)]
    overdue: bool,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
}
