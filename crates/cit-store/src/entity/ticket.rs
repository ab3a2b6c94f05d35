use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub number: i64,
    pub submission_id: Uuid,
    pub subject: String,
    pub state: String,
    pub priority: String,
    pub category: Option<String>,
    pub ente: Option<String>,
    pub assignee: Option<Uuid>,
    pub requester_name: String,
    pub requester_email: Option<String>,
    pub secret_hash: String,
    pub first_response_due: DateTimeUtc,
    pub resolution_due: DateTimeUtc,
    pub first_response_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

no_relations!();
