use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub title: String,
    pub alt: Option<String>,
    pub credits: Option<String>,
    pub licence: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

no_relations!();
