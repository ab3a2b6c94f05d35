use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "survey_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub survey_id: Uuid,
    /// The `ente` entry invited.
    pub ente_id: Uuid,
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
}

no_relations!();
