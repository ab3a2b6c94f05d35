//! REST handlers. Each reads top to bottom: extract, authorise, call the store, map the answer.

pub mod attachments;
pub mod auth;
pub mod content_types;
pub mod entries;
pub mod events;
pub mod forms;
pub mod media;
pub mod members;
pub mod newsletter;
pub mod ops;
pub mod search;
pub mod surveys;
pub mod tenant_jobs;
pub mod tenants;
pub mod tickets;
pub mod tokens;
pub mod webhooks;

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// For `#[serde(default, deserialize_with = "…")]` on an `Option<Option<T>>` field of a patch:
/// absent stays `None` (unchanged), `null` becomes `Some(None)` (cleared).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An answer no cache may keep: it holds a person's own data, or changes with every request.
pub(crate) fn no_store(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}

/// A list. `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T: ToSchema> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> List<T> {
    pub fn all(data: Vec<T>) -> Self {
        Self { data, next_cursor: None }
    }
}
