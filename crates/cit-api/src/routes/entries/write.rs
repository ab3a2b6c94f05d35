//! Writes: create, change and delete an entry. Each handler reads top to bottom: parse the body,
//! authorise with the right the write plan asks for, let `cit-core` plan the write, let the store
//! carry it out, answer.

use actix_web::{HttpResponse, delete, patch, post, web};
use cit_core::Action;
use cit_core::content::EntryInput;
use cit_store::{EntryKey, EntryStatus};

use super::shapes::{EntryView, EntryWrite, view};
use super::{content_type, entry_id, grant};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Auth, Json};
use crate::state::State;

fn parse_status(raw: &str) -> ApiResult<EntryStatus> {
    EntryStatus::parse(raw).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "status",
            "invalid_status",
            "status is draft, published or archived",
        )])
    })
}

/// The body as the write path takes it, its status already parsed.
fn input(w: EntryWrite, status: Option<EntryStatus>) -> EntryInput {
    EntryInput {
        data: w.data,
        locale: w.locale,
        slug: w.slug,
        status,
        publish_at: w.publish_at,
        unpublish_at: w.unpublish_at,
        translation_of: w.translation_of.map(Into::into),
        revision: w.revision,
    }
}

/// Create an entry. Drafts may be incomplete; `status: "published"` or a `publish_at` needs
/// every required field and the right to publish (editors, admins, `write` tokens).
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path)),
    request_body = EntryWrite,
    responses(
        (status = 201, body = EntryView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/entries/{type}")]
pub async fn create(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<EntryWrite>,
) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id) = path.into_inner();
    let w = body.0;
    let status = w.status.as_deref().map(parse_status).transpose()?;
    let input = input(w, status);
    let (tenant, access) = state.tenant_access(&auth, &tenant_id, input.create_action()).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    let new = input.plan_create(&ct, &tenant.locales)?;
    let entry = state.store.scoped(&access).create_entry(&ct, new).await?;
    Ok(HttpResponse::Created().json(view(&ct, entry, None)))
}

/// Change an entry: merge `data`, change slug, status or schedule. Changing a published entry,
/// or publishing, needs the right to publish.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = EntryWrite,
    responses(
        (status = 200, body = EntryView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/t/{tenant}/entries/{type}/{id}")]
pub async fn update(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
    body: Json<EntryWrite>,
) -> ApiResult<web::Json<EntryView>> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id = entry_id(&id)?;
    let w = body.0;
    let raw_status = w.status.clone();
    let input = input(w, None);
    input.check_update()?;
    let (tenant, actor) = state.tenant_actor(&auth, &tenant_id).await?;
    let write = grant(&actor, &tenant, Action::WriteContent)?;
    let ct = content_type(&state, &write, &type_id).await?;
    let current = state
        .store
        .scoped(&write)
        .entry(ct.id.as_str(), EntryKey::Id(id), &EntryStatus::ALL)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    let status = raw_status.as_deref().map(parse_status).transpose()?;
    let pending = EntryInput { status, ..input }.plan_update(&current)?;
    let access =
        if pending.action() == Action::WriteContent { write } else { grant(&actor, &tenant, pending.action())? };
    let change = pending.validate(&ct)?;
    let entry = state.store.scoped(&access).update_entry(&ct, change).await?;
    Ok(web::Json(view(&ct, entry, None)))
}

/// Delete an entry and its revisions (editors and admins).
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 204))
)]
#[delete("/api/v1/t/{tenant}/entries/{type}/{id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<(String, String, String)>) -> ApiResult<HttpResponse> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id = entry_id(&id)?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::PublishContent).await?;
    let ct = content_type(&state, &access, &type_id).await?;
    state.store.scoped(&access).delete_entry(ct.id.as_str(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}
