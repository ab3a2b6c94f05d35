use sea_orm::entity::prelude::*;

/// An export or import of a tenant, asked for over the admin API (see `crate::jobs`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `export` or `import`.
    pub kind: String,
    /// The tenant exported, or the one the import creates.
    pub tenant: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// JSON: `{"with_credentials": …}` or `{"as": …}`.
    #[sea_orm(column_type = "Text")]
    pub options: String,
    /// Rows written so far (progress), then in all.
    pub rows: i64,
    /// JSON: the rows per table, once succeeded.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    /// JSON: `{"code", "detail"}`, once failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub archive_size: Option<i64>,
    pub attempts: i32,
    pub requested_by: String,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

no_relations!();
