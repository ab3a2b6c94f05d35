//! A form as the API describes it (`GET forms/{form}`), turned into what the templates render
//! (one generic control per field kind), and the values a visitor posted turned back into the
//! JSON `data` the API expects. Field errors of the API's 422 are put next to their fields.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `FormView` of the API (plus `fill_token` on `GET forms/{form}`).
#[derive(Debug, Clone, Deserialize)]
pub struct FormView {
    pub id: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldView>,
    #[serde(default)]
    pub privacy: Option<Privacy>,
    #[serde(default)]
    pub links: Links,
    #[serde(default)]
    pub fill_token: Option<String>,
    /// The files the form takes; `None`: none (no file input).
    #[serde(default)]
    pub attachments: Option<Attachments>,
}

/// `attachments` of the API's form: how many files, how big, of which types.
#[derive(Debug, Clone, Deserialize)]
pub struct Attachments {
    pub max_files: u64,
    pub max_bytes: u64,
    #[serde(default)]
    pub types_label: String,
    #[serde(default)]
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldView {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub many: bool,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_length: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Privacy {
    pub version: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub servizio: bool,
    #[serde(default)]
    pub ente: bool,
}

/// What a visitor posted: every name with all its values, in order.
#[derive(Debug, Default, Clone)]
pub struct Posted(Vec<(String, String)>);

impl Posted {
    pub fn parse(body: &[u8]) -> Posted {
        Posted(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Posted {
        Posted(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The posted value of form field `name` (inputs are named `f.<name>`).
    pub fn field(&self, name: &str) -> Vec<&str> {
        self.all(&format!("f.{name}"))
    }
}

/// Error messages by field name (`consent` for the privacy consent, `_form` for the whole form).
pub type FieldErrors = HashMap<String, String>;

/// The `data` object of a submission from the posted values, one conversion per field kind.
/// A value that does not parse is sent as typed, so that the API reports it like any other.
pub fn data_of(form: &FormView, posted: &Posted) -> Map<String, Value> {
    let mut data = Map::new();
    for f in &form.fields {
        let raw = posted.field(&f.name);
        let one = raw.first().map(|v| v.trim()).unwrap_or("");
        let value = match f.kind.as_str() {
            "boolean" => json!(!one.is_empty()),
            "enum" if f.many => json!(raw.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect::<Vec<_>>()),
            "tags" => json!(one.split(',').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>()),
            _ if one.is_empty() => continue,
            "integer" => one.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(one)),
            "decimal" => one
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| json!(one), Value::Number),
            "datetime" if one.len() == 16 => json!(format!("{one}:00Z")),
            // text and richtext keep their line breaks; everything else is one trimmed line
            "text" | "richtext" => json!(raw.first().copied().unwrap_or("")),
            _ => json!(one),
        };
        data.insert(f.name.clone(), value);
    }
    data
}

/// The Italian message for an API error code about `field`.
pub fn message_for(code: &str, field: Option<&FieldView>, api_message: &str) -> String {
    let max_len = field.and_then(|f| f.max_length).map(fmt_number);
    match code {
        "required" | "missing_field" => "Questo campo è obbligatorio: compilalo.".into(),
        "invalid_email" => "Inserisci un indirizzo email valido, ad esempio nome@comune.it.".into(),
        "invalid_url" => "Inserisci un indirizzo web completo, che inizi con https://.".into(),
        "invalid_date" => "Inserisci una data valida (giorno, mese e anno).".into(),
        "invalid_datetime" => "Inserisci una data e un'ora valide.".into(),
        "too_long" => match max_len {
            Some(n) => format!("Il testo è troppo lungo: al massimo {n} caratteri."),
            None => "Il testo è troppo lungo.".into(),
        },
        "too_short" => "Il testo è troppo corto.".into(),
        "too_small" | "too_large" => match field.map(|f| (f.min, f.max)) {
            Some((Some(a), Some(b))) => format!("Inserisci un valore da {a} a {b}."),
            _ => "Il valore è fuori dall'intervallo ammesso.".into(),
        },
        "not_in_enum" => "Scegli uno dei valori proposti.".into(),
        "invalid_type" => match field.map(|f| f.kind.as_str()) {
            Some("integer") => "Inserisci un numero intero.".into(),
            Some("decimal") => "Inserisci un numero.".into(),
            Some("string") => "Inserisci il testo su una sola riga.".into(),
            _ => "Il valore inserito non è valido.".into(),
        },
        "pattern_mismatch" => "Il valore non ha il formato richiesto.".into(),
        "unsupported_type" | "type_mismatch" | "empty_file" => format!(
            "{} Seleziona di nuovo i file da allegare.",
            match code {
                "empty_file" => "Uno dei file è vuoto.",
                "type_mismatch" => "Il contenuto di un file non corrisponde al suo nome o al suo tipo.",
                _ => "Uno dei file non è di un tipo ammesso.",
            }
        ),
        "too_many_files" => "Hai allegato troppi file. Seleziona di nuovo i file, entro il numero indicato.".into(),
        "file_too_large" => "Un file è troppo grande. Seleziona di nuovo i file, entro la dimensione indicata.".into(),
        "attachments_not_accepted" => "Questo modulo non accetta allegati.".into(),
        "consent_required" => {
            "Per inviare la richiesta devi dichiarare di aver letto l'informativa sulla privacy.".into()
        }
        _ if !api_message.is_empty() => api_message.to_owned(),
        _ => "Il valore inserito non è valido.".into(),
    }
}

/// Field errors of an API problem document, by field name.
pub fn errors_of(form: &FormView, problem: &Value) -> FieldErrors {
    let mut out = FieldErrors::new();
    let list = problem.get("errors").and_then(Value::as_array).cloned().unwrap_or_default();
    for e in list {
        let path = e.get("field").or_else(|| e.get("path")).and_then(Value::as_str).unwrap_or("");
        let name = path.strip_prefix("data.").unwrap_or(path);
        let name = name.split(['.', '[']).next().unwrap_or(name);
        let code = e.get("code").and_then(Value::as_str).unwrap_or("");
        let message = e.get("message").and_then(Value::as_str).unwrap_or("");
        let field = form.fields.iter().find(|f| f.name == name);
        let (key, code) = match (field, name) {
            (Some(_), _) => (name, code),
            // Whatever the code, the consent's message says what to do.
            (None, "consent") => (name, "consent_required"),
            (None, "ente") if form.links.ente => ("collegamento-ente", code),
            (None, "attachments") => ("attachments", code),
            _ => ("_form", code),
        };
        out.entry(key.to_owned()).or_insert_with(|| message_for(code, field, message));
    }
    out
}

fn input_of(f: &FieldView) -> &'static str {
    match f.kind.as_str() {
        "text" | "richtext" => "textarea",
        "email" => "email",
        "url" => "url",
        "integer" | "decimal" => "number",
        "date" => "date",
        "datetime" => "datetime-local",
        "boolean" => "checkbox",
        "enum" if f.many => "checkboxes",
        "enum" if f.values.as_ref().is_some_and(|v| v.len() <= 5) => "radio",
        "enum" => "select",
        _ => "text",
    }
}

fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// The template's view of the form: every field with its control, typed value and error; the
/// error summary in field order.
pub fn view(form: &FormView, posted: Option<&Posted>, errors: &FieldErrors) -> Value {
    let mut fields = Vec::new();
    let mut summary = Vec::new();
    if let Some(m) = errors.get("_form") {
        summary.push(json!({"id": "modulo", "label": "Modulo", "message": m}));
    }
    for f in &form.fields {
        let raw: Vec<String> =
            posted.map(|p| p.field(&f.name).into_iter().map(str::to_owned).collect()).unwrap_or_default();
        let id = format!("campo-{}", f.name);
        let error = errors.get(&f.name);
        if let Some(m) = error {
            let anchor = match input_of(f) {
                "radio" | "checkboxes" => format!("{id}-0"),
                _ => id.clone(),
            };
            summary.push(json!({"id": anchor, "label": f.label, "message": m}));
        }
        let options: Vec<Value> = f
            .values
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| json!({"value": v, "id": format!("{id}-{i}"), "checked": raw.iter().any(|r| r == v)}))
            .collect();
        fields.push(json!({
            "name": f.name,
            "input_name": format!("f.{}", f.name),
            "id": id,
            "kind": f.kind,
            "input": input_of(f),
            "label": if f.label.is_empty() { &f.name } else { &f.label },
            "help": f.help,
            "required": f.required,
            "value": raw.first().cloned().unwrap_or_default(),
            "checked": raw.first().is_some_and(|v| !v.is_empty()),
            "options": options,
            "min": f.min.map(fmt_number),
            "max": f.max.map(fmt_number),
            "step": if f.kind == "decimal" { "any" } else { "1" },
            "max_length": f.max_length.map(fmt_number),
            "error": error,
        }));
    }
    if let Some(m) = errors.get("collegamento-ente") {
        summary.push(json!({"id": "collegamento-ente", "label": "Ente", "message": m}));
    }
    let attachments = form.attachments.as_ref().map(|a| {
        let error = errors.get("attachments");
        if let Some(m) = error {
            summary.push(json!({"id": "campo-allegati", "label": "Allegati", "message": m}));
        }
        let mb = a.max_bytes as f64 / (1024.0 * 1024.0);
        json!({
            "id": "campo-allegati",
            "max_files": a.max_files,
            "max_size": if mb >= 1.0 { format!("{} MB", fmt_number((mb * 10.0).round() / 10.0)) } else { format!("{} KB", a.max_bytes.div_ceil(1024)) },
            "types_label": a.types_label,
            "accept": a.extensions.join(","),
            "error": error,
        })
    });
    if let Some(m) = errors.get("consent") {
        summary.push(json!({"id": "campo-consenso", "label": "Informativa sulla privacy", "message": m}));
    }
    json!({
        "id": form.id,
        "purpose": form.purpose,
        "title": form.title,
        "description": form.description,
        "fields": fields,
        "attachments": attachments,
        "privacy": form.privacy.as_ref().map(|p| json!({"version": p.version, "label": p.label, "url": p.url})),
        "consent_checked": posted.is_some_and(|p| p.get("consent").is_some()),
        "consent_error": errors.get("consent"),
        "ente_error": errors.get("collegamento-ente"),
        "form_error": errors.get("_form"),
        "summary": summary,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn form() -> FormView {
        serde_json::from_value(json!({
            "id": "contatti", "purpose": "contact", "title": "Scrivici",
            "fields": [
                {"name": "nome", "kind": "string", "label": "Nome", "required": true},
                {"name": "email", "kind": "email", "label": "Email", "required": true},
                {"name": "eta", "kind": "integer", "label": "Età"},
                {"name": "temi", "kind": "enum", "label": "Temi", "values": ["a", "b"], "many": true},
                {"name": "ok", "kind": "boolean", "label": "Ok"},
                {"name": "messaggio", "kind": "text", "label": "Messaggio", "max_length": 10.0}
            ],
            "privacy": {"version": "2026-01", "label": "Informativa", "url": "/privacy"}
        }))
        .unwrap()
    }

    #[test]
    fn posted_values_become_typed_data() {
        let p = Posted::parse(b"f.nome=+Ada+&f.email=&f.eta=42&f.temi=a&f.temi=b&f.messaggio=riga1%0Ariga2");
        let data = data_of(&form(), &p);
        assert_eq!(data.get("nome"), Some(&json!("Ada")));
        assert_eq!(data.get("email"), None, "an empty value is left out: the API says it is required");
        assert_eq!(data.get("eta"), Some(&json!(42)));
        assert_eq!(data.get("temi"), Some(&json!(["a", "b"])));
        assert_eq!(data.get("ok"), Some(&json!(false)));
        assert_eq!(data.get("messaggio"), Some(&json!("riga1\nriga2")));
        let bad = data_of(&form(), &Posted::parse(b"f.eta=tanti"));
        assert_eq!(bad.get("eta"), Some(&json!("tanti")), "sent as typed, for the API to refuse");
    }

    #[test]
    fn api_errors_go_next_to_their_fields_with_the_values_kept() {
        let problem = json!({"code": "validation_failed", "errors": [
            {"field": "data.email", "code": "required", "message": "a value is required"},
            {"field": "messaggio", "code": "too_long", "message": "too long"},
            {"field": "consent", "code": "consent_required", "message": "x"},
            {"field": "boh", "code": "weird", "message": "Qualcosa non va"}
        ]});
        let f = form();
        let errors = errors_of(&f, &problem);
        assert_eq!(errors.get("email").map(String::as_str), Some("Questo campo è obbligatorio: compilalo."));
        assert!(errors["messaggio"].contains("10 caratteri"));
        assert!(errors.contains_key("consent"));
        assert_eq!(errors.get("_form").map(String::as_str), Some("Qualcosa non va"));
        let p = Posted::parse(b"f.nome=Ada&f.temi=b");
        let v = view(&f, Some(&p), &errors);
        let fields = v["fields"].as_array().unwrap();
        assert_eq!(fields[0]["value"], "Ada");
        assert_eq!(fields[1]["error"], "Questo campo è obbligatorio: compilalo.");
        assert_eq!(fields[3]["options"][1]["checked"], true);
        let summary: Vec<&str> = v["summary"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(summary, vec!["modulo", "campo-email", "campo-messaggio", "campo-consenso"]);
    }
}
