//! An optional PostgreSQL read replica (a streaming standby), for the reads that may go there:
//! content read by `GET` requests (entries, types, search). Everything else (writes, reads inside
//! writes, sessions, tokens, memberships, tenants, the background jobs) stays on the primary.
//!
//! **Read-your-writes, across nodes.** A replica lags. A tenant's content is read there only
//! when the replica has replayed every change of that tenant this node knows was acknowledged:
//! - every change is announced on the change feed ([`crate::changes`]) after it is committed,
//!   with the primary's WAL position at that moment (`pg_current_wal_lsn()`), and the writer
//!   does not answer until the other live nodes have heard it; so once a client is told "done",
//!   every node knows the position its reads of that tenant must wait for;
//! - what was committed before this node started listening is covered by a floor: the primary's
//!   position read right after `LISTEN` succeeded;
//! - while the feed is not current (starting, or its connection lost), the replica is not used.
//!
//! The replica's replayed position (`pg_last_wal_replay_lsn()`) is polled every [`POLL`], off the
//! request path; a replica that is behind, unreachable or promoted is not used, and reads go to
//! the primary. Only `GET` and `HEAD` requests may read there: the
//! API marks them with [`may_lag`], so a write reading back what it wrote reads the primary.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// How often the replica's replayed position is read; also the longest a poll may take.
pub const POLL: Duration = Duration::from_millis(100);

tokio::task_local! {
    static MAY_LAG: bool;
}

/// Runs `f` with its content reads allowed on the replica (the API wraps `GET` and `HEAD`).
pub async fn may_lag<F: std::future::Future>(allowed: bool, f: F) -> F::Output {
    MAY_LAG.scope(allowed, f).await
}

fn lag_allowed() -> bool {
    MAY_LAG.try_with(|v| *v).unwrap_or(false)
}

/// `16/B374D848` → a number that orders like the position.
pub(crate) fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

pub(crate) struct Replica {
    pub(crate) pool: DatabaseConnection,
    started: Instant,
    /// The replica's last known replayed position (0: unknown, not usable).
    replayed: AtomicU64,
    /// Every change committed before the feed started listening is at or below this.
    floor: AtomicU64,
    /// Until when (ms since `started`) the feed is current; 0: not current.
    current_until: AtomicU64,
    /// Per tenant, the position of its last announced change.
    wanted: Mutex<HashMap<String, u64>>,
    /// Reads sent to the replica, and reads that could have gone but went to the primary.
    pub(crate) served: AtomicU64,
    pub(crate) declined: AtomicU64,
}

impl Replica {
    pub(crate) fn new(pool: DatabaseConnection) -> Self {
        Self {
            pool,
            started: Instant::now(),
            replayed: AtomicU64::new(0),
            floor: AtomicU64::new(u64::MAX),
            current_until: AtomicU64::new(0),
            wanted: Mutex::new(HashMap::new()),
            served: AtomicU64::new(0),
            declined: AtomicU64::new(0),
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
    }

    fn wanted_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.wanted.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A change of `tenant` was committed at or below `lsn`.
    pub(crate) fn changed(&self, tenant: &str, lsn: u64) {
        let mut w = self.wanted_lock();
        let e = w.entry(tenant.to_owned()).or_insert(0);
        *e = (*e).max(lsn);
    }

    /// The feed started listening; everything committed before is at or below `lsn`.
    pub(crate) fn listening_from(&self, lsn: u64) {
        // Replaces the floor of an earlier connection: changes missed while it was down are
        // below this one.
        self.floor.store(lsn, Ordering::Relaxed);
    }

    /// The feed is current until `until` (its lease), or not at all.
    pub(crate) fn current_until(&self, until: Option<Instant>) {
        self.current_until.store(until.map_or(0, |u| self.ms(u).max(1)), Ordering::Relaxed);
    }

    fn current(&self) -> bool {
        self.ms(Instant::now()) < self.current_until.load(Ordering::Relaxed)
    }

    async fn ask(&self) -> Option<u64> {
        let stmt = Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_last_wal_replay_lsn()::text AS lsn".to_owned(),
        );
        let row = tokio::time::timeout(POLL, self.pool.query_one_raw(stmt)).await.ok()?.ok()??;
        // NULL: not (or no longer) a standby, so it gets no changes: never read there.
        let lsn = row.try_get::<Option<String>>("", "lsn").ok()?.as_deref().and_then(parse_lsn);
        Some(lsn.unwrap_or(0))
    }

    /// Reads the replayed position now; 0 when the replica cannot be used.
    pub(crate) async fn poll(&self) {
        let lsn = self.ask().await.unwrap_or(0);
        self.replayed.store(lsn, Ordering::Relaxed);
    }

    /// Whether a content read of `tenant` may go to the replica now.
    pub(crate) fn usable_for(&self, tenant: &str) -> bool {
        if !lag_allowed() {
            return false;
        }
        let ok = self.caught_up(tenant);
        if ok { &self.served } else { &self.declined }.fetch_add(1, Ordering::Relaxed);
        ok
    }

    /// The feed is current and the replica has replayed the floor and the tenant's last change
    /// (a floor of `u64::MAX`: the feed never listened yet).
    fn caught_up(&self, tenant: &str) -> bool {
        if !self.current() {
            return false;
        }
        let floor = self.floor.load(Ordering::Relaxed);
        let need = floor.max(self.wanted_lock().get(tenant).copied().unwrap_or(0));
        let replayed = self.replayed.load(Ordering::Relaxed);
        need != u64::MAX && replayed != 0 && replayed >= need
    }
}

/// Polls the replica's replayed position until the store is dropped.
pub(crate) fn spawn_poller(replica: std::sync::Weak<Replica>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL).await;
            let Some(r) = replica.upgrade() else { return };
            r.poll().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn positions_order_like_the_wal() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nope"), None);
        assert_eq!(parse_lsn("1/xyz"), None);
    }
}
