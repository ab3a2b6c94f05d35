//! `/api/v1/t/{tenant}/entries/{type}`: entries of a content type. Published content is public
//! (unless the tenant says otherwise); drafts need a preview token or an editor's session.
//!
//! - [`shapes`]: what is written and read back;
//! - [`query`]: the query language of reads (filters, sorts, fields, statuses);
//! - [`read`]: lists and single entries;
//! - [`write`]: create, change, delete, as adapters over the write path of `cit-core`;
//! - [`history`]: revisions, diffs and restore.

mod history;
mod query;
mod read;
mod shapes;
mod write;

use cit_core::content::ContentType;
use cit_core::{Action, Actor, EntryId, TenantAccess, authorize};
use cit_store::Tenant;
use std::sync::Arc;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use history::*;
pub use query::ReadParams;
pub use read::*;
pub use shapes::*;
pub use write::*;

/// The content type named in the path, or 404.
async fn content_type(state: &AppState, access: &TenantAccess, type_id: &str) -> ApiResult<Arc<ContentType>> {
    state.content_type(access, type_id).await
}

/// The entry id in a path; anything else names no entry.
fn entry_id(raw: &str) -> ApiResult<EntryId> {
    raw.parse::<uuid::Uuid>().map(EntryId::from).map_err(|_| ApiError::NotFound("entry"))
}

fn grant(actor: &Actor, tenant: &Tenant, action: Action) -> ApiResult<TenantAccess> {
    Ok(authorize(actor, tenant.facts(), action)?)
}
