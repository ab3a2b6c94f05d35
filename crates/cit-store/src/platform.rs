//! Rows above tenants: the tenants themselves, users, and which tenants a user belongs to.

use chrono::{DateTime, Utc};
use cit_core::{Email, PlatformAccess, PlatformAction, Role, TenantId, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;

use crate::cross_tenant::audit;
use crate::entity::{tenant, user};
use crate::{NewTenant, NewUser, Store, StoreError, StoreResult, Tenant, TenantPatch, User, UserCredentials};

fn require(access: &PlatformAccess, action: PlatformAction) -> StoreResult<()> {
    if access.action() == action { Ok(()) } else { Err(StoreError::WrongCapability) }
}

pub(crate) async fn insert_user(conn: &impl ConnectionTrait, now: DateTime<Utc>, new: NewUser) -> StoreResult<User> {
    let email = new.email.to_string();
    let model = user::ActiveModel {
        id: Set(UserId::new().0),
        email: Set(email.clone()),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        platform_admin: Set(new.platform_admin),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(StoreError::unique("email", format!("a user with email {email} already exists")))?;
    Ok(model.into())
}

impl Store {
    /// A tenant by id, for routing and the permission check. Disabled tenants are returned too.
    pub async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        tenant::Entity::find_by_id(id.as_str()).one(&self.read).await?.map(Tenant::try_from).transpose()
    }

    pub async fn create_tenant(&self, access: &PlatformAccess, new: NewTenant) -> StoreResult<Tenant> {
        require(access, PlatformAction::ManageTenants)?;
        let now = self.now();
        let id = new.id.to_string();
        let txn = self.write.begin().await?;
        let model = tenant::ActiveModel {
            id: Set(id.clone()),
            name: Set(new.name),
            domains: Set(json!(new.domains)),
            locales: Set(json!(new.locales)),
            public_read: Set(new.public_read),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(StoreError::unique("id", format!("a tenant with id {id} already exists")))?;
        audit(&txn, access, self.now(), Some(&id), "tenant.create", ("tenant", &id), json!({"name": model.name}))
            .await?;
        txn.commit().await?;
        Tenant::try_from(model)
    }

    pub async fn list_tenants(&self, access: &PlatformAccess) -> StoreResult<Vec<Tenant>> {
        require(access, PlatformAction::ManageTenants)?;
        tenant::Entity::find()
            .order_by_asc(tenant::Column::Id)
            .all(&self.read)
            .await?
            .into_iter()
            .map(Tenant::try_from)
            .collect()
    }

    pub async fn update_tenant(
        &self,
        access: &PlatformAccess,
        id: &TenantId,
        patch: TenantPatch,
    ) -> StoreResult<Tenant> {
        require(access, PlatformAction::ManageTenants)?;
        let txn = self.write.begin().await?;
        let current = tenant::Entity::find_by_id(id.as_str()).one(&txn).await?.ok_or(StoreError::NotFound("tenant"))?;
        let was_disabled = current.disabled_at.is_some();
        let mut model = current.into_active_model();
        let mut changed = serde_json::Map::new();
        if let Some(name) = patch.name {
            changed.insert("name".into(), json!(name));
            model.name = Set(name);
        }
        if let Some(domains) = patch.domains {
            changed.insert("domains".into(), json!(domains));
            model.domains = Set(json!(domains));
        }
        if let Some(locales) = patch.locales {
            changed.insert("locales".into(), json!(locales));
            model.locales = Set(json!(locales));
        }
        if let Some(public_read) = patch.public_read {
            changed.insert("public_read".into(), json!(public_read));
            model.public_read = Set(public_read);
        }
        if let Some(disabled) = patch.disabled
            && disabled != was_disabled
        {
            changed.insert("disabled".into(), json!(disabled));
            model.disabled_at = Set(disabled.then(|| self.now()));
        }
        model.updated_at = Set(self.now());
        let updated = model.update(&txn).await?;
        audit(&txn, access, self.now(), Some(id.as_str()), "tenant.update", ("tenant", id.as_str()), changed.into())
            .await?;
        txn.commit().await?;
        Tenant::try_from(updated)
    }

    pub async fn count_users(&self) -> StoreResult<u64> {
        Ok(user::Entity::find().count(&self.read).await?)
    }

    pub async fn count_tenants(&self) -> StoreResult<u64> {
        Ok(tenant::Entity::find().count(&self.read).await?)
    }

    pub async fn create_user(&self, access: &PlatformAccess, new: NewUser) -> StoreResult<User> {
        require(access, PlatformAction::ManageUsers)?;
        let txn = self.write.begin().await?;
        let admin = new.platform_admin;
        let user = insert_user(&txn, self.now(), new).await?;
        let id = user.id.to_string();
        audit(
            &txn,
            access,
            self.now(),
            None,
            "user.create",
            ("user", &id),
            json!({"email": user.email, "platform_admin": admin}),
        )
        .await?;
        txn.commit().await?;
        Ok(user)
    }

    pub async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        Ok(user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&self.read).await?.map(User::from))
    }

    /// The user and the password hash, for the login check.
    pub async fn credentials(&self, email: &Email) -> StoreResult<Option<UserCredentials>> {
        Ok(user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&self.read).await?.map(|m| {
            let password_hash = m.password_hash.clone();
            UserCredentials { user: m.into(), password_hash }
        }))
    }

    /// Sets a new password and ends every session of the user.
    pub async fn set_password(
        &self,
        access: &PlatformAccess,
        email: &Email,
        password_hash: String,
    ) -> StoreResult<User> {
        require(access, PlatformAction::ManageUsers)?;
        let txn = self.write.begin().await?;
        let current = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let mut model = current.into_active_model();
        model.password_hash = Set(password_hash);
        model.updated_at = Set(self.now());
        let updated = model.update(&txn).await?;
        crate::sessions::revoke_all_sessions(&txn, self.now(), updated.id, "password_changed").await?;
        audit(&txn, access, self.now(), None, "user.password", ("user", &updated.id.to_string()), json!({})).await?;
        txn.commit().await?;
        Ok(updated.into())
    }

    /// Grants a role from the command line or the demo seeder (platform access), creating or
    /// changing the membership.
    pub async fn grant(
        &self,
        access: &PlatformAccess,
        tenant: &TenantId,
        email: &Email,
        role: Role,
    ) -> StoreResult<()> {
        require(access, PlatformAction::ManageUsers)?;
        let txn = self.write.begin().await?;
        tenant::Entity::find_by_id(tenant.as_str()).one(&txn).await?.ok_or(StoreError::NotFound("tenant"))?;
        let user = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        crate::cross_tenant::grant_membership(&txn, access, self.now(), tenant, user.id, role).await?;
        audit(
            &txn,
            access,
            self.now(),
            Some(tenant.as_str()),
            "member.grant",
            ("user", &user.id.to_string()),
            json!({"role": role.as_str()}),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
