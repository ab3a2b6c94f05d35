use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "entry_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entry_id: Uuid,
    pub tenant_id: String,
    pub revision: i32,
    pub slug: String,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    pub author: String,
    /// Why the revision exists: created, updated, published, unpublished, archived, restored:N, scheduled_publish, scheduled_unpublish.
    pub note: String,
    pub created_at: DateTimeUtc,
}

no_relations!();
