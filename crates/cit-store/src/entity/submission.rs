use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub form_id: String,
    pub form_version: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    pub consent_version: Option<String>,
    pub servizio: Option<String>,
    pub ente: Option<String>,
    pub page: Option<String>,
    pub created_at: DateTimeUtc,
    pub anonymised_at: Option<DateTimeUtc>,
}

no_relations!();
