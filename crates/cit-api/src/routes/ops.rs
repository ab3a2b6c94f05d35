//! Liveness, readiness, metrics, and the OpenAPI document.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// How long `/readyz` waits for the database: under the probe timeouts of load balancers.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The database answers (within two seconds) and every migration is applied; else 503 with
/// `Retry-After`.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health), (status = 503, body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/readyz")]
pub async fn readyz(state: State) -> ApiResult<HttpResponse> {
    let check =
        async { state.store.ping().await.is_ok() && state.store.pending_migrations().await.is_ok_and(|n| n == 0) };
    let ready = tokio::time::timeout(READY_WITHIN, check).await.unwrap_or(false);
    if ready { Ok(HttpResponse::Ok().json(Health { status: "ready" })) } else { Err(ApiError::Unavailable) }
}

/// Prometheus metrics in the text format.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: State) -> ApiResult<HttpResponse> {
    let mut body = state.metrics.render().map_err(ApiError::internal)?;
    body.push_str(&format!(
        "# HELP cit_db_statements_total SQL statements this node has run on any of its pools (bench/statements.py reads it per request)\n\
         # TYPE cit_db_statements_total counter\n\
         cit_db_statements_total {}\n",
        state.store.query_count()
    ));
    if let Some((replica, primary)) = state.store.replica_reads() {
        body.push_str(&format!(
            "# HELP cit_db_replica_reads_total Content reads of GET requests, by where they went: the read replica, or the primary when the replica was behind or unreachable\n\
             # TYPE cit_db_replica_reads_total counter\n\
             cit_db_replica_reads_total{{to=\"replica\"}} {replica}\n\
             cit_db_replica_reads_total{{to=\"primary\"}} {primary}\n"
        ));
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/api/v1/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::ApiDoc::openapi())
}
