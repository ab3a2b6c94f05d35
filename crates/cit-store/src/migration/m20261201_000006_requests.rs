//! Requests from the territory: forms (versioned like content types), submissions, tickets with
//! their thread, and the outbox of e-mails written in the same transaction as their cause.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

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

fn tenant_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, col).to(Tenants::Table, Tenants::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Forms::Table)
                .col(string_len(Forms::TenantId, 40))
                .col(string_len(Forms::FormId, 40))
                .col(integer(Forms::Version))
                .col(json_binary(Forms::Definition))
                .col(timestamp_with_time_zone(Forms::CreatedAt))
                .col(timestamp_with_time_zone(Forms::UpdatedAt))
                .primary_key(Index::create().col(Forms::TenantId).col(Forms::FormId))
                .foreign_key(&mut tenant_fk(Forms::Table, Forms::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FormVersions::Table)
                .col(string_len(FormVersions::TenantId, 40))
                .col(string_len(FormVersions::FormId, 40))
                .col(integer(FormVersions::Version))
                .col(json_binary(FormVersions::Definition))
                .col(string_len(FormVersions::Actor, 64))
                .col(timestamp_with_time_zone(FormVersions::CreatedAt))
                .primary_key(Index::create().col(FormVersions::TenantId).col(FormVersions::FormId).col(FormVersions::Version))
                .foreign_key(&mut tenant_fk(FormVersions::Table, FormVersions::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Submissions::Table)
                .col(uuid(Submissions::Id).primary_key())
                .col(string_len(Submissions::TenantId, 40))
                .col(string_len(Submissions::FormId, 40))
                .col(integer(Submissions::FormVersion))
                .col(json_binary(Submissions::Data))
                .col(string_len_null(Submissions::ConsentVersion, 40))
                .col(string_len_null(Submissions::Servizio, 200))
                .col(string_len_null(Submissions::Ente, 200))
                .col(string_len_null(Submissions::Page, 500))
                .col(timestamp_with_time_zone(Submissions::CreatedAt))
                .col(timestamp_with_time_zone_null(Submissions::AnonymisedAt))
                .foreign_key(&mut tenant_fk(Submissions::Table, Submissions::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_submissions_tenant_form_created")
                .table(Submissions::Table)
                .col(Submissions::TenantId)
                .col(Submissions::FormId)
                .col(Submissions::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tickets::Table)
                .col(uuid(Tickets::Id).primary_key())
                .col(string_len(Tickets::TenantId, 40))
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
                .foreign_key(&mut tenant_fk(Tickets::Table, Tickets::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(Tickets::Table, Tickets::SubmissionId)
                        .to(Submissions::Table, Submissions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tickets_tenant_number")
                .table(Tickets::Table)
                .col(Tickets::TenantId)
                .col(Tickets::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_tickets_secret").table(Tickets::Table).col(Tickets::SecretHash).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketMessages::Table)
                .col(uuid(TicketMessages::Id).primary_key())
                .col(string_len(TicketMessages::TenantId, 40))
                .col(uuid(TicketMessages::TicketId))
                .col(string_len(TicketMessages::Author, 16))
                .col(string_len(TicketMessages::AuthorName, 200))
                .col(uuid_null(TicketMessages::AuthorUser))
                .col(text(TicketMessages::Body))
                .col(boolean(TicketMessages::Internal))
                .col(timestamp_with_time_zone(TicketMessages::CreatedAt))
                .foreign_key(&mut tenant_fk(TicketMessages::Table, TicketMessages::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(TicketMessages::Table, TicketMessages::TicketId)
                        .to(Tickets::Table, Tickets::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ticket_messages_ticket")
                .table(TicketMessages::Table)
                .col(TicketMessages::TicketId)
                .col(TicketMessages::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(uuid(Outbox::Id).primary_key())
                .col(string_len(Outbox::TenantId, 40))
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
                .foreign_key(&mut tenant_fk(Outbox::Table, Outbox::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_outbox_due").table(Outbox::Table).col(Outbox::SentAt).col(Outbox::DueAt).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            TicketMessages::Table.into_iden(),
            Tickets::Table.into_iden(),
            Submissions::Table.into_iden(),
            FormVersions::Table.into_iden(),
            Forms::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
