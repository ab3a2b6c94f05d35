//! The media library: every file of the tenant as a grid of pictures or a list, an upload with
//! its alternative text, credits and licence (with a progress bar when JavaScript runs), a
//! file's page where its description is changed and the entries that use it are listed, and a
//! delete that is offered only when nothing uses the file (the API refuses it otherwise too).
//! The files themselves reach the browser through [`file`], with the user's token added on the
//! desk's side: never in a URL.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{InTenant, Posted, enc};
use crate::api::{Body, Problem};
use crate::error::{DeskError, DeskResult};
use crate::model::{List, MediaItem, MediaUse};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/media", web::get().to(library))
        .route("/t/{tenant}/media", web::post().to(upload))
        .route("/t/{tenant}/media/{id}", web::get().to(item))
        .route("/t/{tenant}/media/{id}", web::post().to(describe))
        .route("/t/{tenant}/media/{id}/file", web::get().to(file))
        .route("/t/{tenant}/media/{id}/elimina", web::get().to(confirm_delete))
        .route("/t/{tenant}/media/{id}/elimina", web::post().to(delete));
}

/// Files on a page of the library.
const PER_PAGE: u64 = 24;

/// The small picture of an image in the library and in the editor's picker.
pub fn thumb(t: &InTenant, m: &MediaItem) -> String {
    if m.content_type == "image/svg+xml" {
        // Vector images have no variants; they are drawn at the size of their box.
        t.link(&format!("media/{}/file", enc(&m.id)))
    } else {
        t.link(&format!("media/{}/file?w=320&h=240&fit=cover", enc(&m.id)))
    }
}

#[derive(Debug, Deserialize)]
struct LibraryQuery {
    /// `griglia` (the default) or `elenco`.
    vista: Option<String>,
    pagina: Option<u64>,
}

/// What a library page shows of a file.
fn row(t: &InTenant, m: &MediaItem) -> Value {
    json!({
        "href": t.link(&format!("media/{}", enc(&m.id))),
        "thumb": m.is_image().then(|| thumb(t, m)),
        "item": m,
        "name": m.name(),
        "kind": kind_label(&m.content_type),
    })
}

/// A short name of a document's type, drawn in place of a picture.
fn kind_label(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF",
        "text/csv" => "CSV",
        "application/vnd.oasis.opendocument.text" => "ODT",
        "application/vnd.oasis.opendocument.spreadsheet" => "ODS",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "DOCX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "XLSX",
        _ => "FILE",
    }
}

/// `GET /t/{tenant}/media`: the library, newest first.
async fn library(t: InTenant, q: web::Query<LibraryQuery>) -> DeskResult<HttpResponse> {
    t.require(t.rights.write)?;
    let list = q.vista.as_deref() == Some("elenco");
    let page_no = q.pagina.unwrap_or(1).max(1);
    library_page(&t, list, page_no, UploadForm::default(), StatusCode::OK).await
}

/// What was typed in the upload form, kept when the API refuses it.
#[derive(Debug, Default, serde::Serialize)]
struct UploadForm {
    title: String,
    alt: String,
    credits: String,
    licence: String,
    problem: Option<Problem>,
}

async fn library_page(
    t: &InTenant,
    list: bool,
    page_no: u64,
    form: UploadForm,
    status: StatusCode,
) -> DeskResult<HttpResponse> {
    let offset = ((page_no - 1) * PER_PAGE).to_string();
    // One more than a page: whether there is a next one.
    let limit = (PER_PAGE + 1).to_string();
    let mut items = t
        .get::<List<MediaItem>>(&t.api("media"), &[("limit", limit.as_str()), ("offset", offset.as_str())])
        .await?
        .data;
    let more = items.len() as u64 > PER_PAGE;
    items.truncate(PER_PAGE as usize);
    let view = if list { "elenco" } else { "griglia" };
    let at = |n: u64| t.link(&format!("media?vista={view}&pagina={n}"));
    let page = t.page("Media", "media");
    Ok(page.render_status(
        status,
        "media/library.html",
        context! {
            rows => val(items.iter().map(|m| row(t, m)).collect::<Vec<_>>()),
            list,
            page_no,
            grid_href => t.link(&format!("media?vista=griglia&pagina={page_no}")),
            list_href => t.link(&format!("media?vista=elenco&pagina={page_no}")),
            next => more.then(|| at(page_no + 1)),
            prev => (page_no > 1).then(|| at(page_no - 1)),
            action => t.link("media"),
            form => val(&form),
            max_mb => t.desk.settings.max_upload_bytes / (1024 * 1024),
        },
    ))
}

/// `POST /t/{tenant}/media` (multipart): a new file. The desk checks what it can before
/// anything is sent (a file chosen, alt text for an image); the API checks the rest from the
/// bytes. Refused: the library again with the errors and what was typed (422).
async fn upload(t: InTenant, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.write)?;
    let mut typed = UploadForm {
        title: form.text("title").unwrap_or_default(),
        alt: form.text("alt").unwrap_or_default(),
        credits: form.text("credits").unwrap_or_default(),
        licence: form.text("licence").unwrap_or_default(),
        problem: None,
    };
    let Some(file) = form.file("file") else {
        typed.problem = Some(Problem::of_field("file", "required", "Scegli un file da caricare."));
        return library_page(&t, false, 1, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let looks_like_image = file.content_type.as_deref().is_some_and(|c| c.starts_with("image/"))
        || [".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"].iter().any(|e| file.filename.to_lowercase().ends_with(e));
    if looks_like_image && typed.alt.is_empty() {
        typed.problem = Some(Problem::of_field(
            "alt",
            "required",
            "Le immagini richiedono un testo alternativo: descrivi che cosa mostra per chi non la vede.",
        ));
        return library_page(&t, false, 1, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut part = reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone());
    if let Some(ct) = &file.content_type {
        part = part.mime_str(ct).unwrap_or_else(|_| reqwest::multipart::Part::bytes(file.bytes.clone()));
    }
    let mut multipart = reqwest::multipart::Form::new().part("file", part);
    for (name, value) in
        [("title", &typed.title), ("alt", &typed.alt), ("credits", &typed.credits), ("licence", &typed.licence)]
    {
        if !value.is_empty() {
            multipart = multipart.text(name, value.clone());
        }
    }
    match t.try_call::<MediaItem>(Method::POST, &t.api("media"), &[], Body::Multipart(multipart)).await? {
        Ok(m) => Ok(t.redirect_with(
            &t.link(&format!("media/{}", enc(&m.id))),
            "success",
            format!("Caricato «{}».", m.name()),
        )),
        Err(p) => {
            typed.problem = Some(p);
            library_page(&t, false, 1, typed, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The file and the entries that use it.
async fn load(t: &InTenant, id: &str) -> DeskResult<(MediaItem, Vec<MediaUse>)> {
    let (one, uses) = (t.api(&format!("media/{}", enc(id))), t.api(&format!("media/{}/uses", enc(id))));
    let one = t.get::<MediaItem>(&one, &[]);
    let uses = t.get::<List<MediaUse>>(&uses, &[]);
    let (one, uses) = tokio::join!(one, uses);
    Ok((one?, uses?.data))
}

/// Each use as a link to the entry's page in the desk.
fn use_rows(t: &InTenant, uses: &[MediaUse]) -> Vec<Value> {
    uses.iter()
        .map(|u| {
            json!({
                "href": t.link(&format!("contenuti/{}/{}", enc(&u.type_id), enc(&u.id))),
                "title": u.title.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| u.slug.clone()),
                "type": u.type_id,
                "locale": u.locale,
                "status": u.status,
            })
        })
        .collect()
}

/// A file's page: the picture, its description (a form), where it is used, delete.
fn item_page(
    t: &InTenant,
    m: &MediaItem,
    uses: &[MediaUse],
    form: Map<String, Value>,
    problem: Option<Problem>,
) -> minijinja::Value {
    context! {
        item => val(m),
        name => m.name(),
        preview => m.is_image().then(|| {
            if m.content_type == "image/svg+xml" { t.link(&format!("media/{}/file", enc(&m.id))) }
            else { t.link(&format!("media/{}/file?w=960", enc(&m.id))) }
        }),
        download => t.link(&format!("media/{}/file", enc(&m.id))),
        uses => val(use_rows(t, uses)),
        form => val(Value::Object(form)),
        problem => val(&problem),
        action => t.link(&format!("media/{}", enc(&m.id))),
        delete_href => (t.rights.publish && uses.is_empty()).then(|| t.link(&format!("media/{}/elimina", enc(&m.id)))),
        can_delete => t.rights.publish,
    }
}

fn typed_of(m: &MediaItem) -> Map<String, Value> {
    let mut form = Map::new();
    form.insert("title".into(), json!(m.title));
    for (k, v) in [("alt", &m.alt), ("credits", &m.credits), ("licence", &m.licence)] {
        form.insert(k.into(), json!(v.clone().unwrap_or_default()));
    }
    form
}

/// `GET /t/{tenant}/media/{id}`.
async fn item(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.write)?;
    let (_, id) = path.into_inner();
    let (m, uses) = load(&t, &id).await?;
    let page = t.page(m.name().to_owned(), "media").crumb("Media", Some(t.link("media")));
    Ok(page.render("media/item.html", item_page(&t, &m, &uses, typed_of(&m), None)))
}

/// `POST /t/{tenant}/media/{id}`: a new description (`PATCH …/media/{id}`); an empty alt
/// text, credits or licence clears them (an image keeps its alt text: the API says so).
async fn describe(t: InTenant, path: web::Path<(String, String)>, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.write)?;
    let (_, id) = path.into_inner();
    let mut typed = Map::new();
    for k in ["title", "alt", "credits", "licence"] {
        typed.insert(k.into(), json!(form.get(k).unwrap_or_default().trim()));
    }
    let body = json!({
        "title": typed["title"],
        "alt": typed["alt"],
        "credits": typed["credits"],
        "licence": typed["licence"],
    });
    let path = t.api(&format!("media/{}", enc(&id)));
    match t.try_call::<MediaItem>(Method::PATCH, &path, &[], Body::Json(body)).await? {
        Ok(m) => Ok(t.redirect_with(&t.link(&format!("media/{}", enc(&m.id))), "success", "Descrizione salvata.")),
        Err(p) => {
            let (m, uses) = load(&t, &id).await?;
            let page = t.page(m.name().to_owned(), "media").crumb("Media", Some(t.link("media")));
            Ok(page.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "media/item.html",
                item_page(&t, &m, &uses, typed, Some(p)),
            ))
        }
    }
}

/// `GET /t/{tenant}/media/{id}/elimina`: asks before deleting; a file still used is not
/// offered for deletion, and the page says where it is used.
async fn confirm_delete(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.publish)?;
    let (_, id) = path.into_inner();
    let (m, uses) = load(&t, &id).await?;
    let page = t
        .page(format!("Eliminare «{}»?", m.name()), "media")
        .crumb("Media", Some(t.link("media")))
        .crumb(m.name().to_owned(), Some(t.link(&format!("media/{}", enc(&m.id)))));
    Ok(page.render("media/delete.html", item_page(&t, &m, &uses, Map::new(), None)))
}

/// `POST /t/{tenant}/media/{id}/elimina`: `DELETE …/media/{id}`; the API refuses a file in use
/// (409), and the page then lists the entries that use it.
async fn delete(t: InTenant, path: web::Path<(String, String)>, _form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.publish)?;
    let (_, id) = path.into_inner();
    let (m, _) = load(&t, &id).await?;
    match t.try_send(Method::DELETE, &t.api(&format!("media/{}", enc(&id))), &[], Body::None).await? {
        Ok(()) => Ok(t.redirect_with(&t.link("media"), "success", format!("Eliminato «{}».", m.name()))),
        Err(p) => {
            let (m, uses) = load(&t, &id).await?;
            let page = t
                .page(format!("Eliminare «{}»?", m.name()), "media")
                .crumb("Media", Some(t.link("media")))
                .crumb(m.name().to_owned(), Some(t.link(&format!("media/{}", enc(&m.id)))));
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::CONFLICT);
            Ok(page.render_status(status, "media/delete.html", item_page(&t, &m, &uses, Map::new(), Some(p))))
        }
    }
}

/// The variant parameters the API takes, passed on as they are.
#[derive(Debug, Deserialize)]
struct Variant {
    w: Option<u32>,
    h: Option<u32>,
    fit: Option<String>,
    format: Option<String>,
}

/// `GET /t/{tenant}/media/{id}/file`: the file (or an image variant) as the API serves it to
/// this user, with the API's type, disposition, validators and sandbox passed on.
async fn file(
    t: InTenant,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<Variant>,
) -> DeskResult<HttpResponse> {
    let (_, id) = path.into_inner();
    let (w, h) = (q.w.map(|v| v.to_string()), q.h.map(|v| v.to_string()));
    let mut query: Vec<(&str, &str)> = Vec::new();
    for (k, v) in [("w", w.as_deref()), ("h", h.as_deref()), ("fit", q.fit.as_deref()), ("format", q.format.as_deref())]
    {
        if let Some(v) = v {
            query.push((k, v));
        }
    }
    let mut pass: Vec<(&str, String)> = Vec::new();
    for name in ["if-none-match", "range"] {
        if let Some(v) = req.headers().get(name).and_then(|v| v.to_str().ok()) {
            pass.push((name, v.to_owned()));
        }
    }
    let raw = t.raw(&t.api(&format!("media/{}/file", enc(&id))), &query, &pass).await?;
    let status = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if status.is_client_error() && status != StatusCode::RANGE_NOT_SATISFIABLE {
        return Err(DeskError::NotFound);
    }
    let mut res = HttpResponse::build(status);
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_DISPOSITION,
        header::ETAG,
        header::CONTENT_RANGE,
        header::ACCEPT_RANGES,
        header::X_CONTENT_TYPE_OPTIONS,
        header::CONTENT_SECURITY_POLICY,
    ] {
        if let Some(v) = raw.headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
            res.insert_header((name, v.to_owned()));
        }
    }
    // The desk's answers are `no-store`; a file the user may see can stay in their browser.
    res.insert_header((header::CACHE_CONTROL, "private, max-age=3600"));
    Ok(res.body(raw.bytes))
}
