//! sea-orm entities. They never leave `cit-store`: callers get the plain records in `crate::records`.

/// Ends an entity that declares no relations: an empty `Relation` and the default active model
/// behaviour, as sea-orm wants them.
macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// Ends an entity whose rows belong to a user through `user_id`: the one relation, to
/// `user`, and the default active model behaviour.
macro_rules! belongs_to_user {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
            User,
        }

        impl Related<super::user::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::User.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod api_token;
pub mod audit;
pub mod content_type;
pub mod content_type_version;
pub mod entry;
pub mod entry_revision;
pub mod event_registration;
pub mod form;
pub mod form_version;
pub mod media;
pub mod membership;
pub mod newsletter_campaign;
pub mod newsletter_list;
pub mod newsletter_subscriber;
pub mod outbox;
pub mod refresh_token;
pub mod session;
pub mod submission;
pub mod submission_attachment;
pub mod survey;
pub mod survey_invitation;
pub mod survey_response;
pub mod tenant;
pub mod tenant_job;
pub mod ticket;
pub mod ticket_message;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
