//! Tenant export and import for platform admins, as background jobs (`crate::portable::jobs`
//! runs them): `POST /api/v1/tenants/{id}/exports` and `POST /api/v1/tenant-imports` queue one
//! and answer `202 Accepted` with its `Location`; `GET /api/v1/tenant-jobs/{id}` says how it
//! goes, from any node; an export's archive is downloaded from `…/{id}/archive`.

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use cit_core::{PlatformAction, TenantId};
use cit_store::jobs::{JobKind, JobStatus, NewTenantJob, TenantJob};
use futures_util::{StreamExt, TryStreamExt};
use object_store::{ObjectStoreExt, WriteMultipart};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::List;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Auth;
use crate::portable::jobs::{archive_key, discard_files, upload_key};
use crate::state::State;

/// An export or import job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: uuid::Uuid,
    /// `export` or `import`.
    #[schema(example = "export")]
    pub kind: String,
    /// The tenant exported, or the one the import creates.
    pub tenant: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    #[schema(example = "running")]
    pub status: String,
    /// Export: `{"with_credentials": bool}`; import: `{"as": id or null}`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Rows written so far while it runs (updated every few seconds), then in all.
    pub rows: u64,
    /// Once succeeded: the rows per table.
    #[schema(value_type = Option<Object>)]
    pub counts: Option<serde_json::Value>,
    /// Once failed: `code` (`archive_refused`, `conflict`, `not_found`, `interrupted`,
    /// `internal`) and `detail`. Nothing of a failed import stays behind.
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    /// A succeeded export's archive.
    pub archive: Option<ArchiveLink>,
    /// Runs started: more than 1 when a node stopped while running it.
    pub attempts: u32,
    /// Who asked for it (`user:<id>`).
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveLink {
    pub href: String,
    pub size: u64,
}

fn job_path(id: uuid::Uuid) -> String {
    format!("/api/v1/tenant-jobs/{id}")
}

impl From<TenantJob> for JobView {
    fn from(j: TenantJob) -> Self {
        let link = (j.kind == JobKind::Export && j.status == JobStatus::Succeeded)
            .then(|| ArchiveLink { href: format!("{}/archive", job_path(j.id)), size: j.archive_size.unwrap_or(0) });
        Self {
            id: j.id,
            kind: j.kind.as_str().to_owned(),
            tenant: j.tenant,
            status: j.status.as_str().to_owned(),
            options: j.options,
            rows: j.rows,
            counts: j.result,
            error: j.error,
            archive: link,
            attempts: j.attempts,
            requested_by: j.requested_by,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

fn accepted(job: TenantJob) -> HttpResponse {
    HttpResponse::Accepted().insert_header((header::LOCATION, job_path(job.id))).json(JobView::from(job))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Also write the members' password hashes and the webhooks' signing secrets (default
    /// false). Keep such an archive as you would keep the passwords.
    pub with_credentials: Option<bool>,
}

/// Queue an export of the tenant (platform admins). The job writes the same archive as
/// `cit tenant export`; follow `Location` for its status and, once it has succeeded, its
/// `archive.href`.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = String, Path), ExportParams),
    responses(
        (status = 202, body = JobView, headers(("Location" = String, description = "The job"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/tenants/{id}/exports")]
pub async fn export(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    query: web::Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let id = TenantId::parse(&path).map_err(|_| ApiError::NotFound("tenant"))?;
    state.store.tenant(&id).await?.ok_or(ApiError::NotFound("tenant"))?;
    let job = state
        .store
        .create_tenant_job(
            &access,
            NewTenantJob {
                id: uuid::Uuid::new_v4(),
                kind: JobKind::Export,
                tenant: id.to_string(),
                options: serde_json::json!({"with_credentials": query.with_credentials.unwrap_or(false)}),
                requested_by: access.actor().to_owned(),
            },
        )
        .await?;
    Ok(accepted(job))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Load the archive as a new tenant with this id: a copy with new ids, no host names and
    /// its webhooks disabled.
    #[serde(rename = "as")]
    #[param(rename = "as")]
    pub as_id: Option<String>,
}

fn bad(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code, detail: detail.into() }
}

/// Upload an archive written by `cit tenant export` (or an export job) and queue its import
/// (platform admins). The body is the archive itself (any content type, e.g. `application/gzip`;
/// up to `portability.max_archive_mb`). The job checks every member before it writes anything; a
/// damaged, foreign or conflicting archive ends the job `failed` with nothing imported.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The archive's bytes, as written (`application/gzip` is as good a content type)"),
    responses(
        (status = 202, body = JobView, headers(("Location" = String, description = "The job"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`as` names a tenant that exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/tenant-imports")]
pub async fn import(
    state: State,
    auth: Auth,
    req: HttpRequest,
    query: web::Query<ImportParams>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let as_id = query.as_id.as_deref().map(TenantId::parse).transpose().map_err(|e| ApiError::Unprocessable {
        code: "invalid_tenant_id",
        detail: format!("as: {e}"),
        errors: vec![],
    })?;
    if let Some(id) = &as_id
        && state.store.tenant(id).await?.is_some()
    {
        return Err(ApiError::Conflict {
            code: "tenant_exists",
            field: Some("as"),
            detail: format!("a tenant with id {id} already exists"),
        });
    }
    let limit =
        usize::try_from(state.settings.portability.max_archive_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let id = uuid::Uuid::new_v4();
    let key = upload_key(id);
    let mut upload = WriteMultipart::new(state.tenant_jobs.put_multipart(&key).await.map_err(ApiError::internal)?);
    let mut size = 0usize;
    let mut head: Vec<u8> = Vec::new();
    let refused = loop {
        let Some(chunk) = payload.next().await else { break None };
        let chunk = match chunk {
            Ok(c) => c,
            Err(_) => break Some(bad("bad_body", "the body could not be read (the upload was cut short)")),
        };
        size += chunk.len();
        if size > limit {
            break Some(ApiError::PayloadTooLarge { limit });
        }
        if head.len() < 2 {
            head.extend(chunk.iter().take(2 - head.len()));
        }
        if let Err(e) = upload.wait_for_capacity(4).await {
            break Some(ApiError::internal(e));
        }
        upload.write(&chunk);
    };
    let refused = refused.or_else(|| {
        (size == 0 || head != [0x1f, 0x8b]).then(|| ApiError::Unprocessable {
            code: "archive_refused",
            detail: "the body is not a cit tenant archive (a .tar.gz written by cit tenant export)".into(),
            errors: vec![],
        })
    });
    if let Some(e) = refused {
        let _ = upload.abort().await;
        crate::media::discard(&*state.tenant_jobs, &key).await;
        return Err(e);
    }
    upload.finish().await.map_err(ApiError::internal)?;
    let created = state
        .store
        .create_tenant_job(
            &access,
            NewTenantJob {
                id,
                kind: JobKind::Import,
                tenant: as_id.as_ref().map_or_else(|| "(from the archive)".to_owned(), ToString::to_string),
                options: serde_json::json!({"as": as_id.as_ref().map(ToString::to_string)}),
                requested_by: access.actor().to_owned(),
            },
        )
        .await;
    match created {
        Ok(job) => Ok(accepted(job)),
        Err(e) => {
            crate::media::discard(&*state.tenant_jobs, &key).await;
            Err(e.into())
        }
    }
}

/// The newest 100 export and import jobs, newest first (platform admins).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), responses((status = 200, body = List<JobView>)))]
#[get("/api/v1/tenant-jobs")]
pub async fn list(state: State, auth: Auth) -> ApiResult<web::Json<List<JobView>>> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let jobs = state.store.list_tenant_jobs(&access, 100).await?;
    Ok(web::Json(List::all(jobs.into_iter().map(JobView::from).collect())))
}

/// One job: its status, progress and outcome (platform admins; any node answers).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = JobView))
)]
#[get("/api/v1/tenant-jobs/{id}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<uuid::Uuid>) -> ApiResult<web::Json<JobView>> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let job = state.store.tenant_job(&access, *path).await?.ok_or(ApiError::NotFound("job"))?;
    Ok(web::Json(job.into()))
}

/// A succeeded export's archive (platform admins): `application/gzip`, streamed.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The archive", content_type = "application/gzip", body = Vec<u8>),
        (status = 409, description = "The export has not succeeded (yet)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/tenant-jobs/{id}/archive")]
pub async fn archive(state: State, auth: Auth, path: web::Path<uuid::Uuid>) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let job = state.store.tenant_job(&access, *path).await?.ok_or(ApiError::NotFound("job"))?;
    if job.kind != JobKind::Export {
        return Err(ApiError::NotFound("archive"));
    }
    if job.status != JobStatus::Succeeded {
        return Err(ApiError::Conflict {
            code: "job_not_succeeded",
            field: None,
            detail: format!("the export is {}: its archive exists once it has succeeded", job.status.as_str()),
        });
    }
    let got = match state.tenant_jobs.get(&archive_key(job.id)).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Err(ApiError::NotFound("archive")),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let size = got.meta.size;
    let name = format!("cit-tenant-{}-{}.tar.gz", job.tenant, job.created_at.format("%Y%m%d-%H%M%S"));
    let stream = got.into_stream().map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/gzip")))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")))
        .body(SizedStream::new(size, stream)))
}

/// Remove a finished job and its archive (platform admins). 409 while it is running.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/api/v1/tenant-jobs/{id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<uuid::Uuid>) -> ApiResult<HttpResponse> {
    let access = state.platform_access(&auth, PlatformAction::MoveTenants)?;
    let job = state.store.delete_tenant_job(&access, *path).await?;
    discard_files(&state, job.id).await;
    Ok(HttpResponse::NoContent().finish())
}
