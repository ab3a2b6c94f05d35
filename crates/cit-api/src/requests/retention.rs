//! The retention job: anonymises the submissions older than their form's retention period
//! (GDPR storage limitation) and deletes their attachments, rows and files, each run audited
//! in the tenant's log; prunes the webhook delivery log past `webhooks.retention_days`; and
//! removes the tenant jobs, with their archives, past `portability.retention_days`.

use std::sync::Arc;
use std::time::Duration;

use cit_core::{Action, Actor, PlatformAction, authorize, authorize_platform};

use crate::state::AppState;

/// One pass over every tenant and form; returns how many submissions were anonymised.
pub async fn run_once(state: &AppState) -> anyhow::Result<u64> {
    let platform = authorize_platform(&Actor::System, PlatformAction::ManageTenants)?;
    let now = state.clock.now();
    let mut total = 0;
    for tenant in state.store.list_tenants(&platform).await? {
        let access = authorize(&Actor::System, tenant.facts(), Action::ManageSchema)?;
        let scoped = state.store.scoped(&access);
        for stored in scoped.forms().await? {
            let days = i64::from(stored.form.retention_days);
            let before = now - chrono::Duration::days(days);
            let done = scoped.anonymise_submissions(stored.form.id.as_str(), before).await?;
            // The rows are gone (committed): now the bytes they described.
            for submission in &done.with_attachments {
                crate::requests::attachments::discard(state.attachments.as_ref(), tenant.id.as_str(), *submission)
                    .await;
            }
            let n = done.count;
            if n > 0 {
                tracing::info!(tenant = %tenant.id, form = %stored.form.id, anonymised = n, "retention");
            }
            total += n;
        }
        let days = state.settings.webhooks.retention_days;
        if days > 0 {
            let hooks = authorize(&Actor::System, tenant.facts(), Action::ManageWebhooks)?;
            let before = now - chrono::Duration::days(i64::from(days));
            let pruned = state.store.scoped(&hooks).prune_webhook_deliveries(before).await?;
            if pruned > 0 {
                tracing::info!(tenant = %tenant.id, pruned, "webhook deliveries past their retention");
            }
        }
    }
    let days = state.settings.portability.retention_days;
    if days > 0 {
        let jobs = authorize_platform(&Actor::System, PlatformAction::MoveTenants)?;
        let before = now - chrono::Duration::days(i64::from(days));
        let pruned = state.store.prune_tenant_jobs(&jobs, before).await?;
        for id in &pruned {
            crate::portable::jobs::discard_files(state, *id).await;
        }
        if !pruned.is_empty() {
            tracing::info!(pruned = pruned.len(), "tenant jobs past their retention, with their archives");
        }
    }
    Ok(total)
}

/// Starts the job, unless `requests.retention_interval_secs` is 0.
pub fn spawn(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let every = state.settings.requests.retention_interval_secs;
    (every > 0).then(|| {
        crate::background::every(Duration::from_secs(every), "retention pass", move || {
            let state = state.clone();
            async move { run_once(&state).await.map(drop) }
        })
    })
}
