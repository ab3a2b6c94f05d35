//! Requests from the territory: forms (stored per tenant, versioned like content types),
//! submissions, assistance tickets with their thread, and the retention of submissions.
//! Every row is read and written through the tenant's [`TenantStore`].

mod attachments;
mod forms;
mod submissions;
mod tickets;

use chrono::{DateTime, Utc};
use cit_core::forms::Form;
use cit_core::tickets::{Priority, TicketState};
use serde_json::{Map, Value};

pub use attachments::{Attachment, NewAttachment};
pub(crate) use submissions::enqueue;
pub use submissions::{Anonymised, NewSubmission, NewTicket, SubmissionPage};
pub use tickets::{TicketFilter, TicketPage, TicketPatch};

/// A form as stored: the checked form and its version.
#[derive(Debug, Clone)]
pub struct StoredForm {
    pub form: Form,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A message the outbox will send: written in the same transaction as what caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMail {
    /// What kind of message, for logs and tests: `submission_received`, `ticket_reply`, …
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Text files sent with it (an event's `.ics`).
    pub attachments: Vec<MailAttachment>,
    /// Extra headers (`List-Unsubscribe`, …).
    pub headers: Vec<(String, String)>,
    /// At most one message per key and tenant: enqueueing a key again does nothing.
    pub dedupe: Option<String>,
    /// Sent no sooner than this (a reminder); now when unset.
    pub due_at: Option<DateTime<Utc>>,
}

impl OutMail {
    pub fn new(kind: &'static str, recipient: impl Into<String>, subject: String, body: String) -> Self {
        Self {
            kind,
            recipient: recipient.into(),
            subject,
            body,
            attachments: Vec::new(),
            headers: Vec::new(),
            dedupe: None,
            due_at: None,
        }
    }
}

/// A text file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailAttachment {
    pub name: String,
    pub content_type: String,
    pub content: String,
}

/// A stored submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub id: uuid::Uuid,
    pub form: String,
    pub sent: Submitted,
    pub created_at: DateTime<Utc>,
    pub anonymised_at: Option<DateTime<Utc>>,
    /// The ticket it opened, by number.
    pub ticket: Option<i64>,
}

/// What a requester sent with a form: the answers, under which version of the form and of its
/// privacy notice, and the service, body and page the request is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub form_version: i32,
    pub data: Map<String, Value>,
    pub consent_version: Option<String>,
    pub servizio: Option<String>,
    pub ente: Option<String>,
    pub page: Option<String>,
}

/// A stored ticket, without its thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: uuid::Uuid,
    pub number: i64,
    pub submission: uuid::Uuid,
    pub subject: String,
    pub state: TicketState,
    pub priority: Priority,
    pub category: Option<String>,
    pub ente: Option<String>,
    pub assignee: Option<uuid::Uuid>,
    pub requester_name: String,
    pub requester_email: Option<String>,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// When it was last resolved or closed, for the reopen window.
    pub fn done_at(&self) -> Option<DateTime<Utc>> {
        self.closed_at.or(self.resolved_at)
    }
    pub fn sla(&self) -> cit_core::tickets::SlaFacts {
        cit_core::tickets::SlaFacts {
            state: self.state,
            first_response_due: self.first_response_due,
            resolution_due: self.resolution_due,
            first_response_at: self.first_response_at,
        }
    }
}

/// Who wrote a message of a ticket's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Requester,
    Staff,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Requester => "requester",
            Author::Staff => "staff",
        }
    }
}

/// One message of a ticket's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketMessage {
    pub id: uuid::Uuid,
    pub author: Author,
    pub author_name: String,
    pub author_user: Option<uuid::Uuid>,
    pub body: String,
    /// An internal note: staff only, never shown to the requester.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

/// A ticket with its thread (and, for staff, its audit trail).
#[derive(Debug, Clone)]
pub struct TicketThread {
    pub ticket: Ticket,
    pub messages: Vec<TicketMessage>,
    pub audit: Vec<crate::AuditEntry>,
}
