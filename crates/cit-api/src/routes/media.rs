//! `/api/v1/t/{tenant}/media`: the media library. Uploads are checked from their bytes (the
//! name and the claimed type must agree with what the file is), images need alt text, SVG with
//! active content and HTML are refused, and files are served so they can never run as pages.

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use cit_core::{Action, MediaId};
use cit_store::MediaItem;
use futures_util::StreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::List;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Auth;
use crate::media::{Kind, VariantSpec, dimensions, original_path, render_variant, sniff, svg_is_active, variant_path};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaView {
    pub id: uuid::Uuid,
    pub filename: String,
    /// Detected from the bytes.
    pub content_type: String,
    pub size: i64,
    pub title: String,
    pub alt: Option<String>,
    pub credits: Option<String>,
    pub licence: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Where the file is served; images also take `?w=&h=&fit=cover|contain&format=webp|png|jpeg`.
    pub url: String,
    pub created_at: DateTime<Utc>,
}

fn view(tenant: &str, m: MediaItem) -> MediaView {
    let f = m.file;
    MediaView {
        url: format!("/api/v1/t/{tenant}/media/{}/file", f.id),
        id: f.id.0,
        filename: f.filename,
        content_type: f.content_type,
        size: f.size,
        title: f.title,
        alt: f.alt,
        credits: f.credits,
        licence: f.licence,
        width: f.width,
        height: f.height,
        created_at: m.created_at,
    }
}

fn invalid(field: &str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, code, message)])
}

/// The upload form as the OpenAPI document shows it; `read_form` reads the parts one by one.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// PNG, JPEG, GIF, WebP, SVG (without scripts or external references), PDF, ODT, ODS, DOCX,
    /// XLSX or CSV, recognised by its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Defaults to the file name.
    title: Option<String>,
    /// Alternative text: required for images.
    alt: Option<String>,
    credits: Option<String>,
    licence: Option<String>,
}

/// The parts of an upload form.
#[derive(Default)]
struct Upload {
    file: Option<(String, Option<String>, Vec<u8>)>,
    title: Option<String>,
    alt: Option<String>,
    credits: Option<String>,
    licence: Option<String>,
}

async fn read_form(mut form: Multipart, max_bytes: usize) -> ApiResult<Upload> {
    let mut form_data = Upload::default();
    while let Some(part) = form.next().await {
        let mut part = part.map_err(|e| ApiError::BadRequest { code: "bad_multipart", detail: e.to_string() })?;
        let name = part.content_disposition().and_then(|d| d.get_name()).unwrap_or_default().to_owned();
        let filename = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let claimed = part.content_type().map(|m| m.essence_str().to_owned());
        let limit = if name == "file" { max_bytes } else { 4096 };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest { code: "bad_multipart", detail: e.to_string() })?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8(bytes.clone()).map(|s| s.trim().to_owned()).ok().filter(|s| !s.is_empty());
        match name.as_str() {
            "file" => form_data.file = Some((filename.unwrap_or_else(|| "file".into()), claimed, bytes)),
            "title" => form_data.title = text(),
            "alt" => form_data.alt = text(),
            "credits" => form_data.credits = text(),
            "licence" => form_data.licence = text(),
            other => return Err(invalid(other, "unknown_field", format!("unknown form field `{other}`"))),
        }
    }
    Ok(form_data)
}

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    if cleaned.trim().is_empty() { "file".into() } else { cleaned }
}

/// Upload a file (multipart/form-data: `file`, and `title`, `alt` (required for images),
/// `credits`, `licence`).
#[utoipa::path(
    tag = "media",
    security(("bearer" = [])),
    params(("tenant" = String, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm, description = "file, title, alt, credits, licence"),
    responses(
        (status = 201, body = MediaView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "quota_exceeded"),
    )
)]
#[post("/api/v1/t/{tenant}/media")]
pub async fn upload(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<String>,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let (tenant, access) = state.tenant_access(&auth, &path, Action::WriteContent).await?;
    let max = state.settings.media.max_bytes;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge { limit: max });
    }
    let up = read_form(form, max).await?;
    let (filename, claimed, bytes) =
        up.file.ok_or_else(|| invalid("file", "missing_field", "send the file in a `file` part"))?;
    if bytes.is_empty() {
        return Err(invalid("file", "empty_file", "the file is empty"));
    }
    let filename = clean_filename(&filename);
    let kind = sniff(&bytes).ok_or_else(|| {
        invalid("file", "unsupported_type", "accepted: PNG, JPEG, GIF, WebP, SVG, PDF, ODT, ODS, DOCX, XLSX, CSV")
    })?;
    // Browsers often send application/octet-stream, and text/plain for CSV files.
    let claimed_kind = claimed
        .as_deref()
        .filter(|c| *c != "application/octet-stream" && !(kind == Kind::Csv && *c == "text/plain"))
        .map(Kind::from_mime);
    if claimed_kind.is_some_and(|c| c != Some(kind)) || Kind::from_extension(&filename).is_some_and(|e| e != kind) {
        return Err(invalid(
            "file",
            "type_mismatch",
            format!("the file is {} but its name or declared type says otherwise", kind.mime()),
        ));
    }
    if kind == Kind::Csv && Kind::from_extension(&filename) != Some(Kind::Csv) {
        return Err(invalid("file", "unsupported_type", "plain text is accepted only as a .csv file"));
    }
    let (mut width, mut height) = (None, None);
    if kind.is_raster() {
        let (w, h) = dimensions(&bytes).ok_or_else(|| invalid("file", "corrupt_image", "the image cannot be read"))?;
        if u64::from(w) * u64::from(h) > state.settings.media.max_pixels || w > 20_000 || h > 20_000 {
            return Err(invalid("file", "image_too_large", format!("{w}×{h} pixels is more than this server accepts")));
        }
        (width, height) = (i32::try_from(w).ok(), i32::try_from(h).ok());
    }
    if kind == Kind::Svg && svg_is_active(&bytes) {
        return Err(invalid("file", "unsafe_svg", "the SVG contains scripts, event handlers or external references"));
    }
    if (kind.is_raster() || kind == Kind::Svg) && up.alt.is_none() {
        return Err(invalid("alt", "required", "images need alternative text (alt) for people who cannot see them"));
    }
    let id = MediaId::new();
    let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let key = original_path(tenant.id.as_str(), id);
    state.media.put(&key, PutPayload::from(bytes)).await.map_err(ApiError::internal)?;
    let new = cit_store::MediaFile {
        id,
        title: up.title.unwrap_or_else(|| filename.clone()),
        filename,
        content_type: kind.mime().to_owned(),
        size,
        sha256,
        alt: up.alt,
        credits: up.credits,
        licence: up.licence,
        width,
        height,
    };
    match state.store.scoped(&access).add_media(new, state.settings.media.quota_bytes).await {
        Ok(item) => Ok(HttpResponse::Created().json(view(tenant.id.as_str(), item))),
        Err(e) => {
            // Nothing stays behind when the catalogue refuses the file.
            crate::media::discard(state.media.as_ref(), &key).await;
            Err(e.into())
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// The tenant's files, newest first.
#[utoipa::path(tag = "media", params(("tenant" = String, Path), ListParams), responses((status = 200, body = List<MediaView>)))]
#[get("/api/v1/t/{tenant}/media")]
pub async fn list(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    q: web::Query<ListParams>,
) -> ApiResult<web::Json<List<MediaView>>> {
    let (tenant, access) = state.tenant_access(&auth, &path, Action::ReadPublished).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest { code: "invalid_query", detail: "limit: between 1 and 100".into() });
    }
    let items = state.store.scoped(&access).media_list(limit, q.offset.unwrap_or(0)).await?;
    Ok(web::Json(List::all(items.into_iter().map(|m| view(tenant.id.as_str(), m)).collect())))
}

fn media_id(raw: &str) -> ApiResult<MediaId> {
    raw.parse::<uuid::Uuid>().map(MediaId::from).map_err(|_| ApiError::NotFound("media"))
}

/// A file's description.
#[utoipa::path(tag = "media", params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, body = MediaView)))]
#[get("/api/v1/t/{tenant}/media/{id}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<web::Json<MediaView>> {
    let (tenant, id) = path.into_inner();
    let (tenant, access) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let item = state.store.scoped(&access).media(media_id(&id)?).await?.ok_or(ApiError::NotFound("media"))?;
    Ok(web::Json(view(tenant.id.as_str(), item)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VariantParams {
    /// Width of an image variant, 1–4000.
    #[param(minimum = 1, maximum = 4000)]
    pub w: Option<u32>,
    /// Height of an image variant, 1–4000.
    #[param(minimum = 1, maximum = 4000)]
    pub h: Option<u32>,
    /// cover (crop to fill) or contain (default).
    #[param(pattern = "^(cover|contain)$")]
    pub fit: Option<String>,
    /// webp (default for variants), png or jpeg.
    #[param(pattern = "^(webp|png|jpeg)$")]
    pub format: Option<String>,
}

/// Parses a single `Range: bytes=…` against a length: Ok(None) for no range, Err for one that
/// cannot be satisfied.
fn byte_range(req: &HttpRequest, len: usize) -> Result<Option<(usize, usize)>, ()> {
    let Some(raw) = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let spec = raw.strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') || len == 0 {
        return Err(());
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (s, e) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().map_err(|_| ())?, len - 1),
        (s, e) => (s.parse().map_err(|_| ())?, e.parse::<usize>().map_err(|_| ())?.min(len - 1)),
    };
    if s > e || s >= len { Err(()) } else { Ok(Some((s, e))) }
}

/// The file itself, or an image variant. Supports `Range`, `If-None-Match`; sends
/// `X-Content-Type-Options: nosniff`; SVG and documents are attachments, never pages.
#[utoipa::path(
    tag = "media",
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path), VariantParams),
    responses((status = 200, description = "The bytes"), (status = 206, description = "Part of the bytes"), (status = 304), (status = 416))
)]
#[get("/api/v1/t/{tenant}/media/{id}/file")]
pub async fn file(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<VariantParams>,
) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (tenant, access) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let item = state.store.scoped(&access).media(media_id(&id)?).await?.ok_or(ApiError::NotFound("media"))?.file;
    let kind = Kind::from_mime(&item.content_type)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown stored type")))?;
    let wants_variant = q.w.is_some() || q.h.is_some() || q.fit.is_some() || q.format.is_some();
    let original_key = original_path(tenant.id.as_str(), item.id);
    let read_original = async || -> ApiResult<_> {
        state.media.get(&original_key).await.map_err(ApiError::internal)?.bytes().await.map_err(ApiError::internal)
    };
    let (bytes, mime, etag) = if wants_variant {
        if !kind.is_raster() {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: "variants are made of raster images only".into(),
            });
        }
        let dims =
            (u32::try_from(item.width.unwrap_or(1)).unwrap_or(1), u32::try_from(item.height.unwrap_or(1)).unwrap_or(1));
        let spec = VariantSpec::parse(q.w, q.h, q.fit.as_deref(), q.format.as_deref(), dims)
            .map_err(|m| ApiError::BadRequest { code: "invalid_query", detail: m })?;
        let key = variant_path(tenant.id.as_str(), item.id, &spec);
        let bytes = match state.media.get(&key).await {
            Ok(found) => found.bytes().await.map_err(ApiError::internal)?,
            Err(_) => {
                // The original is read only when the variant has to be made.
                let source = read_original().await?;
                let made = tokio::task::spawn_blocking(move || render_variant(&source, spec))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?;
                state.media.put(&key, PutPayload::from(made.clone())).await.map_err(ApiError::internal)?;
                made.into()
            }
        };
        let etag = format!(
            "\"{}-{}x{}-{:?}-{}\"",
            crate::media::hash_prefix(&item.sha256, 16),
            spec.width,
            spec.height,
            spec.fit,
            spec.format.extension()
        )
        .to_lowercase();
        (bytes, spec.format.mime().to_owned(), etag)
    } else {
        (
            read_original().await?,
            item.content_type.clone(),
            format!("\"{}\"", crate::media::hash_prefix(&item.sha256, 32)),
        )
    };

    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag.clone()));
    res.insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    res.insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")));
    res.insert_header((
        header::CACHE_CONTROL,
        HeaderValue::from_static(if tenant.public_read { "public, max-age=86400" } else { "private, max-age=86400" }),
    ));
    let disposition = if kind.inline() || wants_variant { "inline" } else { "attachment" };
    let ascii_name: String =
        item.filename.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    res.insert_header((header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{ascii_name}\"")));
    if kind == Kind::Svg {
        res.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'"),
        ));
    }
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    match byte_range(&req, bytes.len()) {
        Ok(None) => Ok(res.content_type(mime).body(bytes)),
        Ok(Some((s, e))) => {
            res.status(actix_web::http::StatusCode::PARTIAL_CONTENT);
            res.insert_header((header::CONTENT_RANGE, format!("bytes {s}-{e}/{}", bytes.len())));
            Ok(res.content_type(mime).body(bytes.slice(s..=e)))
        }
        Err(()) => Ok(HttpResponse::RangeNotSatisfiable()
            .insert_header((header::CONTENT_RANGE, format!("bytes */{}", bytes.len())))
            .finish()),
    }
}

/// A change of a file's description; the bytes never change (upload a new file for that).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaPatch {
    /// Not empty.
    pub title: Option<String>,
    /// `null` or `""` clears it; an image keeps one.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub alt: Option<Option<String>>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub credits: Option<Option<String>>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub licence: Option<Option<String>>,
}

/// The longest title, alternative text, credits or licence accepted (as an upload's form part).
const MAX_TEXT: usize = 4096;

/// Trims a patched text; an empty one clears the field. Every problem is reported at once.
fn patched(field: &'static str, v: Option<Option<String>>, errors: &mut Vec<FieldError>) -> Option<Option<String>> {
    let v = v.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    if v.as_ref().and_then(|v| v.as_ref()).is_some_and(|s| s.len() > MAX_TEXT) {
        errors.push(FieldError::new(field, "too_long", format!("at most {MAX_TEXT} bytes")));
    }
    v
}

/// Change a file's title, alternative text, credits or licence. Images keep their alt text
/// (422 `required`); an empty title is refused. Audited as `media.update`.
#[utoipa::path(
    tag = "media",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    request_body = MediaPatch,
    responses((status = 200, body = MediaView), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/api/v1/t/{tenant}/media/{id}")]
pub async fn update(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: crate::extract::Json<MediaPatch>,
) -> ApiResult<web::Json<MediaView>> {
    let (tenant, id) = path.into_inner();
    let (tenant, access) = state.tenant_access(&auth, &tenant, Action::WriteContent).await?;
    let store = state.store.scoped(&access);
    let id = media_id(&id)?;
    let item = store.media(id).await?.ok_or(ApiError::NotFound("media"))?;
    let patch = body.0;
    let mut errors = Vec::new();
    let title = patch.title.map(|t| t.trim().to_owned());
    match &title {
        Some(t) if t.is_empty() => errors.push(FieldError::new("title", "required", "a file keeps a title")),
        Some(t) if t.len() > MAX_TEXT => {
            errors.push(FieldError::new("title", "too_long", format!("at most {MAX_TEXT} bytes")))
        }
        _ => {}
    }
    let alt = patched("alt", patch.alt, &mut errors);
    let kind = Kind::from_mime(&item.file.content_type);
    if alt == Some(None) && kind.is_some_and(|k| k.is_raster() || k == Kind::Svg) {
        errors.push(FieldError::new(
            "alt",
            "required",
            "images need alternative text (alt) for people who cannot see them",
        ));
    }
    let credits = patched("credits", patch.credits, &mut errors);
    let licence = patched("licence", patch.licence, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let item = store.update_media(id, cit_store::MediaChange { title, alt, credits, licence }).await?;
    Ok(web::Json(view(tenant.id.as_str(), item)))
}

/// An entry that uses a file.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaUseView {
    pub id: uuid::Uuid,
    /// The content type's `api_id`.
    #[serde(rename = "type")]
    pub type_id: String,
    pub locale: String,
    pub slug: String,
    pub status: String,
    /// The entry's `title` field, when it has one.
    pub title: Option<String>,
}

/// The entries whose data mention the file (at most 100, most recently changed first): what
/// must change before it can be deleted.
#[utoipa::path(
    tag = "media",
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<MediaUseView>))
)]
#[get("/api/v1/t/{tenant}/media/{id}/uses")]
pub async fn uses(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<List<MediaUseView>>> {
    let (tenant, id) = path.into_inner();
    // The entries may be drafts: reading them is a writer's right.
    let (_, access) = state.tenant_access(&auth, &tenant, Action::WriteContent).await?;
    let store = state.store.scoped(&access);
    let id = media_id(&id)?;
    store.media(id).await?.ok_or(ApiError::NotFound("media"))?;
    let found = store.media_used_by(id, 100).await?;
    Ok(web::Json(List::all(
        found
            .into_iter()
            .map(|u| MediaUseView {
                id: u.entry,
                type_id: u.type_id,
                locale: u.locale,
                slug: u.slug,
                status: u.status,
                title: u.title,
            })
            .collect(),
    )))
}

/// Delete a file; refused with 409 `in_use` while an entry uses it.
#[utoipa::path(
    tag = "media",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/api/v1/t/{tenant}/media/{id}")]
pub async fn remove(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, id) = path.into_inner();
    let (tenant, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let item = state.store.scoped(&access).remove_media(media_id(&id)?).await?;
    let prefix = object_store::path::Path::from(format!("{}/{}", tenant.id, item.file.id));
    crate::media::discard_all(state.media.as_ref(), &prefix).await;
    Ok(HttpResponse::NoContent().finish())
}
