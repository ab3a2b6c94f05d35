//! Requests from the territory: forms (versioned like content types), submissions, tickets with
//! their thread, and the outbox of e-mails written in the same transaction as their cause.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Forms {
    Table,
    TenantId,
    FormId,
    Version,
    Definition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormVersions {
    Table,
    TenantId,
    FormId,
    Version,
    Definition,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Submissions {
    Table,
    Id,
    TenantId,
    FormId,
    FormVersion,
    Data,
    ConsentVersion,
    Servizio,
    Ente,
    Page,
    CreatedAt,
    AnonymisedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    TenantId,
    Number,
    SubmissionId,
    Subject,
    State,
    Priority,
    Category,
    Ente,
    Assignee,
    RequesterName,
    RequesterEmail,
    SecretHash,
    FirstResponseDue,
    ResolutionDue,
    FirstResponseAt,
    ResolvedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketMessages {
    Table,
    Id,
    TenantId,
    TicketId,
    Author,
    AuthorName,
    AuthorUser,
    Body,
    Internal,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenantId,
    Kind,
    Recipient,
    Subject,
    Body,
    CreatedAt,
    DueAt,
    Attempts,
    ClaimedBy,
    ClaimedUntil,
    SentAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Forms::Table)
                .tenant_column(Forms::TenantId)
                .col(string_len(Forms::FormId, 40))
                .col(integer(Forms::Version))
                .col(json_binary(Forms::Definition))
                .col(timestamp_with_time_zone(Forms::CreatedAt))
                .col(timestamp_with_time_zone(Forms::UpdatedAt))
                .primary_key(Index::create().col(Forms::TenantId).col(Forms::FormId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FormVersions::Table)
                .tenant_column(FormVersions::TenantId)
                .col(string_len(FormVersions::FormId, 40))
                .col(integer(FormVersions::Version))
                .col(json_binary(FormVersions::Definition))
                .col(string_len(FormVersions::Actor, 64))
                .col(timestamp_with_time_zone(FormVersions::CreatedAt))
                .primary_key(
                    Index::create().col(FormVersions::TenantId).col(FormVersions::FormId).col(FormVersions::Version),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            tenant_table(Submissions::Table, Submissions::Id, Submissions::TenantId)
                .col(string_len(Submissions::FormId, 40))
                .col(integer(Submissions::FormVersion))
                .col(json_binary(Submissions::Data))
                .col(string_len_null(Submissions::ConsentVersion, 40))
                .col(string_len_null(Submissions::Servizio, 200))
                .col(string_len_null(Submissions::Ente, 200))
                .col(string_len_null(Submissions::Page, 500))
                .col(timestamp_with_time_zone(Submissions::CreatedAt))
                .col(timestamp_with_time_zone_null(Submissions::AnonymisedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_submissions_tenant_form_created",
            Submissions::Table,
            [Submissions::TenantId, Submissions::FormId, Submissions::CreatedAt],
        ))
        .await?;
        m.create_table(
            tenant_table(Tickets::Table, Tickets::Id, Tickets::TenantId)
                .col(big_integer(Tickets::Number))
                .col(uuid(Tickets::SubmissionId))
                .col(string_len(Tickets::Subject, 200))
                .col(string_len(Tickets::State, 16))
                .col(string_len(Tickets::Priority, 16))
                .col(string_len_null(Tickets::Category, 200))
                .col(string_len_null(Tickets::Ente, 200))
                .col(uuid_null(Tickets::Assignee))
                .col(string_len(Tickets::RequesterName, 200))
                .col(string_len_null(Tickets::RequesterEmail, 320))
                .col(string_len(Tickets::SecretHash, 64))
                .col(timestamp_with_time_zone(Tickets::FirstResponseDue))
                .col(timestamp_with_time_zone(Tickets::ResolutionDue))
                .col(timestamp_with_time_zone_null(Tickets::FirstResponseAt))
                .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                .col(timestamp_with_time_zone_null(Tickets::ClosedAt))
                .col(timestamp_with_time_zone(Tickets::CreatedAt))
                .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                .belongs_to(Tickets::SubmissionId, Submissions::Table, Submissions::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("idx_tickets_tenant_number", Tickets::Table, [Tickets::TenantId, Tickets::Number]))
            .await?;
        m.create_index(unique_index("idx_tickets_secret", Tickets::Table, [Tickets::SecretHash])).await?;
        m.create_table(
            tenant_table(TicketMessages::Table, TicketMessages::Id, TicketMessages::TenantId)
                .col(uuid(TicketMessages::TicketId))
                .col(string_len(TicketMessages::Author, 16))
                .col(string_len(TicketMessages::AuthorName, 200))
                .col(uuid_null(TicketMessages::AuthorUser))
                .col(text(TicketMessages::Body))
                .col(boolean(TicketMessages::Internal))
                .col(timestamp_with_time_zone(TicketMessages::CreatedAt))
                .belongs_to(TicketMessages::TicketId, Tickets::Table, Tickets::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_ticket_messages_ticket",
            TicketMessages::Table,
            [TicketMessages::TicketId, TicketMessages::CreatedAt],
        ))
        .await?;
        m.create_table(
            tenant_table(Outbox::Table, Outbox::Id, Outbox::TenantId)
                .col(string_len(Outbox::Kind, 40))
                .col(string_len(Outbox::Recipient, 320))
                .col(string_len(Outbox::Subject, 300))
                .col(text(Outbox::Body))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::DueAt))
                .col(integer(Outbox::Attempts))
                .col(string_len_null(Outbox::ClaimedBy, 64))
                .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .col(text_null(Outbox::LastError))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_outbox_due", Outbox::Table, [Outbox::SentAt, Outbox::DueAt])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [
                Outbox::Table.into_iden(),
                TicketMessages::Table.into_iden(),
                Tickets::Table.into_iden(),
                Submissions::Table.into_iden(),
                FormVersions::Table.into_iden(),
                Forms::Table.into_iden(),
            ],
        )
        .await
    }
}
