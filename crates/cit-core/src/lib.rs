//! The domain of cit: tenants, people, roles and the one function that decides what anyone may do.
//!
//! Nothing here knows about HTTP or SQL. Raw input becomes a checked type at the boundary
//! (`TenantId::parse`, `Email::parse`, …) and everything deeper takes the checked type.

pub mod access;
pub mod clock;
pub mod content;
pub mod error;
pub mod events;
pub mod forms;
pub mod newsletter;
pub mod search;
pub mod surveys;
pub mod tickets;
pub mod types;
pub mod webhooks;

pub use access::{
    Action, Actor, PlatformAccess, PlatformAction, Role, Scope, Scopes, TenantAccess, TenantFacts, authorize,
    authorize_platform,
};
pub use error::{AccessDenied, InvalidInput};
pub use types::{
    ApiTokenId, DisplayName, Email, EntryId, Hostname, Locale, MediaId, Password, SessionId, TenantId, UserId,
};
