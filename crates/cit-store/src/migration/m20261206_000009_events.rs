//! Event registration: who registered for an `evento` entry, with a numbered place while
//! confirmed (the unique place is what keeps two registrations racing for the last seat from
//! both getting it) or on the waiting list in order of arrival. The outbox learns attachments
//! (the `.ics` of a confirmation), extra headers and a de-duplication key (one reminder per
//! registration, one invitation per body and event).

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Entries {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EventRegistrations {
    Table,
    Id,
    TenantId,
    EntryId,
    Name,
    Email,
    Ente,
    Status,
    Place,
    SecretHash,
    ConsentVersion,
    CreatedAt,
    UpdatedAt,
    CancelledAt,
    PromotedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    TenantId,
    Attachments,
    Headers,
    Dedupe,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(EventRegistrations::Table, EventRegistrations::Id, EventRegistrations::TenantId)
                .col(uuid(EventRegistrations::EntryId))
                .col(string_len(EventRegistrations::Name, 200))
                .col(string_len(EventRegistrations::Email, 320))
                .col(string_len_null(EventRegistrations::Ente, 200))
                .col(string_len(EventRegistrations::Status, 12))
                .col(integer_null(EventRegistrations::Place))
                .col(string_len(EventRegistrations::SecretHash, 64))
                .col(string_len_null(EventRegistrations::ConsentVersion, 40))
                .col(timestamp_with_time_zone(EventRegistrations::CreatedAt))
                .col(timestamp_with_time_zone(EventRegistrations::UpdatedAt))
                .col(timestamp_with_time_zone_null(EventRegistrations::CancelledAt))
                .col(timestamp_with_time_zone_null(EventRegistrations::PromotedAt))
                .belongs_to(EventRegistrations::EntryId, Entries::Table, Entries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "idx_event_registrations_place",
            EventRegistrations::Table,
            [EventRegistrations::TenantId, EventRegistrations::EntryId, EventRegistrations::Place],
        ))
        .await?;
        m.create_index(unique_index(
            "idx_event_registrations_email",
            EventRegistrations::Table,
            [EventRegistrations::TenantId, EventRegistrations::EntryId, EventRegistrations::Email],
        ))
        .await?;
        m.create_index(index(
            "idx_event_registrations_secret",
            EventRegistrations::Table,
            [EventRegistrations::TenantId, EventRegistrations::SecretHash],
        ))
        .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [text_null(Outbox::Attachments), text_null(Outbox::Headers), string_len_null(Outbox::Dedupe, 200)]
        {
            let mut column = column;
            m.alter_table(Table::alter().table(Outbox::Table).add_column(&mut column).to_owned()).await?;
        }
        m.create_index(unique_index("idx_outbox_dedupe", Outbox::Table, [Outbox::TenantId, Outbox::Dedupe])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_outbox_dedupe").table(Outbox::Table).to_owned()).await?;
        for column in [Outbox::Attachments, Outbox::Headers, Outbox::Dedupe] {
            m.alter_table(Table::alter().table(Outbox::Table).drop_column(column).to_owned()).await?;
        }
        drop_tables(m, [EventRegistrations::Table.into_iden()]).await
    }
}
