//! The API's documents as the site reads them: typed structs of the site's own (it shares no
//! code with the API). Page code reads these fields; templates receive each entry exactly as the
//! API sent it (an [`Entry`] serialises back to its document), so a field a template shows never
//! has to be declared here first.
//!
//! Reading is lenient on purpose: a field of an unexpected shape (stored data edited by hand, a
//! field the content model dropped) reads as absent, as it did when the pages looked into raw
//! JSON, and never fails the page.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

// ---- lenient field readers ----------------------------------------------------------------

mod lenient {
    use super::*;

    /// A string, or absent when the value is anything else.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            _ => None,
        })
    }

    /// A string, or "" when the value is anything else.
    pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(string(d)?.unwrap_or_default())
    }

    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(Value::deserialize(d)?.as_i64())
    }

    pub fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(Value::deserialize(d)?.as_u64())
    }

    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(Value::deserialize(d)?.as_bool())
    }

    /// A list of strings (other items skipped), or absent when the value is not a list.
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => Some(
                items
                    .into_iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
    }

    /// An object read as `T`, or absent when the value is not an object (e.g. a reference that
    /// was not expanded is only an id).
    pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
        Ok(match Value::deserialize(d)? {
            v @ Value::Object(_) => serde_json::from_value(v).ok(),
            _ => None,
        })
    }

    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Number>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => Some(n),
            _ => None,
        })
    }
}

// ---- entries ------------------------------------------------------------------------------

/// The envelope every entry has, whatever its type.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct Envelope<D> {
    #[serde(deserialize_with = "lenient::string_or_empty")]
    id: String,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    slug: String,
    #[serde(deserialize_with = "lenient::string")]
    locale: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    published_at: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    updated_at: Option<String>,
    data: D,
}

/// One entry of the API with its `data` read as `D` (one of the preset types below).
#[derive(Debug, Clone)]
pub struct Entry<D> {
    pub id: String,
    pub slug: String,
    pub locale: Option<String>,
    pub published_at: Option<String>,
    pub updated_at: Option<String>,
    pub data: D,
    /// The document as the API sent it: what templates are given.
    raw: Value,
}

impl<D: DeserializeOwned + Default> Entry<D> {
    /// Reads an entry document; `None` when it is not an object.
    pub fn from_value(raw: Value) -> Option<Entry<D>> {
        if !raw.is_object() {
            return None;
        }
        // A `data` that is not an object reads as an entry without fields.
        let env: Envelope<D> = match serde_json::from_value(raw.clone()) {
            Ok(env) => env,
            Err(_) => {
                let mut bare = raw.clone();
                if let Some(o) = bare.as_object_mut() {
                    o.remove("data");
                }
                serde_json::from_value(bare).ok()?
            }
        };
        Some(Entry {
            id: env.id,
            slug: env.slug,
            locale: env.locale,
            published_at: env.published_at,
            updated_at: env.updated_at,
            data: env.data,
            raw,
        })
    }
}

impl<D> Serialize for Entry<D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de, D: DeserializeOwned + Default> Deserialize<'de> for Entry<D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        Entry::from_value(Value::deserialize(d)?).ok_or_else(|| serde::de::Error::custom("an entry is an object"))
    }
}

impl<D: Titled> Entry<D> {
    /// The entry's title, "" when it has none.
    pub fn title(&self) -> String {
        self.data.title().unwrap_or("").to_owned()
    }
}

/// Data of any type that has a title.
pub trait Titled {
    fn title(&self) -> Option<&str>;
}

macro_rules! titled {
    ($($t:ty),*) => {$(
        impl Titled for $t {
            fn title(&self) -> Option<&str> {
                self.title.as_deref()
            }
        }
    )*};
}

/// A point on the map (`location` fields). The numbers are kept as the API wrote them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct GeoPoint {
    #[serde(deserialize_with = "lenient::number")]
    pub lat: Option<Number>,
    #[serde(deserialize_with = "lenient::number")]
    pub lon: Option<Number>,
}

/// Types with only a title and a summary (`documento`, `pillola`), and what every page reads.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Basic {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
}

/// `pagina`: a static page of the site's tree.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Pagina {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
    /// Id of the parent page.
    #[serde(deserialize_with = "lenient::string")]
    pub parent: Option<String>,
    #[serde(deserialize_with = "lenient::int")]
    pub menu_order: Option<i64>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub show_in_menu: Option<bool>,
}

/// `servizio`: a service of the catalogue.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Servizio {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub category: Option<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub audience: Option<Vec<String>>,
    #[serde(deserialize_with = "lenient::string")]
    pub access_url: Option<String>,
}

/// `notizia`: a news article.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Notizia {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub author_name: Option<String>,
}

/// `evento`: an event, with its place when the reference is expanded.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Evento {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub start: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub end: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub place: Option<Box<Entry<Luogo>>>,
    #[serde(deserialize_with = "lenient::string")]
    pub online_room_url: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub organizer: Option<String>,
}

/// `progetto`: a project.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Progetto {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub project_status: Option<String>,
}

/// `ente`: a member body of the community.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Ente {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub website: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub pec: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub role: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub location: Option<GeoPoint>,
}

/// `luogo`: an office or help desk.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Luogo {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub address: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub city: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub postal_code: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub province: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub phone: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub location: Option<GeoPoint>,
}

/// `argomento`: a topic.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Argomento {
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub description: Option<String>,
}

titled!(Basic, Pagina, Servizio, Notizia, Evento, Progetto, Ente, Luogo, Argomento);

// ---- other documents ----------------------------------------------------------------------

/// A page of entries (`GET …/entries/{type}`).
#[derive(Debug, Clone)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List { items: Vec::new(), next_cursor: None }
    }
}

impl<D: DeserializeOwned + Default> List<Entry<D>> {
    /// Reads a list document; items that are not entries are skipped, a document without a
    /// `data` list is an empty list.
    pub fn from_value(doc: &Value) -> List<Entry<D>> {
        let items = match doc.get("data") {
            Some(Value::Array(items)) => items.iter().cloned().filter_map(Entry::from_value).collect(),
            _ => Vec::new(),
        };
        let next_cursor = match doc.get("next_cursor") {
            Some(Value::String(c)) => Some(c.clone()),
            _ => None,
        };
        List { items, next_cursor }
    }
}

/// The public profile of a tenant (`GET /api/v1/t/{tenant}`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct TenantProfile {
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    #[serde(deserialize_with = "lenient::strings")]
    pub locales: Option<Vec<String>>,
}

/// One hit of the tenant's full-text search.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SearchHit {
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub type_id: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub title: Option<String>,
    /// HTML-escaped text with `<mark>` around the matches.
    #[serde(deserialize_with = "lenient::string")]
    pub snippet: Option<String>,
}

/// An answer of `GET …/search`.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub total: u64,
    pub hits: Vec<SearchHit>,
}

impl SearchResults {
    pub fn from_value(doc: &Value) -> SearchResults {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Doc {
            #[serde(deserialize_with = "lenient::uint")]
            total: Option<u64>,
            data: Value,
        }
        let parsed: Doc = serde_json::from_value(doc.clone()).unwrap_or_default();
        let hits = match parsed.data {
            Value::Array(items) => items.into_iter().filter_map(|h| serde_json::from_value(h).ok()).collect(),
            _ => Vec::new(),
        };
        SearchResults { total: parsed.total.unwrap_or(0), hits }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn an_entry_serialises_back_to_the_document_it_was_read_from() {
        let doc = json!({"id": "1", "slug": "a", "data": {"title": "A", "extra": [1, 2], "summary": null}, "html": {}});
        let e: Entry<Basic> = Entry::from_value(doc.clone()).unwrap();
        assert_eq!(e.title(), "A");
        assert_eq!(e.data.summary, None);
        assert_eq!(serde_json::to_value(&e).unwrap(), doc);
    }

    #[test]
    fn fields_of_an_unexpected_shape_read_as_absent() {
        let doc =
            json!({"id": 7, "slug": "s", "data": {"title": 3, "menu_order": "x", "place": "uuid", "audience": "x"}});
        let p: Entry<Pagina> = Entry::from_value(doc.clone()).unwrap();
        assert_eq!((p.id.as_str(), p.data.title, p.data.menu_order), ("", None, None));
        let e: Entry<Evento> = Entry::from_value(doc.clone()).unwrap();
        assert!(e.data.place.is_none());
        let s: Entry<Servizio> = Entry::from_value(doc).unwrap();
        assert!(s.data.audience.is_none());
        let bare: Entry<Basic> = Entry::from_value(json!({"slug": "x", "data": "nope"})).unwrap();
        assert_eq!(bare.slug, "x");
        assert!(Entry::<Basic>::from_value(json!("x")).is_none());
    }

    #[test]
    fn an_expanded_place_is_an_entry() {
        let doc = json!({"slug": "e", "data": {"place": {"id": "p", "slug": "sede", "data": {"title": "Sede", "city": "Lecce", "location": {"lat": 40, "lon": 18.1}}}}});
        let e: Entry<Evento> = Entry::from_value(doc).unwrap();
        let place = e.data.place.unwrap();
        assert_eq!(place.data.city.as_deref(), Some("Lecce"));
        let loc = place.data.location.unwrap();
        assert_eq!(json!(loc.lat), json!(40));
    }

    #[test]
    fn lists_and_search_results_skip_what_they_cannot_read() {
        let list: List<Entry<Basic>> =
            List::from_value(&json!({"data": [{"slug": "a"}, 3, {"slug": "b"}], "next_cursor": "c"}));
        assert_eq!(list.items.iter().map(|e| e.slug.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(list.next_cursor.as_deref(), Some("c"));
        assert!(List::<Entry<Basic>>::from_value(&json!({"data": {}})).items.is_empty());
        let r = SearchResults::from_value(&json!({"total": 2, "data": [{"type": "servizio", "slug": "x"}, 5]}));
        assert_eq!((r.total, r.hits.len()), (2, 1));
        assert_eq!(SearchResults::from_value(&json!(null)).total, 0);
    }
}
