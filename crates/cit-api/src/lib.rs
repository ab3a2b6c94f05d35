//! The HTTP face of cit: actix-web REST documented with utoipa, authentication, errors as
//! problem+json, metrics, and the `Application` that binds it all.

pub mod background;
pub mod clock;
pub mod error;
pub mod events;
pub mod extract;
pub mod graphql;
pub mod http_cache;
pub mod lookups;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod newsletter;
pub mod openapi;
pub mod portable;
pub mod read_cache;
pub mod render;
pub mod requests;
pub mod route_table;
pub mod routes;
pub mod security;
pub mod settings;
pub mod startup;
pub mod state;
pub mod surveys;
pub mod webhooks;

pub use settings::Settings;
pub use startup::{Application, open_store};
