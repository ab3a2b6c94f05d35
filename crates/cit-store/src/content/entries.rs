//! Entries of one tenant: create, read, update, delete, revisions, translations, lists.

use cit_core::content::{ContentType, FieldName, Validated, slugify};
use cit_core::webhooks::WebhookEvent;
use cit_core::{Action, EntryId, Locale};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, TransactionTrait,
};
use serde_json::{Value, json};

use super::query::{ListQuery, Ordering, filter_condition};
use super::{DataIssue, Entry, EntryChange, EntryStatus, NewEntry, Revision, entry_of, revision_of};
use crate::entity::{entry, entry_revision};
use crate::scoped::TenantStore;
use crate::{Backend, StoreError, StoreResult};

const READ_ANY: &[Action] = &[Action::ReadDrafts, Action::WriteContent, Action::PublishContent];

/// The accesses that allow a write whose plan asks for `action`: the right to publish allows
/// writing drafts too.
fn allowing(action: Action) -> &'static [Action] {
    match action {
        Action::PublishContent => &[Action::PublishContent],
        _ => &[Action::WriteContent, Action::PublishContent],
    }
}

/// How an entry is named: by its id (any locale), or by its slug in one locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKey<'a> {
    Id(EntryId),
    Slug(&'a str, &'a Locale),
}

impl<'a> EntryKey<'a> {
    /// An id if `raw` reads as one, else a slug in `locale`.
    pub fn parse(raw: &'a str, locale: &'a Locale) -> Self {
        match raw.parse::<uuid::Uuid>() {
            Ok(id) => EntryKey::Id(id.into()),
            Err(_) => EntryKey::Slug(raw, locale),
        }
    }
}

/// What a webhook event says about an entry: enough to fetch it, not its content.
pub(crate) fn event_data(m: &entry::Model) -> Value {
    json!({
        "id": m.id,
        "content_type": m.type_id,
        "locale": m.locale,
        "slug": m.slug,
        "status": m.status,
        "revision": m.revision,
    })
}

impl TenantStore<'_> {
    /// Checks that every referenced entry exists in this tenant with the declared type, and that
    /// unique values are not taken by another entry of the type and locale.
    async fn check_data(
        &self,
        conn: &impl ConnectionTrait,
        type_id: &str,
        locale: &str,
        data: &Validated,
        own_id: Option<uuid::Uuid>,
    ) -> StoreResult<()> {
        let mut issues = Vec::new();
        for (field, to, ids) in &data.references {
            if ids.is_empty() {
                continue;
            }
            let found: Vec<(uuid::Uuid, String)> = self
                .select_ids::<entry::Entity>(entry::Column::Id, ids.iter().copied())
                .select_only()
                .column(entry::Column::Id)
                .column(entry::Column::TypeId)
                .into_tuple()
                .all(conn)
                .await?;
            let many = data.data.get(field).is_some_and(Value::is_array);
            for (i, id) in ids.iter().enumerate() {
                let path = if many { format!("{field}[{i}]") } else { field.clone() };
                match found.iter().find(|(fid, _)| fid == id) {
                    None => issues.push(DataIssue {
                        path,
                        code: "reference_not_found",
                        message: format!("no {to} with id {id}"),
                    }),
                    Some((_, ty)) if ty != to.as_str() => issues.push(DataIssue {
                        path,
                        code: "reference_wrong_type",
                        message: format!("entry {id} is a {ty}, not a {to}"),
                    }),
                    Some(_) => {}
                }
            }
        }
        let media_ids: Vec<uuid::Uuid> = data.media.iter().map(|(_, id)| *id).collect();
        if !media_ids.is_empty() {
            let found: Vec<uuid::Uuid> = self
                .select_ids::<crate::entity::media::Entity>(crate::entity::media::Column::Id, media_ids.iter().copied())
                .select_only()
                .column(crate::entity::media::Column::Id)
                .into_tuple()
                .all(conn)
                .await?;
            for (field, id) in &data.media {
                if !found.contains(id) {
                    issues.push(DataIssue {
                        path: field.clone(),
                        code: "media_not_found",
                        message: format!("no media with id {id}"),
                    });
                }
            }
        }
        for (field, value) in &data.unique {
            let cond = unique_condition(self.backend(), field, value);
            let mut q = self
                .select::<entry::Entity>()
                .filter(entry::Column::TypeId.eq(type_id))
                .filter(entry::Column::Locale.eq(locale))
                .filter(cond);
            if let Some(id) = own_id {
                q = q.filter(entry::Column::Id.ne(id));
            }
            if q.count(conn).await? > 0 {
                issues.push(DataIssue {
                    path: field.as_str().to_owned(),
                    code: "not_unique",
                    message: "another entry already has this value".into(),
                });
            }
        }
        if issues.is_empty() { Ok(()) } else { Err(StoreError::InvalidData(issues)) }
    }

    fn backend(&self) -> Backend {
        self.store().backend
    }

    async fn slug_taken(
        &self,
        conn: &impl ConnectionTrait,
        type_id: &str,
        locale: &str,
        slug: &str,
        own: Option<uuid::Uuid>,
    ) -> StoreResult<bool> {
        let mut q = self
            .select::<entry::Entity>()
            .filter(entry::Column::TypeId.eq(type_id))
            .filter(entry::Column::Locale.eq(locale))
            .filter(entry::Column::Slug.eq(slug));
        if let Some(id) = own {
            q = q.filter(entry::Column::Id.ne(id));
        }
        Ok(q.count(conn).await? > 0)
    }

    /// A slug derived from the title, made unique with `-2`, `-3`, … when taken.
    async fn derive_slug(
        &self,
        conn: &impl ConnectionTrait,
        ct: &ContentType,
        locale: &str,
        data: &Validated,
        id: uuid::Uuid,
    ) -> StoreResult<String> {
        let base = data
            .data
            .get(ct.slug_from.as_str())
            .and_then(Value::as_str)
            .and_then(slugify)
            .map(String::from)
            .unwrap_or_else(|| format!("{}-{}", ct.id, &id.simple().to_string()[..8]));
        let base: String = base.chars().take(190).collect();
        let mut candidate = base.clone();
        let mut n = 2;
        while self.slug_taken(conn, ct.id.as_str(), locale, &candidate, Some(id)).await? {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        Ok(candidate)
    }

    async fn insert_revision(&self, conn: &impl ConnectionTrait, e: &entry::Model, note: &str) -> StoreResult<()> {
        let row = entry_revision::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            entry_id: Set(e.id),
            revision: Set(e.revision),
            slug: Set(e.slug.clone()),
            status: Set(e.status.clone()),
            data: Set(e.data.clone()),
            author: Set(self.access().actor().to_owned()),
            note: Set(note.to_owned()),
            created_at: Set(self.store().now()),
            ..Default::default()
        };
        self.insert(conn, row).await?;
        Ok(())
    }

    /// Carries out the plan of a new entry: checks what only the database can (references,
    /// unique values, the translation, the slug) and writes the entry, its first revision, its
    /// search rows and the audit line in one transaction.
    pub async fn create_entry(&self, ct: &ContentType, new: NewEntry) -> StoreResult<Entry> {
        self.require_any(allowing(new.action()))?;
        let txn = self.store().write.begin().await?;
        let id = uuid::Uuid::now_v7();
        let type_id = ct.id.as_str();
        let locale = new.locale().as_str();
        self.check_data(&txn, type_id, locale, new.data(), None).await?;
        let group = match new.translation_of().map(|of| of.0) {
            None => id,
            Some(of) => {
                let source = self
                    .select::<entry::Entity>()
                    .filter(entry::Column::Id.eq(of))
                    .filter(entry::Column::TypeId.eq(type_id))
                    .one(&txn)
                    .await?
                    .ok_or(StoreError::Invalid {
                        field: "translation_of",
                        code: "not_found",
                        message: format!("no {type_id} with id {of}"),
                    })?;
                let clash = self
                    .select::<entry::Entity>()
                    .filter(entry::Column::TranslationGroup.eq(source.translation_group))
                    .filter(entry::Column::Locale.eq(locale))
                    .count(&txn)
                    .await?;
                if clash > 0 {
                    return Err(StoreError::Conflict {
                        field: "locale",
                        message: format!("this entry already has a {locale} translation"),
                    });
                }
                source.translation_group
            }
        };
        let slug = match new.slug() {
            Some(s) => {
                if self.slug_taken(&txn, type_id, locale, s.as_str(), None).await? {
                    return Err(StoreError::Conflict {
                        field: "slug",
                        message: format!("the slug {s} is taken in this tenant"),
                    });
                }
                s.to_string()
            }
            None => self.derive_slug(&txn, ct, locale, new.data(), id).await?,
        };
        let now = self.store().now();
        let row = entry::ActiveModel {
            id: Set(id),
            type_id: Set(type_id.to_owned()),
            locale: Set(locale.to_owned()),
            translation_group: Set(group),
            slug: Set(slug),
            status: Set(new.status().as_str().to_owned()),
            data: Set(Value::Object(new.data().data.clone())),
            publish_at: Set(new.publish_at()),
            unpublish_at: Set(new.unpublish_at()),
            published_at: Set(new.published_at(now)),
            created_at: Set(now),
            updated_at: Set(now),
            author: Set(self.access().actor().to_owned()),
            revision: Set(1),
            ..Default::default()
        };
        let model =
            self.insert(&txn, row).await.map_err(StoreError::unique("slug", "the slug is taken in this tenant"))?;
        self.insert_revision(&txn, &model, "created").await?;
        super::search::index_entry(&txn, ct, &model, super::search::Indexed::New).await?;
        self.audit_on(
            &txn,
            "entry.create",
            ("entry", &id.to_string()),
            json!({"type": type_id, "status": model.status}),
        )
        .await?;
        self.enqueue_webhooks(&txn, &WebhookEvent::of_entry_write(None, &model.status), &event_data(&model)).await?;
        txn.commit().await?;
        entry_of(model)
    }

    /// Carries out the plan of a change, if the entry is still at the revision the caller read
    /// (409 `stale` otherwise, so two editors cannot silently overwrite each other) and still
    /// has the status and schedule the plan was decided on.
    pub async fn update_entry(&self, ct: &ContentType, change: EntryChange) -> StoreResult<Entry> {
        self.require_any(allowing(change.action()))?;
        let id = change.entry().0;
        let txn = self.store().write.begin().await?;
        let current = self
            .select::<entry::Entity>()
            .filter(entry::Column::Id.eq(id))
            .filter(entry::Column::TypeId.eq(ct.id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("entry"))?;
        if change.expected_revision().is_some_and(|r| r != current.revision) {
            return Err(StoreError::Stale);
        }
        let old_status = EntryStatus::parse(&current.status)
            .ok_or_else(|| StoreError::Corrupt(format!("entry {} status {:?}", current.id, current.status)))?;
        if !change.still_applies(old_status, current.publish_at) {
            return Err(StoreError::Stale);
        }
        if let Some(data) = change.data() {
            self.check_data(&txn, ct.id.as_str(), &current.locale, data, Some(id)).await?;
        }
        if let Some(slug) = change.slug()
            && self.slug_taken(&txn, ct.id.as_str(), &current.locale, slug.as_str(), Some(id)).await?
        {
            return Err(StoreError::Conflict {
                field: "slug",
                message: format!("the slug {slug} is taken in this tenant"),
            });
        }
        let note = change.note().to_owned();
        let now = self.store().now();
        let published_at = change.published_at(current.published_at, now);
        let revision = current.revision + 1;
        let status_before = current.status.clone();
        let mut model = current.into_active_model();
        if let Some(data) = change.data() {
            model.data = Set(Value::Object(data.data.clone()));
        }
        if let Some(slug) = change.slug() {
            model.slug = Set(slug.to_string());
        }
        model.status = Set(change.status().as_str().to_owned());
        model.publish_at = Set(change.publish_at());
        if let Some(u) = change.unpublish_at() {
            model.unpublish_at = Set(u);
        }
        model.published_at = Set(published_at);
        model.updated_at = Set(now);
        model.revision = Set(revision);
        let updated =
            model.update(&txn).await.map_err(StoreError::unique("slug", "the slug is taken in this tenant"))?;
        self.insert_revision(&txn, &updated, &note).await?;
        super::search::index_entry(&txn, ct, &updated, super::search::Indexed::Maybe).await?;
        self.audit_on(
            &txn,
            &format!("entry.{}", note.split(':').next().unwrap_or("update")),
            ("entry", &id.to_string()),
            json!({"type": ct.id.as_str(), "revision": revision}),
        )
        .await?;
        let events = WebhookEvent::of_entry_write(Some(&status_before), &updated.status);
        self.enqueue_webhooks(&txn, &events, &event_data(&updated)).await?;
        txn.commit().await?;
        entry_of(updated)
    }

    pub async fn delete_entry(&self, type_id: &str, id: EntryId) -> StoreResult<()> {
        self.require_any(&[Action::PublishContent])?;
        let id = id.0;
        let txn = self.store().write.begin().await?;
        let found = self
            .select::<entry::Entity>()
            .filter(entry::Column::Id.eq(id))
            .filter(entry::Column::TypeId.eq(type_id))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("entry"))?;
        self.delete::<entry_revision::Entity>().filter(entry_revision::Column::EntryId.eq(id)).exec(&txn).await?;
        self.delete::<entry::Entity>().filter(entry::Column::Id.eq(id)).exec(&txn).await?;
        self.audit_on(&txn, "entry.delete", ("entry", &id.to_string()), json!({"type": type_id, "slug": found.slug}))
            .await?;
        self.enqueue_webhooks(&txn, &[WebhookEvent::EntryDeleted], &event_data(&found)).await?;
        txn.commit().await?;
        Ok(())
    }

    fn visible(&self, statuses: &[EntryStatus]) -> StoreResult<()> {
        if statuses.iter().any(|s| *s != EntryStatus::Published) {
            self.require_any(READ_ANY)?;
        }
        Ok(())
    }

    /// One entry by id or by slug (within its locale), if its status is among `statuses`.
    pub async fn entry(
        &self,
        type_id: &str,
        key: EntryKey<'_>,
        statuses: &[EntryStatus],
    ) -> StoreResult<Option<Entry>> {
        self.visible(statuses)?;
        let mut q = self.select::<entry::Entity>().filter(entry::Column::TypeId.eq(type_id));
        q = match key {
            EntryKey::Id(id) => q.filter(entry::Column::Id.eq(id.0)),
            EntryKey::Slug(slug, locale) => {
                q.filter(entry::Column::Slug.eq(slug)).filter(entry::Column::Locale.eq(locale.as_str()))
            }
        };
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        q.filter(entry::Column::Status.is_in(statuses)).one(self.content_reader()).await?.map(entry_of).transpose()
    }

    /// Entries by id, any type, in one query: for expanding references.
    pub async fn entries_by_ids(&self, ids: &[EntryId], statuses: &[EntryStatus]) -> StoreResult<Vec<Entry>> {
        self.visible(statuses)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        self.select_ids::<entry::Entity>(entry::Column::Id, ids.iter().map(|id| id.0))
            .filter(entry::Column::Status.is_in(statuses))
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(entry_of)
            .collect()
    }

    /// The other locales of an entry: (locale, id, slug).
    pub async fn translations(
        &self,
        entry: &Entry,
        statuses: &[EntryStatus],
    ) -> StoreResult<Vec<(String, EntryId, String)>> {
        self.visible(statuses)?;
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        Ok(self
            .select::<entry::Entity>()
            .filter(entry::Column::TranslationGroup.eq(entry.translation_group))
            .filter(entry::Column::Id.ne(entry.id.0))
            .filter(entry::Column::Status.is_in(statuses))
            .order_by_asc(entry::Column::Locale)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(|m| (m.locale, m.id.into(), m.slug))
            .collect())
    }

    /// A page of entries and the cursor of the next page (None on the last one).
    pub async fn list_entries(&self, q: &ListQuery) -> StoreResult<(Vec<Entry>, Option<super::Cursor>)> {
        let (rows, more) = self.list_entries_with_cursors(q).await?;
        let next = if more { rows.last().map(|(_, c)| c.clone()) } else { None };
        Ok((rows.into_iter().map(|(e, _)| e).collect(), next))
    }

    /// The rows a list query selects before paging: its type, statuses, locale and filters.
    fn list_select(&self, q: &ListQuery) -> Select<entry::Entity> {
        let backend = self.backend();
        let statuses: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
        let mut select = self
            .select::<entry::Entity>()
            .filter(entry::Column::TypeId.eq(q.type_id.as_str()))
            .filter(entry::Column::Status.is_in(statuses));
        if let Some(locale) = &q.locale {
            select = select.filter(entry::Column::Locale.eq(locale.as_str()));
        }
        for f in &q.filters {
            select = select.filter(filter_condition(f, backend));
        }
        select
    }

    /// A page of entries, each with its own cursor (for GraphQL edges), and whether more follow.
    pub async fn list_entries_with_cursors(&self, q: &ListQuery) -> StoreResult<(Vec<(Entry, super::Cursor)>, bool)> {
        self.visible(&q.statuses)?;
        let published_only = q.statuses.iter().all(|s| *s == EntryStatus::Published);
        let ordering = Ordering::new(&q.sort, self.backend(), published_only);
        let mut select = self.list_select(q);
        if let Some(cursor) = &q.after {
            let cond = ordering.after(cursor).ok_or(StoreError::BadCursor)?;
            select = select.filter(cond);
        }
        for (expr, desc) in ordering.order_by() {
            select = if desc { select.order_by_desc(expr) } else { select.order_by_asc(expr) };
        }
        let limit = q.limit.clamp(1, 100);
        let mut rows: Vec<Entry> = select
            .limit(limit + 1)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(entry_of)
            .collect::<StoreResult<_>>()?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(100));
        let paged = rows
            .into_iter()
            .map(|e| {
                let cursor = ordering.cursor_of(&e);
                (e, cursor)
            })
            .collect();
        Ok((paged, more))
    }

    /// How many entries a list query matches in all (its cursor and limit are ignored): one
    /// `COUNT` with the same conditions as the page.
    pub async fn count_list_entries(&self, q: &ListQuery) -> StoreResult<u64> {
        self.visible(&q.statuses)?;
        Ok(self.list_select(q).count(self.content_reader()).await?)
    }

    /// The entries of several translation groups (every locale), in one query: for resolving
    /// translations of a whole page at once.
    pub async fn entries_in_groups(&self, groups: &[uuid::Uuid], statuses: &[EntryStatus]) -> StoreResult<Vec<Entry>> {
        self.visible(statuses)?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        self.select::<entry::Entity>()
            .filter(entry::Column::TranslationGroup.is_in(groups.iter().copied()))
            .filter(entry::Column::Status.is_in(statuses))
            .order_by_asc(entry::Column::Locale)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(entry_of)
            .collect()
    }

    /// The revisions of several entries, newest first within each, in one query: (entry id,
    /// revision). Entries of other tenants have none here.
    pub async fn revisions_of_entries(&self, ids: &[EntryId]) -> StoreResult<Vec<(EntryId, Revision)>> {
        self.require_any(READ_ANY)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.select::<entry_revision::Entity>()
            .filter(entry_revision::Column::EntryId.is_in(ids.iter().map(|id| id.0)))
            .order_by_asc(entry_revision::Column::EntryId)
            .order_by_desc(entry_revision::Column::Revision)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(|m| {
                let id = EntryId::from(m.entry_id);
                revision_of(m).map(|r| (id, r))
            })
            .collect()
    }

    pub async fn revisions(&self, type_id: &str, id: EntryId) -> StoreResult<Vec<Revision>> {
        self.require_any(READ_ANY)?;
        let id = id.0;
        self.entry_exists(type_id, id).await?;
        self.select::<entry_revision::Entity>()
            .filter(entry_revision::Column::EntryId.eq(id))
            .order_by_desc(entry_revision::Column::Revision)
            .all(self.content_reader())
            .await?
            .into_iter()
            .map(revision_of)
            .collect()
    }

    pub async fn revision(&self, type_id: &str, id: EntryId, n: i32) -> StoreResult<Revision> {
        self.require_any(READ_ANY)?;
        let id = id.0;
        self.entry_exists(type_id, id).await?;
        self.select::<entry_revision::Entity>()
            .filter(entry_revision::Column::EntryId.eq(id))
            .filter(entry_revision::Column::Revision.eq(n))
            .one(self.content_reader())
            .await?
            .ok_or(StoreError::NotFound("revision"))
            .and_then(revision_of)
    }

    async fn entry_exists(&self, type_id: &str, id: uuid::Uuid) -> StoreResult<()> {
        let n = self
            .select::<entry::Entity>()
            .filter(entry::Column::Id.eq(id))
            .filter(entry::Column::TypeId.eq(type_id))
            .count(self.content_reader())
            .await?;
        if n == 0 { Err(StoreError::NotFound("entry")) } else { Ok(()) }
    }

    /// How many entries of a type exist (any status).
    pub async fn count_entries(&self, type_id: &str) -> StoreResult<u64> {
        Ok(self
            .select::<entry::Entity>()
            .filter(entry::Column::TypeId.eq(type_id))
            .count(self.content_reader())
            .await?)
    }
}

/// `data.field = value`, compared the way each backend stores JSON scalars.
fn unique_condition(backend: Backend, field: &FieldName, value: &Value) -> sea_orm::sea_query::SimpleExpr {
    let expr = crate::scoped::json_field(field);
    match (backend, value) {
        (Backend::Sqlite, Value::Number(n)) if n.is_i64() => expr.eq(n.as_i64().unwrap_or_default()),
        (Backend::Sqlite, Value::Number(n)) => expr.eq(n.as_f64().unwrap_or_default()),
        (_, Value::String(s)) => expr.eq(s.clone()),
        (_, other) => expr.eq(other.to_string()),
    }
}
