//! Surveys: their definitions (checked JSON, see `cit_core::surveys`), the invitations that give
//! each member body its own link (the link's secret is derived from the invitation's id; only
//! its hash is kept, for the lookup) and the answers: a draft until it is sent, one per
//! invitation.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{drop_tables, index, tenant_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Id,
    TenantId,
    Slug,
    Definition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SurveyInvitations {
    Table,
    Id,
    TenantId,
    SurveyId,
    EnteId,
    SecretHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SurveyResponses {
    Table,
    Id,
    TenantId,
    SurveyId,
    InvitationId,
    Answers,
    Status,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table(Surveys::Table, Surveys::Id, Surveys::TenantId)
                .col(string_len(Surveys::Slug, 100))
                .col(text(Surveys::Definition))
                .col(timestamp_with_time_zone(Surveys::CreatedAt))
                .col(timestamp_with_time_zone(Surveys::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index("idx_surveys_slug", Surveys::Table, [Surveys::TenantId, Surveys::Slug])).await?;
        m.create_table(
            tenant_table(SurveyInvitations::Table, SurveyInvitations::Id, SurveyInvitations::TenantId)
                .col(uuid(SurveyInvitations::SurveyId))
                .col(uuid(SurveyInvitations::EnteId))
                .col(string_len(SurveyInvitations::SecretHash, 64))
                .col(timestamp_with_time_zone(SurveyInvitations::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SurveyInvitations::Table, SurveyInvitations::SurveyId)
                        .to(Surveys::Table, Surveys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "idx_survey_invitations_ente",
            SurveyInvitations::Table,
            [SurveyInvitations::TenantId, SurveyInvitations::SurveyId, SurveyInvitations::EnteId],
        ))
        .await?;
        m.create_index(unique_index(
            "idx_survey_invitations_secret",
            SurveyInvitations::Table,
            [SurveyInvitations::TenantId, SurveyInvitations::SecretHash],
        ))
        .await?;
        m.create_table(
            tenant_table(SurveyResponses::Table, SurveyResponses::Id, SurveyResponses::TenantId)
                .col(uuid(SurveyResponses::SurveyId))
                .col(uuid_null(SurveyResponses::InvitationId))
                .col(text(SurveyResponses::Answers))
                .col(string_len(SurveyResponses::Status, 8))
                .col(timestamp_with_time_zone(SurveyResponses::CreatedAt))
                .col(timestamp_with_time_zone(SurveyResponses::UpdatedAt))
                .col(timestamp_with_time_zone_null(SurveyResponses::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SurveyResponses::Table, SurveyResponses::SurveyId)
                        .to(Surveys::Table, Surveys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One answer per invitation: two tabs sending at once cannot make two.
        m.create_index(unique_index(
            "idx_survey_responses_invitation",
            SurveyResponses::Table,
            [SurveyResponses::TenantId, SurveyResponses::InvitationId],
        ))
        .await?;
        m.create_index(index(
            "idx_survey_responses_survey",
            SurveyResponses::Table,
            [SurveyResponses::TenantId, SurveyResponses::SurveyId, SurveyResponses::Status],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [SurveyResponses::Table.into_iden(), SurveyInvitations::Table.into_iden(), Surveys::Table.into_iden()],
        )
        .await
    }
}
