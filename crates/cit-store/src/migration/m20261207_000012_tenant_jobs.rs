//! Tenant jobs: the exports and imports asked for over the admin API, run in the background by
//! whichever node claims them (a lease, as the outbox), their status readable from every node.
//! A platform table: an import's tenant does not exist until the job has run, so `tenant` is a
//! plain column, not a key.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantJobs {
    Table,
    Id,
    Kind,
    Tenant,
    Status,
    Options,
    Rows,
    Result,
    Error,
    ArchiveSize,
    Attempts,
    RequestedBy,
    ClaimedBy,
    ClaimedUntil,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TenantJobs::Table)
                .col(uuid(TenantJobs::Id).primary_key())
                .col(string_len(TenantJobs::Kind, 20))
                .col(string_len(TenantJobs::Tenant, 40))
                .col(string_len(TenantJobs::Status, 20))
                .col(text(TenantJobs::Options))
                .col(big_integer(TenantJobs::Rows).default(0))
                .col(text_null(TenantJobs::Result))
                .col(text_null(TenantJobs::Error))
                .col(big_integer_null(TenantJobs::ArchiveSize))
                .col(integer(TenantJobs::Attempts).default(0))
                .col(string_len(TenantJobs::RequestedBy, 200))
                .col(string_len_null(TenantJobs::ClaimedBy, 100))
                .col(timestamp_with_time_zone_null(TenantJobs::ClaimedUntil))
                .col(timestamp_with_time_zone(TenantJobs::CreatedAt))
                .col(timestamp_with_time_zone_null(TenantJobs::StartedAt))
                .col(timestamp_with_time_zone_null(TenantJobs::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_tenant_jobs_status", TenantJobs::Table, [TenantJobs::Status, TenantJobs::CreatedAt]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, [TenantJobs::Table.into_iden()]).await
    }
}
