//! Content types of one tenant: read them, and apply a desired set (from `schema/` files or the
//! admin API) through one path that diffs, refuses data loss unless forced, and versions.

use chrono::Utc;
use cit_core::content::{Change, ContentType, diff_types};
use cit_core::webhooks::WebhookEvent;
use cit_core::{Action, InvalidInput};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::StoredType;
use crate::entity::{content_type, content_type_version, entry, entry_revision};
use crate::scoped::TenantStore;
use crate::{StoreError, StoreResult};

/// One change of a plan, with how many entries it affects when it may lose data.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    pub change: Change,
    /// Entries holding data the change would lose or orphan (0 when none, or not destructive).
    pub affected_entries: u64,
}

impl PlannedChange {
    pub fn loses_data(&self) -> bool {
        self.change.may_lose_data() && self.affected_entries > 0
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    pub changes: Vec<PlannedChange>,
    /// Whether anything was written (false for a dry run, a refusal or an empty plan).
    pub applied: bool,
}

fn parse_stored(m: content_type::Model) -> StoreResult<StoredType> {
    let ct = parse_definition("content type", &m.api_id, &m.definition, ContentType::parse)?;
    Ok(StoredType { ct, version: m.version, updated_at: m.updated_at })
}

/// A definition (a content type's, a form's) as stored in JSON, parsed again with `parse`; a row
/// that no longer parses is corrupt (`<what> <id>: …`).
pub(crate) fn parse_definition<D: DeserializeOwned, T>(
    what: &str,
    id: &str,
    definition: &Value,
    parse: impl FnOnce(&str, &D) -> Result<T, Vec<InvalidInput>>,
) -> StoreResult<T> {
    let corrupt = |detail: String| StoreError::Corrupt(format!("{what} {id}: {detail}"));
    let def: D = serde_json::from_value(definition.clone()).map_err(|e| corrupt(e.to_string()))?;
    parse(id, &def).map_err(|errs| corrupt(errs.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")))
}

impl TenantStore<'_> {
    pub async fn content_types(&self) -> StoreResult<Vec<StoredType>> {
        self.select::<content_type::Entity>()
            .order_by_asc(content_type::Column::ApiId)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(parse_stored)
            .collect()
    }

    pub async fn content_type(&self, api_id: &str) -> StoreResult<Option<StoredType>> {
        self.select::<content_type::Entity>()
            .filter(content_type::Column::ApiId.eq(api_id))
            .one(self.content_reader())
            .await?
            .map(parse_stored)
            .transpose()
    }

    /// Earlier versions of a type, newest first: (version, definition or None when removed, actor, when).
    pub async fn content_type_versions(
        &self,
        api_id: &str,
    ) -> StoreResult<Vec<(i32, Option<Value>, String, chrono::DateTime<Utc>)>> {
        Ok(self
            .select::<content_type_version::Entity>()
            .filter(content_type_version::Column::ApiId.eq(api_id))
            .order_by_desc(content_type_version::Column::Version)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(|v| (v.version, v.definition, v.actor, v.created_at))
            .collect())
    }

    async fn affected(&self, conn: &impl ConnectionTrait, change: &Change) -> StoreResult<u64> {
        let (ty, field) = match change {
            Change::RemoveType(ty) => (ty, None),
            Change::RemoveField(ty, f) => (ty, Some(f)),
            Change::ChangeFieldKind { ty, field, .. } | Change::NarrowField { ty, field, .. } => (ty, Some(field)),
            _ => return Ok(0),
        };
        let mut q = self.select::<entry::Entity>().filter(entry::Column::TypeId.eq(ty.as_str()));
        if let Some(f) = field {
            q = q.filter(crate::scoped::json_field(f).is_not_null());
        }
        Ok(q.count(conn).await?)
    }

    /// Makes the tenant's types match `desired` (types not listed are left alone unless
    /// `prune`). Changes that would lose data are refused with [`StoreError::Destructive`]
    /// unless `force`; with `force`, removed fields are dropped from entries and removed types
    /// take their entries with them. `dry_run` reports the plan and writes nothing.
    pub async fn apply_types(
        &self,
        desired: &[ContentType],
        prune: bool,
        force: bool,
        dry_run: bool,
    ) -> StoreResult<ApplyReport> {
        self.require_any(&[Action::ManageSchema])?;
        let txn = self.store().write.begin().await?;
        let current_rows = self.select::<content_type::Entity>().all(&txn).await?;
        let mut current = Vec::new();
        for row in &current_rows {
            current.push(parse_stored(row.clone())?.ct);
        }
        let diff = diff_types(&current, desired, prune);
        let mut changes = Vec::new();
        for change in diff.changes {
            let affected_entries = if change.may_lose_data() { self.affected(&txn, &change).await? } else { 0 };
            changes.push(PlannedChange { change, affected_entries });
        }
        if changes.is_empty() || dry_run {
            return Ok(ApplyReport { changes, applied: false });
        }
        if !force && changes.iter().any(PlannedChange::loses_data) {
            return Err(StoreError::Destructive(changes));
        }
        let now = self.store().now();
        let actor = self.access().actor().to_owned();
        let touched: std::collections::BTreeSet<String> = changes
            .iter()
            .map(|c| match &c.change {
                Change::AddType(t) | Change::RemoveType(t) | Change::ChangeTypeInfo(t) => t.to_string(),
                Change::AddField(t, _) | Change::RemoveField(t, _) | Change::ChangeField(t, _) => t.to_string(),
                Change::ChangeFieldKind { ty, .. } | Change::NarrowField { ty, .. } => ty.to_string(),
            })
            .collect();
        for api_id in &touched {
            let old = current_rows.iter().find(|r| &r.api_id == api_id);
            let version = old.map_or(1, |r| r.version + 1);
            match desired.iter().find(|ct| ct.id.as_str() == api_id) {
                Some(ct) => {
                    let definition = serde_json::to_value(ct.def()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    match old {
                        Some(_) => {
                            self.update::<content_type::Entity>()
                                .col_expr(content_type::Column::Definition, Expr::value(definition.clone()))
                                .col_expr(content_type::Column::Version, Expr::value(version))
                                .col_expr(content_type::Column::UpdatedAt, Expr::value(now))
                                .filter(content_type::Column::ApiId.eq(api_id.as_str()))
                                .exec(&txn)
                                .await?;
                        }
                        None => {
                            let row = content_type::ActiveModel {
                                api_id: Set(api_id.clone()),
                                version: Set(version),
                                definition: Set(definition.clone()),
                                created_at: Set(now),
                                updated_at: Set(now),
                                ..Default::default()
                            };
                            self.insert(&txn, row).await?;
                        }
                    }
                    self.strip_removed_fields(&txn, api_id, ct).await?;
                    self.record_version(&txn, api_id, version, Some(definition), &actor).await?;
                    let event = json!({"api_id": api_id, "version": version, "removed": false});
                    self.enqueue_webhooks(&txn, &[WebhookEvent::ContentTypeChanged], &event).await?;
                }
                None => {
                    let ids: Vec<uuid::Uuid> = self
                        .select::<entry::Entity>()
                        .filter(entry::Column::TypeId.eq(api_id.as_str()))
                        .all(&txn)
                        .await?
                        .into_iter()
                        .map(|e| e.id)
                        .collect();
                    if !ids.is_empty() {
                        self.delete::<entry_revision::Entity>()
                            .filter(entry_revision::Column::EntryId.is_in(ids))
                            .exec(&txn)
                            .await?;
                    }
                    self.delete::<entry::Entity>().filter(entry::Column::TypeId.eq(api_id.as_str())).exec(&txn).await?;
                    self.delete::<content_type::Entity>()
                        .filter(content_type::Column::ApiId.eq(api_id.as_str()))
                        .exec(&txn)
                        .await?;
                    self.record_version(&txn, api_id, version, None, &actor).await?;
                    let event = json!({"api_id": api_id, "version": version, "removed": true});
                    self.enqueue_webhooks(&txn, &[WebhookEvent::ContentTypeChanged], &event).await?;
                }
            }
        }
        let summary: Vec<String> = changes.iter().map(|c| c.change.to_string()).collect();
        self.audit_on(&txn, "schema.apply", ("schema", "types"), json!({"changes": summary, "forced": force})).await?;
        txn.commit().await?;
        Ok(ApplyReport { changes, applied: true })
    }

    async fn record_version(
        &self,
        conn: &impl ConnectionTrait,
        api_id: &str,
        version: i32,
        definition: Option<Value>,
        actor: &str,
    ) -> StoreResult<()> {
        let row = content_type_version::ActiveModel {
            api_id: Set(api_id.to_owned()),
            version: Set(version),
            definition: Set(definition),
            actor: Set(actor.to_owned()),
            created_at: Set(self.store().now()),
            ..Default::default()
        };
        self.insert(conn, row).await?;
        Ok(())
    }

    /// Drops from every entry of the type the keys that are no longer fields, and rewrites
    /// their search documents for the new model.
    async fn strip_removed_fields(
        &self,
        conn: &impl ConnectionTrait,
        api_id: &str,
        ct: &ContentType,
    ) -> StoreResult<()> {
        let rows = self.select::<entry::Entity>().filter(entry::Column::TypeId.eq(api_id)).all(conn).await?;
        for mut row in rows {
            if let Value::Object(data) = &mut row.data {
                let before = data.len();
                data.retain(|k, _| ct.field(k).is_some());
                if data.len() != before {
                    self.update::<entry::Entity>()
                        .col_expr(entry::Column::Data, Expr::value(row.data.clone()))
                        .filter(entry::Column::Id.eq(row.id))
                        .exec(conn)
                        .await?;
                }
            }
            super::search::index_entry(conn, ct, &row, super::search::Indexed::Maybe).await?;
        }
        Ok(())
    }
}
