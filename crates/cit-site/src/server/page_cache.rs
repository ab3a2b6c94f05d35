//! Rendered public pages, kept while every API answer they were made of is fresh.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use super::SiteState;
use super::respond::security_headers;

pub(super) struct KeptPage {
    body: web::Bytes,
    content_type: HeaderValue,
    until: Instant,
}

/// Most pages kept; beyond it, the expired ones go, then all.
const PAGE_LIMIT: usize = 2048;
/// Pages larger than this are not kept.
const PAGE_MAX_BYTES: usize = 512 * 1024;

impl SiteState {
    pub(super) fn kept_page(&self, key: &str) -> Option<HttpResponse> {
        let pages = self.pages.lock().ok()?;
        let page = pages.get(key).filter(|p| p.until > Instant::now())?;
        let mut resp = HttpResponse::Ok();
        resp.insert_header((header::CONTENT_TYPE, page.content_type.clone()))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(PUBLIC)))
            .insert_header(("x-cit-page-cache", "hit"));
        let mut resp = resp.body(page.body.clone());
        security_headers(resp.headers_mut());
        Some(resp)
    }

    /// Keeps `resp` when it is a fresh public page, and gives it back.
    pub(super) async fn keep_page(&self, key: String, resp: HttpResponse) -> HttpResponse {
        let public = resp.headers().get(header::CACHE_CONTROL).is_some_and(|v| v == PUBLIC);
        let until = resp.extensions().get::<FreshUntil>().map(|f| f.0);
        let (Some(until), true, true, Some(content_type)) = (
            until.filter(|u| *u > Instant::now()),
            public,
            resp.status() == StatusCode::OK,
            resp.headers().get(header::CONTENT_TYPE).cloned(),
        ) else {
            return resp;
        };
        use actix_web::body::{BodySize, MessageBody};
        if !matches!(resp.body().size(), BodySize::Sized(n) if n as usize <= PAGE_MAX_BYTES) {
            return resp;
        }
        let (resp, body) = resp.into_parts();
        let bytes = match actix_web::body::to_bytes(body).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot read a rendered page: {e}");
                return HttpResponse::InternalServerError().finish();
            }
        };
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= PAGE_LIMIT {
                let now = Instant::now();
                pages.retain(|_, p| p.until > now);
                if pages.len() >= PAGE_LIMIT {
                    pages.clear();
                }
            }
            pages.insert(key, KeptPage { body: bytes.clone(), content_type, until });
        }
        resp.set_body(actix_web::body::BoxBody::new(bytes))
    }
}

/// When the page's freshest-kept API answer stops being fresh (set by [`super::respond`]).
#[derive(Clone, Copy)]
pub(super) struct FreshUntil(pub(super) Instant);

/// `Cache-Control` of a public page that is not stale.
pub(super) const PUBLIC: &str = "public, max-age=30";
