//! `cit-site`: the decoupled public websites of the CIT partners.
//!
//! It depends on none of the other cit crates: it reads the content only through the public REST
//! API, as any third-party frontend would. One process serves every partner: by host name
//! (`hosts` in the partner's `theme.toml`) or by path prefix (`/{tenant}/`). Pages are rendered
//! on the server with minijinja templates read at run time from `themes/<partner>/templates/`
//! and then `themes/base/templates/`.

pub mod api;
pub mod colour;
pub mod pages;
pub mod render;
pub mod requests;
pub mod server;
pub mod settings;
pub mod theme;

pub use server::SiteApp;
pub use settings::SiteSettings;

/// Makes aws-lc-rs the process's rustls crypto provider, unless one is installed already.
/// Several crates of a binary may enable different providers; without a default, the first
/// TLS connection would fail.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}
