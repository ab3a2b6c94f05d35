//! Attachments of submissions: the catalogue (name, recognised type, size, SHA-256). The bytes
//! are the API's to keep, privately; a row is written in the submission's own transaction, so
//! a refused or failed submission leaves no row.

use chrono::{DateTime, Utc};
use cit_core::Action;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, QueryFilter, QueryOrder};

use crate::entity::submission_attachment;
use crate::{StoreError, StoreResult, TenantStore};

/// A file that passed the form's checks and whose bytes are already stored under `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub id: uuid::Uuid,
    /// The name as the sender gave it, cleaned of paths and control characters.
    pub filename: String,
    /// Recognised from the bytes.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: uuid::Uuid,
    pub submission: uuid::Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<submission_attachment::Model> for Attachment {
    fn from(m: submission_attachment::Model) -> Self {
        Self {
            id: m.id,
            submission: m.submission_id,
            filename: m.filename,
            content_type: m.content_type,
            size: m.size,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

impl TenantStore<'_> {
    /// Catalogues the attachments of a submission being written in `txn`.
    pub(super) async fn add_attachments(
        &self,
        txn: &DatabaseTransaction,
        submission: uuid::Uuid,
        files: &[NewAttachment],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        for f in files {
            let row = submission_attachment::ActiveModel {
                id: Set(f.id),
                submission_id: Set(submission),
                filename: Set(f.filename.chars().take(200).collect()),
                content_type: Set(f.content_type.clone()),
                size: Set(f.size),
                sha256: Set(f.sha256.clone()),
                created_at: Set(at),
                ..Default::default()
            };
            self.insert(txn, row).await?;
        }
        Ok(())
    }

    /// The attachments of one submission, in the order they were sent (staff only).
    pub async fn attachments(&self, submission: uuid::Uuid) -> StoreResult<Vec<Attachment>> {
        self.require_any(&[Action::ReadRequests])?;
        Ok(self
            .select::<submission_attachment::Entity>()
            .filter(submission_attachment::Column::SubmissionId.eq(submission))
            .order_by_asc(submission_attachment::Column::Id)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(Attachment::from)
            .collect())
    }

    /// One attachment of one submission (staff only); another submission's is "not found".
    pub async fn attachment(&self, submission: uuid::Uuid, id: uuid::Uuid) -> StoreResult<Attachment> {
        self.require_any(&[Action::ReadRequests])?;
        self.select::<submission_attachment::Entity>()
            .filter(submission_attachment::Column::SubmissionId.eq(submission))
            .filter(submission_attachment::Column::Id.eq(id))
            .one(&self.store().read)
            .await?
            .map(Attachment::from)
            .ok_or(StoreError::NotFound("attachment"))
    }

    /// How many attachments the tenant holds: for tests and metrics.
    pub async fn count_attachments(&self) -> StoreResult<u64> {
        use sea_orm::PaginatorTrait;
        self.require_any(&[Action::ReadRequests])?;
        Ok(self.select::<submission_attachment::Entity>().count(&self.store().read).await?)
    }

    /// Deletes the rows of the attachments of `submissions` in `txn`; returns the submissions
    /// that had any, whose bytes the caller removes once the transaction is committed.
    pub(super) async fn drop_attachments(
        &self,
        txn: &DatabaseTransaction,
        submissions: &[uuid::Uuid],
    ) -> StoreResult<Vec<uuid::Uuid>> {
        use sea_orm::QuerySelect;
        let mut had: Vec<uuid::Uuid> = self
            .select::<submission_attachment::Entity>()
            .filter(submission_attachment::Column::SubmissionId.is_in(submissions.iter().copied()))
            .select_only()
            .column(submission_attachment::Column::SubmissionId)
            .into_tuple()
            .all(txn)
            .await?;
        had.sort_unstable();
        had.dedup();
        if !had.is_empty() {
            self.delete::<submission_attachment::Entity>()
                .filter(submission_attachment::Column::SubmissionId.is_in(had.iter().copied()))
                .exec(txn)
                .await?;
        }
        Ok(had)
    }
}
