//! The newsletter: its settings and its e-mails (the confirmation of the double opt-in, the
//! answer to an address already subscribed, a campaign's message with its one-click
//! unsubscribe). The routes are in `routes/newsletter.rs`; the rules in `cit_core::newsletter`.

pub mod templates;

use serde::{Deserialize, Serialize};

/// `CIT_NEWSLETTER__PER_MINUTE=120`, …
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewsletterSettings {
    /// A campaign's messages fall due at this pace (messages a minute, per campaign).
    pub per_minute: u32,
    /// A confirmation link lives this long.
    pub confirm_hours: u32,
    /// The version of the privacy notice a subscriber accepts, and where it is.
    pub privacy_version: String,
    pub privacy_url: String,
}

impl Default for NewsletterSettings {
    fn default() -> Self {
        Self { per_minute: 120, confirm_hours: 48, privacy_version: "2026-01".into(), privacy_url: "/privacy".into() }
    }
}
