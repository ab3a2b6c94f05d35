//! `/api/v1/t/{tenant}/submissions/{id}/attachments/{attachment}`: the files a sender attached,
//! for the tenant's staff only. They are downloaded, never shown as pages, and never cached by
//! anyone in between: no public URL reaches them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_store::requests::Attachment;
use object_store::ObjectStoreExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::requests::attachments::key;
use crate::state::State;

/// A file attached to a submission (its bytes: `GET …/submissions/{id}/attachments/{attachment}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: uuid::Uuid,
    /// The name the sender gave it (without any path).
    pub name: String,
    /// Recognised from the bytes.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id,
            name: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

/// The attachments of a submission, for a view that lists them.
pub async fn of_submission(
    store: &cit_store::Store,
    access: &cit_core::TenantAccess,
    submission: uuid::Uuid,
) -> ApiResult<Vec<AttachmentView>> {
    Ok(store.scoped(access).attachments(submission).await?.into_iter().map(AttachmentView::from).collect())
}

/// `filename="…"` with only printable ASCII, and `filename*` with the name as it was.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Download an attachment (operators, editors, admins of the tenant). Always
/// `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`, `Cache-Control:
/// private, no-store`.
#[utoipa::path(
    tag = "requests",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path), ("attachment" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The file's bytes, with its recognised type", content_type = "application/octet-stream", body = Vec<u8>),
    )
)]
#[get("/api/v1/t/{tenant}/submissions/{id}/attachments/{attachment}")]
pub async fn download(
    state: State,
    auth: Auth,
    path: web::Path<(String, uuid::Uuid, uuid::Uuid)>,
) -> ApiResult<HttpResponse> {
    let (tenant, submission, id) = path.into_inner();
    let (t, access) = state.tenant_access(&auth, &tenant, Action::ReadRequests).await?;
    let found = state.store.scoped(&access).attachment(submission, id).await?;
    let bytes = match state.attachments.get(&key(t.id.as_str(), submission, id)).await {
        Ok(got) => got.bytes().await.map_err(ApiError::internal)?,
        Err(object_store::Error::NotFound { .. }) => return Err(ApiError::NotFound("attachment")),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let content_type =
        HeaderValue::from_str(&found.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, disposition(&found.filename)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'")))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_header_cannot_break_it() {
        assert_eq!(
            disposition("relazione finale è.pdf"),
            "attachment; filename=\"relazione finale _.pdf\"; filename*=UTF-8''relazione%20finale%20%C3%A8.pdf"
        );
        assert!(!disposition("a\"b\r\n.txt").contains(['\r', '\n']));
    }
}
