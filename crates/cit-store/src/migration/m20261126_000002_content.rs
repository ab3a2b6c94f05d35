//! Content types (versioned), entries with their revisions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

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
                .col(string_len(ContentTypes::TenantId, 40))
                .col(string_len(ContentTypes::ApiId, 40))
                .col(integer(ContentTypes::Version))
                .col(json_binary(ContentTypes::Definition))
                .col(timestamp_with_time_zone(ContentTypes::CreatedAt))
                .col(timestamp_with_time_zone(ContentTypes::UpdatedAt))
                .primary_key(Index::create().col(ContentTypes::TenantId).col(ContentTypes::ApiId))
                .foreign_key(
                    ForeignKey::create()
                        .from(ContentTypes::Table, ContentTypes::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ContentTypeVersions::Table)
                .col(string_len(ContentTypeVersions::TenantId, 40))
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
                .foreign_key(
                    ForeignKey::create()
                        .from(ContentTypeVersions::Table, ContentTypeVersions::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Entries::Table)
                .col(uuid(Entries::Id).primary_key())
                .col(string_len(Entries::TenantId, 40))
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
                .foreign_key(
                    ForeignKey::create()
                        .from(Entries::Table, Entries::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_entries_slug")
                .table(Entries::Table)
                .col(Entries::TenantId)
                .col(Entries::TypeId)
                .col(Entries::Locale)
                .col(Entries::Slug)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_entries_list")
                .table(Entries::Table)
                .col(Entries::TenantId)
                .col(Entries::TypeId)
                .col(Entries::Status)
                .col(Entries::PublishedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_entries_translation")
                .table(Entries::Table)
                .col(Entries::TenantId)
                .col(Entries::TranslationGroup)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_entries_publish_at").table(Entries::Table).col(Entries::PublishAt).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_entries_unpublish_at").table(Entries::Table).col(Entries::UnpublishAt).to_owned(),
        )
        .await?;

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
                .foreign_key(
                    ForeignKey::create()
                        .from(EntryRevisions::Table, EntryRevisions::EntryId)
                        .to(Entries::Table, Entries::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_entry_revisions")
                .table(EntryRevisions::Table)
                .col(EntryRevisions::EntryId)
                .col(EntryRevisions::Revision)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            EntryRevisions::Table.into_iden(),
            Entries::Table.into_iden(),
            ContentTypeVersions::Table.into_iden(),
            ContentTypes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
