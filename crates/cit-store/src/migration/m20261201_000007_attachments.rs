//! Attachments of submissions: what a sender attached to a form (name as given, type as
//! recognised from the bytes, size and SHA-256). The bytes live privately under the data
//! directory, never under the public media folder; a row exists only once its bytes do.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Submissions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SubmissionAttachments {
    Table,
    Id,
    TenantId,
    SubmissionId,
    Filename,
    ContentType,
    Size,
    Sha256,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(SubmissionAttachments::Table, SubmissionAttachments::Id, SubmissionAttachments::TenantId)
                .col(uuid(SubmissionAttachments::SubmissionId))
                .col(string_len(SubmissionAttachments::Filename, 200))
                .col(string_len(SubmissionAttachments::ContentType, 100))
                .col(big_integer(SubmissionAttachments::Size))
                .col(string_len(SubmissionAttachments::Sha256, 64))
                .col(timestamp_with_time_zone(SubmissionAttachments::CreatedAt))
                .belongs_to(SubmissionAttachments::SubmissionId, Submissions::Table, Submissions::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "idx_submission_attachments_submission",
                SubmissionAttachments::Table,
                [SubmissionAttachments::TenantId, SubmissionAttachments::SubmissionId],
            )
            .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, [SubmissionAttachments::Table.into_iden()]).await
    }
}
