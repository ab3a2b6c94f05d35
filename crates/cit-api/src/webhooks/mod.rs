//! Webhooks that are never lost: each change writes its deliveries in its own transaction (see
//! `cit_store::TenantStore::enqueue_webhooks`); [`worker`] sends what is due, from any node,
//! signed per the Standard Webhooks convention, with retries, a log, and subscriptions turned
//! off after repeated failures.

pub mod worker;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// `CIT_WEBHOOKS__…`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookSettings {
    /// Allow targets on loopback, private and link-local addresses (a receiver on the same
    /// machine or network). Off by default: a tenant admin could otherwise reach inside.
    pub allow_private: bool,
    /// How often the worker looks for due deliveries, in milliseconds; 0 turns it off.
    pub poll_ms: u64,
    /// How long a node holds a claimed delivery before another may take it, in seconds.
    pub lease_secs: u64,
    /// How long to wait for the receiver's answer, in milliseconds.
    pub timeout_ms: u64,
    /// The first retry after about this many milliseconds, doubling each time (with jitter), up
    /// to `max_backoff_ms`.
    pub backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Attempts per delivery before it is given up.
    pub max_attempts: u32,
    /// Consecutive failed attempts (across deliveries) after which a subscription is turned off.
    pub disable_after: u32,
    /// Days a delivery that ended (delivered or given up) stays in the log, with its attempts;
    /// 0 keeps them all. Pruned by the hourly retention job.
    pub retention_days: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            poll_ms: 1000,
            lease_secs: 60,
            timeout_ms: 10_000,
            backoff_ms: 5_000,
            max_backoff_ms: 6 * 3600 * 1000,
            max_attempts: 12,
            disable_after: 50,
            retention_days: 30,
        }
    }
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
/// keyed by the secret's decoded bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> anyhow::Result<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signs_like_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_carry_at_least_24_random_bytes() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert!(STANDARD.decode(&s[6..]).unwrap().len() >= 24);
        assert_ne!(s, new_secret());
    }
}
