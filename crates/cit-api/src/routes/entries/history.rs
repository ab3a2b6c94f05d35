//! The history of an entry: its revisions, what changed between two, and bringing one back.

use actix_web::{get, post, web};
use cit_core::Action;
use cit_core::content::plan_restore;
use cit_store::{EntryKey, EntryStatus};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::shapes::{DiffView, EntryView, FieldChange, RevisionView, view};
use super::{content_type, entry_id, grant};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Auth;
use crate::state::State;

/// Every saved version of an entry, newest first.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = crate::routes::List<RevisionView>))
)]
#[get("/api/v1/t/{tenant}/entries/{type}/{id}/revisions")]
pub async fn revisions(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
) -> ApiResult<web::Json<crate::routes::List<RevisionView>>> {
    let (tenant_id, type_id, id) = path.into_inner();
    let id = entry_id(&id)?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::ReadDrafts).await?;
    let revs = state.store.scoped(&access).revisions(&type_id, id).await?;
    Ok(web::Json(crate::routes::List::all(revs.into_iter().map(RevisionView::from).collect())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffParams {
    /// The revision to compare with; default the one before.
    pub against: Option<i32>,
}

fn parse_rev(raw: &str) -> ApiResult<i32> {
    raw.parse().map_err(|_| ApiError::NotFound("revision"))
}

/// What changed between two revisions, field by field.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path), ("n" = i32, Path), DiffParams),
    responses((status = 200, body = DiffView))
)]
#[get("/api/v1/t/{tenant}/entries/{type}/{id}/revisions/{n}/diff")]
pub async fn diff(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String, String)>,
    q: web::Query<DiffParams>,
) -> ApiResult<web::Json<DiffView>> {
    let (tenant_id, type_id, id, n) = path.into_inner();
    let id = entry_id(&id)?;
    let n = parse_rev(&n)?;
    let (_, access) = state.tenant_access(&auth, &tenant_id, Action::ReadDrafts).await?;
    let scoped = state.store.scoped(&access);
    let to = scoped.revision(&type_id, id, n).await?;
    let from_n = q.against.unwrap_or(n - 1);
    let from = if from_n == 0 { None } else { Some(scoped.revision(&type_id, id, from_n).await?) };
    let before = from.map(|r| r.data).unwrap_or_default();
    let mut keys: Vec<&String> = before.keys().chain(to.data.keys()).collect();
    keys.sort();
    keys.dedup();
    let changes = keys
        .into_iter()
        .filter(|k| before.get(*k) != to.data.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            before: before.get(k).cloned().unwrap_or(Value::Null),
            after: to.data.get(k).cloned().unwrap_or(Value::Null),
        })
        .collect();
    Ok(web::Json(DiffView { from: from_n, to: n, changes }))
}

/// Bring back the data of an old revision, as a new revision. Status and schedule stay.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("type" = String, Path), ("id" = uuid::Uuid, Path), ("n" = i32, Path)),
    responses((status = 200, body = EntryView), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/api/v1/t/{tenant}/entries/{type}/{id}/revisions/{n}/restore")]
pub async fn restore(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<web::Json<EntryView>> {
    let (tenant_id, type_id, id, n) = path.into_inner();
    let id = entry_id(&id)?;
    let n = parse_rev(&n)?;
    let (tenant, actor) = state.tenant_actor(&auth, &tenant_id).await?;
    let read = grant(&actor, &tenant, Action::ReadDrafts)?;
    let ct = content_type(&state, &read, &type_id).await?;
    let scoped = state.store.scoped(&read);
    let old = scoped.revision(ct.id.as_str(), id, n).await?;
    let current =
        scoped.entry(ct.id.as_str(), EntryKey::Id(id), &EntryStatus::ALL).await?.ok_or(ApiError::NotFound("entry"))?;
    let pending = plan_restore(&current, &old);
    let access = grant(&actor, &tenant, pending.action())?;
    let change = pending.validate(&ct)?;
    let entry = state.store.scoped(&access).update_entry(&ct, change).await?;
    Ok(web::Json(view(&ct, entry, None)))
}
