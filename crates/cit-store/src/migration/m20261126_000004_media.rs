//! The media library: one row per uploaded file; the bytes live in the media storage.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{drop_tables, index, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    TenantId,
    Filename,
    ContentType,
    Size,
    Sha256,
    Title,
    Alt,
    Credits,
    Licence,
    Width,
    Height,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(Media::Table, Media::Id, Media::TenantId)
                .col(string_len(Media::Filename, 255))
                .col(string_len(Media::ContentType, 128))
                .col(big_integer(Media::Size))
                .col(string_len(Media::Sha256, 64))
                .col(string_len(Media::Title, 255))
                .col(string_len_null(Media::Alt, 500))
                .col(string_len_null(Media::Credits, 255))
                .col(string_len_null(Media::Licence, 100))
                .col(integer_null(Media::Width))
                .col(integer_null(Media::Height))
                .col(string_len(Media::CreatedBy, 64))
                .col(timestamp_with_time_zone(Media::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_media_tenant_created", Media::Table, [Media::TenantId, Media::CreatedAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, [Media::Table.into_iden()]).await
    }
}
