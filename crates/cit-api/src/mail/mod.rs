//! E-mail that is never lost: the store writes each message into the outbox in the same
//! transaction as its cause; [`worker`] sends what is due, from any node, with retries.

pub mod templates;
mod transport;
pub mod worker;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::settings::Secret;

pub use transport::Transport;

/// How a node talks to the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text: only to a relay on the same machine or network.
    None,
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where messages go. `CIT_MAIL__TRANSPORT=smtp`, `CIT_MAIL__SMTP__HOST=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Each message written as an `.eml` file under `<data dir>/mail/` (the embedded default).
    File,
    Smtp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Seconds to wait for the server.
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailSettings {
    pub transport: TransportKind,
    /// The sender: `"CIT <noreply@cit.example>"`.
    pub from: String,
    pub smtp: SmtpSettings,
    /// Where the file transport writes; `<data dir>/mail` when unset.
    pub dir: Option<PathBuf>,
    /// How often the worker looks for due messages, in milliseconds; 0 turns it off.
    pub poll_ms: u64,
    /// How long a node holds a claimed message before another may take it, in seconds.
    pub lease_secs: u64,
    /// First retry after this many seconds, doubling each time, up to `max_backoff_secs`.
    pub backoff_secs: u64,
    pub max_backoff_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: TransportKind::File,
            from: "CIT <noreply@cit.localhost>".into(),
            smtp: SmtpSettings {
                host: "127.0.0.1".into(),
                port: 25,
                tls: TlsMode::Starttls,
                user: None,
                password: None,
                timeout_secs: 20,
            },
            dir: None,
            poll_ms: 1000,
            lease_secs: 60,
            backoff_secs: 5,
            max_backoff_secs: 3600,
        }
    }
}
