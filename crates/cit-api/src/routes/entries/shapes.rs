//! The shapes of entries on the wire: what is written, what is read back, revisions and diffs.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cit_core::content::{ContentType, FieldKind, Slug};
use cit_store::{Entry, Revision};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::render::markdown_to_html;

/// An entry as written. Only `data` is required; on update every key is optional and `data`
/// is merged into the current data key by key (a key set to null clears that field).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryWrite {
    #[schema(value_type = Object)]
    pub data: Option<Map<String, Value>>,
    /// Defaults to the tenant's first locale.
    pub locale: Option<String>,
    /// Defaults to one derived from the title (accents folded: "Attività" → "attivita").
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<Slug>,
    /// draft (default), published or archived.
    #[schema(schema_with = crate::openapi::shapes::entry_status)]
    pub status: Option<String>,
    /// When a draft becomes published by itself. Null clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    /// When a published entry becomes archived by itself. Null clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    /// On create: the id of the entry (same type) this one translates.
    pub translation_of: Option<uuid::Uuid>,
    /// On update: the revision you read; a 409 `stale` answers if somebody saved since.
    pub revision: Option<i32>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranslationView {
    pub locale: String,
    pub id: uuid::Uuid,
    pub slug: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub type_id: String,
    pub locale: String,
    pub slug: String,
    pub status: String,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// Richtext fields rendered to sanitised HTML.
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub html: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub translation_group: uuid::Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<Vec<TranslationView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryList {
    pub data: Vec<EntryView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    pub revision: i32,
    pub slug: String,
    pub status: String,
    /// created, updated, published, unpublished, archived, restored:N, scheduled_publish, scheduled_unpublish.
    pub note: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

impl From<Revision> for RevisionView {
    fn from(r: Revision) -> Self {
        Self {
            revision: r.revision,
            slug: r.slug,
            status: r.status.as_str().to_owned(),
            note: r.note,
            author: r.author,
            created_at: r.created_at,
            data: r.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    /// Any JSON value; null when the field was not set.
    pub before: Value,
    /// Any JSON value; null when the field is not set.
    pub after: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffView {
    pub from: i32,
    pub to: i32,
    pub changes: Vec<FieldChange>,
}

pub(super) fn view(ct: &ContentType, e: Entry, fields: Option<&HashSet<String>>) -> EntryView {
    let mut data = e.data;
    if let Some(keep) = fields {
        data.retain(|k, _| keep.contains(k));
    }
    let mut html = Map::new();
    for f in &ct.fields {
        if f.kind == FieldKind::Richtext
            && let Some(Value::String(md)) = data.get(f.name.as_str())
        {
            html.insert(f.name.to_string(), Value::String(markdown_to_html(md)));
        }
    }
    EntryView {
        id: e.id.0,
        type_id: e.type_id,
        locale: e.locale,
        slug: e.slug,
        status: e.status.as_str().to_owned(),
        data,
        html,
        created_at: e.created_at,
        updated_at: e.updated_at,
        published_at: e.published_at,
        publish_at: e.publish_at,
        unpublish_at: e.unpublish_at,
        revision: e.revision,
        translation_group: e.translation_group,
        translations: None,
    }
}

pub(super) fn summary(e: &Entry) -> Value {
    serde_json::json!({"id": e.id.0, "type": e.type_id, "slug": e.slug, "locale": e.locale, "status": e.status.as_str(), "data": e.data})
}
