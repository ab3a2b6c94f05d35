//! The worker that runs the admin API's export and import jobs, on every node whose
//! `portability.poll_ms` is not 0, one job at a time per node.
//!
//! A job is claimed with a lease (`cit_store::jobs`) that a heartbeat renews every third of
//! `portability.lease_secs` (at most 5 s apart), recording the rows done so far. The archive work itself runs on a
//! blocking thread (the tar file is read and written with blocking calls). What a job makes is
//! kept in the jobs' storage ([`super::open_storage`]), where any node finds it:
//! - an export writes its archive to a local temporary file, then stores it as
//!   `<job>/archive.tar.gz`, which `GET /api/v1/tenant-jobs/{id}/archive` serves;
//! - an import's upload was stored as `<job>/upload.tar.gz` before the job was queued; the job
//!   fetches it to a local temporary file, checks and loads it, and then removes it.
//!
//! A node that stops mid-job (crash, restart, deploy) loses nothing: its lease runs out, and
//! the job is claimed again and run from the start.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cit_core::{Actor, PlatformAccess, PlatformAction, TenantId, authorize_platform};
use cit_store::jobs::{JobKind, JobOutcome, TenantJob};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::archive::{self, ArchiveError, Progress, Storages};
use crate::state::AppState;

/// Where an export job's archive is stored.
pub fn archive_key(job: uuid::Uuid) -> ObjectPath {
    ObjectPath::from(format!("{job}/archive.tar.gz"))
}

/// Where an import job's upload is stored until the job has run.
pub fn upload_key(job: uuid::Uuid) -> ObjectPath {
    ObjectPath::from(format!("{job}/upload.tar.gz"))
}

/// Removes whatever a job left in the jobs' storage.
pub async fn discard_files(state: &AppState, job: uuid::Uuid) {
    for key in [archive_key(job), upload_key(job)] {
        crate::media::discard(&*state.tenant_jobs, &key).await;
    }
}

fn access() -> anyhow::Result<PlatformAccess> {
    Ok(authorize_platform(&Actor::System, PlatformAction::MoveTenants)?)
}

fn scratch(state: &AppState, job: uuid::Uuid) -> std::io::Result<PathBuf> {
    let dir = state.settings.data_dir.join("tmp");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join(format!("job-{job}.tar.gz")))
}

/// Stores the file at `path` under `key`, in parts (bounded memory whatever its size).
pub async fn store_file(storage: &dyn ObjectStore, key: &ObjectPath, path: &Path) -> anyhow::Result<u64> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut upload = WriteMultipart::new(storage.put_multipart(key).await?);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = upload.abort().await;
                return Err(e.into());
            }
        };
        total += n as u64;
        upload.wait_for_capacity(4).await?;
        upload.write(&buf[..n]);
    }
    upload.finish().await?;
    Ok(total)
}

/// Fetches `key` into a new file at `path`.
async fn fetch_file(storage: &dyn ObjectStore, key: &ObjectPath, path: &Path) -> anyhow::Result<()> {
    let mut stream = storage.get(key).await?.into_stream();
    let mut file = tokio::fs::File::create(path).await?;
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    Ok(())
}

/// Looks for one job and runs it. True when there was one.
pub async fn run_next(state: &Arc<AppState>, node: &str) -> anyhow::Result<bool> {
    let access = access()?;
    let p = &state.settings.portability;
    let lease = chrono::Duration::seconds(i64::try_from(p.lease_secs.max(1)).unwrap_or(60));
    let Some(job) = state.store.claim_tenant_job(&access, node, state.clock.now(), lease, p.max_attempts).await? else {
        return Ok(false);
    };
    tracing::info!(job = %job.id, kind = ?job.kind, tenant = job.tenant, attempt = job.attempts, "tenant job started");
    let progress = Arc::new(Progress::quiet());
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (state, progress, lost, node, id) =
            (state.clone(), progress.clone(), lost.clone(), node.to_owned(), job.id);
        let access = access.clone();
        // A third of the lease, and at least every 5 s so that the progress stays fresh.
        let every = Duration::from_millis((p.lease_secs.max(1) * 1000 / 3).clamp(100, 5000));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let until = state.clock.now() + lease;
                match state.store.renew_tenant_job(&access, id, &node, progress.rows(), until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => tracing::warn!(job = %id, error = format!("{e:#}"), "cannot renew the job's lease"),
                }
            }
        })
    };
    // The archive is read and written with blocking calls: a thread of its own, driven by
    // this runtime (the database pool and the storage live here).
    let outcome = {
        let (state, job, progress) = (state.clone(), job.clone(), progress.clone());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || handle.block_on(run(&state, &job, &progress))).await
    };
    heartbeat.abort();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => Err(ArchiveError::Failed(anyhow::anyhow!("the job stopped: {e}"))),
    };
    if lost.load(Ordering::Relaxed) {
        tracing::warn!(job = %job.id, "the job's lease ran out while it ran; the node that took it over finishes it");
        return Ok(true);
    }
    let outcome = match outcome {
        Ok(done) => done,
        Err(e) => {
            if let ArchiveError::Failed(inner) = &e {
                tracing::error!(job = %job.id, error = format!("{inner:#}"), "tenant job failed");
            } else {
                tracing::warn!(job = %job.id, error = %e, "tenant job refused");
            }
            if job.kind == JobKind::Import {
                discard_files(state, job.id).await;
            }
            JobOutcome::Failed { error: json!({"code": e.code(), "detail": e.to_string()}) }
        }
    };
    if !state.store.finish_tenant_job(&access, job.id, node, outcome).await? {
        tracing::warn!(job = %job.id, "the job was taken over by another node before it finished here");
    }
    Ok(true)
}

async fn run(state: &AppState, job: &TenantJob, progress: &Progress) -> Result<JobOutcome, ArchiveError> {
    let access = access().map_err(ArchiveError::Failed)?;
    let tmp = scratch(state, job.id).map_err(|e| ArchiveError::Failed(e.into()))?;
    let _ = std::fs::remove_file(&tmp);
    let files = Storages { media: &state.media, attachments: &state.attachments };
    let result = match job.kind {
        JobKind::Export => {
            let id = TenantId::parse(&job.tenant)
                .map_err(|_| ArchiveError::NotFound(format!("tenant {} not found", job.tenant)))?;
            let credentials = job.options["with_credentials"].as_bool().unwrap_or(false);
            async {
                let done = archive::export(&state.store, &access, &id, credentials, files, &tmp, progress).await?;
                store_file(&*state.tenant_jobs, &archive_key(job.id), &tmp)
                    .await
                    .map_err(|e| ArchiveError::Failed(e.context("storing the archive")))?;
                Ok(JobOutcome::Succeeded {
                    rows: done.counts.values().sum(),
                    result: json!(done.counts),
                    archive_size: Some(done.size),
                    tenant: None,
                })
            }
            .await
        }
        JobKind::Import => {
            let as_id = job.options["as"]
                .as_str()
                .map(TenantId::parse)
                .transpose()
                .map_err(|e| ArchiveError::Refused(format!("as: {e}")))?;
            async {
                fetch_file(&*state.tenant_jobs, &upload_key(job.id), &tmp)
                    .await
                    .map_err(|e| ArchiveError::Failed(e.context("fetching the uploaded archive")))?;
                let done = archive::import(&state.store, &access, &tmp, "the archive", as_id, files, progress).await?;
                state.changes.announce(done.tenant.as_str()).await;
                crate::media::discard(&*state.tenant_jobs, &upload_key(job.id)).await;
                Ok(JobOutcome::Succeeded {
                    rows: done.counts.values().sum(),
                    result: json!(done.counts),
                    archive_size: None,
                    tenant: Some(done.tenant.to_string()),
                })
            }
            .await
        }
    };
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Starts the worker on this node, unless `portability.poll_ms` is 0.
pub fn spawn(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let poll = state.settings.portability.poll_ms;
    if poll == 0 {
        return None;
    }
    let node = format!("node-{}", uuid::Uuid::new_v4().simple());
    Some(crate::background::every(Duration::from_millis(poll), "tenant job step", move || {
        let (state, node) = (state.clone(), node.clone());
        // Runs the queue down before waiting again.
        async move {
            while run_next(&state, &node).await? {}
            Ok(())
        }
    }))
}
