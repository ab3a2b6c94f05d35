//! The scheduler's one step: publish what is due, unpublish what has expired. Each flip is a
//! conditional update, so an entry is published once however many nodes or ticks run. The
//! queries are cross-tenant and live in [`crate::cross_tenant`], behind the scheduler's
//! platform capability.

use chrono::{DateTime, Utc};
use cit_core::{PlatformAccess, PlatformAction};

use crate::entity::entry;
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
        for e in self.due_entries(access, "draft", entry::Column::PublishAt, now).await? {
            if self.flip(access, &e, "draft", "published", now).await? {
                report.published.push((e.tenant_id, e.type_id, e.id));
            }
        }
        for e in self.due_entries(access, "published", entry::Column::UnpublishAt, now).await? {
            if self.flip(access, &e, "published", "archived", now).await? {
                report.unpublished.push((e.tenant_id, e.type_id, e.id));
            }
        }
        Ok(report)
    }
}
