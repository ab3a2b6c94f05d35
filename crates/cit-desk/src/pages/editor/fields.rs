//! The editor's inputs, one per field of the content type, and the way back: the posted form
//! read as entry data. What the form cannot say right (a number that is not one, JSON that does
//! not parse, half a geopoint) is an error of its field before anything is sent.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::super::Posted;
use crate::api::FieldError;
use crate::model::{ContentType, Field};

/// The kinds with an input of their own (a `reference` to many is a list of check boxes;
/// the other kinds of list are kept as they are).
const EDITABLE: [&str; 17] = [
    "string",
    "text",
    "richtext",
    "slug",
    "email",
    "url",
    "enum",
    "date",
    "datetime",
    "integer",
    "decimal",
    "boolean",
    "tags",
    "reference",
    "media",
    "geopoint",
    "json",
];

/// Whether the editor has an input for `field`.
pub fn editable(field: &Field) -> bool {
    EDITABLE.contains(&field.kind.as_str()) && (!field.many || field.kind == "reference")
}

/// One choice of a picker: an entry to reference, or a media item of the library.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub checked: bool,
    /// A media item's thumbnail, from the desk's own origin.
    pub thumb: Option<String>,
    /// A line under the title (status, file type).
    pub meta: String,
}

/// One input of the form.
#[derive(Debug, Serialize)]
pub struct Input {
    pub name: String,
    pub label: String,
    pub help: Option<String>,
    pub kind: String,
    pub required: bool,
    pub many: bool,
    pub values: Vec<String>,
    /// The value as the input shows it.
    pub value: String,
    pub checked: bool,
    pub editable: bool,
    pub max: Option<f64>,
    /// A geopoint's two halves.
    pub lat: String,
    pub lon: String,
    /// The ids a reference or media field holds now.
    pub selected: Vec<String>,
    /// What a picker offers: the selected items first, then search results or suggestions.
    pub choices: Vec<Choice>,
    /// The search typed in a reference picker.
    pub search: String,
    /// Whether the choices after the selected ones are results of `search`.
    pub searched: bool,
    /// A media field's upload: the alt text and title typed with it.
    pub alt: String,
    pub upload_title: String,
    /// The value of the entry being translated, shown beside the input.
    pub source: Option<String>,
    /// A rich text field's preview (sanitised HTML), when one was asked for.
    pub preview: Option<String>,
}

/// The ids a stored reference or media value holds (expanded references are objects with an id).
fn ids_of(v: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A stored value as the input of its kind shows it.
pub fn shown(field: &Field, v: Option<&Value>) -> String {
    match (field.kind.as_str(), v) {
        (_, None | Some(Value::Null)) => String::new(),
        ("datetime", Some(Value::String(s))) => local_input(s),
        ("tags", Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        ("json", Some(v)) => serde_json::to_string_pretty(v).unwrap_or_default(),
        ("geopoint", Some(Value::Object(p))) => {
            let part = |k: &str| p.get(k).map(Value::to_string).unwrap_or_default();
            format!("{}, {}", part("lat"), part("lon"))
        }
        ("reference" | "media", Some(v)) => ids_of(Some(v)).join(", "),
        (_, Some(Value::String(s))) => s.clone(),
        (_, Some(other)) => other.to_string(),
    }
}

/// An RFC 3339 time as a `datetime-local` input shows it (UTC, to the second).
pub fn local_input(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

/// A `datetime-local` value (to the minute or the second) as RFC 3339 UTC; `None` if it is not one.
pub fn from_local_input(text: &str) -> Option<String> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The inputs of `ct` showing `data` (a stored entry, or nothing for a new one), or what was
/// typed (`typed`) when a form comes back; `source` is the entry being translated.
pub fn inputs(
    ct: &ContentType,
    data: &Map<String, Value>,
    typed: Option<&Posted>,
    source: Option<&Map<String, Value>>,
) -> Vec<Input> {
    ct.definition
        .fields
        .iter()
        .map(|f| {
            let editable = editable(f);
            let key = format!("f.{}", f.name);
            let typed = typed.filter(|_| editable);
            let value = match typed {
                Some(p) => p.get(&key).unwrap_or_default().to_owned(),
                None => shown(f, data.get(&f.name)),
            };
            let checked = match typed {
                Some(p) => p.get(&key).is_some(),
                None => data.get(&f.name).and_then(Value::as_bool).unwrap_or(false),
            };
            let (lat, lon) = match (typed, data.get(&f.name)) {
                (Some(p), _) => (
                    p.get(&format!("{key}.lat")).unwrap_or_default().to_owned(),
                    p.get(&format!("{key}.lon")).unwrap_or_default().to_owned(),
                ),
                (None, Some(Value::Object(point))) => {
                    let part = |k: &str| point.get(k).map(Value::to_string).unwrap_or_default();
                    (part("lat"), part("lon"))
                }
                _ => (String::new(), String::new()),
            };
            let selected = match typed {
                Some(p) => {
                    let mut ids: Vec<String> =
                        p.all(&key).into_iter().filter(|v| !v.is_empty()).map(str::to_owned).collect();
                    ids.dedup();
                    ids
                }
                None => ids_of(data.get(&f.name)),
            };
            let text = |prefix: &str| typed.and_then(|p| p.get(&format!("{prefix}.{}", f.name))).unwrap_or_default();
            Input {
                name: f.name.clone(),
                label: f.label().to_owned(),
                help: f.description.clone(),
                kind: f.kind.clone(),
                required: f.required,
                many: f.many,
                values: f.values.clone(),
                value,
                checked,
                editable,
                max: f.max,
                lat,
                lon,
                selected,
                choices: Vec::new(),
                search: text("q").to_owned(),
                searched: false,
                alt: text("alt").to_owned(),
                upload_title: text("title").to_owned(),
                source: source.map(|s| shown(f, s.get(&f.name))).filter(|s| !s.is_empty()),
                preview: None,
            }
        })
        .collect()
}

fn number(text: &str) -> Option<f64> {
    text.replace(',', ".").parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The form's values as entry data: every editable field (empty ones as null, so that an edit
/// can clear them). A value the form cannot make right is an error of its field. Media fields
/// take the choice of the picker; an upload in the same post is put in by the caller.
pub fn data_of(ct: &ContentType, form: &Posted, errors: &mut Vec<FieldError>) -> Map<String, Value> {
    let mut data = Map::new();
    for f in ct.definition.fields.iter().filter(|f| editable(f)) {
        let key = format!("f.{}", f.name);
        let raw = form.get(&key).unwrap_or_default();
        let text = raw.trim();
        let mut error = |message: String| {
            errors.push(FieldError { field: format!("data.{}", f.name), code: "invalid_type".into(), message })
        };
        let value = match f.kind.as_str() {
            "boolean" => Value::Bool(!raw.is_empty()),
            "reference" => {
                let mut ids: Vec<&str> = form.all(&key).into_iter().map(str::trim).filter(|v| !v.is_empty()).collect();
                ids.dedup();
                match (f.many, ids.first()) {
                    (true, _) => json!(ids),
                    (false, Some(id)) => json!(id),
                    (false, None) => Value::Null,
                }
            }
            "geopoint" => {
                let lat = form.get(&format!("{key}.lat")).unwrap_or_default().trim();
                let lon = form.get(&format!("{key}.lon")).unwrap_or_default().trim();
                match (lat.is_empty(), lon.is_empty()) {
                    (true, true) => Value::Null,
                    _ => match (number(lat), number(lon)) {
                        (Some(lat), Some(lon)) => json!({ "lat": lat, "lon": lon }),
                        _ => {
                            error("Scrivi latitudine e longitudine come numeri (per esempio 40,35 e 18,17).".into());
                            continue;
                        }
                    },
                }
            }
            _ if text.is_empty() => Value::Null,
            "integer" => match text.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    error("Inserisci un numero intero.".into());
                    continue;
                }
            },
            "decimal" => match number(text) {
                Some(n) => json!(n),
                None => {
                    error("Inserisci un numero (per esempio 12,5).".into());
                    continue;
                }
            },
            "json" => match serde_json::from_str::<Value>(text) {
                Ok(v) => v,
                Err(e) => {
                    error(format!("Non è JSON valido (riga {}, colonna {}).", e.line(), e.column()));
                    continue;
                }
            },
            "datetime" => from_local_input(text).map(Value::String).unwrap_or_else(|| json!(text)),
            "tags" => {
                Value::Array(text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| json!(t)).collect())
            }
            "richtext" | "text" => json!(raw.replace("\r\n", "\n")),
            _ => json!(text),
        };
        data.insert(f.name.clone(), value);
    }
    data
}

/// Markdown as the desk previews it: CommonMark with tables and strikethrough, sanitised. The
/// API renders the stored text itself; this is only what the editor shows before saving.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut out = String::new();
    html::push_html(&mut out, parser);
    ammonia::clean(&out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ct() -> ContentType {
        serde_json::from_value(json!({
            "api_id": "luogo",
            "definition": { "singular": "Luogo", "plural": "Luoghi", "fields": [
                { "name": "title", "kind": "string" },
                { "name": "geo", "kind": "geopoint" },
                { "name": "extra", "kind": "json" },
                { "name": "argomenti", "kind": "reference", "to": "argomento", "many": true },
                { "name": "office", "kind": "reference", "to": "luogo" },
                { "name": "image", "kind": "media" },
                { "name": "when", "kind": "datetime" }
            ]}
        }))
        .unwrap()
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted { pairs: pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(), files: Vec::new() }
    }

    #[test]
    fn the_form_is_read_back_as_data() {
        let mut errors = Vec::new();
        let form = posted(&[
            ("f.title", " Piazza "),
            ("f.geo.lat", "40,35"),
            ("f.geo.lon", "18.17"),
            ("f.extra", "{\"a\": [1, 2]}"),
            ("f.argomenti", "a1"),
            ("f.argomenti", "b2"),
            ("f.office", ""),
            ("f.image", "m1"),
            ("f.when", "2026-12-24T10:30"),
        ]);
        let data = data_of(&ct(), &form, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(data["title"], json!("Piazza"));
        assert_eq!(data["geo"], json!({ "lat": 40.35, "lon": 18.17 }));
        assert_eq!(data["extra"], json!({ "a": [1, 2] }));
        assert_eq!(data["argomenti"], json!(["a1", "b2"]));
        assert_eq!(data["office"], Value::Null);
        assert_eq!(data["image"], json!("m1"));
        assert_eq!(data["when"], json!("2026-12-24T10:30:00Z"));
    }

    #[test]
    fn what_the_form_cannot_say_is_an_error_of_its_field() {
        let mut errors = Vec::new();
        let form = posted(&[("f.geo.lat", "40"), ("f.geo.lon", ""), ("f.extra", "{oops")]);
        let data = data_of(&ct(), &form, &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["data.geo", "data.extra"]);
        assert!(!data.contains_key("geo") && !data.contains_key("extra"));
    }

    #[test]
    fn stored_values_fill_their_inputs() {
        let data = json!({
            "geo": { "lat": 40.35, "lon": 18.17 },
            "argomenti": [{ "id": "a1", "data": {} }, "b2"],
            "when": "2026-12-24T10:30:00Z",
        });
        let inputs = inputs(&ct(), data.as_object().unwrap(), None, None);
        let by = |n: &str| inputs.iter().find(|i| i.name == n).unwrap();
        assert_eq!((by("geo").lat.as_str(), by("geo").lon.as_str()), ("40.35", "18.17"));
        assert_eq!(by("argomenti").selected, ["a1", "b2"]);
        assert_eq!(by("when").value, "2026-12-24T10:30:00");
        assert!(by("image").editable && by("argomenti").editable);
    }

    #[test]
    fn the_preview_is_sanitised() {
        let html = markdown("**forte** <script>alert(1)</script>");
        assert!(html.contains("<strong>forte</strong>"));
        assert!(!html.contains("<script"));
    }
}
