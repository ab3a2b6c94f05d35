//! Change announcements between the processes that share a database, for in-process caches of
//! reads (the API's read cache): "tenant X changed, forget what you kept of it".
//!
//! On PostgreSQL every node LISTENs on one channel. A writer announces a change with NOTIFY and
//! does not answer its caller until every other live node has acknowledged it, so that no node
//! can serve the old content once the writer was told "done". Nodes find each other through
//! heartbeats on the same channel, and a node only serves from its cache while it holds a
//! *lease*: its own heartbeat came back through the channel less than [`LEASE`] ago, which
//! proves it received every announcement committed before that heartbeat was sent. A writer
//! whose peer does not acknowledge (a node that died, or lost its connection) waits until that
//! peer's lease has run out instead (as does a writer that is not current itself); a node that loses its listening connection drops its whole
//! cache and serves nothing from it until it holds a lease again. A node also waits one lease
//! after it starts listening before it serves from its cache, so that every writer has heard
//! of it by then.
//!
//! With a read replica ([`crate::replica`]), a change is announced with the primary's WAL
//! position: first an `l|node|seq|tenant|lsn` notification (nodes of older versions ignore it),
//! then the `c|…` one in the same statement, so every node knows how far the replica must have
//! replayed before it reads that tenant there, before it acknowledges the change.
//!
//! On SQLite the database is one file for one API process: announcements are local. Changes
//! made by another process (the `cit` CLI) are seen by watching SQLite's `data_version` on the
//! process's one writing connection (it changes only when another connection commits); the
//! cache is then dropped whole, within [`SQLITE_POLL`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sea_orm::sqlx::postgres::{PgListener, PgPool};

use crate::{Backend, Store};

/// How long a heartbeat's round trip proves a node is current, by default. Heartbeats go six
/// times per lease.
pub const LEASE: Duration = Duration::from_millis(1500);
/// How often an SQLite node looks for commits by other processes.
pub const SQLITE_POLL: Duration = Duration::from_millis(100);
const CHANNEL: &str = "cit_changes";

/// What changed: one tenant's content only, anything of one tenant, or anything (drop everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only the tenant's content (entries, media, what GraphQL mutations write, scheduled
    /// publications): answers built from it are stale, but not the tenant itself, its tokens,
    /// members, content types or webhooks.
    Content(String),
    /// Anything of the tenant, its settings and people included.
    Tenant(String),
    Everything,
}

impl Change {
    /// The tenant whose content may have changed, if only one.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Change::Content(t) | Change::Tenant(t) => Some(t),
            Change::Everything => None,
        }
    }
}

type Callback = Box<dyn Fn(&Change) + Send + Sync>;

/// One node's end of the change feed. Cheap to clone; stops when the last clone is dropped.
#[derive(Clone)]
pub struct Changes {
    inner: Arc<Inner>,
}

struct Inner {
    node: uuid::Uuid,
    lease: Duration,
    pg: Option<PgPool>,
    on_change: Callback,
    seq: AtomicU64,
    state: Mutex<FeedState>,
    acked: tokio::sync::Notify,
    stopped: AtomicBool,
    replica: Option<Arc<crate::replica::Replica>>,
}

#[derive(Default)]
struct FeedState {
    /// Heartbeats sent and not yet heard back: number → when sent.
    sent: HashMap<u64, Instant>,
    /// When the last heartbeat that came back was sent.
    lease_from: Option<Instant>,
    /// Since when the current listening connection has been receiving.
    up_since: Option<Instant>,
    /// Other nodes, and when their last heartbeat arrived.
    peers: HashMap<uuid::Uuid, Instant>,
    /// Announcements awaiting acknowledgements: number → nodes that acknowledged.
    pending: HashMap<u64, HashSet<uuid::Uuid>>,
    /// Announcements by other nodes marked as changing content only (`k|…`), until their `c|…`.
    content_only: HashSet<(uuid::Uuid, u64)>,
}

impl Changes {
    /// Starts this node's feed; `on_change` is called for every change, from this node or any
    /// other, before the writer's caller hears back.
    pub fn start(store: &Store, lease: Duration, on_change: impl Fn(&Change) + Send + Sync + 'static) -> Self {
        let pg = (store.backend == Backend::Postgres).then(|| store.write.get_postgres_connection_pool().clone());
        let memo = store.memo.clone();
        let inner = Arc::new(Inner {
            node: uuid::Uuid::new_v4(),
            lease: lease.max(Duration::from_millis(60)),
            pg,
            on_change: Box::new(move |change| {
                memo.forget(change);
                on_change(change);
            }),
            seq: AtomicU64::new(0),
            state: Mutex::new(FeedState::default()),
            acked: tokio::sync::Notify::new(),
            stopped: AtomicBool::new(false),
            replica: store.replica.clone(),
        });
        let weak = Arc::downgrade(&inner);
        let gate = weak.clone();
        store.memo.attach(Box::new(move || gate.upgrade().is_some_and(|i| i.pg.is_none() || i.current())));
        match store.backend {
            Backend::Postgres => {
                tokio::spawn(listen(weak.clone()));
                tokio::spawn(heartbeat(weak));
            }
            Backend::Sqlite => {
                tokio::spawn(watch_sqlite(weak, store.write.get_sqlite_connection_pool().clone()));
            }
        }
        Self { inner }
    }

    /// Whether this node may answer from its cache now.
    pub fn serving(&self) -> bool {
        self.inner.pg.is_none() || self.inner.current()
    }

    /// Announces that anything of `tenant` changed: this node forgets it at once, and on
    /// PostgreSQL the call returns when every other live node has too (or can no longer serve
    /// what it kept).
    pub async fn announce(&self, tenant: &str) {
        self.announce_change(tenant, false).await
    }

    /// Announces that only the content of `tenant` changed ([`Change::Content`]), with the same
    /// guarantee as [`Changes::announce`].
    pub async fn announce_content(&self, tenant: &str) {
        self.announce_change(tenant, true).await
    }

    async fn announce_change(&self, tenant: &str, content_only: bool) {
        let change = if content_only { Change::Content(tenant.to_owned()) } else { Change::Tenant(tenant.to_owned()) };
        (self.inner.on_change)(&change);
        let Some(pool) = &self.inner.pg else { return };
        let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed);
        self.inner.lock().pending.insert(seq, HashSet::new());
        let sent = notify_change(pool, self.inner.node, seq, tenant, content_only).await;
        if let (Ok(lsn), Some(r)) = (&sent, &self.inner.replica) {
            r.changed(tenant, *lsn);
        }
        let since = Instant::now();
        // A node that has not heard its own heartbeats for a whole lease may not know every
        // peer yet: it waits as if each had not answered.
        let blind = !self.inner.current();
        let lease = self.inner.lease;
        if let Err(e) = &sent {
            // The write is committed but the others were not told: wait out their leases, so
            // that none can serve from before this change (they cannot renew without the
            // database either, or if they can, they will drop the tenant on the next change).
            tracing::warn!(error = %e, "could not announce a change; waiting for the other nodes' leases to expire");
        }
        loop {
            let notified = self.inner.acked.notified();
            let missing = {
                let st = self.inner.lock();
                let acked = st.pending.get(&seq);
                st.peers
                    .iter()
                    .filter(|(_, seen)| seen.elapsed() < lease * 2)
                    .any(|(peer, _)| sent.is_err() || !acked.is_some_and(|a| a.contains(peer)))
                    || blind
            };
            let left = (lease + lease / 20).saturating_sub(since.elapsed());
            if !missing || left.is_zero() {
                break;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
        self.inner.lock().pending.remove(&seq);
    }

    /// The other nodes this one has heard from within a lease.
    pub fn peers(&self) -> usize {
        let lease = self.inner.lease;
        self.inner.lock().peers.values().filter(|seen| seen.elapsed() < lease).count()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

impl Inner {
    /// Listening for a whole lease, and its last heartbeat came back within one: it knows
    /// every live peer and has seen every change committed a moment ago.
    fn current(&self) -> bool {
        let st = self.lock();
        match (st.up_since, st.lease_from) {
            (Some(up), Some(from)) => up.elapsed() >= self.lease && from.elapsed() < self.lease,
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn handle(&self, payload: &str, pool: &PgPool) {
        let mut parts = payload.splitn(4, '|');
        let (kind, origin, seq) = (parts.next(), parts.next(), parts.next());
        let Some(origin) = origin.and_then(|o| o.parse::<uuid::Uuid>().ok()) else { return };
        let seq = seq.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        match kind {
            Some("h") if origin == self.node => {
                let mut st = self.lock();
                if let Some(sent) = st.sent.remove(&seq) {
                    st.lease_from = Some(st.lease_from.map_or(sent, |l| l.max(sent)));
                    st.up_since.get_or_insert_with(Instant::now);
                    if let (Some(r), Some(up), Some(from)) = (&self.replica, st.up_since, st.lease_from)
                        && up.elapsed() >= self.lease
                    {
                        r.current_until(Some(from + self.lease));
                    }
                }
                st.sent.retain(|n, _| *n > seq);
            }
            Some("h") => {
                self.lock().peers.insert(origin, Instant::now());
            }
            Some("k") if origin != self.node => {
                let mut st = self.lock();
                if st.content_only.len() >= 4096 {
                    st.content_only.clear();
                }
                st.content_only.insert((origin, seq));
            }
            Some("c") => {
                let Some(tenant) = parts.next() else { return };
                if origin != self.node {
                    let content_only = self.lock().content_only.remove(&(origin, seq));
                    let tenant = tenant.to_owned();
                    (self.on_change)(&if content_only { Change::Content(tenant) } else { Change::Tenant(tenant) });
                    let pool = pool.clone();
                    let ack = format!("a|{origin}|{seq}|{}", self.node);
                    tokio::spawn(async move {
                        if let Err(e) = notify(&pool, &ack).await {
                            tracing::warn!(error = %e, "could not acknowledge a change");
                        }
                    });
                }
            }
            Some("l") => {
                let Some((tenant, lsn)) = parts.next().and_then(|rest| rest.split_once('|')) else { return };
                if let (Some(r), Some(lsn)) = (&self.replica, crate::replica::parse_lsn(lsn)) {
                    r.changed(tenant, lsn);
                }
            }
            Some("a") if origin == self.node => {
                let Some(from) = parts.next().and_then(|n| n.parse::<uuid::Uuid>().ok()) else { return };
                if let Some(acks) = self.lock().pending.get_mut(&seq) {
                    acks.insert(from);
                }
                self.acked.notify_waiters();
            }
            _ => {}
        }
    }

    /// The connection was lost: what was kept may have missed changes.
    fn lost(&self) {
        {
            let mut st = self.lock();
            st.up_since = None;
            st.lease_from = None;
            st.sent.clear();
        }
        if let Some(r) = &self.replica {
            r.current_until(None);
        }
        (self.on_change)(&Change::Everything);
    }
}

/// Announces a change of `tenant` with the primary's WAL position (see the module's header);
/// returns the position.
///
/// A change of the content only is marked by a `k|node|seq|tenant` notification just before its
/// `c|…` one (nodes of older versions ignore it and forget everything of the tenant, which is
/// safe).
async fn notify_change(
    pool: &PgPool,
    node: uuid::Uuid,
    seq: u64,
    tenant: &str,
    content_only: bool,
) -> Result<u64, sqlx::Error> {
    use sea_orm::sqlx::Row;
    let sql = if content_only {
        "SELECT p.lsn, pg_notify($1, $2 || p.lsn), pg_notify($1, $4), pg_notify($1, $3) \
         FROM (SELECT pg_current_wal_lsn()::text AS lsn) p"
    } else {
        "SELECT p.lsn, pg_notify($1, $2 || p.lsn), pg_notify($1, $3) \
         FROM (SELECT pg_current_wal_lsn()::text AS lsn) p"
    };
    let mut query = sqlx::query(sql)
        .bind(CHANNEL)
        .bind(format!("l|{node}|{seq}|{tenant}|"))
        .bind(format!("c|{node}|{seq}|{tenant}"));
    if content_only {
        query = query.bind(format!("k|{node}|{seq}|{tenant}"));
    }
    let row = query.fetch_one(pool).await?;
    let lsn: String = row.try_get(0)?;
    crate::replica::parse_lsn(&lsn).ok_or_else(|| sqlx::Error::Protocol(format!("not a WAL position: {lsn}")))
}

async fn current_lsn(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(pool).await?;
    crate::replica::parse_lsn(&lsn).ok_or_else(|| sqlx::Error::Protocol(format!("not a WAL position: {lsn}")))
}

async fn notify(pool: &PgPool, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(pool).await.map(|_| ())
}

async fn listen(inner: std::sync::Weak<Inner>) {
    let Some(pool) = inner.upgrade().and_then(|i| i.pg.clone()) else { return };
    let mut listener: Option<PgListener> = None;
    loop {
        let Some(me) = inner.upgrade() else { return };
        if me.stopped.load(Ordering::Relaxed) {
            return;
        }
        let l = match listener.as_mut() {
            Some(l) => l,
            None => {
                let connected = async {
                    let mut l = PgListener::connect_with(&pool).await?;
                    l.listen(CHANNEL).await?;
                    // Every change committed before this point is at or below it; those after
                    // are heard with their own positions.
                    if let Some(r) = inner.upgrade().and_then(|i| i.replica.clone()) {
                        r.listening_from(current_lsn(&pool).await?);
                    }
                    Ok::<_, sqlx::Error>(l)
                };
                match connected.await {
                    Ok(l) => listener.insert(l),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for changes; the read cache is off until it can");
                        me.lost();
                        drop(me);
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                }
            }
        };
        drop(me);
        // Wake up now and then to notice that the feed was dropped.
        let next = tokio::time::timeout(Duration::from_secs(1), l.try_recv()).await;
        let Some(me) = inner.upgrade() else { return };
        match next {
            Err(_) => {}
            Ok(Ok(Some(n))) => me.handle(n.payload(), &pool),
            Ok(Ok(None)) => {
                tracing::warn!("the change feed's connection was lost; reconnecting");
                me.lost();
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the change feed failed; reconnecting");
                me.lost();
                listener = None;
            }
        }
    }
}

async fn heartbeat(inner: std::sync::Weak<Inner>) {
    let Some(every) = inner.upgrade().map(|i| i.lease / 6) else { return };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        let Some(me) = inner.upgrade() else { return };
        let Some(pool) = me.pg.clone() else { return };
        n += 1;
        me.lock().sent.insert(n, Instant::now());
        let payload = format!("h|{}|{n}", me.node);
        drop(me);
        if let Err(e) = notify(&pool, &payload).await {
            tracing::debug!(error = %e, "heartbeat not sent");
        }
    }
}

async fn watch_sqlite(inner: std::sync::Weak<Inner>, writer: sqlx::SqlitePool) {
    // Asked on the writer, the one connection that writes for this process: its
    // `data_version` changes only when another connection, hence another process, commits.
    let mut last: Option<i64> = None;
    loop {
        tokio::time::sleep(SQLITE_POLL).await;
        let Some(me) = inner.upgrade() else { return };
        if me.stopped.load(Ordering::Relaxed) {
            return;
        }
        drop(me);
        let version = sqlx::query_scalar::<_, i64>("PRAGMA data_version").fetch_one(&writer).await;
        let Some(me) = inner.upgrade() else { return };
        match version {
            Ok(v) => {
                if last.is_some_and(|l| l != v) {
                    (me.on_change)(&Change::Everything);
                }
                last = Some(v);
            }
            Err(e) => tracing::debug!(error = %e, "cannot read data_version"),
        }
    }
}

/// For a process that writes but serves nothing (the `cit` CLI): returns when no API node can
/// serve anything it kept of `tenants` from before the call. On PostgreSQL the nodes are told
/// (they forget at once) and the call waits one `lease`, after which no node still holds a lease
/// from before the announcement; on SQLite it waits for the API process's next look at the file.
pub async fn announce_from_outside(store: &Store, tenants: &[String], lease: Duration) -> crate::StoreResult<()> {
    match store.backend {
        Backend::Postgres => {
            let pool = store.write.get_postgres_connection_pool();
            let origin = uuid::Uuid::new_v4();
            for t in tenants {
                notify_change(pool, origin, 0, t, false).await.map_err(|e| crate::StoreError::Io {
                    context: "cannot announce a change".into(),
                    source: std::io::Error::other(e),
                })?;
            }
            tokio::time::sleep(lease + lease / 20).await;
        }
        Backend::Sqlite => tokio::time::sleep(SQLITE_POLL * 2 + SQLITE_POLL / 2).await,
    }
    Ok(())
}
