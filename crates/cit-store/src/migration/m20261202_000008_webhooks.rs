//! Webhooks: a tenant's subscriptions (target, events, secret), the deliveries written in the
//! same transaction as the change that causes them (one per event and subscription, claimed by
//! one node at a time), and the log of every attempt.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    TenantId,
    Url,
    Description,
    Events,
    Secret,
    Enabled,
    DisabledReason,
    ConsecutiveFailures,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    WebhookId,
    Event,
    Payload,
    CreatedAt,
    DueAt,
    Attempts,
    ClaimedBy,
    ClaimedUntil,
    DeliveredAt,
    FailedAt,
    LastStatus,
    LastError,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    TenantId,
    DeliveryId,
    Attempt,
    At,
    StatusCode,
    Error,
    DurationMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(Webhooks::Table, Webhooks::Id, Webhooks::TenantId)
                .col(string_len(Webhooks::Url, 2000))
                .col(string_len(Webhooks::Description, 200))
                .col(json_binary(Webhooks::Events))
                .col(string_len(Webhooks::Secret, 100))
                .col(boolean(Webhooks::Enabled))
                .col(text_null(Webhooks::DisabledReason))
                .col(integer(Webhooks::ConsecutiveFailures))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_webhooks_tenant", Webhooks::Table, [Webhooks::TenantId, Webhooks::CreatedAt]))
            .await?;
        m.create_table(
            tenant_table(WebhookDeliveries::Table, WebhookDeliveries::Id, WebhookDeliveries::TenantId)
                .col(uuid(WebhookDeliveries::WebhookId))
                .col(string_len(WebhookDeliveries::Event, 40))
                .col(text(WebhookDeliveries::Payload))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDeliveries::DueAt))
                .col(integer(WebhookDeliveries::Attempts))
                .col(string_len_null(WebhookDeliveries::ClaimedBy, 64))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::ClaimedUntil))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::FailedAt))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(text_null(WebhookDeliveries::LastError))
                .belongs_to(WebhookDeliveries::WebhookId, Webhooks::Table, Webhooks::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_webhook_deliveries_due",
            WebhookDeliveries::Table,
            [WebhookDeliveries::DeliveredAt, WebhookDeliveries::FailedAt, WebhookDeliveries::DueAt],
        ))
        .await?;
        m.create_index(index(
            "idx_webhook_deliveries_webhook",
            WebhookDeliveries::Table,
            [WebhookDeliveries::TenantId, WebhookDeliveries::WebhookId, WebhookDeliveries::CreatedAt],
        ))
        .await?;
        m.create_table(
            tenant_table(WebhookAttempts::Table, WebhookAttempts::Id, WebhookAttempts::TenantId)
                .col(uuid(WebhookAttempts::DeliveryId))
                .col(integer(WebhookAttempts::Attempt))
                .col(timestamp_with_time_zone(WebhookAttempts::At))
                .col(integer_null(WebhookAttempts::StatusCode))
                .col(text_null(WebhookAttempts::Error))
                .col(big_integer(WebhookAttempts::DurationMs))
                .belongs_to(WebhookAttempts::DeliveryId, WebhookDeliveries::Table, WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_webhook_attempts_delivery",
            WebhookAttempts::Table,
            [WebhookAttempts::DeliveryId, WebhookAttempts::Attempt],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [WebhookAttempts::Table.into_iden(), WebhookDeliveries::Table.into_iden(), Webhooks::Table.into_iden()],
        )
        .await
    }
}
