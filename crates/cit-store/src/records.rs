//! What the store hands out. Plain records of checked domain types; sea-orm models stay inside.

use chrono::{DateTime, Utc};
use cit_core::{ApiTokenId, Email, Role, Scopes, SessionId, TenantFacts, TenantId, UserId};

use crate::entity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub domains: Vec<String>,
    pub locales: Vec<String>,
    pub public_read: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Tenant {
    pub fn facts(&self) -> TenantFacts<'_> {
        TenantFacts { id: &self.id, disabled: self.disabled_at.is_some(), public_read: self.public_read }
    }
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub id: TenantId,
    pub name: String,
    pub domains: Vec<String>,
    pub locales: Vec<String>,
    pub public_read: bool,
}

/// A change to a tenant; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub locales: Option<Vec<String>>,
    pub public_read: Option<bool>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub platform_admin: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A user with the password hash, for the login check only.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials").field("user", &self.user).field("password_hash", &"***").finish()
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub platform_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub tenant: TenantId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub tenant: TenantId,
    pub name: String,
    pub prefix: String,
    pub scopes: Scopes,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub tenant: Option<String>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// What happened to a refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was fresh: it is now spent, and a new one stands in the same session.
    Rotated { session: SessionId, user: UserId },
    /// The token had been used already: somebody replayed it, so the whole session is revoked.
    Reused,
    /// Unknown, expired, or its session was revoked.
    Invalid,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

impl TryFrom<entity::tenant::Model> for Tenant {
    type Error = crate::StoreError;
    fn try_from(m: entity::tenant::Model) -> Result<Self, Self::Error> {
        Ok(Tenant {
            id: TenantId::parse(&m.id).map_err(|e| crate::StoreError::Corrupt(format!("tenant id {:?}: {e}", m.id)))?,
            name: m.name,
            domains: strings(&m.domains),
            locales: strings(&m.locales),
            public_read: m.public_read,
            disabled_at: m.disabled_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl From<entity::user::Model> for User {
    fn from(m: entity::user::Model) -> Self {
        User {
            id: UserId(m.id),
            email: m.email,
            name: m.name,
            platform_admin: m.platform_admin,
            disabled_at: m.disabled_at,
            created_at: m.created_at,
        }
    }
}

impl TryFrom<entity::api_token::Model> for ApiToken {
    type Error = crate::StoreError;
    fn try_from(m: entity::api_token::Model) -> Result<Self, Self::Error> {
        let corrupt = |e: cit_core::InvalidInput| crate::StoreError::Corrupt(format!("api token {}: {e}", m.id));
        Ok(ApiToken {
            id: ApiTokenId(m.id),
            tenant: TenantId::parse(&m.tenant_id).map_err(corrupt)?,
            scopes: Scopes::parse_list(&m.scopes).map_err(corrupt)?,
            name: m.name,
            prefix: m.prefix,
            created_by: m.created_by,
            created_at: m.created_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
        })
    }
}

impl From<entity::audit::Model> for AuditEntry {
    fn from(m: entity::audit::Model) -> Self {
        AuditEntry {
            id: m.id,
            tenant: m.tenant_id,
            actor: m.actor,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            details: m.details,
            at: m.at,
        }
    }
}
