//! sea-orm entities. They never leave `cit-store`: callers get the plain records in `crate::records`.

pub mod api_token;
pub mod audit;
pub mod content_type;
pub mod content_type_version;
pub mod entry;
pub mod entry_revision;
pub mod form;
pub mod form_version;
pub mod media;
pub mod membership;
pub mod outbox;
pub mod refresh_token;
pub mod session;
pub mod submission;
pub mod submission_attachment;
pub mod tenant;
pub mod ticket;
pub mod ticket_message;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
