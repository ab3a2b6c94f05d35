//! Persistence for cit on SQLite (embedded default) and PostgreSQL, through one sea-orm code path.
//!
//! # The tenant boundary
//!
//! Every row that belongs to a tenant (the tables listed once, in `scoped.rs`'s `tenant_owned!`:
//! entries and their revisions, content types and their versions, media, memberships, API
//! tokens, the audit log, the search documents) is read, inserted, updated and deleted through a
//! [`TenantStore`]. One can only be made from a [`cit_core::TenantAccess`] (proof that the
//! permission check passed), and it adds the tenant filter to every select, update and delete
//! and sets the tenant of every insert itself, in one place each. The few operations that
//! deliberately cross tenants (the scheduler, start-up indexing, finding the API token behind a
//! secret, a user's memberships, a platform admin's grant) live in one module, `cross_tenant.rs`,
//! and each needs a [`cit_core::PlatformAccess`] for its own [`cit_core::PlatformAction`], which
//! `cit_core::authorize_platform` grants for the server's own work only to `Actor::System`.
//! A test (`boundary.rs`) reads this crate's source and fails the build when any other file
//! queries a tenant-owned entity, writes raw SQL against a tenant-owned table, sets a
//! `tenant_id` by hand or reads the wall clock: time comes from the clock the server gives the
//! store ([`Store::with_clock`]), so tests move it.

mod backup;
#[cfg(test)]
mod boundary;
pub mod changes;
pub mod content;
mod cross_tenant;
pub use cross_tenant::{AttemptOutcome, DueDelivery};
mod entity;
pub mod jobs;
mod media;
mod memo;
mod migration;
mod platform;
mod records;
pub mod replica;
mod scoped;
mod sessions;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cit_core::clock::{Clock, SystemClock};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr, SqlErr, sqlx};
use sea_orm_migration::MigratorTrait;

pub use content::{
    ApplyReport, Cursor, DataIssue, Entry, EntryChange, EntryKey, EntryStatus, Filter, FilterValue, ListQuery,
    NewEntry, Op, PlannedChange, Revision, ScheduleReport, SearchHit, SearchQuery, SearchResults, SortKey, StoredType,
    SysField, Target, ValueType,
};
pub use media::{MediaChange, MediaFile, MediaItem, MediaUse};
pub use records::*;
pub use scoped::webhooks::{NewWebhook, Webhook, WebhookAttempt, WebhookDelivery, WebhookPatch};
pub use scoped::{TenantStore, events, newsletter, outbox_queue as outbox, portable, requests, surveys};

/// What can go wrong in the store. The API maps each variant to one status in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique rule was broken: `field` names what collided.
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    /// The input names something that is not there or cannot be used (`field` says which).
    #[error("{message}")]
    Invalid { field: &'static str, code: &'static str, message: String },
    /// A business rule refused the change (e.g. removing the last admin).
    #[error("{message}")]
    Rule { code: &'static str, message: String },
    /// Entry data that only the database could find wrong: missing references, taken values.
    #[error("the entry data is not valid")]
    InvalidData(Vec<DataIssue>),
    /// Applying the content types would lose data; nothing was changed.
    #[error("the change would lose data")]
    Destructive(Vec<PlannedChange>),
    /// The row changed since the caller read it.
    #[error("the entry changed since it was read")]
    Stale,
    /// A list cursor that does not belong to the list's sort.
    #[error("the cursor does not belong to this sort")]
    BadCursor,
    /// The capability handed in does not allow this operation: a bug in the caller.
    #[error("operation not covered by the granted access")]
    WrongCapability,
    /// A stored value no longer parses: the database was changed behind cit's back.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database URL names no backend cit speaks, or does not parse.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The file system or the network refused something the store needed (the SQLite folder,
    /// a notification to the other nodes). `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Whether the database could not be reached or refused to work for now: the server is down,
    /// restarting or starting up, the connection broke, or no connection came free in time. Such
    /// a failure passes without anything having been written, so the caller may try again; the
    /// API answers 503 with `Retry-After`. Anything else is a real error.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Db(e) if db_unavailable(e))
    }

    /// Turns a unique-constraint violation into a [`StoreError::Conflict`]; anything else stays a
    /// database error. The one place where constraint errors are recognised.
    pub(crate) fn unique(field: &'static str, message: impl Into<String>) -> impl FnOnce(DbErr) -> StoreError {
        move |err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict { field, message: message.into() },
            _ => StoreError::Db(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// See [`StoreError::is_unavailable`]. PostgreSQL says "try later" with the SQLSTATE classes 08
/// (connection exception) and 57P (shutting down, starting up); sqlx says it with I/O errors,
/// a closed or exhausted pool and a crashed worker.
fn db_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                true
            }
            sqlx::Error::Database(db) => db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some_and(|pg| {
                let code = pg.code();
                code.starts_with("08") || code.starts_with("57P")
            }),
            _ => false,
        },
        _ => false,
    }
}

/// A sea-orm metric callback that counts statements.
fn counter(queries: &Arc<AtomicU64>) -> impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static {
    let queries = queries.clone();
    move |_| {
        queries.fetch_add(1, Ordering::Relaxed);
    }
}

/// Pool sizes and timeouts. Defaults suit one API node.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub max_connections: u32,
    pub busy_timeout: Duration,
    /// PostgreSQL: how long to wait for a connection (to open one, or for one to come free).
    pub acquire_timeout: Duration,
    /// PostgreSQL: a streaming replica for content reads of `GET` requests (see [`replica`]).
    pub replica_url: Option<String>,
}

impl Default for ConnectSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            replica_url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database. Cheap to clone.
///
/// On SQLite there are two pools: one connection for writes (SQLite has one writer at a time, and
/// a single writer connection avoids `SQLITE_BUSY` upgrades inside transactions) and several for
/// reads, which WAL mode lets run beside the writer. On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Store {
    write: DatabaseConnection,
    read: DatabaseConnection,
    /// PostgreSQL: the optional read replica; see [`replica`].
    replica: Option<Arc<replica::Replica>>,
    backend: Backend,
    /// Statements run on either pool since `connect`: see [`Store::query_count`].
    queries: Arc<AtomicU64>,
    /// The only source of "now" in the store: expiry checks at use, the scheduler, every
    /// timestamp written. The real clock unless [`Store::with_clock`] gave another.
    clock: Arc<dyn Clock>,
    /// Facts kept between writes on this node, forgotten through the change feed.
    memo: Arc<memo::Memo>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://…`). For SQLite the file and
    /// its folder are created when missing, and WAL, foreign keys and a busy timeout are turned on.
    pub async fn connect(url: &str, settings: &ConnectSettings) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            let base: SqliteConnectOptions =
                url.parse().map_err(|e| StoreError::InvalidUrl(format!("invalid SQLite URL: {e}")))?;
            if let Some(parent) = base.get_filename().parent()
                && !parent.as_os_str().is_empty()
                && !Path::new(parent).exists()
            {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                    context: format!("cannot create {}", parent.display()),
                    source,
                })?;
            }
            let busy = settings.busy_timeout;
            let tune = move |o: SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(busy)
            };
            let queries = Arc::new(AtomicU64::new(0));
            let mut w = ConnectOptions::new(url);
            w.max_connections(1).min_connections(1).sqlx_logging(false).map_sqlx_sqlite_opts(tune);
            let mut write = Database::connect(w).await?;
            write.set_metric_callback(counter(&queries));
            let mut r = ConnectOptions::new(url);
            r.max_connections(settings.max_connections.clamp(1, 8)).sqlx_logging(false).map_sqlx_sqlite_opts(tune);
            let mut read = Database::connect(r).await?;
            read.set_metric_callback(counter(&queries));
            if settings.replica_url.is_some() {
                return Err(StoreError::InvalidUrl(
                    "a read replica is for PostgreSQL: SQLite is one file, read and written by one process".into(),
                ));
            }
            Ok(Self {
                write,
                read,
                replica: None,
                backend: Backend::Sqlite,
                queries,
                clock: Arc::new(SystemClock),
                memo: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut o = ConnectOptions::new(url);
            o.max_connections(settings.max_connections)
                .connect_timeout(settings.acquire_timeout)
                .acquire_timeout(settings.acquire_timeout)
                .sqlx_logging(false);
            let queries = Arc::new(AtomicU64::new(0));
            let mut pool = Database::connect(o).await?;
            pool.set_metric_callback(counter(&queries));
            let replica = match &settings.replica_url {
                None => None,
                Some(r) if !(r.starts_with("postgres:") || r.starts_with("postgresql:")) => {
                    return Err(StoreError::InvalidUrl("the read replica's URL must be postgres://…".into()));
                }
                Some(r) => {
                    let mut o = ConnectOptions::new(r);
                    o.max_connections(settings.max_connections)
                        .min_connections(0)
                        .connect_timeout(settings.acquire_timeout)
                        .acquire_timeout(settings.acquire_timeout)
                        .connect_lazy(true)
                        .sqlx_logging(false);
                    let mut rp = Database::connect(o).await?;
                    rp.set_metric_callback(counter(&queries));
                    let replica = Arc::new(replica::Replica::new(rp));
                    replica::spawn_poller(Arc::downgrade(&replica));
                    Some(replica)
                }
            };
            Ok(Self {
                read: pool.clone(),
                replica,
                write: pool,
                backend: Backend::Postgres,
                queries,
                clock: Arc::new(SystemClock),
                memo: Arc::default(),
            })
        } else {
            Err(StoreError::InvalidUrl(
                "unsupported database URL: use sqlite://path/to/file.db or postgres://user@host/db".into(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where a content read of `tenant` goes: the replica when the request may read there and
    /// the replica has replayed the tenant's last known change (see [`replica`]), else the
    /// primary.
    pub(crate) fn content_reader(&self, tenant: &str) -> &DatabaseConnection {
        match &self.replica {
            Some(r) if r.usable_for(tenant) => &r.pool,
            _ => &self.read,
        }
    }

    /// With a read replica: content reads sent to it, and those that went to the primary
    /// because it was behind, unreachable or the request was a write (for `/metrics`).
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    pub fn replica_reads(&self) -> Option<(u64, u64)> {
        self.replica.as_ref().map(|r| (r.served.load(Ordering::Relaxed), r.declined.load(Ordering::Relaxed)))
    }

    /// The same store reading time from `clock` (the server's; a manual one in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The store's current time (see [`Store::with_clock`]), to the microsecond: what
    /// PostgreSQL keeps, so a timestamp reads back the same on both databases, and a tenant
    /// moved from one to the other keeps every one of them exactly.
    pub fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.clock.now().trunc_subsecs(6)
    }

    /// How many SQL statements this store (and its clones) has run since it connected, on
    /// either pool, transactions included. Cheap to read; tests use the difference across a
    /// request to prove that a query does not grow with the data (no N+1).
    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Applies pending migrations; returns how many ran.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let pending = migration::Migrator::get_pending_migrations(&self.write).await?.len();
        migration::Migrator::up(&self.write, None).await?;
        Ok(pending)
    }

    /// How many migrations this build knows; a fresh database applies all of them.
    pub fn known_migrations() -> usize {
        migration::Migrator::migrations().len()
    }

    /// How many migrations are not applied yet.
    pub async fn pending_migrations(&self) -> StoreResult<usize> {
        Ok(migration::Migrator::get_pending_migrations(&self.read).await?.len())
    }

    /// Round-trips to the database.
    pub async fn ping(&self) -> StoreResult<()> {
        self.read.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load. PostgreSQL's autovacuum does it in
    /// time on a live server; right after thousands of inserts, or where autovacuum is off, stale
    /// statistics make the planner pick `idx_entries_list` for the slug check and scan a whole
    /// type per write (5 ms instead of 0.05 ms at 10,000 entries). SQLite keeps no statistics
    /// for cit and plans without them, so there is nothing to do.
    pub async fn analyze(&self) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            self.write.execute_unprepared("ANALYZE").await?;
        }
        Ok(())
    }

    /// Closes the pools, flushing SQLite's WAL.
    pub async fn close(self) -> StoreResult<()> {
        self.read.close().await?;
        self.write.close().await?;
        if let Some(r) = self.replica {
            r.pool.clone().close().await?;
        }
        Ok(())
    }
}

/// What the store's unit tests share.
#[cfg(test)]
mod test_support {
    #![allow(clippy::unwrap_used)]
    use sea_orm::{DbBackend, Statement};

    use super::{ConnectSettings, ConnectionTrait, Store};

    /// A migrated SQLite store in a new temporary folder, which lives as long as the guard.
    pub(crate) async fn sqlite_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/plan.db?mode=rwc", dir.path().display());
        let store = Store::connect(&url, &ConnectSettings::default()).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    /// SQLite's plan for a statement (`EXPLAIN QUERY PLAN`), one line per step.
    pub(crate) async fn sqlite_plan(store: &Store, stmt: Statement) -> Vec<String> {
        let sql = format!("EXPLAIN QUERY PLAN {}", stmt.sql);
        let explain = Statement::from_sql_and_values(DbBackend::Sqlite, sql, stmt.values.unwrap());
        let rows = store.read.query_all_raw(explain).await.unwrap();
        rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect()
    }
}

#[cfg(test)]
mod unavailable_tests {
    #![allow(clippy::unwrap_used)]
    use super::{ConnectionTrait, StoreError};

    /// A database that cannot be reached is "unavailable" (the API's 503); a statement the
    /// database refuses is a real error (500).
    #[tokio::test]
    async fn a_closed_pool_is_unavailable_and_a_bad_statement_is_not() {
        let (_dir, store) = super::test_support::sqlite_store().await;
        let refused = StoreError::from(store.read.execute_unprepared("SELECT * FROM no_such_table").await.unwrap_err());
        assert!(!refused.is_unavailable(), "{refused}");
        assert!(!StoreError::NotFound("entry").is_unavailable());
        store.read.close_by_ref().await.unwrap();
        let closed = store.ping().await.unwrap_err();
        assert!(closed.is_unavailable(), "{closed}");
    }
}
