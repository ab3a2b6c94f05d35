//! The newsletter: lists per tenant, their subscribers (pending until they confirm the link of
//! the double opt-in, with the consent's time and notice version) and campaigns. A campaign's
//! messages are rows of the e-mail outbox, one per subscriber (dedupe `campaign:{id}:{sub}`),
//! due one after another at the campaign's pace: that is its throttle, its resumption after a
//! restart and its counts.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{drop_tables, tenant_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NewsletterLists {
    Table,
    Id,
    TenantId,
    Slug,
    Title,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NewsletterSubscribers {
    Table,
    Id,
    TenantId,
    ListId,
    Email,
    Status,
    ConsentVersion,
    ConsentAt,
    CreatedAt,
    ConfirmedAt,
    UnsubscribedAt,
}

#[derive(DeriveIden)]
enum NewsletterCampaigns {
    Table,
    Id,
    TenantId,
    ListId,
    Subject,
    Body,
    Status,
    Recipients,
    CreatedBy,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(NewsletterLists::Table, NewsletterLists::Id, NewsletterLists::TenantId)
                .col(string_len(NewsletterLists::Slug, 100))
                .col(string_len(NewsletterLists::Title, 200))
                .col(text(NewsletterLists::Description))
                .col(timestamp_with_time_zone(NewsletterLists::CreatedAt))
                .col(timestamp_with_time_zone(NewsletterLists::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "idx_newsletter_lists_slug",
            NewsletterLists::Table,
            [NewsletterLists::TenantId, NewsletterLists::Slug],
        ))
        .await?;
        m.create_table(
            tenant_table(NewsletterSubscribers::Table, NewsletterSubscribers::Id, NewsletterSubscribers::TenantId)
                .col(uuid(NewsletterSubscribers::ListId))
                .col(string_len(NewsletterSubscribers::Email, 320))
                .col(string_len(NewsletterSubscribers::Status, 14))
                .col(string_len_null(NewsletterSubscribers::ConsentVersion, 40))
                .col(timestamp_with_time_zone_null(NewsletterSubscribers::ConsentAt))
                .col(timestamp_with_time_zone(NewsletterSubscribers::CreatedAt))
                .col(timestamp_with_time_zone_null(NewsletterSubscribers::ConfirmedAt))
                .col(timestamp_with_time_zone_null(NewsletterSubscribers::UnsubscribedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NewsletterSubscribers::Table, NewsletterSubscribers::ListId)
                        .to(NewsletterLists::Table, NewsletterLists::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "idx_newsletter_subscribers_email",
            NewsletterSubscribers::Table,
            [NewsletterSubscribers::TenantId, NewsletterSubscribers::ListId, NewsletterSubscribers::Email],
        ))
        .await?;
        m.create_table(
            tenant_table(NewsletterCampaigns::Table, NewsletterCampaigns::Id, NewsletterCampaigns::TenantId)
                .col(uuid(NewsletterCampaigns::ListId))
                .col(string_len(NewsletterCampaigns::Subject, 300))
                .col(text(NewsletterCampaigns::Body))
                .col(string_len(NewsletterCampaigns::Status, 12))
                .col(integer(NewsletterCampaigns::Recipients))
                .col(string_len(NewsletterCampaigns::CreatedBy, 200))
                .col(timestamp_with_time_zone(NewsletterCampaigns::CreatedAt))
                .col(timestamp_with_time_zone_null(NewsletterCampaigns::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NewsletterCampaigns::Table, NewsletterCampaigns::ListId)
                        .to(NewsletterLists::Table, NewsletterLists::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [
                NewsletterCampaigns::Table.into_iden(),
                NewsletterSubscribers::Table.into_iden(),
                NewsletterLists::Table.into_iden(),
            ],
        )
        .await
    }
}
