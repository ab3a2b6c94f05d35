//! The entry editor, generated from the content type: one input per field kind, "Salva bozza"
//! and (for editors and admins) "Pubblica". What the API refuses comes back next to its field,
//! with what the user typed kept; a revision someone else saved in between is explained.
//! Reference and media fields, scheduling, revisions and translations come next.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{InTenant, Posted, enc};
use crate::api::{Body, FieldError, Problem};
use crate::error::DeskResult;
use crate::model::{ContentType, Entry, Field};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/contenuti/{type}/nuovo", web::get().to(new_form))
        .route("/t/{tenant}/contenuti/{type}/nuovo", web::post().to(create))
        .route("/t/{tenant}/contenuti/{type}/{id}/modifica", web::get().to(edit_form))
        .route("/t/{tenant}/contenuti/{type}/{id}/modifica", web::post().to(update));
}

/// The kinds this editor has an input for; fields of other kinds are shown read-only and kept.
const EDITABLE: [&str; 13] = [
    "string", "text", "richtext", "slug", "email", "url", "enum", "date", "datetime", "integer", "decimal", "boolean",
    "tags",
];

/// One input of the form.
#[derive(Debug, Serialize)]
struct Input {
    name: String,
    label: String,
    help: Option<String>,
    kind: String,
    required: bool,
    values: Vec<String>,
    /// The value as the input shows it.
    value: String,
    checked: bool,
    editable: bool,
    max: Option<f64>,
}

/// A stored value as the input of its kind shows it.
fn shown(field: &Field, v: Option<&Value>) -> String {
    match (field.kind.as_str(), v) {
        (_, None | Some(Value::Null)) => String::new(),
        ("datetime", Some(Value::String(s))) => {
            chrono::DateTime::parse_from_rfc3339(s).map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or(s.clone())
        }
        ("tags", Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        (_, Some(Value::String(s))) => s.clone(),
        (_, Some(other)) => other.to_string(),
    }
}

fn inputs(ct: &ContentType, data: &Map<String, Value>, typed: Option<&Posted>) -> Vec<Input> {
    ct.definition
        .fields
        .iter()
        .map(|f| {
            let editable = EDITABLE.contains(&f.kind.as_str()) && !f.many;
            let key = format!("f.{}", f.name);
            let value = match typed {
                Some(p) if editable => p.get(&key).unwrap_or_default().to_owned(),
                _ => shown(f, data.get(&f.name)),
            };
            let checked = match typed {
                Some(p) => p.get(&key).is_some(),
                None => data.get(&f.name).and_then(Value::as_bool).unwrap_or(false),
            };
            Input {
                name: f.name.clone(),
                label: f.label().to_owned(),
                help: f.description.clone(),
                kind: f.kind.clone(),
                required: f.required,
                values: f.values.clone(),
                value,
                checked,
                editable,
                max: f.max,
            }
        })
        .collect()
}

/// The form's values as entry data: every editable field (empty ones as null, so that an edit
/// can clear them); a number that is not one is an error of that field.
fn data_of(ct: &ContentType, form: &Posted, errors: &mut Vec<FieldError>) -> Map<String, Value> {
    let mut data = Map::new();
    for f in ct.definition.fields.iter().filter(|f| EDITABLE.contains(&f.kind.as_str()) && !f.many) {
        let raw = form.get(&format!("f.{}", f.name)).unwrap_or_default();
        let text = raw.trim();
        let error = |message: &str| FieldError {
            field: format!("data.{}", f.name),
            code: "invalid_type".into(),
            message: message.into(),
        };
        let value = match f.kind.as_str() {
            "boolean" => Value::Bool(!raw.is_empty()),
            _ if text.is_empty() => Value::Null,
            "integer" => match text.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    errors.push(error("Inserisci un numero intero."));
                    continue;
                }
            },
            "decimal" => match text.replace(',', ".").parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    errors.push(error("Inserisci un numero (per esempio 12,5)."));
                    continue;
                }
            },
            "datetime" => match chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
                Ok(t) => json!(t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                Err(_) => json!(text),
            },
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

async fn content_type(t: &InTenant, type_id: &str) -> DeskResult<ContentType> {
    t.get(&t.api(&format!("content-types/{}", enc(type_id))), &[]).await
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    t: &InTenant,
    ct: &ContentType,
    entry: Option<&Entry>,
    inputs: Vec<Input>,
    slug: &str,
    problem: Option<Problem>,
    conflict: bool,
    status: StatusCode,
) -> HttpResponse {
    let title = match entry {
        Some(e) => format!("Modifica: {}", ct.title_of(e)),
        None => format!("Nuovo: {}", ct.singular()),
    };
    let mut page = t
        .page(title, "contenuti")
        .crumb("Contenuti", Some(t.link("contenuti")))
        .crumb(ct.plural().to_owned(), Some(t.link(&format!("contenuti/{}", enc(&ct.api_id)))));
    if let Some(e) = entry {
        page = page.crumb(ct.title_of(e), Some(t.link(&format!("contenuti/{}/{}", enc(&ct.api_id), enc(&e.id)))));
    }
    let action = match entry {
        Some(e) => t.link(&format!("contenuti/{}/{}/modifica", enc(&ct.api_id), enc(&e.id))),
        None => t.link(&format!("contenuti/{}/nuovo", enc(&ct.api_id))),
    };
    page.render_status(
        status,
        "content/editor.html",
        context! {
            inputs => val(&inputs),
            entry => val(entry),
            slug => slug,
            action => action,
            problem => val(&problem),
            conflict => conflict,
            singular => ct.singular(),
        },
    )
}

async fn new_form(t: InTenant, path: web::Path<(String, String)>) -> DeskResult {
    t.require(t.rights.write)?;
    let ct = content_type(&t, &path.1).await?;
    let inputs = inputs(&ct, &Map::new(), None);
    Ok(form_page(&t, &ct, None, inputs, "", None, false, StatusCode::OK))
}

async fn edit_form(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let ct = content_type(&t, &type_id).await?;
    let e: Entry = t.get(&t.api(&format!("entries/{}/{}", enc(&type_id), enc(&id))), &[("status", "any")]).await?;
    let inputs = inputs(&ct, &e.data, None);
    Ok(form_page(&t, &ct, Some(&e), inputs, &e.slug.clone(), None, false, StatusCode::OK))
}

/// The status the pressed button asks for: `published` only for those who may publish (the
/// API refuses the others anyway).
fn wanted_status(form: &Posted) -> &'static str {
    if form.pressed("action", "publish") { "published" } else { "draft" }
}

fn local_problem(errors: Vec<FieldError>) -> Problem {
    Problem {
        status: 422,
        code: "invalid_input".into(),
        title: "Alcuni campi non sono validi".into(),
        detail: None,
        errors,
    }
}

async fn create(t: InTenant, path: web::Path<(String, String)>, form: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let ct = content_type(&t, &path.1).await?;
    let mut errors = Vec::new();
    let mut data = data_of(&ct, &form, &mut errors);
    data.retain(|_, v| !v.is_null());
    let slug = form.text("slug").unwrap_or_default();
    if !errors.is_empty() {
        let inputs = inputs(&ct, &Map::new(), Some(&form));
        return Ok(form_page(
            &t,
            &ct,
            None,
            inputs,
            &slug,
            Some(local_problem(errors)),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let mut body = json!({ "data": data, "status": wanted_status(&form) });
    if !slug.is_empty() {
        body["slug"] = json!(slug);
    }
    let path_api = t.api(&format!("entries/{}", enc(&ct.api_id)));
    match t.try_call::<Entry>(Method::POST, &path_api, &[], Body::Json(body)).await? {
        Ok(e) => {
            let to = t.link(&format!("contenuti/{}/{}", enc(&ct.api_id), enc(&e.id)));
            let text = if e.status == "published" { "Contenuto pubblicato." } else { "Bozza salvata." };
            Ok(t.redirect_with(&to, "success", text))
        }
        Err(problem) => {
            let inputs = inputs(&ct, &Map::new(), Some(&form));
            Ok(form_page(&t, &ct, None, inputs, &slug, Some(problem), false, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

async fn update(t: InTenant, path: web::Path<(String, String, String)>, form: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let ct = content_type(&t, &type_id).await?;
    let entry_path = t.api(&format!("entries/{}/{}", enc(&type_id), enc(&id)));
    let current: Entry = t.get(&entry_path, &[("status", "any")]).await?;
    let mut errors = Vec::new();
    let data = data_of(&ct, &form, &mut errors);
    let slug = form.text("slug").unwrap_or_else(|| current.slug.clone());
    if !errors.is_empty() {
        let inputs = inputs(&ct, &current.data, Some(&form));
        let problem = Some(local_problem(errors));
        return Ok(form_page(&t, &ct, Some(&current), inputs, &slug, problem, false, StatusCode::UNPROCESSABLE_ENTITY));
    }
    // The revision the form was opened on: the API refuses the write if someone saved since.
    let revision: i64 = form.get("revision").and_then(|r| r.parse().ok()).unwrap_or(current.revision);
    let body = json!({ "data": data, "status": wanted_status(&form), "slug": slug, "revision": revision });
    match t.try_call::<Entry>(Method::PATCH, &entry_path, &[], Body::Json(body)).await? {
        Ok(e) => {
            let to = t.link(&format!("contenuti/{}/{}", enc(&type_id), enc(&e.id)));
            let text = if e.status == "published" { "Modifiche pubblicate." } else { "Bozza salvata." };
            Ok(t.redirect_with(&to, "success", text))
        }
        Err(problem) => {
            let conflict = problem.status == 409 && revision != current.revision;
            let inputs = inputs(&ct, &current.data, Some(&form));
            Ok(form_page(
                &t,
                &ct,
                Some(&current),
                inputs,
                &slug,
                Some(problem),
                conflict,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}
