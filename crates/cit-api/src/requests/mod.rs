//! What the request routes share: their settings, the signed fill token, the requester's
//! secret, the rate limits and the client address.

pub mod attachments;
mod limits;
pub mod retention;
mod tokens;

use std::net::IpAddr;

use actix_web::HttpRequest;
use cit_core::tickets::Sla;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::first_forwarded_for;

pub use limits::RateLimits;
pub use tokens::{FillTokenError, Keys, LinkError};

/// Forms, submissions and tickets. `CIT_REQUESTS__MIN_FILL_SECS=3`, …
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestSettings {
    /// A form sent sooner than this after its fill token was issued is refused (bots are fast).
    pub min_fill_secs: u64,
    /// A fill token older than this is refused; the page is reloaded for a new one.
    pub fill_token_ttl_secs: u64,
    /// Submissions per client address per window.
    pub per_address: u32,
    /// Submissions per tenant per window (all addresses together).
    pub per_tenant: u32,
    pub window_secs: u64,
    /// Largest submission body, in bytes (413 beyond). A form with attachments raises it by
    /// what its files may weigh.
    pub max_body: usize,
    /// Longest message of a ticket's thread, in characters.
    pub max_message_chars: usize,
    /// Addresses of the proxies whose `X-Forwarded-For` is believed (the partner sites' server).
    pub trusted_proxies: Vec<IpAddr>,
    /// A resolved or closed ticket may be reopened for this many days.
    pub reopen_days: u32,
    /// The requester's link stops working this many days after the ticket was closed.
    pub secret_ttl_days: u32,
    /// The partner site of a tenant, for the links in e-mails; `{tenant}` is replaced by its id.
    pub site_url: String,
    /// Service-level targets per priority.
    pub sla: Sla,
    /// How often the retention job runs, in seconds; 0 turns it off.
    pub retention_interval_secs: u64,
}

impl Default for RequestSettings {
    fn default() -> Self {
        Self {
            min_fill_secs: 3,
            fill_token_ttl_secs: 24 * 3600,
            per_address: 10,
            per_tenant: 500,
            window_secs: 600,
            max_body: 64 * 1024,
            max_message_chars: 8000,
            trusted_proxies: vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1])],
            reopen_days: 14,
            secret_ttl_days: 90,
            site_url: "http://127.0.0.1:8081/{tenant}".into(),
            sla: Sla::default(),
            retention_interval_secs: 3600,
        }
    }
}

impl RequestSettings {
    /// A thread message as its author wrote it, trimmed: 1 to `max_message_chars` characters,
    /// else a 422 on `body`.
    pub fn message_text(&self, body: &str) -> ApiResult<String> {
        let text = body.trim();
        if text.is_empty() || text.chars().count() > self.max_message_chars {
            return Err(ApiError::Validation(vec![FieldError::new(
                "body",
                if text.is_empty() { "required" } else { "too_long" },
                format!("write between 1 and {} characters", self.max_message_chars),
            )]));
        }
        Ok(text.to_owned())
    }

    /// The partner site's base URL for `tenant`, without a trailing slash.
    pub fn site_of(&self, tenant: &str) -> String {
        self.site_url.replace("{tenant}", tenant).trim_end_matches('/').to_owned()
    }
}

/// The end user's address: the first `X-Forwarded-For` hop when the TCP peer is a trusted proxy,
/// else the peer itself.
pub fn end_user_address(req: &HttpRequest, trusted: &[IpAddr]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    if let Some(peer) = peer
        && trusted.contains(&peer)
        && let Some(first) = first_forwarded_for(req).and_then(|v| v.parse::<IpAddr>().ok())
    {
        return first.to_string();
    }
    peer.map_or_else(|| "unknown".into(), |p| p.to_string())
}
