//! Moving one tenant whole, for `cit tenant export` and `cit tenant import` (the archive
//! itself is the CLI's business): every row of every tenant-owned table, the tenant's own row
//! and its members' users, read in one snapshot and written back in one transaction.
//!
//! What is left out on purpose: sessions and refresh tokens (log in again), the search index
//! (rebuilt from the entries after an import), and secrets. An API token travels as metadata:
//! it arrives revoked, because its hash is never exported. A webhook's signing secret and a
//! user's password hash travel only when the export asks for credentials; without them the
//! webhook arrives disabled with a fresh secret and the user must set a password.
//!
//! An import `as` another id is a copy: every UUID in every row (ids, references, ids inside
//! entry data) is replaced by a UUIDv5 of the new tenant and the old id, so references stay
//! whole and nothing collides with the original in the same instance. The copy gets no host
//! names, its webhooks arrive disabled, and mail or deliveries still waiting in the original
//! are not copied (a copy must not write to people again).

use std::collections::{BTreeMap, HashMap};

use cit_core::content::ContentType;
use cit_core::{PlatformAccess, PlatformAction, TenantId};
use futures_util::TryStreamExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content::search::{Indexed, index_entry};
use crate::cross_tenant::{audit, require};
use crate::entity::{
    api_token, audit as audit_log, content_type, content_type_version, entry, entry_revision, event_registration, form,
    form_version, media, membership, newsletter_campaign, newsletter_list, newsletter_subscriber, outbox, submission,
    submission_attachment, survey, survey_invitation, survey_response, tenant, ticket, ticket_message, user, webhook,
    webhook_attempt, webhook_delivery,
};
use crate::{Store, StoreError, StoreResult};

/// Rows inserted by one statement: well under SQLite's limit of bound values.
const BATCH: usize = 100;

/// What an export hands its sink, in this order: the tenant, its members' users, then the
/// rows of each table of [`TABLES`] in that order (parents before the rows that refer to them).
#[derive(Debug)]
pub enum Part {
    Tenant(Value),
    User(Value),
    Row { table: &'static str, row: Value },
}

/// Whether secrets travel: users' password hashes and webhooks' signing secrets.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    pub credentials: bool,
}

/// How an archive is loaded.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Load it under this id instead of the archive's own: a copy (see the module docs).
    pub as_id: Option<TenantId>,
    /// Makes a webhook signing secret, for webhooks that arrive without theirs.
    pub new_secret: fn() -> String,
}

/// Rows per table, written or read.
pub type Counts = BTreeMap<&'static str, u64>;

/// Declares the exported tables once: their order, how each is streamed out and put back.
macro_rules! tables {
    ($($table:literal => $module:ident),* $(,)?) => {
        /// The tenant-owned tables an archive holds, parents first.
        pub const TABLES: &[&str] = &[$($table),*];

        async fn stream_table(
            conn: &DatabaseTransaction,
            table: &str,
            tenant: &str,
            each: &mut (dyn FnMut(Value) -> StoreResult<()> + Send),
        ) -> StoreResult<u64> {
            let mut n = 0;
            match table {
                $($table => {
                    let mut rows = $module::Entity::find()
                        .filter($module::Column::TenantId.eq(tenant))
                        .stream(conn)
                        .await?;
                    while let Some(row) = rows.try_next().await? {
                        each(serde_json::to_value(&row).map_err(|e| StoreError::Corrupt(e.to_string()))?)?;
                        n += 1;
                    }
                })*
                _ => return Err(StoreError::Corrupt(format!("no table {table}"))),
            }
            Ok(n)
        }

        async fn insert_rows(conn: &DatabaseTransaction, table: &str, rows: Vec<Value>) -> StoreResult<()> {
            match table {
                $($table => {
                    let mut models = Vec::with_capacity(rows.len());
                    for row in rows {
                        let m: $module::Model = serde_path_to_error::deserialize(row).map_err(|e| {
                            StoreError::Invalid { field: "archive", code: "bad_row", message: format!("a row of {table} does not read: {e}") }
                        })?;
                        models.push(m.into_active_model().reset_all());
                    }
                    $module::Entity::insert_many(models).exec_without_returning(conn).await?;
                })*
                _ => return Err(StoreError::Invalid { field: "archive", code: "unknown_table", message: format!("the archive holds an unknown table {table}") }),
            }
            Ok(())
        }
    };
}

tables! {
    "content_types" => content_type,
    "content_type_versions" => content_type_version,
    "memberships" => membership,
    "api_tokens" => api_token,
    "media" => media,
    "entries" => entry,
    "entry_revisions" => entry_revision,
    "forms" => form,
    "form_versions" => form_version,
    "submissions" => submission,
    "submission_attachments" => submission_attachment,
    "tickets" => ticket,
    "ticket_messages" => ticket_message,
    "newsletter_lists" => newsletter_list,
    "newsletter_subscribers" => newsletter_subscriber,
    "newsletter_campaigns" => newsletter_campaign,
    "event_registrations" => event_registration,
    "surveys" => survey,
    "survey_invitations" => survey_invitation,
    "survey_responses" => survey_response,
    "webhooks" => webhook,
    "webhook_deliveries" => webhook_delivery,
    "webhook_attempts" => webhook_attempt,
    "outbox" => outbox,
    "audit_log" => audit_log,
}

fn bad(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid { field: "archive", code, message: message.into() }
}

fn field_mut<'a>(row: &'a mut Value, name: &str) -> StoreResult<&'a mut Value> {
    row.get_mut(name).ok_or_else(|| bad("bad_row", format!("a row has no {name}")))
}

impl Store {
    /// Streams the tenant `id` to `sink` (see [`Part`] for the order), from one consistent
    /// snapshot. Returns the rows per table.
    pub async fn export_tenant(
        &self,
        access: &PlatformAccess,
        id: &TenantId,
        options: ExportOptions,
        sink: &mut (dyn FnMut(Part) -> StoreResult<()> + Send),
    ) -> StoreResult<Counts> {
        require(access, PlatformAction::MoveTenants)?;
        let txn = match self.backend {
            crate::Backend::Postgres => {
                self.read
                    .begin_with_config(
                        Some(sea_orm::IsolationLevel::RepeatableRead),
                        Some(sea_orm::AccessMode::ReadOnly),
                    )
                    .await?
            }
            crate::Backend::Sqlite => self.read.begin().await?,
        };
        let t = tenant::Entity::find_by_id(id.as_str()).one(&txn).await?.ok_or(StoreError::NotFound("tenant"))?;
        sink(Part::Tenant(serde_json::to_value(&t).map_err(|e| StoreError::Corrupt(e.to_string()))?))?;
        let mut counts = Counts::new();
        let members: Vec<Uuid> = membership::Entity::find()
            .filter(membership::Column::TenantId.eq(id.as_str()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        for chunk in members.chunks(500) {
            for u in user::Entity::find().filter(user::Column::Id.is_in(chunk.to_vec())).all(&txn).await? {
                let mut v = serde_json::to_value(&u).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if !options.credentials {
                    v["password_hash"] = json!("");
                }
                sink(Part::User(v))?;
                *counts.entry("users").or_default() += 1;
            }
        }
        for &table in TABLES {
            let mut each = |mut row: Value| {
                match table {
                    "api_tokens" => row["token_hash"] = json!(""),
                    "webhooks" if !options.credentials => row["secret"] = json!(""),
                    _ => {}
                }
                sink(Part::Row { table, row })
            };
            let n = stream_table(&txn, table, id.as_str(), &mut each).await?;
            counts.insert(table, n);
        }
        txn.commit().await?;
        Ok(counts)
    }

    /// Starts loading an archive whose tenant row is `tenant`: refuses a tenant id that is
    /// taken. Nothing is visible to anybody until [`TenantImport::commit`].
    pub async fn import_tenant(
        &self,
        access: &PlatformAccess,
        tenant: Value,
        options: ImportOptions,
    ) -> StoreResult<TenantImport<'_>> {
        require(access, PlatformAction::MoveTenants)?;
        let mut t: tenant::Model = serde_path_to_error::deserialize(tenant)
            .map_err(|e| bad("bad_tenant", format!("the archive's tenant does not read: {e}")))?;
        let source = TenantId::parse(&t.id).map_err(|e| bad("bad_tenant", format!("the archive's tenant id: {e}")))?;
        let target = options.as_id.clone().unwrap_or_else(|| source.clone());
        let copy = target != source;
        if tenant::Entity::find_by_id(target.as_str()).one(&self.write).await?.is_some() {
            return Err(StoreError::Conflict {
                field: "tenant",
                message: format!("a tenant with id {target} already exists here: import it --as another id"),
            });
        }
        t.id = target.to_string();
        if copy {
            t.domains = json!([]);
        }
        let txn = self.write.begin().await?;
        t.into_active_model().reset_all().insert(&txn).await.map_err(StoreError::unique(
            "tenant",
            format!("a tenant with id {target} already exists here: import it --as another id"),
        ))?;
        let namespace = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("cit-tenant:{target}").as_bytes());
        Ok(TenantImport {
            store: self,
            access: access.clone(),
            txn,
            source,
            target,
            copy,
            namespace,
            users: HashMap::new(),
            pending: Vec::new(),
            pending_table: "",
            counts: Counts::new(),
            new_secret: options.new_secret,
            types: HashMap::new(),
        })
    }
}

/// An import under way: rows go into one transaction, in archive order.
pub struct TenantImport<'s> {
    store: &'s Store,
    access: PlatformAccess,
    txn: DatabaseTransaction,
    source: TenantId,
    target: TenantId,
    copy: bool,
    namespace: Uuid,
    /// The archive's user ids and the ids they have here (an existing user with the same e-mail).
    users: HashMap<Uuid, Uuid>,
    pending: Vec<Value>,
    pending_table: &'static str,
    counts: Counts,
    new_secret: fn() -> String,
    /// The archive's content types, to index its entries.
    types: HashMap<String, ContentType>,
}

impl TenantImport<'_> {
    /// The id the tenant gets here.
    pub fn tenant(&self) -> &TenantId {
        &self.target
    }

    /// The id a row of the archive gets here (itself, unless this is a copy).
    pub fn id(&self, old: Uuid) -> Uuid {
        if let Some(u) = self.users.get(&old) {
            *u
        } else if self.copy {
            Uuid::new_v5(&self.namespace, old.as_bytes())
        } else {
            old
        }
    }

    /// A string of a row as it reads here: a UUID, or an actor `user:`/`token:` and a UUID,
    /// mapped by [`Self::id`]; anything else as it is.
    fn map_str(&self, s: &str) -> Option<String> {
        if s.len() == 36
            && let Ok(u) = Uuid::parse_str(s)
        {
            let mapped = self.id(u);
            return (mapped != u).then(|| mapped.hyphenated().to_string());
        }
        let (prefix, rest) = s.split_once(':')?;
        if !matches!(prefix, "user" | "token") || rest.len() != 36 {
            return None;
        }
        let u = Uuid::parse_str(rest).ok()?;
        let mapped = self.id(u);
        (mapped != u).then(|| format!("{prefix}:{}", mapped.hyphenated()))
    }

    fn map_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(m) = self.map_str(s) {
                    *s = m;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.map_value(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.map_value(i)),
            _ => {}
        }
    }

    /// One of the members' users: the one with the same e-mail here if there is one (its
    /// password and name stay as they are), else a new user with the archive's id.
    pub async fn user(&mut self, row: Value) -> StoreResult<()> {
        let u: user::Model = serde_path_to_error::deserialize(row)
            .map_err(|e| bad("bad_row", format!("a user of the archive does not read: {e}")))?;
        let existing = user::Entity::find().filter(user::Column::Email.eq(&u.email)).one(&self.txn).await?;
        let id = match existing {
            Some(e) => e.id,
            None => {
                let free = user::Entity::find_by_id(u.id).one(&self.txn).await?.is_none();
                let id = if free { u.id } else { Uuid::now_v7() };
                // Platform rights are this instance's to give, not the archive's.
                user::Model { id, platform_admin: false, ..u.clone() }
                    .into_active_model()
                    .reset_all()
                    .insert(&self.txn)
                    .await?;
                id
            }
        };
        self.users.insert(u.id, id);
        *self.counts.entry("users").or_default() += 1;
        Ok(())
    }

    /// One row of `table`, as the export wrote it.
    pub async fn row(&mut self, table: &str, mut row: Value) -> StoreResult<()> {
        let table: &'static str = TABLES
            .iter()
            .find(|t| **t == table)
            .ok_or_else(|| bad("unknown_table", format!("unknown table {table}")))?;
        if !row.is_object() {
            return Err(bad("bad_row", format!("a row of {table} is not an object")));
        }
        let tenant_ok = match row.get("tenant_id") {
            Some(Value::String(t)) => t == self.source.as_str(),
            _ => false,
        };
        if !tenant_ok {
            return Err(bad("foreign_row", format!("a row of {table} belongs to another tenant than {}", self.source)));
        }
        *field_mut(&mut row, "tenant_id")? = json!(self.target.as_str());
        self.map_value(&mut row);
        match table {
            "api_tokens" => {
                let id = row["id"].as_str().unwrap_or_default().replace('-', "");
                *field_mut(&mut row, "token_hash")? = json!(format!("imported-{id}"));
                if row["revoked_at"].is_null() {
                    *field_mut(&mut row, "revoked_at")? = json!(self.store.now());
                }
            }
            "webhooks" => {
                let without_secret = row["secret"].as_str().is_none_or(str::is_empty);
                if without_secret {
                    *field_mut(&mut row, "secret")? = json!((self.new_secret)());
                }
                if without_secret || self.copy {
                    *field_mut(&mut row, "enabled")? = json!(false);
                    *field_mut(&mut row, "disabled_reason")? = json!(if without_secret {
                        "imported without its signing secret: set a new one, then enable it"
                    } else {
                        "a copy of another tenant's webhook: check it, then enable it"
                    });
                }
            }
            "content_types" => {
                let api_id = row["api_id"].as_str().unwrap_or_default().to_owned();
                let parsed = serde_json::from_value(row["definition"].clone())
                    .ok()
                    .and_then(|def| ContentType::parse(&api_id, &def).ok());
                if let Some(ct) = parsed {
                    self.types.insert(api_id, ct);
                }
            }
            "outbox" if self.copy && row["sent_at"].is_null() => return Ok(()),
            "webhook_deliveries" if self.copy && row["delivered_at"].is_null() && row["failed_at"].is_null() => {
                return Ok(());
            }
            "webhook_attempts" if self.copy => return Ok(()),
            _ => {}
        }
        if self.pending_table != table || self.pending.len() >= BATCH {
            self.flush().await?;
            self.pending_table = table;
        }
        self.pending.push(row);
        *self.counts.entry(table).or_default() += 1;
        Ok(())
    }

    async fn flush(&mut self) -> StoreResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        // The search index is not in the archive: each entry is indexed as it arrives.
        let entries: Vec<entry::Model> = if self.pending_table == "entries" {
            rows.iter().filter_map(|r| serde_json::from_value(r.clone()).ok()).collect()
        } else {
            Vec::new()
        };
        insert_rows(&self.txn, self.pending_table, rows).await.map_err(|e| match e {
            StoreError::Db(db) => match db.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(m)) => StoreError::Conflict {
                    field: "archive",
                    message: format!(
                        "rows of {} are already in this instance ({m}): import the archive --as another id",
                        self.pending_table
                    ),
                },
                Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(m)) => {
                    bad("broken_reference", format!("a row of {} refers to a missing row: {m}", self.pending_table))
                }
                _ => StoreError::Db(db),
            },
            e => e,
        })?;
        for e in &entries {
            if let Some(ct) = self.types.get(&e.type_id) {
                index_entry(&self.txn, ct, e, Indexed::New).await?;
            }
        }
        Ok(())
    }

    /// Makes the tenant visible, with an audit line.
    pub async fn commit(mut self) -> StoreResult<Counts> {
        self.flush().await?;
        let details = json!({"from": self.source.as_str(), "rows": self.counts});
        audit(
            &self.txn,
            &self.access,
            self.store.now(),
            Some(self.target.as_str()),
            "tenant.import",
            ("tenant", self.target.as_str()),
            details,
        )
        .await?;
        self.txn.commit().await?;
        Ok(self.counts)
    }
}
