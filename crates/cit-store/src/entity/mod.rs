//! sea-orm entities. They never leave `cit-store`: callers get the plain records in `crate::records`.

pub mod api_token;
pub mod audit;
pub mod content_type;
pub mod content_type_version;
pub mod entry;
pub mod entry_revision;
pub mod media;
pub mod membership;
pub mod refresh_token;
pub mod session;
pub mod tenant;
pub mod user;
