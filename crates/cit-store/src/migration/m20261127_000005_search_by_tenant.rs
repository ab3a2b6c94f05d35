//! SQLite: the full-text index also holds each document's tenant, so that a search narrows to
//! the tenant inside FTS5 before ranking. Without it every search ranked the matches of every
//! tenant and threw the others' away: five times the work with the five demo partners, a hundred
//! times with a hundred. PostgreSQL already narrows with `idx_search_scope` beside the GIN index;
//! nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use super::ddl::execute;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The FTS5 index and its triggers, whichever version is in place.
const DROP_FTS: &[&str] = &[
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TABLE IF EXISTS search_fts",
];

/// The FTS5 index with the tenant of each document, and the triggers that keep it.
const FTS_BY_TENANT: &[&str] = &[
    "CREATE VIRTUAL TABLE search_fts USING fts5(tenant_id, title_stems, body_stems, content='search_documents', content_rowid='doc_id')",
    r#"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO search_fts(rowid, tenant_id, title_stems, body_stems) VALUES (new.doc_id, new.tenant_id, new.title_stems, new.body_stems);
    END"#,
    r#"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, tenant_id, title_stems, body_stems) VALUES ('delete', old.doc_id, old.tenant_id, old.title_stems, old.body_stems);
    END"#,
    r#"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, tenant_id, title_stems, body_stems) VALUES ('delete', old.doc_id, old.tenant_id, old.title_stems, old.body_stems);
        INSERT INTO search_fts(rowid, tenant_id, title_stems, body_stems) VALUES (new.doc_id, new.tenant_id, new.title_stems, new.body_stems);
    END"#,
];

const REBUILD: &str = "INSERT INTO search_fts(search_fts) VALUES ('rebuild')";

/// Replaces the FTS5 index and its triggers by `fts` and refills it (SQLite only).
async fn replace_fts(m: &SchemaManager<'_>, fts: &[&str]) -> Result<(), DbErr> {
    if m.get_database_backend() == DatabaseBackend::Postgres {
        return Ok(());
    }
    execute(m, DROP_FTS).await?;
    execute(m, fts).await?;
    execute(m, &[REBUILD]).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace_fts(m, FTS_BY_TENANT).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace_fts(m, super::m20261126_000003_search::SQLITE_FTS).await
    }
}
