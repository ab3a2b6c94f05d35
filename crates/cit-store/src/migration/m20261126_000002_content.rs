//! Content types (versioned), entries with their revisions.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentTypes {
    Table,
    TenantId,
    ApiId,
    Version,
    Definition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContentTypeVersions {
    Table,
    TenantId,
    ApiId,
    Version,
    Definition,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Entries {
    Table,
    Id,
    TenantId,
    TypeId,
    Locale,
    TranslationGroup,
    Slug,
    Status,
    Data,
    PublishAt,
    UnpublishAt,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
    Author,
    Revision,
}

#[derive(DeriveIden)]
enum EntryRevisions {
    Table,
    Id,
    EntryId,
    TenantId,
    Revision,
    Slug,
    Status,
    Data,
    Author,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ContentTypes::Table)
                .tenant_column(ContentTypes::TenantId)
                .col(string_len(ContentTypes::ApiId, 40))
                .col(integer(ContentTypes::Version))
                .col(json_binary(ContentTypes::Definition))
                .col(timestamp_with_time_zone(ContentTypes::CreatedAt))
                .col(timestamp_with_time_zone(ContentTypes::UpdatedAt))
                .primary_key(Index::create().col(ContentTypes::TenantId).col(ContentTypes::ApiId))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ContentTypeVersions::Table)
                .tenant_column(ContentTypeVersions::TenantId)
                .col(string_len(ContentTypeVersions::ApiId, 40))
                .col(integer(ContentTypeVersions::Version))
                .col(json_binary_null(ContentTypeVersions::Definition))
                .col(string_len(ContentTypeVersions::Actor, 64))
                .col(timestamp_with_time_zone(ContentTypeVersions::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(ContentTypeVersions::TenantId)
                        .col(ContentTypeVersions::ApiId)
                        .col(ContentTypeVersions::Version),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            tenant_table(Entries::Table, Entries::Id, Entries::TenantId)
                .col(string_len(Entries::TypeId, 40))
                .col(string_len(Entries::Locale, 16))
                .col(uuid(Entries::TranslationGroup))
                .col(string_len(Entries::Slug, 200))
                .col(string_len(Entries::Status, 16))
                .col(json_binary(Entries::Data))
                .col(timestamp_with_time_zone_null(Entries::PublishAt))
                .col(timestamp_with_time_zone_null(Entries::UnpublishAt))
                .col(timestamp_with_time_zone_null(Entries::PublishedAt))
                .col(timestamp_with_time_zone(Entries::CreatedAt))
                .col(timestamp_with_time_zone(Entries::UpdatedAt))
                .col(string_len(Entries::Author, 64))
                .col(integer(Entries::Revision))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "uq_entries_slug",
            Entries::Table,
            [Entries::TenantId, Entries::TypeId, Entries::Locale, Entries::Slug],
        ))
        .await?;
        m.create_index(index(
            "idx_entries_list",
            Entries::Table,
            [Entries::TenantId, Entries::TypeId, Entries::Status, Entries::PublishedAt],
        ))
        .await?;
        m.create_index(index(
            "idx_entries_translation",
            Entries::Table,
            [Entries::TenantId, Entries::TranslationGroup],
        ))
        .await?;
        m.create_index(index("idx_entries_publish_at", Entries::Table, [Entries::PublishAt])).await?;
        m.create_index(index("idx_entries_unpublish_at", Entries::Table, [Entries::UnpublishAt])).await?;

        m.create_table(
            Table::create()
                .table(EntryRevisions::Table)
                .col(uuid(EntryRevisions::Id).primary_key())
                .col(uuid(EntryRevisions::EntryId))
                .col(string_len(EntryRevisions::TenantId, 40))
                .col(integer(EntryRevisions::Revision))
                .col(string_len(EntryRevisions::Slug, 200))
                .col(string_len(EntryRevisions::Status, 16))
                .col(json_binary(EntryRevisions::Data))
                .col(string_len(EntryRevisions::Author, 64))
                .col(string_len(EntryRevisions::Note, 64))
                .col(timestamp_with_time_zone(EntryRevisions::CreatedAt))
                .belongs_to(EntryRevisions::EntryId, Entries::Table, Entries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "uq_entry_revisions",
            EntryRevisions::Table,
            [EntryRevisions::EntryId, EntryRevisions::Revision],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [
                EntryRevisions::Table.into_iden(),
                Entries::Table.into_iden(),
                ContentTypeVersions::Table.into_iden(),
                ContentTypes::Table.into_iden(),
            ],
        )
        .await
    }
}
