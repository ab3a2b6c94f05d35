//! Prometheus metrics and the request middleware that records them, gives every request an id
//! (`X-Request-Id`, taken from the client when it is sane) and logs one line per request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use tracing::Instrument;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Requests by tenant and status class (`2xx` … `5xx`), for per-tenant dashboards.
    tenant_requests: IntCounterVec,
    /// The tenants requests were counted for: only ids the server found in the database (see
    /// [`Metrics::tenant_exists`]), so a path naming a made-up tenant adds no series.
    tenants: Arc<RwLock<HashSet<Box<str>>>>,
}

/// More tenants than a CIT hosts: past it, new ones are counted under `(other)`.
const TENANTS_COUNTED: usize = 10_000;

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("cit".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by method and route")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )?;
        let tenant_requests = IntCounterVec::new(
            Opts::new("tenant_http_requests_total", "HTTP requests about one tenant, by tenant and status class"),
            &["tenant", "status"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(tenant_requests.clone()))?;
        Ok(Self { registry, requests, latency, tenant_requests, tenants: Arc::default() })
    }

    /// Called where a request's tenant was found in the database: from then on requests about it
    /// are counted under its id.
    pub fn tenant_exists(&self, tenant: &str) {
        if self.tenants.read().unwrap_or_else(|e| e.into_inner()).contains(tenant) {
            return;
        }
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        if tenants.len() < TENANTS_COUNTED {
            tenants.insert(tenant.into());
        }
    }

    pub fn observe(&self, method: &str, route: &str, tenant: Option<&str>, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
        if let Some(tenant) = tenant {
            let known = self.tenants.read().unwrap_or_else(|e| e.into_inner()).contains(tenant);
            // A tenant never found (a made-up id, answered 404) is not a series of its own.
            if known || status != 404 {
                let class = STATUS_CLASSES[usize::from(status / 100).min(5)];
                let label = if known { tenant } else { "(other)" };
                self.tenant_requests.with_label_values(&[label, class]).inc();
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8(buf)?)
    }
}

const STATUS_CLASSES: [&str; 6] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// How many paths each worker thread remembers the route of before it forgets them all.
const ROUTES_REMEMBERED: usize = 4096;

thread_local! {
    static ROUTES: RefCell<HashMap<Box<str>, Rc<str>>> = RefCell::new(HashMap::new());
}

/// The route pattern of the request's path (`/api/v1/t/{tenant}/entries/{type}/{key}`), for the
/// metrics label and the log span. actix finds it by walking every registered resource, which
/// cost more than the rest of a request answered from the read cache (about 60,000 instructions
/// with the requests routes, bench/instructions.py); the resource map never changes once the
/// server runs, so each worker remembers the answer per path, in a table it clears when full.
fn route_of(req: &ServiceRequest) -> Rc<str> {
    ROUTES.with(|routes| {
        if let Some(route) = routes.borrow().get(req.path()) {
            return route.clone();
        }
        let route: Rc<str> = req.match_pattern().unwrap_or_else(|| "(unmatched)".into()).into();
        let mut routes = routes.borrow_mut();
        if routes.len() >= ROUTES_REMEMBERED {
            routes.clear();
        }
        routes.insert(req.path().into(), route.clone());
        route
    })
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let route = route_of(&req);
    let metrics = req.app_data::<actix_web::web::Data<crate::state::AppState>>().map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let _enter = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID.clone(), value);
            }
            if let Some(m) = &metrics {
                let tenant = crate::read_cache::tenant_of(res.request().path()).map(|(t, _)| t);
                m.observe(&method, &route, tenant, status, elapsed.as_secs_f64());
            }
            // One line per request only at debug: at tens of thousands of requests a second,
            // writing them is a large share of the server's work. Metrics count every request.
            if status >= 500 {
                tracing::warn!(status, micros = elapsed.as_micros() as u64, path = %res.request().path(), "served");
            } else {
                tracing::debug!(status, micros = elapsed.as_micros() as u64, path = %res.request().path(), "served");
            }
            Ok(res)
        }
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            if let Some(m) = &metrics {
                // The request is gone with the error: counted without its tenant (rare: handlers
                // answer their errors as responses).
                m.observe(&method, &route, None, status, elapsed.as_secs_f64());
            }
            tracing::warn!(status, micros = elapsed.as_micros() as u64, "failed");
            Err(e)
        }
    }
}
