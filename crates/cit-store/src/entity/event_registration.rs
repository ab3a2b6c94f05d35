use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "event_registrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub entry_id: Uuid,
    pub name: String,
    pub email: String,
    pub ente: Option<String>,
    pub status: String,
    pub place: Option<i32>,
    pub secret_hash: String,
    pub consent_version: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub cancelled_at: Option<DateTimeUtc>,
    pub promoted_at: Option<DateTimeUtc>,
}

no_relations!();
