//! What one GraphQL request carries through its resolvers: the caller's accesses, the batch
//! loader, and the values resolvers hand to each other (entries, connections, edges).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use cit_core::{AccessDenied, Action, Actor, EntryId, Locale, TenantAccess, authorize};
use cit_store::{Cursor, Entry, EntryStatus, ListQuery, Revision, Store, StoreError, Tenant};

use super::errors::{GqlResult, invalid};
use crate::clock::Clock;
use crate::error::ApiError;

/// One request's view of the tenant. Reached by every resolver through the values it resolves.
pub(crate) struct ReqCtx {
    pub store: Store,
    pub tenant: Arc<Tenant>,
    pub actor: Actor,
    /// The server's clock (tickets' overdue flags are computed against it, as in REST).
    pub clock: Arc<dyn Clock>,
    /// The permission to read published content: every GraphQL request starts with it.
    pub read: TenantAccess,
    /// The permission to read drafts, or why the caller lacks it.
    pub drafts: Result<TenantAccess, AccessDenied>,
    /// Loads in batches and keeps what it loaded for the rest of the request.
    pub loader: DataLoader<Batch, HashMapCache>,
    /// Set when the request reached anything but published content (its answer is not for
    /// shared caches).
    private: AtomicBool,
    /// Set when the request reached the tenant's requests (tickets, submissions, forms): its
    /// answer is for nobody's cache.
    staff_data: AtomicBool,
    /// Set when the request asked for the right to write (ran a mutation).
    wrote: AtomicBool,
}

impl ReqCtx {
    pub fn new(
        store: Store,
        tenant: Arc<Tenant>,
        actor: Actor,
        read: TenantAccess,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        let drafts = authorize(&actor, tenant.facts(), Action::ReadDrafts);
        let batch = match &drafts {
            Ok(access) => Batch { store: store.clone(), access: access.clone(), statuses: EntryStatus::ALL.to_vec() },
            Err(_) => Batch { store: store.clone(), access: read.clone(), statuses: vec![EntryStatus::Published] },
        };
        let loader = DataLoader::with_cache(batch, tokio::spawn, HashMapCache::default());
        Arc::new(Self {
            store,
            tenant,
            actor,
            clock,
            read,
            drafts,
            loader,
            private: AtomicBool::new(false),
            staff_data: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
        })
    }

    /// The access that reads entries in `statuses`, as REST decides it: drafts need a preview
    /// token or an author, editor or admin.
    pub fn access_for(&self, statuses: &[EntryStatus]) -> GqlResult<&TenantAccess> {
        if statuses.iter().all(|s| *s == EntryStatus::Published) {
            return Ok(&self.read);
        }
        self.private.store(true, Ordering::Relaxed);
        self.drafts_access()
    }

    pub fn drafts_access(&self) -> GqlResult<&TenantAccess> {
        self.private.store(true, Ordering::Relaxed);
        self.drafts.as_ref().map_err(|e| ApiError::from(*e).into())
    }

    /// The caller's permission to do `action` here, from the one permission check. Only writes
    /// ask for it, so it also forgets what the request loaded so far: what is read after a
    /// write (the mutation's answer, the next mutation's) is read anew.
    pub fn grant(&self, action: Action) -> GqlResult<TenantAccess> {
        self.private.store(true, Ordering::Relaxed);
        self.wrote.store(true, Ordering::Relaxed);
        self.loader.clear::<uuid::Uuid>();
        self.loader.clear::<Group>();
        self.loader.clear::<RevisionsOf>();
        Ok(authorize(&self.actor, self.tenant.facts(), action)?)
    }

    /// The caller's permission to do `action` on the tenant's requests, from the one permission
    /// check (the one REST's tickets and forms handlers pass). Asking makes the answer
    /// uncacheable, granted or not.
    pub fn requests(&self, action: Action) -> GqlResult<TenantAccess> {
        self.private.store(true, Ordering::Relaxed);
        self.staff_data.store(true, Ordering::Relaxed);
        Ok(authorize(&self.actor, self.tenant.facts(), action)?)
    }

    /// Whether the request reached the tenant's requests: answered `Cache-Control: no-store`.
    pub fn touched_requests(&self) -> bool {
        self.staff_data.load(Ordering::Relaxed)
    }

    /// Whether a resolver asked for the right to write: the tenant's cached reads must go.
    pub fn wrote(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    pub fn is_private(&self) -> bool {
        self.private.load(Ordering::Relaxed)
    }

    /// `requested` if it is a locale of the tenant, else its first one.
    pub fn locale(&self, requested: Option<&str>) -> GqlResult<Locale> {
        Locale::of_tenant(&self.tenant.locales, requested).map_err(|_| invalid("locale", "not a locale of this tenant"))
    }
}

/// Loads entries by id, translation groups and revisions for a whole level of a query at once.
/// It reads everything the caller may read; resolvers keep what their parent's statuses allow.
pub(crate) struct Batch {
    store: Store,
    access: TenantAccess,
    statuses: Vec<EntryStatus>,
}

/// The entries of a translation group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Group(pub uuid::Uuid);

/// The revisions of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RevisionsOf(pub uuid::Uuid);

impl Loader<uuid::Uuid> for Batch {
    type Value = Arc<Entry>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[uuid::Uuid]) -> Result<HashMap<uuid::Uuid, Arc<Entry>>, Arc<StoreError>> {
        let ids: Vec<EntryId> = keys.iter().copied().map(EntryId::from).collect();
        let found = self.store.scoped(&self.access).entries_by_ids(&ids, &self.statuses).await.map_err(Arc::new)?;
        Ok(found.into_iter().map(|e| (e.id.0, Arc::new(e))).collect())
    }
}

impl Loader<Group> for Batch {
    type Value = Vec<Arc<Entry>>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[Group]) -> Result<HashMap<Group, Vec<Arc<Entry>>>, Arc<StoreError>> {
        let groups: Vec<uuid::Uuid> = keys.iter().map(|g| g.0).collect();
        let found =
            self.store.scoped(&self.access).entries_in_groups(&groups, &self.statuses).await.map_err(Arc::new)?;
        let mut out: HashMap<Group, Vec<Arc<Entry>>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for e in found {
            out.entry(Group(e.translation_group)).or_default().push(Arc::new(e));
        }
        Ok(out)
    }
}

impl Loader<RevisionsOf> for Batch {
    type Value = Vec<Arc<Revision>>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[RevisionsOf]) -> Result<HashMap<RevisionsOf, Vec<Arc<Revision>>>, Arc<StoreError>> {
        let ids: Vec<EntryId> = keys.iter().map(|k| EntryId::from(k.0)).collect();
        let found = self.store.scoped(&self.access).revisions_of_entries(&ids).await.map_err(Arc::new)?;
        let mut out: HashMap<RevisionsOf, Vec<Arc<Revision>>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for (id, r) in found {
            out.entry(RevisionsOf(id.0)).or_default().push(Arc::new(r));
        }
        Ok(out)
    }
}

/// An entry as resolvers pass it on: with the statuses its query asked for (references and
/// translations keep to them, as REST's `expand` does) and the request.
#[derive(Clone)]
pub(crate) struct Node {
    pub entry: Arc<Entry>,
    pub statuses: Arc<[EntryStatus]>,
    pub rc: Arc<ReqCtx>,
}

/// A page, fetched once however many of `edges`, `nodes` and `pageInfo` are asked.
pub(crate) type Page = (Vec<(Arc<Entry>, Cursor)>, bool);

/// A connection: the query it stands for, its page once fetched.
pub(crate) struct Conn {
    pub rc: Arc<ReqCtx>,
    pub access: TenantAccess,
    pub query: ListQuery,
    /// 0 asks only whether there is anything (and `totalCount`).
    pub first: u64,
    pub statuses: Arc<[EntryStatus]>,
    pub page: tokio::sync::OnceCell<Page>,
}

impl Conn {
    pub async fn page(&self) -> GqlResult<&Page> {
        self.page
            .get_or_try_init(|| async {
                let mut q = self.query.clone();
                q.limit = self.first.max(1);
                let (rows, more) = self.rc.store.scoped(&self.access).list_entries_with_cursors(&q).await?;
                if self.first == 0 {
                    return Ok((Vec::new(), !rows.is_empty()));
                }
                Ok((rows.into_iter().map(|(e, c)| (Arc::new(e), c)).collect(), more))
            })
            .await
    }

    pub fn node(&self, entry: &Arc<Entry>) -> Node {
        Node { entry: entry.clone(), statuses: self.statuses.clone(), rc: self.rc.clone() }
    }
}

/// One edge of a connection.
pub(crate) struct Edge {
    pub node: Node,
    pub cursor: String,
}
