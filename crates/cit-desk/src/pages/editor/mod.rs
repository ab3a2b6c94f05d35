//! The entry editor, generated from the content type: one input per field kind ([`fields`]),
//! pickers with search for references and media, an upload with its required alt text
//! ([`pickers`]), a Markdown preview, and the buttons "Salva bozza", and for editors and admins
//! "Pubblica" and "Programma" (a publication time, and a time to withdraw it). What the API
//! refuses comes back next to its field, with what the user typed kept; a revision someone else
//! saved in between is explained. A translation is written beside the entry it translates.
//!
//! Buttons that only look (search a picker, preview the text) post the whole form, which comes
//! back with what was typed and nothing saved: the editor works the same without JavaScript.

pub mod fields;
pub mod pickers;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use self::fields::{Input, data_of, from_local_input, inputs, local_input, markdown};
use super::{InTenant, Posted, UploadedFile, enc};
use crate::api::{Body, FieldError, Problem};
use crate::error::DeskResult;
use crate::model::{ContentType, Entry};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/contenuti/{type}/nuovo", web::get().to(new_form))
        .route("/t/{tenant}/contenuti/{type}/nuovo", web::post().to(create))
        .route("/t/{tenant}/contenuti/{type}/{id}/modifica", web::get().to(edit_form))
        .route("/t/{tenant}/contenuti/{type}/{id}/modifica", web::post().to(update))
        .route("/t/{tenant}/anteprima-testo", web::post().to(preview_fragment));
}

/// What the pressed button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Draft,
    Publish,
    Schedule,
    /// Show the Markdown preview; nothing is saved.
    Preview,
    /// Search in a picker; nothing is saved.
    Search,
}

impl Action {
    /// The button pressed; Enter in a line of the form (`action=enter`) does what is safe for
    /// `published`: keep a published entry published (for who may), else save a draft.
    fn of(form: &Posted, published: bool, t: &InTenant) -> Action {
        match form.get("action").unwrap_or_default() {
            "enter" if published && t.rights.publish => Action::Publish,
            "publish" => Action::Publish,
            "schedule" => Action::Schedule,
            "anteprima" => Action::Preview,
            a if a.starts_with("cerca") => Action::Search,
            _ => Action::Draft,
        }
    }

    fn status(self) -> &'static str {
        if self == Action::Publish { "published" } else { "draft" }
    }
}

/// The entry a new one translates, shown beside the inputs.
#[derive(Debug, Clone, serde::Serialize)]
struct Translation {
    of: String,
    locale: String,
    source_locale: String,
    source_title: String,
    #[serde(skip)]
    source: Map<String, Value>,
}

/// Everything the editor page shows.
struct Form<'a> {
    ct: &'a ContentType,
    entry: Option<&'a Entry>,
    inputs: Vec<Input>,
    slug: String,
    publish_at: String,
    unpublish_at: String,
    problem: Option<Problem>,
    conflict: bool,
    translation: Option<Translation>,
    /// A line on top (an upload to choose again after a search or a preview).
    note: Option<&'static str>,
}

impl<'a> Form<'a> {
    /// The form of a stored entry, or of a new one (translating `translation` if given).
    fn stored(ct: &'a ContentType, entry: Option<&'a Entry>, translation: Option<Translation>) -> Form<'a> {
        let empty = Map::new();
        let source = translation.as_ref().map(|t| &t.source);
        let data = entry.map(|e| &e.data).or(source).unwrap_or(&empty);
        let time = |v: Option<&String>| v.map(|s| local_input(s)).unwrap_or_default();
        Form {
            ct,
            entry,
            inputs: inputs(ct, data, None, source),
            slug: entry.map(|e| e.slug.clone()).unwrap_or_default(),
            publish_at: time(entry.and_then(|e| e.publish_at.as_ref())),
            unpublish_at: time(entry.and_then(|e| e.unpublish_at.as_ref())),
            problem: None,
            conflict: false,
            translation,
            note: None,
        }
    }

    /// The form as it was posted.
    fn typed(
        ct: &'a ContentType,
        entry: Option<&'a Entry>,
        posted: &Posted,
        translation: Option<Translation>,
    ) -> Form<'a> {
        let empty = Map::new();
        let data = entry.map(|e| &e.data).unwrap_or(&empty);
        let source = translation.as_ref().map(|t| &t.source);
        let text = |k: &str| posted.get(k).unwrap_or_default().trim().to_owned();
        Form {
            ct,
            entry,
            inputs: inputs(ct, data, Some(posted), source),
            slug: text("slug"),
            publish_at: text("publish_at"),
            unpublish_at: text("unpublish_at"),
            problem: None,
            conflict: false,
            translation,
            note: None,
        }
    }

    fn refused(mut self, problem: Problem) -> Form<'a> {
        self.problem = Some(problem);
        self
    }
}

async fn content_type(t: &InTenant, type_id: &str) -> DeskResult<ContentType> {
    t.get(&t.api(&format!("content-types/{}", enc(type_id))), &[]).await
}

async fn stored_entry(t: &InTenant, type_id: &str, id: &str) -> DeskResult<Entry> {
    t.get(&t.api(&format!("entries/{}/{}", enc(type_id), enc(id))), &[("status", "any")]).await
}

/// Draws the editor (the pickers' choices are looked up here).
async fn show(t: &InTenant, mut form: Form<'_>, status: StatusCode) -> HttpResponse {
    pickers::fill(t, form.ct, &mut form.inputs).await;
    let ct = form.ct;
    let title = match (form.entry, &form.translation) {
        (Some(e), _) => format!("Modifica: {}", ct.title_of(e)),
        (None, Some(tr)) => format!("Traduzione in {}: {}", tr.locale, tr.source_title),
        (None, None) => format!("Nuovo: {}", ct.singular()),
    };
    let type_href = t.link(&format!("contenuti/{}", enc(&ct.api_id)));
    let mut page = t
        .page(title, "contenuti")
        .crumb("Contenuti", Some(t.link("contenuti")))
        .crumb(ct.plural().to_owned(), Some(type_href));
    if let Some(e) = form.entry {
        page = page.crumb(ct.title_of(e), Some(t.link(&format!("contenuti/{}/{}", enc(&ct.api_id), enc(&e.id)))));
    }
    let action = match form.entry {
        Some(e) => t.link(&format!("contenuti/{}/{}/modifica", enc(&ct.api_id), enc(&e.id))),
        None => t.link(&format!("contenuti/{}/nuovo", enc(&ct.api_id))),
    };
    let multipart = form.inputs.iter().any(|i| i.kind == "media" && i.editable);
    page.render_status(
        status,
        "content/editor.html",
        context! {
            inputs => val(&form.inputs),
            entry => val(form.entry),
            slug => form.slug,
            publish_at => form.publish_at,
            unpublish_at => form.unpublish_at,
            action => action,
            problem => val(&form.problem),
            conflict => form.conflict,
            translation => val(&form.translation),
            note => form.note,
            multipart => multipart,
            preview_url => t.link("anteprima-testo"),
            singular => ct.singular(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    /// The entry to translate.
    traduzione_di: Option<String>,
    /// The locale of the translation.
    lingua: Option<String>,
}

/// The entry `of` to translate into `locale` (both from the page's query or the posted form).
async fn translation(
    t: &InTenant,
    ct: &ContentType,
    of: Option<&str>,
    locale: Option<&str>,
) -> DeskResult<Option<Translation>> {
    let (Some(of), Some(locale)) = (of.filter(|s| !s.is_empty()), locale.filter(|s| !s.is_empty())) else {
        return Ok(None);
    };
    let source = stored_entry(t, &ct.api_id, of).await?;
    Ok(Some(Translation {
        of: source.id.clone(),
        locale: locale.to_owned(),
        source_locale: source.locale.clone(),
        source_title: ct.title_of(&source),
        source: source.data,
    }))
}

async fn new_form(t: InTenant, path: web::Path<(String, String)>, q: web::Query<NewQuery>) -> DeskResult {
    t.require(t.rights.write)?;
    let ct = content_type(&t, &path.1).await?;
    let tr = translation(&t, &ct, q.traduzione_di.as_deref(), q.lingua.as_deref()).await?;
    // A translation starts from the original's values, shown beside; its slug comes from its title.
    Ok(show(&t, Form::stored(&ct, None, tr), StatusCode::OK).await)
}

async fn edit_form(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let ct = content_type(&t, &type_id).await?;
    let e = stored_entry(&t, &type_id, &id).await?;
    Ok(show(&t, Form::stored(&ct, Some(&e), None), StatusCode::OK).await)
}

/// The schedule a save sends: nothing for those who may not publish (the API keeps what there
/// is); for the others both times as typed (empty clears), a schedule needing its time.
fn schedule_of(t: &InTenant, form: &Posted, action: Action, errors: &mut Vec<FieldError>) -> Map<String, Value> {
    let mut out = Map::new();
    if !t.rights.publish {
        return out;
    }
    for key in ["publish_at", "unpublish_at"] {
        let text = form.get(key).unwrap_or_default().trim();
        if key == "publish_at" && action == Action::Publish {
            continue;
        }
        let value = match from_local_input(text) {
            Some(v) => json!(v),
            None if text.is_empty() => Value::Null,
            None => {
                errors.push(FieldError {
                    field: key.into(),
                    code: "invalid_type".into(),
                    message: "Scrivi data e ora (per esempio 24/12/2026 10:30).".into(),
                });
                continue;
            }
        };
        out.insert(key.into(), value);
    }
    if action == Action::Schedule && out.get("publish_at").is_none_or(Value::is_null) && errors.is_empty() {
        errors.push(FieldError {
            field: "publish_at".into(),
            code: "required".into(),
            message: "Scegli quando pubblicarlo.".into(),
        });
    }
    out
}

/// The files chosen in the media pickers, each with its alt text and title; a file without an
/// alt text is an error of its field.
fn uploads<'f>(ct: &ContentType, form: &'f Posted, errors: &mut Vec<FieldError>) -> Vec<(String, &'f UploadedFile)> {
    let mut out = Vec::new();
    for f in ct.definition.fields.iter().filter(|f| f.kind == "media" && fields::editable(f)) {
        let Some(file) = form.file(&format!("upload.{}", f.name)) else { continue };
        if form.text(&format!("alt.{}", f.name)).is_none() {
            errors.push(FieldError {
                field: format!("data.{}", f.name),
                code: "alt_required".into(),
                message: "Scrivi il testo alternativo del file: dice cosa mostra a chi non lo vede.".into(),
            });
        }
        out.push((f.name.clone(), file));
    }
    out
}

/// Uploads each chosen file to the library; the new ids go into `data` and into the form's
/// pickers (so that a form shown again does not upload them twice).
async fn upload_all(
    t: &InTenant,
    form: &Posted,
    files: Vec<(String, &UploadedFile)>,
    data: &mut Map<String, Value>,
    shown: &mut Form<'_>,
) -> DeskResult<Result<(), Problem>> {
    for (field, file) in files {
        let mut part = reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone());
        if let Some(ct) = &file.content_type {
            part = part.mime_str(ct).unwrap_or_else(|_| reqwest::multipart::Part::bytes(file.bytes.clone()));
        }
        let mut multipart = reqwest::multipart::Form::new().part("file", part);
        for (name, key) in [("alt", "alt"), ("title", "title")] {
            if let Some(v) = form.text(&format!("{key}.{field}")) {
                multipart = multipart.text(name, v);
            }
        }
        match t
            .try_call::<crate::model::MediaItem>(Method::POST, &t.api("media"), &[], Body::Multipart(multipart))
            .await?
        {
            Ok(m) => {
                data.insert(field.clone(), json!(m.id));
                if let Some(input) = shown.inputs.iter_mut().find(|i| i.name == field) {
                    input.selected = vec![m.id.clone()];
                    input.alt.clear();
                    input.upload_title.clear();
                }
            }
            Err(mut p) => {
                // The upload's own problem, said of the picker's field.
                let message = p.message();
                p.errors = vec![FieldError { field: format!("data.{field}"), code: p.code.clone(), message }];
                return Ok(Err(p));
            }
        }
    }
    Ok(Ok(()))
}

/// A form that only looks (a search, a preview): back with what was typed, nothing saved.
fn looked<'a>(mut form: Form<'a>, posted: &Posted, action: Action) -> Form<'a> {
    if action == Action::Preview {
        for input in form.inputs.iter_mut().filter(|i| i.kind == "richtext" && i.editable) {
            input.preview = Some(markdown(&input.value));
        }
    }
    if !posted.files.is_empty() {
        form.note = Some("Il file scelto non è stato ancora caricato: sceglilo di nuovo prima di salvare.");
    }
    form
}

async fn create(t: InTenant, path: web::Path<(String, String)>, posted: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let ct = content_type(&t, &path.1).await?;
    let tr = translation(&t, &ct, posted.get("translation_of"), posted.get("locale")).await?;
    let mut form = Form::typed(&ct, None, &posted, tr);
    let action = Action::of(&posted, false, &t);
    if matches!(action, Action::Preview | Action::Search) {
        return Ok(show(&t, looked(form, &posted, action), StatusCode::OK).await);
    }
    let mut errors = Vec::new();
    let mut data = data_of(&ct, &posted, &mut errors);
    let schedule = schedule_of(&t, &posted, action, &mut errors);
    let files = uploads(&ct, &posted, &mut errors);
    if !errors.is_empty() {
        return Ok(show(&t, form.refused(Problem::local(errors)), StatusCode::UNPROCESSABLE_ENTITY).await);
    }
    if let Err(p) = upload_all(&t, &posted, files, &mut data, &mut form).await? {
        return Ok(show(&t, form.refused(p), StatusCode::UNPROCESSABLE_ENTITY).await);
    }
    data.retain(|_, v| !v.is_null());
    let mut body = json!({ "data": data, "status": action.status() });
    if let Some(b) = body.as_object_mut() {
        b.extend(schedule);
    }
    if !form.slug.is_empty() {
        body["slug"] = json!(form.slug);
    }
    if let Some(tr) = &form.translation {
        body["translation_of"] = json!(tr.of);
        body["locale"] = json!(tr.locale);
    }
    let path_api = t.api(&format!("entries/{}", enc(&ct.api_id)));
    match t.try_call::<Entry>(Method::POST, &path_api, &[], Body::Json(body)).await? {
        Ok(e) => {
            let to = t.link(&format!("contenuti/{}/{}", enc(&ct.api_id), enc(&e.id)));
            Ok(t.redirect_with(&to, "success", saved_message(&e, false)))
        }
        Err(problem) => Ok(show(&t, form.refused(problem), StatusCode::UNPROCESSABLE_ENTITY).await),
    }
}

fn saved_message(e: &Entry, edit: bool) -> String {
    match (e.shown_status(), edit) {
        ("published", false) => "Contenuto pubblicato.".into(),
        ("published", true) => "Modifiche pubblicate.".into(),
        ("scheduled", _) => format!(
            "Pubblicazione programmata per il {} (UTC).",
            e.publish_at.as_deref().map(local_input).unwrap_or_default().replace('T', " alle ")
        ),
        ("archived", _) => "Contenuto archiviato.".into(),
        _ => "Bozza salvata.".into(),
    }
}

async fn update(t: InTenant, path: web::Path<(String, String, String)>, posted: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let ct = content_type(&t, &type_id).await?;
    let current = stored_entry(&t, &type_id, &id).await?;
    let mut form = Form::typed(&ct, Some(&current), &posted, None);
    if form.slug.is_empty() {
        form.slug = current.slug.clone();
    }
    let action = Action::of(&posted, current.status == "published", &t);
    if matches!(action, Action::Preview | Action::Search) {
        return Ok(show(&t, looked(form, &posted, action), StatusCode::OK).await);
    }
    let mut errors = Vec::new();
    let mut data = data_of(&ct, &posted, &mut errors);
    let schedule = schedule_of(&t, &posted, action, &mut errors);
    let files = uploads(&ct, &posted, &mut errors);
    if !errors.is_empty() {
        return Ok(show(&t, form.refused(Problem::local(errors)), StatusCode::UNPROCESSABLE_ENTITY).await);
    }
    if let Err(p) = upload_all(&t, &posted, files, &mut data, &mut form).await? {
        return Ok(show(&t, form.refused(p), StatusCode::UNPROCESSABLE_ENTITY).await);
    }
    // The revision the form was opened on: the API refuses the write if someone saved since.
    let revision: i64 = posted.get("revision").and_then(|r| r.parse().ok()).unwrap_or(current.revision);
    let mut body = json!({ "data": data, "status": action.status(), "slug": form.slug, "revision": revision });
    if let Some(b) = body.as_object_mut() {
        b.extend(schedule);
    }
    let entry_path = t.api(&format!("entries/{}/{}", enc(&type_id), enc(&id)));
    match t.try_call::<Entry>(Method::PATCH, &entry_path, &[], Body::Json(body)).await? {
        Ok(e) => {
            let to = t.link(&format!("contenuti/{}/{}", enc(&type_id), enc(&e.id)));
            Ok(t.redirect_with(&to, "success", saved_message(&e, true)))
        }
        Err(problem) => {
            form.conflict = problem.status == 409 && revision != current.revision;
            Ok(show(&t, form.refused(problem), StatusCode::UNPROCESSABLE_ENTITY).await)
        }
    }
}

/// `POST /t/{tenant}/anteprima-testo`: the preview of one text field, for the editor's
/// "Anteprima" button when JavaScript is on (htmx puts it under the field).
async fn preview_fragment(t: InTenant, posted: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let text = posted.pairs.iter().find(|(k, _)| k.starts_with("f.")).map(|(_, v)| v.as_str()).unwrap_or_default();
    Ok(crate::render::html(StatusCode::OK, "content/preview.html", context! { html => markdown(text) }))
}
