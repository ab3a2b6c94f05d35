//! The node's memory of what nearly every request looks up before its own work: the tenant, an
//! API token by its hash, a user's role in a tenant, and a tenant's content types (parsed once,
//! not per request). Without it an authenticated write costs three statements before it starts.
//!
//! It is forgotten exactly like the read cache ([`crate::read_cache`]): through
//! [`cit_store::changes`], by tenant, before a writer on any node hears back. Every change to
//! these rows is a write through a tenant's path (`/api/v1/t/{tenant}/tokens`, `…/members`,
//! `…/content-types`, `/api/v1/tenants/{tenant}`), so it is announced for that tenant; the CLI's
//! changes are announced from outside (PostgreSQL) or seen as another process's commit (SQLite,
//! which forgets everything). The memory is used only while the node's change feed is current
//! ([`cit_store::changes::Changes::serving`]): a node that may have missed an announcement reads
//! the database. A value read while a change was announced is not kept.
//!
//! What is not kept: a tenant or a token that was not found (a new one must work at once on
//! every node), and a token past its expiry, which is checked again at every use against the
//! clock. Users themselves are not kept.
//!
//! `cache.lookups` (default true) turns it off, for measuring what it saves (bench/statements.py).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use cit_core::content::ContentType;
use cit_core::{Role, TenantId};
use cit_store::changes::Change;
use cit_store::{ApiToken, Tenant};

/// More than this many tenants, or tokens, kept: everything is dropped and fills again.
const MAX_TENANTS: usize = 4096;
const MAX_TOKENS: usize = 16_384;
/// Per tenant: roles of users and content types kept.
const MAX_PER_TENANT: usize = 1024;

#[derive(Default)]
struct Shelf {
    tenant: Option<Arc<Tenant>>,
    roles: HashMap<uuid::Uuid, Option<Role>>,
    types: HashMap<String, Arc<ContentType>>,
    /// The hashes of this tenant's tokens kept in [`Shelves::tokens`].
    tokens: HashSet<String>,
}

#[derive(Default)]
struct Shelves {
    tenants: HashMap<String, Shelf>,
    tokens: HashMap<String, ApiToken>,
}

pub struct Lookups {
    enabled: bool,
    shelves: RwLock<Shelves>,
    /// Bumped by every forgetting: a value read across a bump is not kept.
    writes: AtomicU64,
}

/// The memory's state when a database read started.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl Lookups {
    pub fn new(enabled: bool) -> Self {
        Self { enabled, shelves: RwLock::default(), writes: AtomicU64::new(0) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Shelves> {
        self.shelves.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the write lock and keeps `put`'s value only if nothing was forgotten since `ticket`.
    fn put(&self, ticket: Ticket, tenant: &str, put: impl FnOnce(&mut Shelves)) {
        let mut shelves = self.shelves.write().unwrap_or_else(PoisonError::into_inner);
        if self.writes.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if shelves.tenants.len() >= MAX_TENANTS && !shelves.tenants.contains_key(tenant) {
            *shelves = Shelves::default();
        }
        put(&mut shelves);
    }

    /// Where a lookup starts: `None` when the memory may not be used now (off, or the change feed
    /// is not current), else the state to hand back to the `keep_…` call after the read.
    pub fn ticket(&self, serving: bool) -> Option<Ticket> {
        (self.enabled && serving).then(|| Ticket(self.writes.load(Ordering::Acquire)))
    }

    pub fn tenant(&self, id: &TenantId) -> Option<Arc<Tenant>> {
        self.read().tenants.get(id.as_str())?.tenant.clone()
    }

    pub fn keep_tenant(&self, ticket: Ticket, tenant: Arc<Tenant>) {
        let id = tenant.id.to_string();
        self.put(ticket, &id, |s| s.tenants.entry(id.clone()).or_default().tenant = Some(tenant));
    }

    /// The token of `hash`, if kept and not expired at `now`.
    pub fn token(&self, hash: &str, now: DateTime<Utc>) -> Option<ApiToken> {
        self.read().tokens.get(hash).filter(|t| t.expires_at.is_none_or(|at| at > now)).cloned()
    }

    pub fn keep_token(&self, ticket: Ticket, hash: String, token: ApiToken) {
        let tenant = token.tenant.to_string();
        self.put(ticket, &tenant, |s| {
            if s.tokens.len() >= MAX_TOKENS {
                s.tokens.clear();
                s.tenants.values_mut().for_each(|shelf| shelf.tokens.clear());
            }
            s.tenants.entry(tenant.clone()).or_default().tokens.insert(hash.clone());
            s.tokens.insert(hash, token);
        });
    }

    /// The user's role in the tenant, if kept (`Some(None)`: kept as "not a member").
    pub fn role(&self, tenant: &TenantId, user: uuid::Uuid) -> Option<Option<Role>> {
        self.read().tenants.get(tenant.as_str())?.roles.get(&user).copied()
    }

    pub fn keep_role(&self, ticket: Ticket, tenant: &TenantId, user: uuid::Uuid, role: Option<Role>) {
        self.put(ticket, tenant.as_str(), |s| {
            let shelf = s.tenants.entry(tenant.to_string()).or_default();
            if shelf.roles.len() >= MAX_PER_TENANT {
                shelf.roles.clear();
            }
            shelf.roles.insert(user, role);
        });
    }

    pub fn content_type(&self, tenant: &TenantId, api_id: &str) -> Option<Arc<ContentType>> {
        self.read().tenants.get(tenant.as_str())?.types.get(api_id).cloned()
    }

    pub fn keep_content_type(&self, ticket: Ticket, tenant: &TenantId, ct: Arc<ContentType>) {
        self.put(ticket, tenant.as_str(), |s| {
            let shelf = s.tenants.entry(tenant.to_string()).or_default();
            if shelf.types.len() >= MAX_PER_TENANT {
                shelf.types.clear();
            }
            shelf.types.insert(ct.id.to_string(), ct);
        });
    }

    /// Forgets what was kept of `change` (a change of content only keeps all of it).
    pub fn forget(&self, change: &Change) {
        let tenant = match change {
            Change::Content(_) => return,
            Change::Tenant(t) => Some(t),
            Change::Everything => None,
        };
        let mut shelves = self.shelves.write().unwrap_or_else(PoisonError::into_inner);
        self.writes.fetch_add(1, Ordering::AcqRel);
        match tenant {
            Some(t) => {
                if let Some(shelf) = shelves.tenants.remove(t) {
                    for hash in &shelf.tokens {
                        shelves.tokens.remove(hash);
                    }
                }
            }
            None => *shelves = Shelves::default(),
        }
    }
}
