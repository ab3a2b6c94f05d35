//! The server's periodic work (the scheduler, the outbox and webhook workers, the tenant jobs,
//! the retention job): one loop, written once.

use std::future::Future;
use std::time::Duration;

/// Runs `step` every `period` on a task of its own. A step that fails is logged, with `what`
/// naming it, and tried again at the next tick; ticks missed while a step ran are not made up.
pub fn every<F, Fut>(period: Duration, what: &'static str, mut step: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = step().await {
                tracing::warn!(error = format!("{e:#}"), "{what} failed; retrying at the next tick");
            }
        }
    })
}
