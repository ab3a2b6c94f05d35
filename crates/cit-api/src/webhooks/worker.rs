//! The delivery worker: claims due deliveries (a lease, so that two nodes never send the same
//! one), resolves the target again and refuses private addresses unless allowed, POSTs the
//! signed event, and records the attempt: delivered, due again after an exponential back-off
//! with jitter, or given up; the store turns a subscription off after repeated failures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use cit_core::webhooks::is_public_ip;
use cit_core::{Actor, PlatformAction, authorize_platform};
use cit_store::{AttemptOutcome, DueDelivery};
use rand::Rng;

use super::{WebhookSettings, sign};
use crate::state::AppState;

/// How many deliveries one step claims.
const BATCH: u64 = 20;

/// The delay before the attempt after `attempts` failed ones, in milliseconds: `base` doubled
/// each time up to `max`, of which a random half is taken off (so that receivers coming back
/// are not hit by every sender at once).
pub fn backoff_ms(attempts: i32, base: u64, max: u64) -> u64 {
    let exp = u32::try_from(attempts.clamp(0, 40) - 1).unwrap_or(0).min(40);
    let full = base.max(1).saturating_mul(2u64.saturating_pow(exp)).min(max.max(1));
    let half = full / 2;
    half + rand::rng().random_range(0..=full - half)
}

/// Where to connect: the target's addresses, refused when one is not public (unless allowed).
async fn addresses(url: &url::Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private && let Some(a) = addrs.iter().find(|a| !is_public_ip(a.ip())) {
        return Err(format!("{host} resolves to {}, a private address; private targets are not allowed", a.ip()));
    }
    Ok(addrs)
}

/// One attempt: `(status code, error)`; no error means a 2xx answer.
async fn attempt(settings: &WebhookSettings, d: &DueDelivery, now: i64) -> (Option<i32>, Option<String>) {
    let url = match url::Url::parse(&d.url) {
        Ok(u) => u,
        Err(e) => return (None, Some(format!("invalid URL: {e}"))),
    };
    let addrs = match addresses(&url, settings.allow_private).await {
        Ok(a) => a,
        Err(e) => return (None, Some(e)),
    };
    let signature = match sign(&d.secret, &d.id.to_string(), now, &d.payload) {
        Ok(s) => s,
        Err(e) => return (None, Some(format!("cannot sign: {e}"))),
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
        .user_agent("cit-webhooks/1");
    if let Some(url::Host::Domain(host)) = url.host() {
        // Connect to the addresses just checked, not to what a second lookup might say.
        builder = builder.resolve_to_addrs(host, &addrs);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return (None, Some(format!("cannot make a client: {e}"))),
    };
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", d.id.to_string())
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(d.payload.clone())
        .send()
        .await;
    match res {
        Ok(r) => {
            let status = r.status();
            let code = Some(i32::from(status.as_u16()));
            if status.is_success() { (code, None) } else { (code, Some(format!("the receiver answered {status}"))) }
        }
        Err(e) if e.is_timeout() => (None, Some(format!("no answer within {} ms", settings.timeout_ms))),
        Err(e) if e.is_connect() => (None, Some(format!("cannot connect: {e}"))),
        Err(e) => (None, Some(format!("request failed: {e}"))),
    }
}

/// One step: sends what is due now. Returns how many deliveries succeeded.
pub async fn deliver_due(state: &AppState, node: &str) -> anyhow::Result<usize> {
    let access = authorize_platform(&Actor::System, PlatformAction::DeliverWebhooks)?;
    let settings = &state.settings.webhooks;
    let now = state.clock.now();
    let lease = ChronoDuration::seconds(i64::try_from(settings.lease_secs.max(1)).unwrap_or(60));
    let claimed = state.store.claim_webhook_deliveries(&access, node, now, lease, BATCH).await?;
    let mut delivered = 0;
    for d in claimed {
        if !d.enabled {
            let reason = "the subscription is turned off";
            state.store.webhook_delivery_dropped(&access, d.id, node, reason, state.clock.now()).await?;
            continue;
        }
        let started = Instant::now();
        let at = state.clock.now();
        let (status_code, error) = attempt(settings, &d, at.timestamp()).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let made = d.attempts + 1;
        let retry_at =
            (error.is_some() && made < i32::try_from(settings.max_attempts).unwrap_or(i32::MAX)).then(|| {
                let wait = backoff_ms(made, settings.backoff_ms, settings.max_backoff_ms);
                state.clock.now() + ChronoDuration::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX / 2))
            });
        if error.is_none() {
            delivered += 1;
            tracing::info!(id = %d.id, tenant = d.tenant, event = d.event, "webhook delivered");
        } else {
            tracing::warn!(id = %d.id, tenant = d.tenant, attempt = made, error = error.as_deref().unwrap_or(""), "webhook not delivered");
        }
        let outcome = AttemptOutcome {
            at,
            status_code,
            error,
            duration_ms,
            retry_at,
            disable_after: i32::try_from(settings.disable_after).unwrap_or(i32::MAX),
        };
        if state.store.webhook_attempted(&access, &d, node, outcome).await? {
            tracing::warn!(webhook = %d.webhook_id, tenant = d.tenant, "webhook subscription turned off after repeated failures");
        }
    }
    Ok(delivered)
}

/// Starts the worker on this node, unless `webhooks.poll_ms` is 0.
pub fn spawn(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let poll = state.settings.webhooks.poll_ms;
    if poll == 0 {
        return None;
    }
    let node = format!("node-{}", uuid::Uuid::new_v4().simple());
    Some(crate::background::every(Duration::from_millis(poll), "webhook step", move || {
        let (state, node) = (state.clone(), node.clone());
        async move { deliver_due(&state, &node).await.map(drop) }
    }))
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for _ in 0..50 {
            let first = backoff_ms(1, 1000, 60_000);
            assert!((500..=1000).contains(&first), "{first}");
            let third = backoff_ms(3, 1000, 60_000);
            assert!((2000..=4000).contains(&third), "{third}");
            let capped = backoff_ms(30, 1000, 60_000);
            assert!((30_000..=60_000).contains(&capped), "{capped}");
        }
    }
}
