//! Schema migrations, named by timestamp; what a landed migration builds never changes
//! (`tests/schema.rs` compares the result with golden files), though its code may be folded onto
//! the helpers in [`ddl`]. The same migrations run on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod ddl;
mod m20261126_000001_foundation;
mod m20261126_000002_content;
mod m20261126_000003_search;
mod m20261126_000004_media;
mod m20261127_000005_search_by_tenant;
mod m20261201_000006_requests;
mod m20261201_000007_attachments;
mod m20261202_000008_webhooks;
mod m20261206_000009_events;
mod m20261206_000010_newsletter;
mod m20261207_000011_surveys;
mod m20261207_000012_tenant_jobs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_content::Migration),
            Box::new(m20261126_000003_search::Migration),
            Box::new(m20261126_000004_media::Migration),
            Box::new(m20261127_000005_search_by_tenant::Migration),
            Box::new(m20261201_000006_requests::Migration),
            Box::new(m20261201_000007_attachments::Migration),
            Box::new(m20261202_000008_webhooks::Migration),
            Box::new(m20261206_000009_events::Migration),
            Box::new(m20261206_000010_newsletter::Migration),
            Box::new(m20261207_000011_surveys::Migration),
            Box::new(m20261207_000012_tenant_jobs::Migration),
        ]
    }
}
