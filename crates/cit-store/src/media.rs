//! Media metadata of one tenant. The bytes live in the media storage (cit-api); this is the
//! catalogue: what exists, how big, and who uses it.

use chrono::{DateTime, Utc};
use cit_core::webhooks::WebhookEvent;
use cit_core::{Action, MediaId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde_json::json;

use crate::entity::{entry, media};
use crate::scoped::TenantStore;
use crate::{StoreError, StoreResult};

/// A file in the catalogue: what was given when it was uploaded, who uploaded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaItem {
    pub file: MediaFile,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What the catalogue knows of a file stored under `id`; to catalogue a new file, hand one to
/// [`TenantStore::add_media`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub id: MediaId,
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
}

impl From<media::Model> for MediaItem {
    fn from(m: media::Model) -> Self {
        Self {
            file: MediaFile {
                id: m.id.into(),
                filename: m.filename,
                content_type: m.content_type,
                size: m.size,
                sha256: m.sha256,
                title: m.title,
                alt: m.alt,
                credits: m.credits,
                licence: m.licence,
                width: m.width,
                height: m.height,
            },
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

const WRITE: &[Action] = &[Action::WriteContent, Action::PublishContent];

/// A change of a file's description: `None` leaves a field as it is; `Some(None)` clears the
/// optional ones. The bytes of a file never change: a new file is a new upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaChange {
    pub title: Option<String>,
    pub alt: Option<Option<String>>,
    pub credits: Option<Option<String>>,
    pub licence: Option<Option<String>>,
}

/// An entry that mentions a file in its data (a media field, a list of them, or a link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUse {
    pub entry: uuid::Uuid,
    pub type_id: String,
    pub locale: String,
    pub slug: String,
    pub status: String,
    /// The entry's `title` field when it has one.
    pub title: Option<String>,
}

impl TenantStore<'_> {
    /// Bytes used by the tenant's media.
    pub async fn media_usage(&self) -> StoreResult<i64> {
        self.media_bytes(&self.store().read).await
    }

    /// Bytes used by the tenant's media, as `conn` (the pool or a transaction) sees them.
    async fn media_bytes(&self, conn: &impl ConnectionTrait) -> StoreResult<i64> {
        let sum: Option<Option<i64>> = self
            .select::<media::Entity>()
            .select_only()
            .column_as(Expr::cust("CAST(COALESCE(SUM(\"size\"), 0) AS BIGINT)"), "total")
            .into_tuple()
            .one(conn)
            .await?;
        Ok(sum.flatten().unwrap_or(0))
    }

    /// Catalogues a stored file if the tenant stays within `quota` bytes; the check and the
    /// insert are one transaction.
    pub async fn add_media(&self, new: MediaFile, quota: i64) -> StoreResult<MediaItem> {
        self.require_any(WRITE)?;
        let txn = self.store().write.begin().await?;
        let used = self.media_bytes(&txn).await?;
        if used + new.size > quota {
            return Err(StoreError::Rule {
                code: "quota_exceeded",
                message: format!(
                    "the tenant's media quota is {quota} bytes; {used} are used and this file has {}",
                    new.size
                ),
            });
        }
        let row = media::ActiveModel {
            id: Set(new.id.0),
            filename: Set(new.filename),
            content_type: Set(new.content_type),
            size: Set(new.size),
            sha256: Set(new.sha256),
            title: Set(new.title),
            alt: Set(new.alt),
            credits: Set(new.credits),
            licence: Set(new.licence),
            width: Set(new.width),
            height: Set(new.height),
            created_by: Set(self.access().actor().to_owned()),
            created_at: Set(self.store().now()),
            ..Default::default()
        };
        let model = self.insert(&txn, row).await?;
        self.audit_on(
            &txn,
            "media.upload",
            ("media", &model.id.to_string()),
            json!({"filename": model.filename, "size": model.size}),
        )
        .await?;
        let event = json!({"id": model.id, "filename": model.filename, "content_type": model.content_type,
            "size": model.size, "sha256": model.sha256});
        self.enqueue_webhooks(&txn, &[WebhookEvent::MediaCreated], &event).await?;
        txn.commit().await?;
        Ok(model.into())
    }

    pub async fn media(&self, id: MediaId) -> StoreResult<Option<MediaItem>> {
        Ok(self
            .select::<media::Entity>()
            .filter(media::Column::Id.eq(id.0))
            .one(&self.store().read)
            .await?
            .map(MediaItem::from))
    }

    pub async fn media_list(&self, limit: u64, offset: u64) -> StoreResult<Vec<MediaItem>> {
        Ok(self
            .select::<media::Entity>()
            .order_by_desc(media::Column::CreatedAt)
            .limit(limit)
            .offset(offset)
            .all(&self.store().read)
            .await?
            .into_iter()
            .map(MediaItem::from)
            .collect())
    }

    /// Ids among `ids` that are media of this tenant.
    pub async fn existing_media(&self, ids: &[MediaId]) -> StoreResult<Vec<MediaId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<uuid::Uuid> = self
            .select_ids::<media::Entity>(media::Column::Id, ids.iter().map(|id| id.0))
            .select_only()
            .column(media::Column::Id)
            .into_tuple()
            .all(&self.store().read)
            .await?;
        Ok(found.into_iter().map(MediaId::from).collect())
    }

    /// How many entries mention the file.
    pub async fn media_uses(&self, id: MediaId) -> StoreResult<u64> {
        Ok(self.mentioning(id).count(&self.store().read).await?)
    }

    /// The entries that mention the file, most recently changed first (at most `limit`).
    pub async fn media_used_by(&self, id: MediaId, limit: u64) -> StoreResult<Vec<MediaUse>> {
        let rows =
            self.mentioning(id).order_by_desc(entry::Column::UpdatedAt).limit(limit).all(&self.store().read).await?;
        Ok(rows
            .into_iter()
            .map(|e| MediaUse {
                title: e.data.get("title").and_then(|t| t.as_str()).map(str::to_owned),
                entry: e.id,
                type_id: e.type_id,
                locale: e.locale,
                slug: e.slug,
                status: e.status,
            })
            .collect())
    }

    /// The tenant's entries whose data holds the file's id anywhere.
    fn mentioning(&self, id: MediaId) -> sea_orm::Select<entry::Entity> {
        self.select::<entry::Entity>().filter(Expr::cust("CAST(\"data\" AS TEXT)").like(format!("%{id}%")))
    }

    /// Changes a file's title, alternative text, credits or licence, and records who did.
    pub async fn update_media(&self, id: MediaId, change: MediaChange) -> StoreResult<MediaItem> {
        self.require_any(WRITE)?;
        let txn = self.store().write.begin().await?;
        let mut update = self.update::<media::Entity>().filter(media::Column::Id.eq(id.0));
        let mut changed = Vec::new();
        if let Some(title) = change.title {
            update = update.col_expr(media::Column::Title, Expr::value(title));
            changed.push("title");
        }
        for (column, value, name) in [
            (media::Column::Alt, change.alt, "alt"),
            (media::Column::Credits, change.credits, "credits"),
            (media::Column::Licence, change.licence, "licence"),
        ] {
            if let Some(value) = value {
                update = update.col_expr(column, Expr::value(value));
                changed.push(name);
            }
        }
        if !changed.is_empty() && update.exec(&txn).await?.rows_affected == 0 {
            return Err(StoreError::NotFound("media"));
        }
        let found = self
            .select::<media::Entity>()
            .filter(media::Column::Id.eq(id.0))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("media"))?;
        if !changed.is_empty() {
            self.audit_on(&txn, "media.update", ("media", &id.to_string()), json!({"fields": changed})).await?;
        }
        txn.commit().await?;
        Ok(found.into())
    }

    /// Removes a file from the catalogue unless an entry uses it (409 `in_use`).
    pub async fn remove_media(&self, id: MediaId) -> StoreResult<MediaItem> {
        self.require_any(&[Action::PublishContent])?;
        let found = self.media(id).await?.ok_or(StoreError::NotFound("media"))?;
        let uses = self.media_uses(id).await?;
        if uses > 0 {
            return Err(StoreError::Rule {
                code: "in_use",
                message: format!("{uses} entries use this file; remove it from them first"),
            });
        }
        let txn = self.store().write.begin().await?;
        self.delete::<media::Entity>().filter(media::Column::Id.eq(id.0)).exec(&txn).await?;
        self.audit_on(&txn, "media.delete", ("media", &id.to_string()), json!({"filename": found.file.filename}))
            .await?;
        let event = json!({"id": id.0, "filename": found.file.filename});
        self.enqueue_webhooks(&txn, &[WebhookEvent::MediaDeleted], &event).await?;
        txn.commit().await?;
        Ok(found)
    }
}
