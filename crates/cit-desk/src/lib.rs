//! `cit-desk`: the web app of the editors, operators and administrators of cit.
//!
//! Like `cit-site`, it depends on none of the other cit crates: it reaches cit only through the
//! public HTTP API (REST, and GraphQL where one query does the work of many), with the tokens
//! of the signed-in user, which it keeps on the server. Whatever the desk can do, an integrator
//! can do. Pages are rendered on the server from templates embedded at build time
//! (`templates/`), work without JavaScript and are enhanced by htmx where it helps.

pub mod api;
pub mod error;
pub mod model;
pub mod pages;
pub mod render;
pub mod server;
pub mod session;
pub mod settings;

pub use server::DeskApp;
pub use settings::DeskSettings;

/// Makes aws-lc-rs the process's rustls crypto provider, unless one is installed already.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}
