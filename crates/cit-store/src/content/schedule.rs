//! The scheduler's one step: publish what is due, unpublish what has expired. Each flip is a
//! conditional update, so an entry is published once however many nodes or ticks run.

use chrono::{DateTime, Utc};
use cit_core::{PlatformAccess, PlatformAction};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;

use crate::entity::{entry, entry_revision};
use crate::platform::audit;
use crate::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleReport {
    /// (tenant, type, entry id) published in this step.
    pub published: Vec<(String, String, uuid::Uuid)>,
    pub unpublished: Vec<(String, String, uuid::Uuid)>,
}

impl Store {
    pub async fn run_schedule(&self, access: &PlatformAccess, now: DateTime<Utc>) -> StoreResult<ScheduleReport> {
        if access.action() != PlatformAction::RunScheduler {
            return Err(StoreError::WrongCapability);
        }
        let mut report = ScheduleReport::default();
        let due: Vec<entry::Model> = entry::Entity::find()
            .filter(entry::Column::Status.eq("draft"))
            .filter(entry::Column::PublishAt.lte(now))
            .limit(500)
            .all(&self.read)
            .await?;
        for e in due {
            if self.flip(&e, "draft", "published", now, access).await? {
                report.published.push((e.tenant_id, e.type_id, e.id));
            }
        }
        let expired: Vec<entry::Model> = entry::Entity::find()
            .filter(entry::Column::Status.eq("published"))
            .filter(entry::Column::UnpublishAt.lte(now))
            .limit(500)
            .all(&self.read)
            .await?;
        for e in expired {
            if self.flip(&e, "published", "archived", now, access).await? {
                report.unpublished.push((e.tenant_id, e.type_id, e.id));
            }
        }
        Ok(report)
    }

    async fn flip(
        &self,
        e: &entry::Model,
        from: &str,
        to: &str,
        now: DateTime<Utc>,
        access: &PlatformAccess,
    ) -> StoreResult<bool> {
        let txn = self.write.begin().await?;
        let mut update = entry::Entity::update_many()
            .col_expr(entry::Column::Status, Expr::value(to))
            .col_expr(entry::Column::Revision, Expr::col(entry::Column::Revision).add(1))
            .col_expr(entry::Column::UpdatedAt, Expr::value(now))
            .filter(entry::Column::Id.eq(e.id))
            .filter(entry::Column::Status.eq(from));
        if to == "published" {
            let at = e.publish_at.unwrap_or(now);
            update = update
                .col_expr(entry::Column::PublishedAt, Expr::value(at))
                .col_expr(entry::Column::PublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::PublishAt.lte(now));
        } else {
            update = update
                .col_expr(entry::Column::UnpublishAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(entry::Column::UnpublishAt.lte(now));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Ok(false);
        }
        let after = entry::Entity::find_by_id(e.id).one(&txn).await?.ok_or(StoreError::NotFound("entry"))?;
        super::search::set_status(&txn, after.id, &after.status).await?;
        let note = if to == "published" { "scheduled_publish" } else { "scheduled_unpublish" };
        entry_revision::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            entry_id: Set(after.id),
            tenant_id: Set(after.tenant_id.clone()),
            revision: Set(after.revision),
            slug: Set(after.slug.clone()),
            status: Set(after.status.clone()),
            data: Set(after.data.clone()),
            author: Set(access.actor().to_owned()),
            note: Set(note.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit(
            &txn,
            Some(&after.tenant_id),
            access.actor(),
            &format!("entry.{note}"),
            ("entry", &after.id.to_string()),
            json!({"type": after.type_id}),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}
