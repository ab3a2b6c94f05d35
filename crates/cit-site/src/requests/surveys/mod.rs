//! Surveys on the partner site, without JavaScript:
//! - `GET/POST /questionari/{slug}/invito/{secret}`: a member body's own link. The form shows
//!   every section and question with what was saved before; "Salva la bozza" keeps the answers
//!   to come back to (nothing is required), "Invia le risposte" sends them for good. A question
//!   with a condition says when to answer it (the API drops answers it hides). Refusals show
//!   next to their questions, the typed answers kept.
//! - `GET/POST /questionari/{slug}`: an anonymous survey, answered all at once with a fill token
//!   and a honeypot (404 for a survey answered through invitations).
//! - `GET /questionari/{slug}/risultati`: the results of a survey whose results are public:
//!   per question the summary, the chart (SVG drawn by the API) and the same numbers as a table.
//! - `GET /questionari`: the surveys, with links to the public results.
//!
//! The form (its view, the posted answers, the refusals) is here; the pages that answer in
//! `answering.rs`, the results and the list in `results.rs`.

use serde_json::{Map, Value, json};

mod answering;
mod results;

pub use answering::{anonymous, invitation};
pub use results::{index, results};

use super::forms::{FieldErrors, Posted};
use super::{client, crumbs, refusal_message};
use crate::pages::Page;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn questions(survey: &Value) -> impl Iterator<Item = &Value> {
    survey
        .get("sections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| s.get("questions").and_then(Value::as_array).into_iter().flatten())
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The form field of a matrix row.
fn row_field(q: &str, row: &str) -> String {
    format!("{q}__{row}")
}

/// The answers of a posted form, as the API takes them. What does not parse goes as typed, so
/// that the API says what is wrong with it.
fn answers_of(survey: &Value, posted: &Posted) -> Value {
    let mut out = Map::new();
    for q in questions(survey) {
        let name = text(q, "name");
        let value = match text(q, "kind") {
            "multiple" => {
                let chosen: Vec<Value> = posted.all(name).into_iter().map(|s| json!(s)).collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            "scale" => posted
                .get(name)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u64>().map(Value::from).unwrap_or(json!(s))),
            "number" => posted.get(name).map(str::trim).filter(|s| !s.is_empty()).map(|s| {
                let s = s.replace(',', ".");
                match (s.parse::<i64>(), s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)) {
                    (Ok(i), _) => Value::from(i),
                    (_, Some(n)) => Value::Number(n),
                    _ => json!(s),
                }
            }),
            "matrix" => {
                let rows: Map<String, Value> = list(q, "rows")
                    .iter()
                    .filter_map(|r| {
                        let row = text(r, "value");
                        let point = posted.get(&row_field(name, row)).filter(|s| !s.is_empty())?;
                        Some((row.to_owned(), point.parse::<u64>().map(Value::from).unwrap_or(json!(point))))
                    })
                    .collect();
                (!rows.is_empty()).then_some(Value::Object(rows))
            }
            _ => posted.get(name).filter(|s| !s.trim().is_empty()).map(|s| json!(s)),
        };
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    Value::Object(out)
}

fn message(code: &str, q: &Value) -> String {
    match code {
        "required" => "Rispondi a questa domanda.".into(),
        "not_in_enum" => "Scegli una delle opzioni proposte.".into(),
        "out_of_range" => "Scegli un valore da 1 a 5.".into(),
        "too_small" => {
            format!("Il numero deve essere almeno {}.", q.get("min").map(Value::to_string).unwrap_or_default())
        }
        "too_large" => {
            format!("Il numero deve essere al massimo {}.", q.get("max").map(Value::to_string).unwrap_or_default())
        }
        "too_long" => "Il testo è troppo lungo.".into(),
        "invalid_type" if text(q, "kind") == "number" => "Scrivi un numero, per esempio 12 o 3,5.".into(),
        _ => "La risposta non è valida.".into(),
    }
}

/// The problem's errors by question name (`answers.aree.dati` belongs to `aree`).
fn errors_of(survey: &Value, problem: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for e in list(problem, "errors") {
        let field = text(e, "field");
        let Some(name) = field.strip_prefix("answers.").and_then(|f| f.split('.').next()) else { continue };
        if let Some(q) = questions(survey).find(|q| text(q, "name") == name) {
            errors.entry(name.to_owned()).or_insert_with(|| message(text(e, "code"), q));
        }
    }
    errors
}

/// "Rispondi solo se…": the condition of a question, in words.
fn condition_text(survey: &Value, q: &Value) -> Option<String> {
    let cond = q.get("show_if")?;
    let on = questions(survey).find(|p| text(p, "name") == text(cond, "question"))?;
    let labels: Vec<String> = list(cond, "any_of")
        .iter()
        .filter_map(Value::as_str)
        .map(|v| {
            let label =
                list(on, "options").iter().find(|o| text(o, "value") == v).map(|o| text(o, "label")).unwrap_or(v);
            format!("«{label}»")
        })
        .collect();
    Some(format!("Rispondi solo se alla domanda «{}» hai risposto {}.", text(on, "label"), labels.join(" o ")))
}

/// The view of every section and question, with the values to show.
fn sections_view(survey: &Value, values: &Value, errors: &FieldErrors) -> Vec<Value> {
    list(survey, "sections")
        .iter()
        .map(|s| {
            let qs: Vec<Value> = list(s, "questions")
                .iter()
                .map(|q| {
                    let name = text(q, "name");
                    let v = values.get(name);
                    let is = |x: &str| match v {
                        Some(Value::String(s)) => s == x,
                        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(x)),
                        Some(Value::Number(n)) => n.to_string() == x,
                        _ => false,
                    };
                    let options: Vec<Value> = list(q, "options")
                        .iter()
                        .enumerate()
                        .map(|(i, o)| json!({"value": text(o, "value"), "label": text(o, "label"), "id": format!("domanda-{name}-{i}"), "checked": is(text(o, "value"))}))
                        .collect();
                    let points: Vec<Value> =
                        (1..=5).map(|p| json!({"value": p, "id": format!("domanda-{name}-{p}"), "checked": is(&p.to_string())})).collect();
                    let rows: Vec<Value> = list(q, "rows")
                        .iter()
                        .map(|r| {
                            let row = text(r, "value");
                            let chosen = v.and_then(|m| m.get(row)).map(|p| p.to_string().trim_matches('"').to_owned());
                            let points: Vec<Value> = (1..=5)
                                .map(|p| json!({"value": p, "id": format!("domanda-{name}-{row}-{p}"), "checked": chosen.as_deref() == Some(&p.to_string())}))
                                .collect();
                            json!({"value": row, "label": text(r, "label"), "field": row_field(name, row), "points": points})
                        })
                        .collect();
                    let value = match v {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => match n.as_f64() {
                            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
                            _ => n.to_string().replace('.', ","),
                        },
                        _ => String::new(),
                    };
                    json!({
                        "name": name, "id": format!("domanda-{name}"), "label": text(q, "label"), "help": q.get("help"),
                        "kind": text(q, "kind"), "required": q.get("required").and_then(Value::as_bool).unwrap_or(false),
                        "condition": condition_text(survey, q), "options": options, "points": points, "rows": rows,
                        "min_label": q.get("min_label"), "max_label": q.get("max_label"), "min": q.get("min"), "max": q.get("max"),
                        "value": value, "error": errors.get(name),
                    })
                })
                .collect();
            json!({"title": text(s, "title"), "description": s.get("description"), "questions": qs})
        })
        .collect()
}

/// The errors of a refused save or send: next to their questions (422) or for the whole form.
fn refusal(survey: &Value, reply: &client::Reply) -> FieldErrors {
    let mut errors = FieldErrors::new();
    match (reply.status, reply.code()) {
        (409, code) => {
            let m = match code {
                "already_answered" => "Le risposte di questo ente sono già state inviate: non si possono più cambiare.",
                "survey_closed" => "Il questionario è chiuso: le risposte non sono più accettate.",
                "survey_not_open" => "Il questionario non è ancora aperto.",
                _ => "Non è stato possibile salvare le risposte.",
            };
            errors.insert("_form".into(), m.into());
        }
        (422, _) => {
            errors = errors_of(survey, &reply.body);
            if errors.is_empty() {
                errors.insert("_form".into(), "Alcune risposte non sono valide: controllale.".into());
            }
        }
        _ => {
            let m = refusal_message(reply).unwrap_or_else(|| "Non è stato possibile salvare le risposte.".into());
            errors.insert("_form".into(), m);
        }
    }
    errors
}

/// The error summary of the form: each question's error, then the form's.
fn summary_of(sections: &[Value], errors: &FieldErrors) -> Vec<Value> {
    sections
        .iter()
        .flat_map(|s| list(s, "questions").iter())
        .filter_map(|q| {
            q.get("error").filter(|e| !e.is_null()).map(|e| json!({"id": q["id"], "label": q["label"], "message": e}))
        })
        .chain(errors.get("_form").map(|m| json!({"id": "modulo", "message": m})))
        .collect()
}

fn survey_page(survey: &Value) -> (Page, String) {
    let title = text(survey, "title").to_owned();
    let mut page = Page::new("requests/survey.html", format!("Questionario: {title}"));
    crumbs(&mut page, &[("Questionari", Some("/questionari")), (&title, None)]);
    (page, title)
}

const SESSION_EXPIRED: &str = "La sessione del modulo è scaduta: controlla le risposte e premi di nuovo il pulsante.";
