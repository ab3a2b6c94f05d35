//! Forms per tenant: applied from schema files, read by the public API.

use chrono::Utc;
use cit_core::Action;
use cit_core::forms::Form;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::StoredForm;
use crate::content::parse_definition;
use crate::entity::{form, form_version};
use crate::{StoreError, StoreResult, TenantStore};

fn parse_stored(m: form::Model) -> StoreResult<StoredForm> {
    let form = parse_definition("form", &m.form_id, &m.definition, Form::parse)?;
    Ok(StoredForm { form, version: m.version, updated_at: m.updated_at })
}

/// What applying forms did: the ids added, changed and (with prune) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormsReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl FormsReport {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl TenantStore<'_> {
    /// The tenant's forms, by id. Anybody may read them (they are what the public fills in).
    pub async fn forms(&self) -> StoreResult<Vec<StoredForm>> {
        self.require_any(&[Action::SubmitRequest, Action::ReadRequests, Action::ManageSchema])?;
        self.select::<form::Entity>()
            .order_by_asc(form::Column::FormId)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(parse_stored)
            .collect()
    }

    pub async fn form(&self, id: &str) -> StoreResult<Option<StoredForm>> {
        self.require_any(&[Action::SubmitRequest, Action::ReadRequests, Action::ManageSchema])?;
        self.select::<form::Entity>()
            .filter(form::Column::FormId.eq(id))
            .one(&self.store().read)
            .await?
            .map(parse_stored)
            .transpose()
    }

    /// Makes the tenant's forms match `desired`: new ones added, changed ones get a new version
    /// (the old definition is kept in `form_versions`, and old submissions keep naming the
    /// version they were sent with); forms not listed are removed only with `prune` (their
    /// submissions stay, for staff). `dry_run` reports without writing.
    pub async fn apply_forms(&self, desired: &[Form], prune: bool, dry_run: bool) -> StoreResult<FormsReport> {
        self.require_any(&[Action::ManageSchema])?;
        let txn = self.store().write.begin().await?;
        let current = self.select::<form::Entity>().all(&txn).await?;
        let mut report = FormsReport::default();
        let now = Utc::now();
        let actor = self.access().actor().to_owned();
        for f in desired {
            let definition =
                serde_json::to_value(f.def()).map_err(|e| StoreError::Corrupt(format!("form {}: {e}", f.id)))?;
            let existing = current.iter().find(|m| m.form_id == f.id.as_str());
            let version = match existing {
                Some(m) if m.definition == definition => continue,
                Some(m) => {
                    report.changed.push(f.id.to_string());
                    m.version + 1
                }
                None => {
                    report.added.push(f.id.to_string());
                    1
                }
            };
            if dry_run {
                continue;
            }
            let row = form::ActiveModel {
                tenant_id: Set(self.tenant().to_string()),
                form_id: Set(f.id.to_string()),
                version: Set(version),
                definition: Set(definition.clone()),
                created_at: Set(existing.map_or(now, |m| m.created_at)),
                updated_at: Set(now),
            };
            if existing.is_some() {
                self.update::<form::Entity>()
                    .filter(form::Column::FormId.eq(f.id.as_str()))
                    .set(row)
                    .exec(&txn)
                    .await?;
            } else {
                row.insert(&txn).await?;
            }
            form_version::ActiveModel {
                tenant_id: Set(self.tenant().to_string()),
                form_id: Set(f.id.to_string()),
                version: Set(version),
                definition: Set(definition),
                actor: Set(actor.clone()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            self.audit_on(&txn, "form.apply", ("form", f.id.as_str()), serde_json::json!({ "version": version }))
                .await?;
        }
        if prune {
            for m in &current {
                if desired.iter().any(|f| f.id.as_str() == m.form_id) {
                    continue;
                }
                report.removed.push(m.form_id.clone());
                if !dry_run {
                    self.delete::<form::Entity>()
                        .filter(form::Column::FormId.eq(m.form_id.as_str()))
                        .exec(&txn)
                        .await?;
                    self.audit_on(&txn, "form.remove", ("form", m.form_id.as_str()), serde_json::json!({})).await?;
                }
            }
        }
        if !dry_run {
            txn.commit().await?;
        }
        Ok(report)
    }
}
