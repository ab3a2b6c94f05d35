//! The site's only way to the content: the public REST API over HTTP. Answers are cached for a
//! short time and revalidated with their ETags (`If-None-Match` → 304); when the API cannot be
//! reached, a cached answer is served again, marked stale, for up to `stale_max`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderValue, IF_NONE_MATCH};
use serde_json::Value;

pub mod types;

/// Why the API gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered 404.
    #[error("not found")]
    NotFound,
    /// The API answered 401 or 403 (e.g. a preview token that is wrong or lacks the scope).
    #[error("not allowed ({0})")]
    Denied(u16),
    /// The API refused the request as malformed (e.g. a cursor a visitor edited by hand).
    #[error("bad request")]
    BadRequest,
    /// The API could not be reached or answered an error, and nothing usable was cached.
    #[error("the content API is unavailable: {0}")]
    Unavailable(String),
}

/// An answer and whether it comes from the cache after a failed attempt to refresh it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Arc<Value>,
    pub stale: bool,
    /// Until when this answer may be used without asking the API again (now, for previews).
    pub fresh_until: Instant,
}

#[derive(Debug, Clone)]
struct Cached {
    /// 200 or 404.
    status: u16,
    etag: Option<String>,
    body: Arc<Value>,
    /// When the API last confirmed this answer.
    checked: Instant,
}

/// Most answers kept; beyond it the oldest are dropped.
const CACHE_LIMIT: usize = 4096;

pub struct ApiClient {
    http: reqwest::Client,
    base: url::Url,
    ttl: Duration,
    stale_max: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(base: &str, ttl: Duration, stale_max: Duration, timeout: Duration) -> Result<ApiClient, String> {
        let mut base = url::Url::parse(base).map_err(|e| format!("API URL {base:?}: {e}"))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .user_agent(concat!("cit-site/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(ApiClient { http, base, ttl, stale_max, cache: Mutex::new(HashMap::new()) })
    }

    /// The URL of an API path (`api/v1/t/lecce/entries/servizio`) with query pairs.
    pub fn url(&self, path: &str, query: &[(String, String)]) -> Result<url::Url, ApiError> {
        let mut url = self.base.join(path).map_err(|e| ApiError::Unavailable(format!("bad API path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    /// GET a JSON document. With a `token` (previews) the answer is neither cached nor served from cache.
    pub async fn get(&self, url: url::Url, token: Option<&str>) -> Result<Fetched, ApiError> {
        if let Some(token) = token {
            return self.fetch_private(url, token).await;
        }
        let key = url.to_string();
        let cached = self.lookup(&key);
        if let Some(c) = &cached
            && c.checked.elapsed() < self.ttl
        {
            return answer(c, false, self.ttl);
        }
        let mut request = self.http.get(url);
        if let Some(etag) = cached.as_ref().and_then(|c| c.etag.as_deref())
            && let Ok(value) = HeaderValue::from_str(etag)
        {
            request = request.header(IF_NONE_MATCH, value);
        }
        let failure = match request.send().await {
            Ok(resp) => match resp.status() {
                StatusCode::NOT_MODIFIED if cached.is_some() => {
                    if let Some(c) = self.touch(&key).or_else(|| cached.clone()) {
                        return answer(&c, false, self.ttl);
                    }
                    "304 without a cached answer".to_owned()
                }
                StatusCode::OK => {
                    let etag = resp.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    match resp.json::<Value>().await {
                        Ok(body) => {
                            let c = Cached { status: 200, etag, body: Arc::new(body), checked: Instant::now() };
                            self.store(key, c.clone());
                            return answer(&c, false, self.ttl);
                        }
                        Err(e) => format!("unreadable answer: {e}"),
                    }
                }
                StatusCode::NOT_FOUND => {
                    let c = Cached { status: 404, etag: None, body: Arc::new(Value::Null), checked: Instant::now() };
                    self.store(key, c);
                    return Err(ApiError::NotFound);
                }
                s if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => {
                    return Err(ApiError::Denied(s.as_u16()));
                }
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => return Err(ApiError::BadRequest),
                s => format!("status {s}"),
            },
            Err(e) => e.to_string(),
        };
        match cached {
            Some(c) if c.checked.elapsed() < self.stale_max => {
                tracing::warn!(url = %key, "API unavailable ({failure}); serving a stale copy");
                answer(&c, true, self.ttl)
            }
            _ => {
                tracing::warn!(url = %key, "API unavailable: {failure}");
                Err(ApiError::Unavailable(failure))
            }
        }
    }

    async fn fetch_private(&self, url: url::Url, token: &str) -> Result<Fetched, ApiError> {
        let resp =
            self.http.get(url).bearer_auth(token).send().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
        match resp.status() {
            StatusCode::OK => {
                let body = resp.json::<Value>().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
                Ok(Fetched { body: Arc::new(body), stale: false, fresh_until: Instant::now() })
            }
            StatusCode::NOT_FOUND => Err(ApiError::NotFound),
            s if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN || s == StatusCode::BAD_REQUEST => {
                Err(ApiError::Denied(s.as_u16()))
            }
            s => Err(ApiError::Unavailable(format!("status {s}"))),
        }
    }

    fn lookup(&self, key: &str) -> Option<Cached> {
        self.cache.lock().ok().and_then(|c| c.get(key).cloned())
    }

    fn touch(&self, key: &str) -> Option<Cached> {
        let mut cache = self.cache.lock().ok()?;
        let c = cache.get_mut(key)?;
        c.checked = Instant::now();
        Some(c.clone())
    }

    fn store(&self, key: String, value: Cached) {
        let Ok(mut cache) = self.cache.lock() else { return };
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(&key) {
            let stale_max = self.stale_max;
            cache.retain(|_, c| c.checked.elapsed() < stale_max);
            if cache.len() >= CACHE_LIMIT {
                let mut ages: Vec<(String, Instant)> = cache.iter().map(|(k, c)| (k.clone(), c.checked)).collect();
                ages.sort_by_key(|(_, t)| *t);
                for (k, _) in ages.into_iter().take(CACHE_LIMIT / 4) {
                    cache.remove(&k);
                }
            }
        }
        cache.insert(key, value);
    }

    /// The HTTP client, for the requests that must never be cached (form posts, tickets).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// How long an answer is used before the API is asked again.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Number of cached answers (for tests and logs).
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }
}

fn answer(c: &Cached, stale: bool, ttl: Duration) -> Result<Fetched, ApiError> {
    if c.status == 404 {
        return Err(ApiError::NotFound);
    }
    Ok(Fetched { body: c.body.clone(), stale, fresh_until: c.checked + ttl })
}
