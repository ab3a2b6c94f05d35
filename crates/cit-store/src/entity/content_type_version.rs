use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "content_type_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub api_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// None records the removal of the type.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub definition: Option<Json>,
    pub actor: String,
    pub created_at: DateTimeUtc,
}

no_relations!();
