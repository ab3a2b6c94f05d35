//! Tenant jobs: exports and imports asked for over the admin API, behind
//! [`PlatformAction::MoveTenants`]. A job is a row; whichever node claims it runs it.
//!
//! A node claims a job with one conditional UPDATE (`claimed_by`, `claimed_until`), as it claims
//! an e-mail of the outbox, and renews the lease while the job runs. A node that dies mid-job
//! leaves a lease that runs out; the job is claimed again and run from the start (an import's
//! transaction never committed, an export's archive was never stored), at most `max_attempts`
//! times in all.

use chrono::{DateTime, Duration, Utc};
use cit_core::{PlatformAccess, PlatformAction};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use crate::entity::tenant_job;
use crate::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Export,
    Import,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Export => "export",
            JobKind::Import => "import",
        }
    }
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

/// A job as its callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantJob {
    pub id: uuid::Uuid,
    pub kind: JobKind,
    pub tenant: String,
    pub status: JobStatus,
    pub options: Value,
    pub rows: u64,
    pub result: Option<Value>,
    pub error: Option<Value>,
    pub archive_size: Option<u64>,
    pub attempts: u32,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewTenantJob {
    /// Chosen by the caller: an import's archive is stored under it before the row exists.
    pub id: uuid::Uuid,
    pub kind: JobKind,
    pub tenant: String,
    pub options: Value,
    pub requested_by: String,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// `tenant`: the tenant an import created, when the job did not know it (the archive's).
    Succeeded {
        rows: u64,
        result: Value,
        archive_size: Option<u64>,
        tenant: Option<String>,
    },
    Failed {
        error: Value,
    },
}

fn check(access: &PlatformAccess) -> StoreResult<()> {
    if access.action() == PlatformAction::MoveTenants { Ok(()) } else { Err(StoreError::WrongCapability) }
}

/// The job `id` while `node` runs it.
fn held(id: uuid::Uuid, node: &str) -> Condition {
    Condition::all()
        .add(tenant_job::Column::Id.eq(id))
        .add(tenant_job::Column::ClaimedBy.eq(node))
        .add(tenant_job::Column::Status.eq(JobStatus::Running.as_str()))
}

fn json(id: uuid::Uuid, what: &str, raw: &str) -> StoreResult<Value> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("tenant job {id}: {what}: {e}")))
}

impl TryFrom<tenant_job::Model> for TenantJob {
    type Error = StoreError;
    fn try_from(m: tenant_job::Model) -> StoreResult<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("tenant job {}: {what}", m.id));
        let kind = match m.kind.as_str() {
            "export" => JobKind::Export,
            "import" => JobKind::Import,
            _ => return Err(corrupt("unknown kind")),
        };
        let status = match m.status.as_str() {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            _ => return Err(corrupt("unknown status")),
        };
        Ok(TenantJob {
            id: m.id,
            kind,
            tenant: m.tenant,
            status,
            options: json(m.id, "options", &m.options)?,
            rows: u64::try_from(m.rows).unwrap_or(0),
            result: m.result.as_deref().map(|r| json(m.id, "result", r)).transpose()?,
            error: m.error.as_deref().map(|r| json(m.id, "error", r)).transpose()?,
            archive_size: m.archive_size.and_then(|s| u64::try_from(s).ok()),
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            requested_by: m.requested_by,
            created_at: m.created_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
        })
    }
}

impl Store {
    /// Queues a job.
    pub async fn create_tenant_job(&self, access: &PlatformAccess, new: NewTenantJob) -> StoreResult<TenantJob> {
        check(access)?;
        let model = tenant_job::ActiveModel {
            id: Set(new.id),
            kind: Set(new.kind.as_str().into()),
            tenant: Set(new.tenant),
            status: Set(JobStatus::Queued.as_str().into()),
            options: Set(new.options.to_string()),
            rows: Set(0),
            result: Set(None),
            error: Set(None),
            archive_size: Set(None),
            attempts: Set(0),
            requested_by: Set(new.requested_by.chars().take(200).collect()),
            claimed_by: Set(None),
            claimed_until: Set(None),
            created_at: Set(self.now()),
            started_at: Set(None),
            finished_at: Set(None),
        }
        .insert(&self.write)
        .await?;
        model.try_into()
    }

    pub async fn tenant_job(&self, access: &PlatformAccess, id: uuid::Uuid) -> StoreResult<Option<TenantJob>> {
        check(access)?;
        tenant_job::Entity::find_by_id(id).one(&self.write).await?.map(TenantJob::try_from).transpose()
    }

    /// The newest `limit` jobs, newest first.
    pub async fn list_tenant_jobs(&self, access: &PlatformAccess, limit: u64) -> StoreResult<Vec<TenantJob>> {
        check(access)?;
        tenant_job::Entity::find()
            .order_by_desc(tenant_job::Column::CreatedAt)
            .order_by_desc(tenant_job::Column::Id)
            .limit(limit)
            .all(&self.read)
            .await?
            .into_iter()
            .map(TenantJob::try_from)
            .collect()
    }

    /// Claims the oldest job that is queued, or running under a lease that ran out (its node
    /// died), for `node` until `now + lease`. A job whose lease ran out after `max_attempts`
    /// attempts is marked failed instead.
    pub async fn claim_tenant_job(
        &self,
        access: &PlatformAccess,
        node: &str,
        now: DateTime<Utc>,
        lease: Duration,
        max_attempts: u32,
    ) -> StoreResult<Option<TenantJob>> {
        check(access)?;
        let claimable = Condition::any().add(tenant_job::Column::Status.eq(JobStatus::Queued.as_str())).add(
            Condition::all()
                .add(tenant_job::Column::Status.eq(JobStatus::Running.as_str()))
                .add(tenant_job::Column::ClaimedUntil.lt(now)),
        );
        let candidates: Vec<(uuid::Uuid, i32)> = tenant_job::Entity::find()
            .filter(claimable.clone())
            .order_by_asc(tenant_job::Column::CreatedAt)
            .select_only()
            .column(tenant_job::Column::Id)
            .column(tenant_job::Column::Attempts)
            .limit(10)
            .into_tuple()
            .all(&self.write)
            .await?;
        let max = i32::try_from(Ord::max(max_attempts, 1)).unwrap_or(i32::MAX);
        for (id, attempts) in candidates {
            if attempts >= max {
                let error = serde_json::json!({
                    "code": "interrupted",
                    "detail": format!("the job was interrupted {attempts} times (a node stopped while running it)"),
                });
                tenant_job::Entity::update_many()
                    .col_expr(tenant_job::Column::Status, Expr::value(JobStatus::Failed.as_str()))
                    .col_expr(tenant_job::Column::Error, Expr::value(error.to_string()))
                    .col_expr(tenant_job::Column::FinishedAt, Expr::value(now))
                    .col_expr(tenant_job::Column::ClaimedBy, Expr::value(Option::<String>::None))
                    .filter(tenant_job::Column::Id.eq(id))
                    .filter(claimable.clone())
                    .exec(&self.write)
                    .await?;
                continue;
            }
            // The conditional UPDATE is the claim: it matches only while the job is claimable.
            let res = tenant_job::Entity::update_many()
                .col_expr(tenant_job::Column::Status, Expr::value(JobStatus::Running.as_str()))
                .col_expr(tenant_job::Column::ClaimedBy, Expr::value(node))
                .col_expr(tenant_job::Column::ClaimedUntil, Expr::value(now + lease))
                .col_expr(tenant_job::Column::Attempts, Expr::col(tenant_job::Column::Attempts).add(Expr::value(1)))
                .col_expr(tenant_job::Column::Rows, Expr::value(0i64))
                .col_expr(tenant_job::Column::StartedAt, Expr::value(now))
                .filter(tenant_job::Column::Id.eq(id))
                .filter(claimable.clone())
                .exec(&self.write)
                .await?;
            if res.rows_affected == 1 {
                return self.tenant_job(access, id).await;
            }
        }
        Ok(None)
    }

    /// Renews `node`'s lease on a running job and records its progress. False when the job is
    /// no longer this node's (its lease ran out and another node took it over).
    pub async fn renew_tenant_job(
        &self,
        access: &PlatformAccess,
        id: uuid::Uuid,
        node: &str,
        rows: u64,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        check(access)?;
        let res = tenant_job::Entity::update_many()
            .col_expr(tenant_job::Column::ClaimedUntil, Expr::value(until))
            .col_expr(tenant_job::Column::Rows, Expr::value(i64::try_from(rows).unwrap_or(i64::MAX)))
            .filter(held(id, node))
            .exec(&self.write)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Records how `node`'s job ended. False when the job is no longer this node's.
    pub async fn finish_tenant_job(
        &self,
        access: &PlatformAccess,
        id: uuid::Uuid,
        node: &str,
        outcome: JobOutcome,
    ) -> StoreResult<bool> {
        check(access)?;
        let mut update = tenant_job::Entity::update_many()
            .col_expr(tenant_job::Column::FinishedAt, Expr::value(self.now()))
            .col_expr(tenant_job::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        update = match outcome {
            JobOutcome::Succeeded { rows, result, archive_size, tenant } => {
                if let Some(t) = tenant {
                    update = update.col_expr(tenant_job::Column::Tenant, Expr::value(t));
                }
                update
                    .col_expr(tenant_job::Column::Status, Expr::value(JobStatus::Succeeded.as_str()))
                    .col_expr(tenant_job::Column::Rows, Expr::value(i64::try_from(rows).unwrap_or(i64::MAX)))
                    .col_expr(tenant_job::Column::Result, Expr::value(result.to_string()))
                    .col_expr(
                        tenant_job::Column::ArchiveSize,
                        Expr::value(archive_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX))),
                    )
            }
            JobOutcome::Failed { error } => update
                .col_expr(tenant_job::Column::Status, Expr::value(JobStatus::Failed.as_str()))
                .col_expr(tenant_job::Column::Error, Expr::value(error.to_string())),
        };
        let res = update.filter(held(id, node)).exec(&self.write).await?;
        Ok(res.rows_affected == 1)
    }

    /// Removes a job that is not running. `Conflict` while it runs.
    pub async fn delete_tenant_job(&self, access: &PlatformAccess, id: uuid::Uuid) -> StoreResult<TenantJob> {
        check(access)?;
        let job = self.tenant_job(access, id).await?.ok_or(StoreError::NotFound("job"))?;
        let res = tenant_job::Entity::delete_many()
            .filter(tenant_job::Column::Id.eq(id))
            .filter(tenant_job::Column::Status.ne(JobStatus::Running.as_str()))
            .exec(&self.write)
            .await?;
        if res.rows_affected != 1 {
            return Err(StoreError::Rule {
                code: "job_running",
                message: "the job is running: delete it once it has finished".into(),
            });
        }
        Ok(job)
    }

    /// Removes the jobs that finished before `before`; returns their ids (their archives go too).
    pub async fn prune_tenant_jobs(
        &self,
        access: &PlatformAccess,
        before: DateTime<Utc>,
    ) -> StoreResult<Vec<uuid::Uuid>> {
        check(access)?;
        let old: Vec<uuid::Uuid> = tenant_job::Entity::find()
            .filter(tenant_job::Column::FinishedAt.lt(before))
            .select_only()
            .column(tenant_job::Column::Id)
            .into_tuple()
            .all(&self.write)
            .await?;
        if !old.is_empty() {
            tenant_job::Entity::delete_many()
                .filter(tenant_job::Column::Id.is_in(old.clone()))
                .exec(&self.write)
                .await?;
        }
        Ok(old)
    }
}
