//! The outbox worker: claims due messages (a lease, so that two nodes never send the same one),
//! sends them, marks them sent, or gives them back with an exponential back-off.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as ChronoDuration;
use cit_core::{Actor, PlatformAction, authorize_platform};

use super::Transport;
use crate::state::AppState;

/// How many messages one step claims.
const BATCH: u64 = 20;

/// The delay before attempt `attempts + 1`.
pub fn backoff(attempts: i32, base_secs: u64, max_secs: u64) -> u64 {
    let exp = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    base_secs.max(1).saturating_mul(2u64.saturating_pow(exp)).min(max_secs.max(1))
}

/// One step: sends what is due now. Returns how many messages were sent.
pub async fn send_due(state: &AppState, transport: &Transport, node: &str) -> anyhow::Result<usize> {
    let access = authorize_platform(&Actor::System, PlatformAction::SendMail)?;
    let mail = &state.settings.mail;
    let now = state.clock.now();
    let lease = ChronoDuration::seconds(i64::try_from(mail.lease_secs.max(1)).unwrap_or(60));
    let claimed = state.store.claim_outbox(&access, node, now, lease, BATCH).await?;
    let mut sent = 0;
    for m in claimed {
        match transport.send(&mail.from, &m).await {
            Ok(()) => {
                state.store.outbox_sent(&access, m.id, node, state.clock.now()).await?;
                sent += 1;
                tracing::info!(id = %m.id, tenant = m.tenant, kind = m.kind, "e-mail sent");
            }
            Err(e) => {
                let wait = backoff(m.attempts, mail.backoff_secs, mail.max_backoff_secs);
                let retry = state.clock.now() + ChronoDuration::seconds(i64::try_from(wait).unwrap_or(3600));
                tracing::warn!(id = %m.id, attempts = m.attempts + 1, retry_in_secs = wait, error = format!("{e:#}"), "e-mail not sent; will retry");
                state.store.outbox_failed(&access, m.id, node, &format!("{e:#}"), retry).await?;
            }
        }
    }
    Ok(sent)
}

/// Starts the worker on this node, unless `mail.poll_ms` is 0.
pub fn spawn(state: Arc<AppState>) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let poll = state.settings.mail.poll_ms;
    if poll == 0 {
        return Ok(None);
    }
    let transport = Transport::from_settings(&state.settings.mail, &state.settings.data_dir)?;
    let node = format!("node-{}", uuid::Uuid::new_v4().simple());
    let transport = Arc::new(transport);
    Ok(Some(crate::background::every(Duration::from_millis(poll), "outbox step", move || {
        let (state, transport, node) = (state.clone(), transport.clone(), node.clone());
        async move { send_due(&state, &transport, &node).await.map(drop) }
    })))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(0, 5, 3600), 5);
        assert_eq!(backoff(1, 5, 3600), 10);
        assert_eq!(backoff(3, 5, 3600), 40);
        assert_eq!(backoff(20, 5, 3600), 3600);
        assert_eq!(backoff(-1, 5, 3600), 5);
    }
}
