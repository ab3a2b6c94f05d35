//! Strong ETags, `If-None-Match` and `Cache-Control` for reads.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

/// Who may cache an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cacheability {
    /// Published content of a public tenant: shared caches may keep it, and must revalidate.
    Public,
    /// Drafts, private tenants, personal answers: the client only.
    Private,
}

/// Serialises `body` once, answers 304 when the client already has it, else 200 with the ETag.
pub fn json_with_etag<T: Serialize>(req: &HttpRequest, body: &T, cache: Cacheability) -> ApiResult<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let cache_control = match cache {
        Cacheability::Public => "public, no-cache",
        Cacheability::Private => "private, no-cache",
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    let mut res = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag.clone()));
    res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache_control)));
    res.insert_header((header::VARY, HeaderValue::from_static("Authorization")));
    if matches {
        return Ok(res.finish());
    }
    Ok(res.content_type("application/json").body(bytes))
}
