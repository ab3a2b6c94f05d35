//! Full-text search documents, one per entry. PostgreSQL keeps a generated `tsvector` with the
//! `italian` configuration (plus cit's own accent-folded stems, so both backends agree on
//! "citta" and "città") and a GIN index; SQLite keeps an FTS5 index of stems the application
//! computed (SQLite has no Italian stemmer), maintained by triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use super::ddl::execute;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    r#"CREATE TABLE search_documents (
        entry_id uuid PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
        tenant_id varchar(40) NOT NULL,
        type_id varchar(40) NOT NULL,
        locale varchar(16) NOT NULL,
        status varchar(16) NOT NULL,
        topics text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        title_stems text NOT NULL,
        body_stems text NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('italian', title), 'A') || setweight(to_tsvector('italian', body), 'B')
            || setweight(to_tsvector('simple', title_stems), 'A') || setweight(to_tsvector('simple', body_stems), 'B')
        ) STORED
    )"#,
    "CREATE INDEX idx_search_tsv ON search_documents USING GIN (tsv)",
    "CREATE INDEX idx_search_scope ON search_documents (tenant_id, status, locale)",
];

const SQLITE: &[&str] = &[
    r#"CREATE TABLE search_documents (
        doc_id INTEGER PRIMARY KEY,
        entry_id BLOB NOT NULL UNIQUE REFERENCES entries(id) ON DELETE CASCADE,
        tenant_id TEXT NOT NULL,
        type_id TEXT NOT NULL,
        locale TEXT NOT NULL,
        status TEXT NOT NULL,
        topics TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        title_stems TEXT NOT NULL,
        body_stems TEXT NOT NULL
    )"#,
    "CREATE INDEX idx_search_scope ON search_documents (tenant_id, status, locale)",
];

/// SQLite's FTS5 index of the stems and the triggers that keep it, as this migration made them
/// (`m20261127_000005_search_by_tenant` replaces them and restores these when undone).
pub(super) const SQLITE_FTS: &[&str] = &[
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_stems, body_stems, content='search_documents', content_rowid='doc_id')",
    r#"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO search_fts(rowid, title_stems, body_stems) VALUES (new.doc_id, new.title_stems, new.body_stems);
    END"#,
    r#"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_stems, body_stems) VALUES ('delete', old.doc_id, old.title_stems, old.body_stems);
    END"#,
    r#"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_stems, body_stems) VALUES ('delete', old.doc_id, old.title_stems, old.body_stems);
        INSERT INTO search_fts(rowid, title_stems, body_stems) VALUES (new.doc_id, new.title_stems, new.body_stems);
    END"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DatabaseBackend::Postgres => execute(m, POSTGRES).await,
            _ => {
                execute(m, SQLITE).await?;
                execute(m, SQLITE_FTS).await
            }
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            m.get_connection().execute_unprepared("DROP TABLE IF EXISTS search_fts").await?;
        }
        m.get_connection().execute_unprepared("DROP TABLE IF EXISTS search_documents").await?;
        Ok(())
    }
}
