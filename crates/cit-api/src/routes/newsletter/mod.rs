//! `/api/v1/t/{tenant}/newsletter/…`: lists, subscription with double opt-in and one-click
//! unsubscribe (no login) in `subscription.rs`; subscribers and campaigns for editors and admins in
//! `campaigns.rs`.

mod campaigns;
mod subscription;

use actix_web::HttpResponse;
use actix_web::http::header;

pub use campaigns::*;
pub use subscription::*;

fn no_store(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}
