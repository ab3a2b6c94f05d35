//! The desk's only way to cit: the public HTTP API, with the signed-in user's access token.
//! Answers are never cached: an editor always sees what the API holds now.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A problem answer of the API (RFC 9457), as the desk shows it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Problem {
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// One field's error in a problem answer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FieldError {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Problem {
    /// A refusal found by the desk before anything is sent, shown the way the API's are (422).
    pub fn local(errors: Vec<FieldError>) -> Problem {
        Problem {
            status: 422,
            code: "invalid_input".into(),
            title: "Alcuni campi non sono validi".into(),
            detail: None,
            errors,
        }
    }

    /// [`Problem::local`] with one field's error.
    pub fn of_field(field: &str, code: &str, message: &str) -> Problem {
        Problem::local(vec![FieldError { field: field.into(), code: code.into(), message: message.into() }])
    }

    /// The error of `field` (or of a path below it, such as `data.titolo` or `data.tags[1]`).
    pub fn field(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field || e.field.strip_prefix("data.") == Some(field))
    }

    /// What to tell the user: the detail when there is one, else the title.
    pub fn message(&self) -> String {
        match &self.detail {
            Some(d) if !d.is_empty() => d.clone(),
            _ if !self.title.is_empty() => self.title.clone(),
            _ => format!("Errore {}", self.status),
        }
    }
}

/// Why a call gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiFailure {
    /// 401: the token is no longer good (expired and not refreshable, revoked, logged out).
    #[error("not signed in")]
    Unauthorized,
    /// Any other 4xx/5xx with its problem body.
    #[error("{}", .0.message())]
    Problem(Problem),
    /// The API could not be reached, or answered something unreadable.
    #[error("the API is unavailable: {0}")]
    Unavailable(String),
}

impl ApiFailure {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Unauthorized => Some(401),
            ApiFailure::Problem(p) => Some(p.status),
            ApiFailure::Unavailable(_) => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiFailure::Problem(p) => Some(p),
            _ => None,
        }
    }
}

/// The tokens of a login or a refresh.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub platform_admin: bool,
    #[serde(default)]
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Membership {
    pub tenant: String,
    pub role: String,
}

/// A body to send.
pub enum Body {
    None,
    Json(serde_json::Value),
    Multipart(reqwest::multipart::Form),
}

/// An answer that is not JSON (a media file, a CSV export): its bytes and headers.
pub struct Raw {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: url::Url,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(base: &str, timeout: Duration) -> Result<Api, String> {
        let mut base = url::Url::parse(base).map_err(|e| format!("API URL {base:?}: {e}"))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("cit-desk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Api { http, base })
    }

    /// The URL of an API path (`api/v1/t/lecce/entries/notizia`) with query pairs.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, ApiFailure> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ApiFailure::Unavailable(format!("{path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().copied());
        }
        Ok(url)
    }

    /// Sends one request; 2xx answers come back as they are, the rest as an [`ApiFailure`].
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        token: Option<&str>,
        body: Body,
        headers: &[(&str, String)],
    ) -> Result<reqwest::Response, ApiFailure> {
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request = match body {
            Body::None => request,
            Body::Json(v) => request.json(&v),
            Body::Multipart(form) => request.multipart(form),
        };
        let resp = request.send().await.map_err(|e| ApiFailure::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ApiFailure::Unauthorized);
        }
        let code = status.as_u16();
        let text = resp.text().await.unwrap_or_default();
        let mut problem: Problem = serde_json::from_str(&text).unwrap_or_default();
        problem.status = code;
        if problem.title.is_empty() {
            problem.title = status.canonical_reason().unwrap_or("Errore").to_owned();
        }
        if code >= 500 {
            tracing::warn!(status = code, code = %problem.code, "the API answered an error");
        }
        Err(ApiFailure::Problem(problem))
    }

    /// Sends and reads a JSON answer (`()`-like answers: use [`Api::send`]).
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: url::Url,
        token: Option<&str>,
        body: Body,
    ) -> Result<T, ApiFailure> {
        let resp = self.send(method, url, token, body, &[]).await?;
        let bytes = resp.bytes().await.map_err(|e| ApiFailure::Unavailable(e.without_url().to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| ApiFailure::Unavailable(format!("unreadable answer: {e}")))
    }

    /// Sends and reads the raw answer (files, CSV).
    pub async fn raw(&self, url: url::Url, token: Option<&str>, headers: &[(&str, String)]) -> Result<Raw, ApiFailure> {
        let resp = self.send(Method::GET, url, token, Body::None, headers).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp.bytes().await.map_err(|e| ApiFailure::Unavailable(e.without_url().to_string()))?.to_vec();
        Ok(Raw { status, content_type, headers, bytes })
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Result<TokenPair, ApiFailure> {
        let url = self.url("api/v1/auth/login", &[])?;
        let body = serde_json::json!({ "email": email, "password": password });
        self.json(Method::POST, url, None, Body::Json(body)).await
    }

    /// `POST /api/v1/auth/refresh`: the refresh token works once and comes back renewed.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, ApiFailure> {
        let url = self.url("api/v1/auth/refresh", &[])?;
        let body = serde_json::json!({ "refresh_token": refresh_token });
        self.json(Method::POST, url, None, Body::Json(body)).await
    }

    /// `POST /api/v1/auth/logout`: ends the API session of these tokens.
    pub async fn logout(&self, access_token: &str) -> Result<(), ApiFailure> {
        let url = self.url("api/v1/auth/logout", &[])?;
        self.send(Method::POST, url, Some(access_token), Body::None, &[]).await.map(|_| ())
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self, access_token: &str) -> Result<Me, ApiFailure> {
        let url = self.url("api/v1/me", &[])?;
        self.json(Method::GET, url, Some(access_token), Body::None).await
    }
}
