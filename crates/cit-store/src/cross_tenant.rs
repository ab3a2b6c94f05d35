//! The deliberate cross-tenant operations: the only code outside [`crate::scoped`] that reads or
//! writes tenant-owned rows (the structural test in `boundary.rs` holds every other file to it).
//!
//! Each operation takes a [`PlatformAccess`] for one [`PlatformAction`] and refuses any other:
//! a capability that `cit_core::authorize_platform` grants only where the platform itself acts
//! (the scheduler, start-up indexing, finding out who a caller is) or to a platform admin
//! (granting a role, creating a tenant). Nothing else here is reachable without one.

use chrono::{DateTime, Utc};
use cit_core::{PlatformAccess, PlatformAction, Role, TenantId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::json;

use crate::entity::{api_token, audit, content_type, entry, entry_revision, membership};
use crate::{ApiToken, Membership, Store, StoreError, StoreResult};

fn require(access: &PlatformAccess, action: PlatformAction) -> StoreResult<()> {
    if access.action() == action { Ok(()) } else { Err(StoreError::WrongCapability) }
}

/// Writes one audit record of a platform action on `conn` (the transaction of the change it
/// records), attributed to `tenant` when the action touched one.
pub(crate) async fn audit(
    conn: &impl ConnectionTrait,
    access: &PlatformAccess,
    at: DateTime<Utc>,
    tenant: Option<&str>,
    action: &str,
    object: (&str, &str),
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(tenant.map(str::to_owned)),
        actor: Set(access.actor().to_owned()),
        action: Set(action.to_owned()),
        object_type: Set(object.0.to_owned()),
        object_id: Set(object.1.to_owned()),
        details: Set(details),
        at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Gives `user` the `role` in `tenant` (a platform admin granting it), creating or changing
/// the membership.
pub(crate) async fn grant_membership(
    conn: &impl ConnectionTrait,
    access: &PlatformAccess,
    at: DateTime<Utc>,
    tenant: &TenantId,
    user: uuid::Uuid,
    role: Role,
) -> StoreResult<()> {
    require(access, PlatformAction::ManageUsers)?;
    let existing = membership::Entity::find_by_id((tenant.to_string(), user)).one(conn).await?;
    match existing {
        Some(m) => {
            let mut am: membership::ActiveModel = m.into();
            am.role = Set(role.as_str().to_owned());
            am.update(conn).await?;
        }
        None => {
            membership::ActiveModel {
                tenant_id: Set(tenant.to_string()),
                user_id: Set(user),
                role: Set(role.as_str().to_owned()),
                created_at: Set(at),
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    // ---- finding out who is calling (PlatformAction::Authenticate) -------------------------

    /// An API token by the hash of its secret, if it is neither revoked nor expired at the
    /// store's clock. Its tenant is what the token then grants access to.
    pub async fn api_token_by_hash(&self, access: &PlatformAccess, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        require(access, PlatformAction::Authenticate)?;
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(&self.read)
            .await?;
        let now = self.now();
        match found {
            Some(m) if m.expires_at.is_none_or(|at| at > now) => Ok(Some(ApiToken::try_from(m)?)),
            _ => Ok(None),
        }
    }

    /// Every tenant the user belongs to, with the role there.
    pub async fn memberships_of(&self, access: &PlatformAccess, user: UserId) -> StoreResult<Vec<Membership>> {
        require(access, PlatformAction::Authenticate)?;
        membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.0))
            .order_by_asc(membership::Column::TenantId)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|m| {
                Ok(Membership {
                    tenant: TenantId::parse(&m.tenant_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    role: Role::parse(&m.role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// The user's role in one tenant, if a member: what the [`cit_core::Actor`] is built from
    /// before the permission check.
    pub async fn role_of(&self, access: &PlatformAccess, tenant: &TenantId, user: UserId) -> StoreResult<Option<Role>> {
        require(access, PlatformAction::Authenticate)?;
        membership::Entity::find_by_id((tenant.to_string(), user.0))
            .one(&self.read)
            .await?
            .map(|m| Role::parse(&m.role).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    // ---- start-up indexing (PlatformAction::IndexSearch) ------------------------------------

    /// Up to `limit` entries of any tenant that have no search document.
    pub(crate) async fn entries_without_document(
        &self,
        access: &PlatformAccess,
        limit: u64,
    ) -> StoreResult<Vec<entry::Model>> {
        require(access, PlatformAction::IndexSearch)?;
        Ok(entry::Entity::find()
            .filter(Expr::cust(r#"NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.entry_id = "entries"."id")"#))
            .limit(limit)
            .all(&self.read)
            .await?)
    }

    /// The stored content type row `(tenant, type)`, for indexing that tenant's entries.
    pub(crate) async fn content_type_row(
        &self,
        access: &PlatformAccess,
        tenant: &str,
        type_id: &str,
    ) -> StoreResult<Option<content_type::Model>> {
        require(access, PlatformAction::IndexSearch)?;
        Ok(content_type::Entity::find_by_id((tenant.to_owned(), type_id.to_owned())).one(&self.read).await?)
    }

    // ---- the scheduler (PlatformAction::RunScheduler) -------------------------------------

    /// Up to 500 entries of any tenant in `status` whose `due` time is at or before `now`.
    pub(crate) async fn due_entries(
        &self,
        access: &PlatformAccess,
        status: &str,
        due: entry::Column,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<entry::Model>> {
        require(access, PlatformAction::RunScheduler)?;
        Ok(entry::Entity::find()
            .filter(entry::Column::Status.eq(status))
            .filter(due.lte(now))
            .limit(500)
            .all(&self.read)
            .await?)
    }

    /// Flips one entry from `from` to `to` if it is still due at `now`, with its revision, its
    /// search document's status and an audit record, in one transaction. Whether it flipped:
    /// another node (or tick) may have been first.
    pub(crate) async fn flip(
        &self,
        access: &PlatformAccess,
        e: &entry::Model,
        from: &str,
        to: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        require(access, PlatformAction::RunScheduler)?;
        let txn = self.write.begin().await?;
        let mut update = entry::Entity::update_many()
            .col_expr(entry::Column::Status, Expr::value(to))
            .col_expr(entry::Column::Revision, Expr::col(entry::Column::Revision).add(1))
            .col_expr(entry::Column::UpdatedAt, Expr::value(now))
            .filter(entry::Column::Id.eq(e.id))
            .filter(entry::Column::TenantId.eq(e.tenant_id.as_str()))
            .filter(entry::Column::Status.eq(from));
        if to == "published" {
            let at = e.publish_at.unwrap_or(now);
            update = update
                .col_expr(entry::Column::PublishedAt, Expr::value(at))
                .col_expr(entry::Column::PublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::PublishAt.lte(now));
        } else {
            update = update
                .col_expr(entry::Column::UnpublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::UnpublishAt.lte(now));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Ok(false);
        }
        let after = entry::Entity::find_by_id(e.id)
            .filter(entry::Column::TenantId.eq(e.tenant_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("entry"))?;
        crate::scoped::search_index::set_status(&txn, &after.tenant_id, after.id, &after.status).await?;
        let note = if to == "published" { "scheduled_publish" } else { "scheduled_unpublish" };
        entry_revision::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            entry_id: Set(after.id),
            tenant_id: Set(after.tenant_id.clone()),
            revision: Set(after.revision),
            slug: Set(after.slug.clone()),
            status: Set(after.status.clone()),
            data: Set(after.data.clone()),
            author: Set(access.actor().to_owned()),
            note: Set(note.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit(
            &txn,
            access,
            now,
            Some(&after.tenant_id),
            &format!("entry.{note}"),
            ("entry", &after.id.to_string()),
            json!({"type": after.type_id}),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}
