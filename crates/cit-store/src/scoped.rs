//! Everything that belongs to one tenant, reached only through a [`TenantStore`].

pub mod events;
pub mod newsletter;
pub mod outbox_queue;
pub mod portable;
pub mod requests;
pub(crate) mod search_index;
pub mod surveys;
pub mod webhooks;

use cit_core::content::FieldName;
use cit_core::{Action, ApiTokenId, Email, Role, TenantAccess, TenantId, UserId};
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DeleteMany, EntityTrait,
    IdenStatic, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, TransactionTrait,
    UpdateMany,
};
use serde_json::json;

use crate::entity::{
    api_token, audit, content_type, content_type_version, entry, entry_revision, event_registration, form,
    form_version, media, membership, newsletter_campaign, newsletter_list, newsletter_subscriber, outbox, submission,
    submission_attachment, survey, survey_invitation, survey_response, ticket, ticket_message, user, webhook,
    webhook_attempt, webhook_delivery,
};
use crate::platform::insert_user;
use crate::{ApiToken, AuditEntry, Backend, Member, NewApiToken, NewUser, Store, StoreError, StoreResult};

/// An entity whose rows belong to one tenant. Implemented only by [`tenant_owned!`] below.
pub(crate) trait TenantOwned: EntityTrait {
    fn tenant_column() -> Self::Column;
}

/// Declares the tenant-owned tables: every entity here is reached only through a
/// [`TenantStore`] (or, deliberately, [`crate::cross_tenant`]), and the structural test in
/// `boundary.rs` fails the build if any other file queries one. A new tenant-owned table is
/// covered by adding one line: `entities` for sea-orm entities (`module => "table"`), `tables`
/// for tables written with sea-query or raw SQL only.
macro_rules! tenant_owned {
    (entities: $($module:ident => $table:literal),* $(,)?; tables: $($raw:literal),* $(,)?;) => {
        $(impl TenantOwned for $module::Entity {
            fn tenant_column() -> Self::Column {
                $module::Column::TenantId
            }
        })*
        /// (entity module, table) of every tenant-owned entity.
        #[cfg(test)]
        pub(crate) const TENANT_OWNED_ENTITIES: &[(&str, &str)] = &[$((stringify!($module), $table)),*];
        /// Tenant-owned tables without an entity.
        #[cfg(test)]
        pub(crate) const TENANT_OWNED_TABLES: &[&str] = &[$($raw),*];
    };
}

tenant_owned! {
    entities:
        membership => "memberships",
        api_token => "api_tokens",
        audit => "audit_log",
        entry => "entries",
        entry_revision => "entry_revisions",
        event_registration => "event_registrations",
        newsletter_list => "newsletter_lists",
        newsletter_subscriber => "newsletter_subscribers",
        newsletter_campaign => "newsletter_campaigns",
        content_type => "content_types",
        content_type_version => "content_type_versions",
        media => "media",
        form => "forms",
        form_version => "form_versions",
        submission => "submissions",
        submission_attachment => "submission_attachments",
        survey => "surveys",
        survey_invitation => "survey_invitations",
        survey_response => "survey_responses",
        ticket => "tickets",
        ticket_message => "ticket_messages",
        outbox => "outbox",
        webhook => "webhooks",
        webhook_delivery => "webhook_deliveries",
        webhook_attempt => "webhook_attempts";
    tables: "search_documents", "search_fts";
}

/// The store, narrowed to one tenant by a granted [`TenantAccess`].
pub struct TenantStore<'a> {
    store: &'a Store,
    access: &'a TenantAccess,
}

impl Store {
    /// Narrows the store to the tenant `access` was granted for.
    pub fn scoped<'a>(&'a self, access: &'a TenantAccess) -> TenantStore<'a> {
        TenantStore { store: self, access }
    }
}

/// `"data" ->> ?` with the field's name bound as a value: no name reaches the SQL text, and the
/// name is a checked [`FieldName`] anyway. Both backends read a bare label as the object's key.
pub(crate) fn json_field(field: &FieldName) -> SimpleExpr {
    Expr::col(entry::Column::Data).binary(BinOper::Custom("->>"), Expr::val(field.as_str()))
}

/// `+"table"."column" = ?` for SQLite (see [`TenantStore::select_ids`]). Only names known at
/// compile time reach the SQL text (`&'static str` from the entity); the value is bound.
fn unindexed_equals(table: &'static str, column: &'static str) -> String {
    format!("+\"{table}\".\"{column}\" = ?")
}

/// A membership with its user, as the tenant's admins see it.
fn member_of(m: membership::Model, u: user::Model) -> StoreResult<Member> {
    Ok(Member {
        user_id: UserId(u.id),
        email: u.email,
        name: u.name,
        role: Role::parse(&m.role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        since: m.created_at,
    })
}

impl TenantStore<'_> {
    pub fn tenant(&self) -> &TenantId {
        self.access.tenant()
    }

    fn id(&self) -> &str {
        self.access.tenant().as_str()
    }

    pub(crate) fn store(&self) -> &Store {
        self.store
    }

    /// Where this tenant's content reads go: the read replica when it may serve them (see
    /// [`crate::replica`]), else the primary.
    pub(crate) fn content_reader(&self) -> &sea_orm::DatabaseConnection {
        self.store.content_reader(self.id())
    }

    pub(crate) fn access(&self) -> &TenantAccess {
        self.access
    }

    fn require(&self, action: Action) -> StoreResult<()> {
        self.require_any(&[action])
    }

    pub(crate) fn require_any(&self, actions: &[Action]) -> StoreResult<()> {
        if actions.contains(&self.access.action()) { Ok(()) } else { Err(StoreError::WrongCapability) }
    }

    // The one place where the tenant filter is added. Every read, update and delete of a
    // tenant-owned row starts here.
    pub(crate) fn select<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.id()))
    }
    /// [`Self::select`] narrowed to the rows whose primary key `id` is among `ids`, found by
    /// that key. On SQLite the tenant condition is written `+"table"."tenant_id" = ?`: the unary
    /// `+` keeps it out of the choice of index. SQLite has no statistics on these tables, and
    /// from about four ids on it walked every row of the tenant through a `tenant_id` index
    /// (10,000 rows to expand 20 references) instead of one lookup per id. PostgreSQL chooses
    /// by its statistics.
    pub(crate) fn select_ids<E: TenantOwned>(
        &self,
        id: E::Column,
        ids: impl IntoIterator<Item = uuid::Uuid>,
    ) -> Select<E> {
        let by_id = id.is_in(ids);
        match self.store.backend {
            Backend::Postgres => self.select::<E>().filter(by_id),
            Backend::Sqlite => {
                let tenant = unindexed_equals(E::default().table_name(), E::tenant_column().as_str());
                E::find().filter(Expr::cust_with_values(tenant, [self.id()])).filter(by_id)
            }
        }
    }
    /// Inserts a tenant-owned row, its tenant set from the access whatever the caller put there.
    /// The only way a tenant-owned row is inserted outside [`crate::cross_tenant`]. The error is
    /// the database's, so a caller can still recognise a unique violation ([`StoreError::unique`]).
    pub(crate) async fn insert<A>(
        &self,
        conn: &impl ConnectionTrait,
        mut row: A,
    ) -> Result<<A::Entity as EntityTrait>::Model, sea_orm::DbErr>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: TenantOwned,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        row.try_set(<A::Entity as TenantOwned>::tenant_column(), self.id().into())?;
        row.insert(conn).await
    }
    pub(crate) fn update<E: TenantOwned>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::tenant_column().eq(self.id()))
    }
    pub(crate) fn delete<E: TenantOwned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::tenant_column().eq(self.id()))
    }

    /// Records what the access did, on `conn` (the transaction of the change it records).
    pub(crate) async fn audit_on(
        &self,
        conn: &impl ConnectionTrait,
        action: &str,
        object: (&str, &str),
        details: serde_json::Value,
    ) -> StoreResult<()> {
        let row = audit::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            actor: Set(self.access.actor().to_owned()),
            action: Set(action.to_owned()),
            object_type: Set(object.0.to_owned()),
            object_id: Set(object.1.to_owned()),
            details: Set(details),
            at: Set(self.store.now()),
            ..Default::default()
        };
        self.insert(conn, row).await?;
        Ok(())
    }

    // ---- members -------------------------------------------------------------------------

    pub async fn members(&self) -> StoreResult<Vec<Member>> {
        self.require(Action::ManageMembers)?;
        let rows = self
            .select::<membership::Entity>()
            .find_also_related(user::Entity)
            .order_by_asc(membership::Column::CreatedAt)
            .all(&self.store.read)
            .await?;
        rows.into_iter().filter_map(|(m, u)| u.map(|u| (m, u))).map(|(m, u)| member_of(m, u)).collect()
    }

    async fn member_on(&self, conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Member> {
        let (m, u) = self
            .select::<membership::Entity>()
            .filter(membership::Column::UserId.eq(user.0))
            .find_also_related(user::Entity)
            .one(conn)
            .await?
            .and_then(|(m, u)| u.map(|u| (m, u)))
            .ok_or(StoreError::NotFound("member"))?;
        member_of(m, u)
    }

    /// Adds a person to the tenant. An existing user is found by email; otherwise `new_user`
    /// (name and password hash) creates one. Both happen in one transaction.
    pub async fn add_member(
        &self,
        email: &Email,
        role: Role,
        new_user: Option<(String, String)>,
    ) -> StoreResult<Member> {
        self.require(Action::ManageMembers)?;
        let txn = self.store.write.begin().await?;
        let existing = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&txn).await?;
        let user_id = match (existing, new_user) {
            (Some(u), _) => u.id,
            (None, Some((name, password_hash))) => {
                let created = insert_user(
                    &txn,
                    self.store.now(),
                    NewUser { email: email.clone(), name, password_hash, platform_admin: false },
                )
                .await?;
                created.id.0
            }
            (None, None) => {
                return Err(StoreError::Invalid {
                    field: "email",
                    code: "user_not_found",
                    message: "no user has this email; give a name and a password to create one".into(),
                });
            }
        };
        let already =
            self.select::<membership::Entity>().filter(membership::Column::UserId.eq(user_id)).count(&txn).await?;
        if already > 0 {
            return Err(StoreError::Conflict { field: "email", message: "this person is already a member".into() });
        }
        let row = membership::ActiveModel {
            user_id: Set(user_id),
            role: Set(role.as_str().to_owned()),
            created_at: Set(self.store.now()),
            ..Default::default()
        };
        self.insert(&txn, row).await?;
        self.audit_on(&txn, "member.add", ("user", &user_id.to_string()), json!({"role": role.as_str()})).await?;
        let member = self.member_on(&txn, UserId(user_id)).await?;
        txn.commit().await?;
        Ok(member)
    }

    async fn admins_left(&self, conn: &impl ConnectionTrait, without: UserId) -> StoreResult<u64> {
        Ok(self
            .select::<membership::Entity>()
            .filter(membership::Column::Role.eq(Role::Admin.as_str()))
            .filter(membership::Column::UserId.ne(without.0))
            .count(conn)
            .await?)
    }

    fn last_admin() -> StoreError {
        StoreError::Rule { code: "last_admin", message: "a tenant keeps at least one admin".into() }
    }

    pub async fn set_role(&self, user: UserId, role: Role) -> StoreResult<Member> {
        self.require(Action::ManageMembers)?;
        let txn = self.store.write.begin().await?;
        let current = self.member_on(&txn, user).await?;
        if current.role == Role::Admin && role != Role::Admin && self.admins_left(&txn, user).await? == 0 {
            return Err(Self::last_admin());
        }
        self.update::<membership::Entity>()
            .col_expr(membership::Column::Role, Expr::value(role.as_str()))
            .filter(membership::Column::UserId.eq(user.0))
            .exec(&txn)
            .await?;
        self.audit_on(
            &txn,
            "member.role",
            ("user", &user.to_string()),
            json!({"from": current.role.as_str(), "to": role.as_str()}),
        )
        .await?;
        let member = self.member_on(&txn, user).await?;
        txn.commit().await?;
        Ok(member)
    }

    pub async fn remove_member(&self, user: UserId) -> StoreResult<()> {
        self.require(Action::ManageMembers)?;
        let txn = self.store.write.begin().await?;
        let current = self.member_on(&txn, user).await?;
        if current.role == Role::Admin && self.admins_left(&txn, user).await? == 0 {
            return Err(Self::last_admin());
        }
        self.delete::<membership::Entity>().filter(membership::Column::UserId.eq(user.0)).exec(&txn).await?;
        self.audit_on(&txn, "member.remove", ("user", &user.to_string()), json!({"role": current.role.as_str()}))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    // ---- API tokens ----------------------------------------------------------------------

    pub async fn create_api_token(&self, new: NewApiToken) -> StoreResult<ApiToken> {
        self.require(Action::ManageTokens)?;
        let txn = self.store.write.begin().await?;
        let id = ApiTokenId::new();
        let row = api_token::ActiveModel {
            id: Set(id.0),
            name: Set(new.name),
            prefix: Set(new.prefix),
            token_hash: Set(new.token_hash),
            scopes: Set(new.scopes.to_string()),
            created_by: Set(self.access.actor().to_owned()),
            created_at: Set(self.store.now()),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
            ..Default::default()
        };
        let model = self.insert(&txn, row).await?;
        self.audit_on(
            &txn,
            "token.create",
            ("api_token", &id.to_string()),
            json!({"name": model.name, "scopes": model.scopes}),
        )
        .await?;
        txn.commit().await?;
        ApiToken::try_from(model)
    }

    pub async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        self.require(Action::ManageTokens)?;
        self.select::<api_token::Entity>()
            .order_by_asc(api_token::Column::CreatedAt)
            .all(&self.store.read)
            .await?
            .into_iter()
            .map(ApiToken::try_from)
            .collect()
    }

    /// Revokes a token of this tenant. A token of another tenant is "not found".
    pub async fn revoke_api_token(&self, id: ApiTokenId) -> StoreResult<ApiToken> {
        self.require(Action::ManageTokens)?;
        let txn = self.store.write.begin().await?;
        let token = async || -> StoreResult<api_token::Model> {
            self.select::<api_token::Entity>()
                .filter(api_token::Column::Id.eq(id.0))
                .one(&txn)
                .await?
                .ok_or(StoreError::NotFound("api token"))
        };
        let found = token().await?;
        if found.revoked_at.is_none() {
            self.update::<api_token::Entity>()
                .col_expr(api_token::Column::RevokedAt, Expr::value(self.store.now()))
                .filter(api_token::Column::Id.eq(id.0))
                .exec(&txn)
                .await?;
            self.audit_on(&txn, "token.revoke", ("api_token", &id.to_string()), json!({"name": found.name})).await?;
        }
        let after = token().await?;
        txn.commit().await?;
        ApiToken::try_from(after)
    }

    // ---- audit log -----------------------------------------------------------------------

    /// The newest `limit` audit records, newest first.
    pub async fn audit_log(&self, limit: u64) -> StoreResult<Vec<AuditEntry>> {
        self.require(Action::ViewAudit)?;
        Ok(self
            .select::<audit::Entity>()
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(&self.store.read)
            .await?
            .into_iter()
            .map(AuditEntry::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use cit_core::{Actor, TenantFacts, authorize};
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;
    use crate::test_support::{sqlite_plan, sqlite_store};

    /// The plan, not the timing: a test database is too small for the tenant walk to show as time.
    #[tokio::test]
    async fn sqlite_finds_many_ids_by_their_key_not_by_walking_the_tenant() {
        let (_dir, store) = sqlite_store().await;
        let tenant = TenantId::parse("lecce").unwrap();
        let facts = TenantFacts { id: &tenant, disabled: false, public_read: true };
        let access = authorize(&Actor::System, facts, Action::ReadPublished).unwrap();
        let scoped = store.scoped(&access);
        let ids: Vec<uuid::Uuid> = (0..20).map(|_| uuid::Uuid::new_v4()).collect();
        let statements = [
            scoped.select_ids::<entry::Entity>(entry::Column::Id, ids.iter().copied()).build(DbBackend::Sqlite),
            scoped.select_ids::<media::Entity>(media::Column::Id, ids.iter().copied()).build(DbBackend::Sqlite),
        ];
        for stmt in statements {
            let sql = stmt.sql.clone();
            let steps = sqlite_plan(&store, stmt).await;
            assert!(
                steps.len() == 1 && steps[0].contains("sqlite_autoindex") && steps[0].ends_with("(id=?)"),
                "{sql}: plan {steps:?}"
            );
        }
    }
}
