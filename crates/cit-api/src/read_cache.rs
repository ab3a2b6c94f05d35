//! The in-process cache of public reads: whole answers to anonymous `GET`s under
//! `/api/v1/t/{tenant}/…` that the handler marked `Cache-Control: public` (published content of
//! a public tenant), kept by tenant and by path and query; and answers to anonymous GraphQL
//! `POST`s that the handler marked [`Shareable`] (queries that read only what anybody may read,
//! and wrote nothing), kept by tenant and by the SHA-256 of the body (the query, its variables
//! and operation name, byte for byte as sent).
//!
//! Every write to a tenant forgets that tenant's answers before the writer hears back: writes
//! through the API (any successful non-GET request under `/api/v1/t/{tenant}/` or
//! `/api/v1/tenants/{tenant}`, and GraphQL requests that ran a mutation), scheduled publications,
//! and, through [`cit_store::changes`], writes on the other API nodes (PostgreSQL
//! LISTEN/NOTIFY; the writer waits for the others' acknowledgements) and commits by other
//! processes on SQLite. An answer computed while a write happened is not kept.
//!
//! Misses are coalesced: while one request computes an answer, the others that want the same
//! answer wait for it (at most [`FOLLOW_WAIT`]) instead of computing it too, so that a write
//! that empties a tenant's shelf does not send every waiting reader to the database at once.
//!
//! Settings: `cache.enabled` (default true) and `cache.max_bytes` (default 32 MiB; when full,
//! everything is dropped and the cache fills again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use cit_store::changes::Change;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Marks a response to a GraphQL request that wrote something.
#[derive(Debug, Clone, Copy)]
pub struct Wrote;

/// Marks an answer to a GraphQL `POST` that may be given to every anonymous reader who sends
/// the same body: it read only published content of a public tenant and wrote nothing.
#[derive(Debug, Clone, Copy)]
pub struct Shareable;

/// Tells whether an answer came from the cache (`hit`) or was computed (`miss`).
pub static CACHE_HEADER: HeaderName = HeaderName::from_static("x-cit-cache");
/// Answers larger than this are not kept.
const MAX_ENTRY_BYTES: usize = 1 << 20;
/// How long a request waits for another one computing the same answer before computing it itself.
pub const FOLLOW_WAIT: Duration = Duration::from_secs(5);

struct Cached {
    body: Bytes,
    /// `None` for a GraphQL `POST`: its answer is not for HTTP caches.
    etag: Option<HeaderValue>,
    content_type: HeaderValue,
    cache_control: HeaderValue,
}

pub struct ReadCache {
    enabled: bool,
    max_bytes: usize,
    shelves: RwLock<HashMap<String, HashMap<String, std::sync::Arc<Cached>>>>,
    bytes: AtomicUsize,
    /// Bumped by every forgetting: an answer computed across a bump is not kept.
    writes: AtomicU64,
    /// Answers being computed, by tenant and key, with what wakes the requests waiting for them.
    inflight: Mutex<HashMap<(String, String), Arc<tokio::sync::Notify>>>,
}

/// A computation under way: when it ends (answer kept or not, or the request dropped), the
/// requests waiting for it wake up and look in the cache again.
struct Flight<'a> {
    cache: &'a ReadCache,
    key: (String, String),
    done: Arc<tokio::sync::Notify>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut inflight = self.cache.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if inflight.get(&self.key).is_some_and(|n| Arc::ptr_eq(n, &self.done)) {
            inflight.remove(&self.key);
        }
        self.done.notify_waiters();
    }
}

enum Role<'a> {
    Lead(Flight<'a>),
    Follow(tokio::sync::futures::OwnedNotified),
}

/// The cache's state when a computation started.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl ReadCache {
    pub fn new(enabled: bool, max_bytes: usize) -> Self {
        Self {
            enabled,
            max_bytes,
            shelves: RwLock::new(HashMap::new()),
            bytes: AtomicUsize::new(0),
            writes: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// Leads the computation of an answer, or follows the one under way.
    fn join(&self, tenant: &str, key: &str) -> Role<'_> {
        let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = (tenant.to_owned(), key.to_owned());
        if let Some(done) = inflight.get(&id) {
            // Made under the lock that the leader takes to notify: no wake-up is missed.
            return Role::Follow(done.clone().notified_owned());
        }
        let done = Arc::new(tokio::sync::Notify::new());
        inflight.insert(id.clone(), done.clone());
        Role::Lead(Flight { cache: self, key: id, done })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, HashMap<String, std::sync::Arc<Cached>>>> {
        self.shelves.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, HashMap<String, std::sync::Arc<Cached>>>> {
        self.shelves.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, tenant: &str, key: &str) -> Option<std::sync::Arc<Cached>> {
        self.read().get(tenant)?.get(key).cloned()
    }

    fn ticket(&self) -> Ticket {
        Ticket(self.writes.load(Ordering::Acquire))
    }

    fn put(&self, tenant: &str, key: String, ticket: Ticket, value: Cached) {
        let size = value.body.len() + key.len() + 128;
        let mut shelves = self.write();
        if self.writes.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if self.bytes.load(Ordering::Relaxed) + size > self.max_bytes {
            shelves.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        let shelf = shelves.entry(tenant.to_owned()).or_default();
        if let Some(old) = shelf.insert(key, std::sync::Arc::new(value)) {
            self.bytes.fetch_sub(old.body.len(), Ordering::Relaxed);
        }
        self.bytes.fetch_add(size, Ordering::Relaxed);
    }

    /// Forgets what was kept of `change`.
    pub fn forget(&self, change: &Change) {
        let mut shelves = self.write();
        self.writes.fetch_add(1, Ordering::AcqRel);
        match change {
            Change::Content(t) | Change::Tenant(t) => {
                if let Some(shelf) = shelves.remove(t) {
                    let freed: usize = shelf.iter().map(|(k, v)| v.body.len() + k.len() + 128).sum();
                    self.bytes.fetch_sub(freed.min(self.bytes.load(Ordering::Relaxed)), Ordering::Relaxed);
                }
            }
            Change::Everything => {
                shelves.clear();
                self.bytes.store(0, Ordering::Relaxed);
            }
        }
    }

    /// How many answers are kept (for tests and metrics).
    pub fn len(&self) -> usize {
        self.read().values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tenant a path is about: `/api/v1/t/{tenant}/…` or `/api/v1/tenants/{tenant}…`.
pub(crate) fn tenant_of(path: &str) -> Option<(&str, bool)> {
    if let Some(rest) = path.strip_prefix("/api/v1/t/") {
        let tenant = rest.split('/').next().filter(|t| !t.is_empty())?;
        return Some((tenant, true));
    }
    let rest = path.strip_prefix("/api/v1/tenants/")?;
    rest.split('/').next().filter(|t| !t.is_empty()).map(|t| (t, false))
}

fn etag_matches(req: &ServiceRequest, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag))
}

fn respond(req: &ServiceRequest, c: &Cached) -> HttpResponse {
    let fresh = c.etag.as_ref().is_some_and(|etag| etag_matches(req, etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    if let Some(etag) = &c.etag {
        res.insert_header((header::ETAG, etag.clone()));
    }
    res.insert_header((header::CACHE_CONTROL, c.cache_control.clone()))
        .insert_header((header::VARY, HeaderValue::from_static("Authorization")))
        .insert_header((CACHE_HEADER.clone(), HeaderValue::from_static("hit")));
    if fresh {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, c.content_type.clone())).body(c.body.clone())
}

/// The middleware: answers from the cache, keeps what may be kept, forgets on writes.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let cache = &state.read_cache;
    let Some((tenant, tenant_path)) = tenant_of(req.path()).map(|(t, p)| (t.to_owned(), p)) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let method = req.method().clone();
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    if method == Method::GET || method == Method::HEAD {
        if !(cache.enabled && tenant_path && method == Method::GET && anonymous && state.changes.serving()) {
            return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
        }
        let key = req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        return through(cache, &tenant, key, req, next).await;
    }
    let graphql = req.path().ends_with("/graphql");
    if method == Method::POST && graphql && tenant_path && anonymous && cache.enabled && state.changes.serving() {
        let limit = state.settings.body_limit;
        if req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|n| n <= limit)
        {
            let mut req = req;
            let mut payload = req.take_payload();
            let mut body = actix_web::web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                body.extend_from_slice(&chunk?);
                if body.len() > limit {
                    break;
                }
            }
            let body = body.freeze();
            let key = format!("POST {} {}", req.path(), hex(&Sha256::digest(&body)));
            req.set_payload(actix_web::dev::Payload::from(body));
            let res = through(cache, &tenant, key, req, next).await?;
            // An anonymous mutation (a public form's submission) is computed, never kept.
            if res.response().extensions().get::<Wrote>().is_some() {
                state.changes.announce_content(&tenant).await;
            }
            return Ok(res);
        }
    }
    if method == Method::OPTIONS {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let res = next.call(req).await?;
    let wrote =
        if graphql { res.response().extensions().get::<Wrote>().is_some() } else { !res.status().is_client_error() };
    if wrote {
        if content_only(res.request().path()) {
            state.changes.announce_content(&tenant).await;
        } else {
            state.changes.announce(&tenant).await;
        }
    }
    Ok(res.map_into_boxed_body())
}

/// Whether a write to `path` (under `/api/v1/t/{tenant}/`) changes the tenant's content only
/// (entries, media, GraphQL mutations, which write entries, submissions and tickets), never the
/// tenant, its tokens, members, content types or webhooks, which the node's lookups
/// ([`crate::lookups`]) keep. Anything not listed here forgets the whole tenant.
fn content_only(path: &str) -> bool {
    let section = path.strip_prefix("/api/v1/t/").and_then(|rest| rest.split('/').nth(1));
    matches!(section, Some("entries" | "media" | "graphql"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers `req` from the cache under `key`, or computes the answer (or waits for the request
/// computing it) and keeps it when it may be kept: a `GET` answered `200` with `Cache-Control:
/// public`, JSON and an ETag; a GraphQL `POST` answered `200`, JSON, marked [`Shareable`].
async fn through(
    cache: &ReadCache,
    tenant: &str,
    key: String,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(hit) = cache.get(tenant, &key) {
        let res = respond(&req, &hit);
        return Ok(req.into_response(res));
    }
    let flight = match cache.join(tenant, &key) {
        Role::Lead(flight) => Some(flight),
        Role::Follow(done) => {
            let _ = tokio::time::timeout(FOLLOW_WAIT, done).await;
            if let Some(hit) = cache.get(tenant, &key) {
                let res = respond(&req, &hit);
                return Ok(req.into_response(res));
            }
            // Not kept (not cacheable, or a write came between): compute it here.
            None
        }
    };
    let post = req.method() == Method::POST;
    let ticket = cache.ticket();
    let res = next.call(req).await?;
    let h = res.headers();
    let json = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    let etag = h.get(header::ETAG).cloned();
    let keep = res.status() == StatusCode::OK
        && json
        && if post {
            res.response().extensions().get::<Shareable>().is_some()
        } else {
            etag.is_some()
                && h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("public"))
        };
    let (Some(content_type), Some(cache_control), true) =
        (h.get(header::CONTENT_TYPE).cloned(), h.get(header::CACHE_CONTROL).cloned(), keep)
    else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let body = actix_web::body::to_bytes_limited(body, MAX_ENTRY_BYTES + 1)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("answer too large to read"))?
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    if body.len() <= MAX_ENTRY_BYTES {
        let etag = if post { None } else { etag };
        cache.put(tenant, key, ticket, Cached { body: body.clone(), etag, content_type, cache_control });
    }
    drop(flight);
    res.headers_mut().insert(CACHE_HEADER.clone(), HeaderValue::from_static("miss"));
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))))
}
