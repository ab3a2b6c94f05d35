use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub created_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub attempts: i32,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// `[{"name", "content_type", "content"}]`, text parts only (an `.ics`).
    #[sea_orm(column_type = "Text", nullable)]
    pub attachments: Option<String>,
    /// `[["List-Unsubscribe", "<…>"], …]`.
    #[sea_orm(column_type = "Text", nullable)]
    pub headers: Option<String>,
    /// One message per key and tenant: a second enqueue with the same key is skipped.
    pub dedupe: Option<String>,
}

no_relations!();
