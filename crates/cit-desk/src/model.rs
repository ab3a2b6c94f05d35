//! The API's answers as the desk reads them: its own types (it depends on no cit crate), with
//! every field the pages do not need left in `extra` so that nothing is lost on a round trip.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"data": [...], "next_cursor": ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `GET …/content-types/{api_id}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ContentType {
    pub api_id: String,
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub updated_at: Option<String>,
    pub definition: Definition,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Definition {
    #[serde(default)]
    pub singular: String,
    #[serde(default)]
    pub plural: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One field of a content type, as `schema/README.md` describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub many: bool,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Field {
    /// What editors see: the label, else the name.
    pub fn label(&self) -> &str {
        self.label.as_deref().filter(|l| !l.is_empty()).unwrap_or(&self.name)
    }
}

impl ContentType {
    /// The field that names an entry in lists: `title`, `name`, `nome`, else the first string field.
    pub fn title_field(&self) -> Option<&str> {
        let fields = &self.definition.fields;
        ["title", "titolo", "name", "nome"]
            .iter()
            .find_map(|n| fields.iter().find(|f| f.name == *n))
            .or_else(|| fields.iter().find(|f| f.kind == "string"))
            .map(|f| f.name.as_str())
    }

    /// The display name of an entry of this type.
    pub fn title_of(&self, entry: &Entry) -> String {
        self.title_field()
            .and_then(|f| entry.data.get(f))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| if entry.slug.is_empty() { "(senza titolo)".to_owned() } else { entry.slug.clone() })
    }

    /// The plural name, else the api id.
    pub fn plural(&self) -> &str {
        if self.definition.plural.is_empty() { &self.api_id } else { &self.definition.plural }
    }

    pub fn singular(&self) -> &str {
        if self.definition.singular.is_empty() { &self.api_id } else { &self.definition.singular }
    }
}

/// An entry as the API reads it out.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(rename = "type")]
    pub type_id: String,
    #[serde(default)]
    pub locale: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub data: Map<String, Value>,
    #[serde(default)]
    pub html: Option<Map<String, Value>>,
    #[serde(default)]
    pub publish_at: Option<String>,
    #[serde(default)]
    pub unpublish_at: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub translation_group: Option<String>,
    #[serde(default)]
    pub translations: Vec<Value>,
    /// Who wrote the latest revision (`user:<id>`), when the API says.
    #[serde(default)]
    pub author: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Entry {
    /// `scheduled` for a draft with a publication time, else the status.
    pub fn shown_status(&self) -> &str {
        if self.status == "draft" && self.publish_at.is_some() { "scheduled" } else { &self.status }
    }
}

/// A file of the media library (`GET …/media`, `GET …/media/{id}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MediaItem {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub alt: Option<String>,
    #[serde(default)]
    pub credits: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl MediaItem {
    /// Raster images and SVG: shown as pictures, and they need alternative text.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }

    /// The title, else the file name.
    pub fn name(&self) -> &str {
        if self.title.is_empty() { &self.filename } else { &self.title }
    }
}

/// An entry that uses a file (`GET …/media/{id}/uses`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MediaUse {
    pub id: String,
    #[serde(rename = "type")]
    pub type_id: String,
    #[serde(default)]
    pub locale: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub title: Option<String>,
}
