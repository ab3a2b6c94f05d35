//! Tenants, users, memberships, sessions with rotating refresh tokens, API tokens and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

use super::ddl::{TableDdl, drop_tables, index, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    Domains,
    Locales,
    PublicRead,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    PlatformAdmin,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    TenantId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    TokenHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    ObjectType,
    ObjectId,
    Details,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(string_len(Tenants::Id, 40).primary_key())
                .col(string_len(Tenants::Name, 200))
                .col(json(Tenants::Domains))
                .col(json(Tenants::Locales))
                .col(boolean(Tenants::PublicRead).default(true))
                .col(timestamp_with_time_zone_null(Tenants::DisabledAt))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string_len_uniq(Users::Email, 254))
                .col(string_len(Users::Name, 200))
                .col(string(Users::PasswordHash))
                .col(boolean(Users::PlatformAdmin).default(false))
                .col(timestamp_with_time_zone_null(Users::DisabledAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .tenant_column(Memberships::TenantId)
                .col(uuid(Memberships::UserId))
                .col(string_len(Memberships::Role, 16))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .primary_key(Index::create().col(Memberships::TenantId).col(Memberships::UserId))
                .belongs_to(Memberships::UserId, Users::Table, Users::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_memberships_user", Memberships::Table, [Memberships::UserId])).await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(uuid(Sessions::Id).primary_key())
                .col(uuid(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                .col(string_len_null(Sessions::RevokedReason, 32))
                .belongs_to(Sessions::UserId, Users::Table, Users::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_sessions_user", Sessions::Table, [Sessions::UserId])).await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::SessionId))
                .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .belongs_to(RefreshTokens::SessionId, Sessions::Table, Sessions::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_refresh_tokens_session", RefreshTokens::Table, [RefreshTokens::SessionId])).await?;

        m.create_table(
            tenant_table(ApiTokens::Table, ApiTokens::Id, ApiTokens::TenantId)
                .col(string_len(ApiTokens::Name, 200))
                .col(string_len(ApiTokens::Prefix, 16))
                .col(string_len_uniq(ApiTokens::TokenHash, 64))
                .col(string_len(ApiTokens::Scopes, 64))
                .col(string_len(ApiTokens::CreatedBy, 64))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_api_tokens_tenant", ApiTokens::Table, [ApiTokens::TenantId])).await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(uuid(AuditLog::Id).primary_key())
                .col(string_len_null(AuditLog::TenantId, 40))
                .col(string_len(AuditLog::Actor, 64))
                .col(string_len(AuditLog::Action, 64))
                .col(string_len(AuditLog::ObjectType, 32))
                .col(string_len(AuditLog::ObjectId, 128))
                .col(json(AuditLog::Details))
                .col(timestamp_with_time_zone(AuditLog::At))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_audit_log_tenant_at", AuditLog::Table, [AuditLog::TenantId, AuditLog::At])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            [
                AuditLog::Table.into_iden(),
                ApiTokens::Table.into_iden(),
                RefreshTokens::Table.into_iden(),
                Sessions::Table.into_iden(),
                Memberships::Table.into_iden(),
                Users::Table.into_iden(),
                Tenants::Table.into_iden(),
            ],
        )
        .await
    }
}
