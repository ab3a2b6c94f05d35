//! The newsletter: lists, subscribers with double opt-in, and campaigns whose messages are rows
//! of the e-mail outbox (one per subscriber, key `campaign:{campaign}:{subscriber}`), each due
//! at the campaign's pace. Sending a campaign is one transaction; the outbox worker does the
//! rest, across restarts, and the rows are its counts.

use chrono::{DateTime, Utc};
use cit_core::newsletter::{CampaignStatus, SubscriptionStatus};
use cit_core::{Action, Email};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::requests::{OutMail, enqueue};
use crate::entity::{newsletter_campaign, newsletter_list, newsletter_subscriber, outbox};
use crate::{StoreError, StoreResult, TenantStore};

/// A list people subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub id: uuid::Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: uuid::Uuid,
    pub list: uuid::Uuid,
    pub email: String,
    pub status: SubscriptionStatus,
    /// The notice accepted when the link was confirmed, and when.
    pub consent_version: Option<String>,
    pub consent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: uuid::Uuid,
    pub list: uuid::Uuid,
    pub subject: String,
    /// Markdown.
    pub body: String,
    pub status: CampaignStatus,
    pub recipients: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A campaign's messages in the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    pub sent: u64,
    /// Not sent yet: due later (the pace) or retrying.
    pub waiting: u64,
    /// Not sent yet, and the last attempt failed.
    pub failing: u64,
}

/// The dedupe key of a campaign's message to a subscriber.
pub fn campaign_key(campaign: uuid::Uuid, subscriber: uuid::Uuid) -> String {
    format!("campaign:{campaign}:{subscriber}")
}

fn list_of(m: newsletter_list::Model) -> List {
    List { id: m.id, slug: m.slug, title: m.title, description: m.description }
}

fn subscriber_of(m: newsletter_subscriber::Model) -> StoreResult<Subscriber> {
    Ok(Subscriber {
        id: m.id,
        list: m.list_id,
        email: m.email,
        status: SubscriptionStatus::parse(&m.status).map_err(|e| StoreError::Corrupt(e.message))?,
        consent_version: m.consent_version,
        consent_at: m.consent_at,
        created_at: m.created_at,
        confirmed_at: m.confirmed_at,
        unsubscribed_at: m.unsubscribed_at,
    })
}

fn campaign_of(m: newsletter_campaign::Model) -> StoreResult<Campaign> {
    Ok(Campaign {
        id: m.id,
        list: m.list_id,
        subject: m.subject,
        body: m.body,
        status: CampaignStatus::parse(&m.status).map_err(|e| StoreError::Corrupt(e.message))?,
        recipients: m.recipients,
        created_by: m.created_by,
        created_at: m.created_at,
        sent_at: m.sent_at,
    })
}

impl TenantStore<'_> {
    /// Creates or changes a list (editors and admins).
    pub async fn put_list(&self, slug: &str, title: &str, description: &str, at: DateTime<Utc>) -> StoreResult<List> {
        self.require(Action::PublishContent)?;
        let txn = self.store().write.begin().await?;
        let existing =
            self.select::<newsletter_list::Entity>().filter(newsletter_list::Column::Slug.eq(slug)).one(&txn).await?;
        let row = match existing {
            Some(row) => {
                let mut am: newsletter_list::ActiveModel = row.into();
                am.title = Set(title.to_owned());
                am.description = Set(description.to_owned());
                am.updated_at = Set(at);
                am.update(&txn).await?
            }
            None => {
                self.insert(
                    &txn,
                    newsletter_list::ActiveModel {
                        id: Set(uuid::Uuid::now_v7()),
                        tenant_id: Set(self.tenant().to_string()),
                        slug: Set(slug.to_owned()),
                        title: Set(title.to_owned()),
                        description: Set(description.to_owned()),
                        created_at: Set(at),
                        updated_at: Set(at),
                    },
                )
                .await?
            }
        };
        self.audit_on(&txn, "newsletter.list", ("newsletter_list", slug), serde_json::json!({ "title": title }))
            .await?;
        txn.commit().await?;
        Ok(list_of(row))
    }

    /// The tenant's lists (anybody: the site offers them).
    pub async fn lists(&self) -> StoreResult<Vec<List>> {
        let rows = self
            .select::<newsletter_list::Entity>()
            .order_by_asc(newsletter_list::Column::Slug)
            .all(&self.store().read)
            .await?;
        Ok(rows.into_iter().map(list_of).collect())
    }

    pub async fn list_by_slug(&self, slug: &str) -> StoreResult<List> {
        self.select::<newsletter_list::Entity>()
            .filter(newsletter_list::Column::Slug.eq(slug))
            .one(&self.store().read)
            .await?
            .map(list_of)
            .ok_or(StoreError::NotFound("list"))
    }

    pub async fn list_by_id(&self, id: uuid::Uuid) -> StoreResult<List> {
        self.select::<newsletter_list::Entity>()
            .filter(newsletter_list::Column::Id.eq(id))
            .one(&self.store().read)
            .await?
            .map(list_of)
            .ok_or(StoreError::NotFound("list"))
    }

    /// Asks to subscribe `email` to `list`, with consent to the notice `consent_version`: a new or unsubscribed address becomes pending; an
    /// address already pending or active stays as it is. `compose` gets the subscriber and its
    /// status before (`None`: new) and writes the e-mails, in the same transaction.
    pub async fn subscribe(
        &self,
        list: &List,
        email: &Email,
        consent_version: &str,
        at: DateTime<Utc>,
        compose: impl Fn(&Subscriber, Option<SubscriptionStatus>) -> Vec<OutMail>,
    ) -> StoreResult<Subscriber> {
        self.require(Action::SubmitRequest)?;
        let tenant = self.tenant().to_string();
        let txn = self.store().write.begin().await?;
        let existing = self
            .select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::ListId.eq(list.id))
            .filter(newsletter_subscriber::Column::Email.eq(email.as_str()))
            .one(&txn)
            .await?;
        let (row, before) = match existing {
            None => {
                let row = self
                    .insert(
                        &txn,
                        newsletter_subscriber::ActiveModel {
                            id: Set(uuid::Uuid::now_v7()),
                            tenant_id: Set(tenant.clone()),
                            list_id: Set(list.id),
                            email: Set(email.as_str().to_owned()),
                            status: Set(SubscriptionStatus::Pending.as_str().to_owned()),
                            consent_version: Set(Some(consent_version.to_owned())),
                            consent_at: Set(None),
                            created_at: Set(at),
                            confirmed_at: Set(None),
                            unsubscribed_at: Set(None),
                        },
                    )
                    .await
                    .map_err(StoreError::unique("email", "the address asked twice at once"))?;
                (row, None)
            }
            Some(row) => {
                let before = SubscriptionStatus::parse(&row.status).map_err(|e| StoreError::Corrupt(e.message))?;
                if before == SubscriptionStatus::Unsubscribed {
                    let mut am: newsletter_subscriber::ActiveModel = row.into();
                    am.status = Set(SubscriptionStatus::Pending.as_str().to_owned());
                    am.consent_version = Set(Some(consent_version.to_owned()));
                    am.consent_at = Set(None);
                    (am.update(&txn).await?, Some(before))
                } else {
                    (row, Some(before))
                }
            }
        };
        let subscriber = subscriber_of(row)?;
        for mail in compose(&subscriber, before) {
            enqueue(&txn, &tenant, mail, at).await?;
        }
        txn.commit().await?;
        Ok(subscriber)
    }

    /// Follows the confirmation link: a pending subscriber becomes active, and the consent given
    /// with the request (its notice version) is recorded with the time of the confirmation. An
    /// active one stays as it is; an unsubscribed one (it left after the link was sent) is
    /// refused as not found.
    pub async fn confirm_subscription(
        &self,
        list: uuid::Uuid,
        email: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        self.require(Action::SubmitRequest)?;
        let txn = self.store().write.begin().await?;
        let row = self
            .select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::ListId.eq(list))
            .filter(newsletter_subscriber::Column::Email.eq(email))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("subscription"))?;
        let row = match SubscriptionStatus::parse(&row.status).map_err(|e| StoreError::Corrupt(e.message))? {
            SubscriptionStatus::Active => row,
            SubscriptionStatus::Unsubscribed => return Err(StoreError::NotFound("subscription")),
            SubscriptionStatus::Pending => {
                let mut am: newsletter_subscriber::ActiveModel = row.into();
                am.status = Set(SubscriptionStatus::Active.as_str().to_owned());
                am.consent_at = Set(Some(at));
                am.confirmed_at = Set(Some(at));
                am.unsubscribed_at = Set(None);
                am.update(&txn).await?
            }
        };
        txn.commit().await?;
        subscriber_of(row)
    }

    pub async fn subscriber(&self, id: uuid::Uuid) -> StoreResult<Subscriber> {
        self.require_any(&[Action::SubmitRequest, Action::PublishContent])?;
        self.select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::Id.eq(id))
            .one(&self.store().read)
            .await?
            .map(subscriber_of)
            .transpose()?
            .ok_or(StoreError::NotFound("subscription"))
    }

    /// The subscription of `email` to `list`, if any (what a confirmation link names).
    pub async fn subscription_of(&self, list: uuid::Uuid, email: &str) -> StoreResult<Option<Subscriber>> {
        self.require(Action::SubmitRequest)?;
        self.select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::ListId.eq(list))
            .filter(newsletter_subscriber::Column::Email.eq(email))
            .one(&self.store().read)
            .await?
            .map(subscriber_of)
            .transpose()
    }

    /// Unsubscribes (idempotent), and withdraws the campaign messages not sent to it yet.
    pub async fn unsubscribe(&self, id: uuid::Uuid, at: DateTime<Utc>) -> StoreResult<Subscriber> {
        self.require(Action::SubmitRequest)?;
        let txn = self.store().write.begin().await?;
        let row = self
            .select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::Id.eq(id))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("subscription"))?;
        let row = if row.status == SubscriptionStatus::Unsubscribed.as_str() {
            row
        } else {
            let mut am: newsletter_subscriber::ActiveModel = row.into();
            am.status = Set(SubscriptionStatus::Unsubscribed.as_str().to_owned());
            am.unsubscribed_at = Set(Some(at));
            am.update(&txn).await?
        };
        self.delete::<outbox::Entity>()
            .filter(outbox::Column::Dedupe.like(format!("campaign:%:{id}")))
            .filter(outbox::Column::SentAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        subscriber_of(row)
    }

    /// A list's subscribers, oldest first (editors and admins).
    pub async fn subscribers(&self, list: uuid::Uuid) -> StoreResult<Vec<Subscriber>> {
        self.require(Action::PublishContent)?;
        self.select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::ListId.eq(list))
            .order_by_asc(newsletter_subscriber::Column::CreatedAt)
            .order_by_asc(newsletter_subscriber::Column::Id)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(subscriber_of)
            .collect()
    }

    /// A draft campaign to `list` (editors and admins).
    pub async fn create_campaign(
        &self,
        list: &List,
        subject: &str,
        body: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Campaign> {
        self.require(Action::PublishContent)?;
        let txn = self.store().write.begin().await?;
        let row = self
            .insert(
                &txn,
                newsletter_campaign::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    tenant_id: Set(self.tenant().to_string()),
                    list_id: Set(list.id),
                    subject: Set(subject.to_owned()),
                    body: Set(body.to_owned()),
                    status: Set(CampaignStatus::Draft.as_str().to_owned()),
                    recipients: Set(0),
                    created_by: Set(by.to_owned()),
                    created_at: Set(at),
                    sent_at: Set(None),
                },
            )
            .await?;
        self.audit_on(
            &txn,
            "newsletter.campaign.create",
            ("newsletter_campaign", &row.id.to_string()),
            serde_json::json!({ "list": list.slug }),
        )
        .await?;
        txn.commit().await?;
        campaign_of(row)
    }

    pub async fn campaign(&self, id: uuid::Uuid) -> StoreResult<Campaign> {
        self.require(Action::PublishContent)?;
        self.select::<newsletter_campaign::Entity>()
            .filter(newsletter_campaign::Column::Id.eq(id))
            .one(&self.store().read)
            .await?
            .map(campaign_of)
            .transpose()?
            .ok_or(StoreError::NotFound("campaign"))
    }

    /// Sends a draft campaign: one outbox message per active subscriber, written by `compose`
    /// with its due time, in one transaction with the campaign's change to `sending`. A second
    /// call finds it sending and writes nothing (409).
    pub async fn send_campaign(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
        compose: impl Fn(usize, &Subscriber) -> OutMail,
    ) -> StoreResult<Campaign> {
        self.require(Action::PublishContent)?;
        let tenant = self.tenant().to_string();
        let txn = self.store().write.begin().await?;
        // Claims the draft: only one sender changes its status.
        let claimed = self
            .update::<newsletter_campaign::Entity>()
            .col_expr(newsletter_campaign::Column::Status, Expr::value(CampaignStatus::Sending.as_str()))
            .col_expr(newsletter_campaign::Column::SentAt, Expr::value(at))
            .filter(newsletter_campaign::Column::Id.eq(id))
            .filter(newsletter_campaign::Column::Status.eq(CampaignStatus::Draft.as_str()))
            .exec(&txn)
            .await?;
        let row = self
            .select::<newsletter_campaign::Entity>()
            .filter(newsletter_campaign::Column::Id.eq(id))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("campaign"))?;
        if claimed.rows_affected == 0 {
            return Err(StoreError::Conflict { field: "status", message: "the campaign was sent already".into() });
        }
        let subscribers: Vec<Subscriber> = self
            .select::<newsletter_subscriber::Entity>()
            .filter(newsletter_subscriber::Column::ListId.eq(row.list_id))
            .filter(newsletter_subscriber::Column::Status.eq(SubscriptionStatus::Active.as_str()))
            .order_by_asc(newsletter_subscriber::Column::CreatedAt)
            .order_by_asc(newsletter_subscriber::Column::Id)
            .all(&txn)
            .await?
            .into_iter()
            .map(subscriber_of)
            .collect::<StoreResult<_>>()?;
        for (n, s) in subscribers.iter().enumerate() {
            let mut mail = compose(n, s);
            mail.dedupe = Some(campaign_key(id, s.id));
            enqueue(&txn, &tenant, mail, at).await?;
        }
        let mut am: newsletter_campaign::ActiveModel = row.into();
        am.recipients = Set(i32::try_from(subscribers.len()).unwrap_or(i32::MAX));
        let row = am.update(&txn).await?;
        self.audit_on(
            &txn,
            "newsletter.campaign.send",
            ("newsletter_campaign", &id.to_string()),
            serde_json::json!({ "recipients": subscribers.len() }),
        )
        .await?;
        txn.commit().await?;
        campaign_of(row)
    }

    /// Where a campaign's messages stand in the outbox.
    pub async fn campaign_counts(&self, id: uuid::Uuid) -> StoreResult<CampaignCounts> {
        self.require(Action::PublishContent)?;
        let mine = || self.select::<outbox::Entity>().filter(outbox::Column::Dedupe.like(format!("campaign:{id}:%")));
        let read = &self.store().read;
        let sent = mine().filter(outbox::Column::SentAt.is_not_null()).count(read).await?;
        let waiting = mine().filter(outbox::Column::SentAt.is_null()).count(read).await?;
        let failing = mine()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::LastError.is_not_null())
            .count(read)
            .await?;
        Ok(CampaignCounts { sent, waiting, failing })
    }
}
