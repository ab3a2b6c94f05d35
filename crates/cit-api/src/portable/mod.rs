//! Portable tenants: the archive a tenant moves in ([`archive`]), and the admin API's
//! background jobs that write and load it ([`jobs`]; their routes are in
//! `routes::tenant_jobs`).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use serde::{Deserialize, Serialize};

pub mod archive;
pub mod jobs;

/// `CIT_PORTABILITY__…`: the export and import jobs of the admin API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortabilitySettings {
    /// How often a node looks for a queued job, in milliseconds; 0 turns the worker off on
    /// this node (jobs still queue, and another node runs them).
    pub poll_ms: u64,
    /// How long a node holds a job before another may take it over, in seconds. The node
    /// renews it every third of that (at most 5 s apart) while the job runs.
    pub lease_secs: u64,
    /// Attempts per job: a job whose node stopped mid-run is started again, up to this many
    /// times in all.
    pub max_attempts: u32,
    /// Largest archive an import accepts, in megabytes (413 beyond).
    pub max_archive_mb: u64,
    /// Days a finished job, and its archive, are kept; 0 keeps them. Pruned by the hourly
    /// retention job.
    pub retention_days: u32,
}

impl Default for PortabilitySettings {
    fn default() -> Self {
        Self { poll_ms: 1000, lease_secs: 60, max_attempts: 3, max_archive_mb: 4096, retention_days: 7 }
    }
}

/// Where the jobs' archives live, so that any node can serve or load them: beside the media,
/// under `_jobs/` in the S3 bucket (no tenant id starts with `_`), or in `<data_dir>/jobs`.
pub fn open_storage(settings: &crate::Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if settings.media.s3_bucket.is_some() {
        let media = crate::media::open_s3(settings)?;
        return Ok(Arc::new(PrefixStore::new(media, "_jobs")));
    }
    let dir = settings.data_dir.join("jobs");
    std::fs::create_dir_all(&dir)?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(&dir)?))
}
