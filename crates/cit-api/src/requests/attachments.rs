//! Files attached to a form submission: read from a `multipart/form-data` body within the
//! form's limits, recognised from their bytes (never their name or declared type), and kept
//! privately under `<data_dir>/attachments/` — not the media folder, and never behind a public
//! URL: only staff download them, through `GET …/submissions/{id}/attachments/{attachment}`.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::web::{BytesMut, Payload};
use actix_web::{HttpRequest, http::header};
use cit_core::forms::{AttachmentRules, FileType};
use cit_store::requests::NewAttachment;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult, FieldError};

/// The multipart field of the files.
pub const FIELD: &str = "attachments";
/// What a multipart body may hold beyond its parts' contents (boundaries, part headers).
const PART_OVERHEAD: usize = 16 * 1024;

/// Opens `<data_dir>/attachments`, apart from the media storage.
pub fn open_storage(settings: &crate::Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let dir = settings.data_dir.join("attachments");
    std::fs::create_dir_all(&dir)?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(&dir)?))
}

/// Where the files of one submission live.
pub fn folder(tenant: &str, submission: uuid::Uuid) -> ObjectPath {
    ObjectPath::from(format!("{tenant}/{submission}"))
}

pub fn key(tenant: &str, submission: uuid::Uuid, id: uuid::Uuid) -> ObjectPath {
    ObjectPath::from(format!("{tenant}/{submission}/{id}"))
}

/// The largest body a submission of a form may have: the JSON cap, plus its files.
pub fn body_cap(max_body: usize, rules: Option<&AttachmentRules>) -> usize {
    rules.map_or(max_body, |r| {
        max_body.saturating_add(PART_OVERHEAD).saturating_add(r.max_files.saturating_mul(r.max_bytes + PART_OVERHEAD))
    })
}

/// A file as it arrived.
#[derive(Debug)]
pub struct Incoming {
    pub filename: String,
    pub declared: Option<String>,
    pub bytes: Vec<u8>,
}

/// A file that passed the checks.
#[derive(Debug)]
pub struct Checked {
    pub filename: String,
    pub kind: &'static FileType,
    pub bytes: Vec<u8>,
}

/// Whether the request is `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn refuse(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(FIELD, code, message)])
}

fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest { code: "bad_multipart", detail: format!("the multipart body cannot be read: {e}") }
}

/// Reads a submission sent as `multipart/form-data`: the `submission` part (the JSON of a JSON
/// submission, up to `max_body` bytes, 413 beyond) and the `attachments` file parts. More files
/// than allowed, a file over the size, or any file for a form without attachments: 422 naming
/// `attachments`. Reading stops at the first refusal.
pub async fn read_multipart(
    req: &HttpRequest,
    payload: Payload,
    max_body: usize,
    rules: Option<&AttachmentRules>,
) -> ApiResult<(BytesMut, Vec<Incoming>)> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut submission: Option<BytesMut> = None;
    let mut files = Vec::new();
    while let Some(part) = form.next().await {
        let mut part = part.map_err(bad_multipart)?;
        let name = part.content_disposition().and_then(|d| d.get_name()).unwrap_or_default().to_owned();
        let filename = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let declared = part.content_type().map(|m| m.essence_str().to_owned());
        let limit = match (name.as_str(), rules) {
            ("submission", _) => max_body,
            (FIELD, Some(r)) => r.max_bytes,
            (FIELD, None) => 0,
            (other, _) => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    other,
                    "unknown_field",
                    format!("unknown part `{other}`: send `submission` and `{FIELD}`"),
                )]));
            }
        };
        let mut bytes = BytesMut::new();
        let mut over = false;
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(bad_multipart)?;
            if bytes.len() + chunk.len() > limit {
                over = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "submission" {
            if over {
                return Err(ApiError::PayloadTooLarge { limit: max_body });
            }
            submission = Some(bytes);
            continue;
        }
        // A file input left empty still sends a part, without a name or bytes.
        let filename = filename.unwrap_or_default();
        if !over && bytes.is_empty() && filename.is_empty() {
            continue;
        }
        let Some(rules) = rules else {
            return Err(refuse("attachments_not_accepted", "this form does not take attachments"));
        };
        if over {
            return Err(refuse(
                "file_too_large",
                format!(
                    "`{}` is larger than {} bytes, the most this form takes per file",
                    clean_filename(&filename),
                    rules.max_bytes
                ),
            ));
        }
        if files.len() == rules.max_files {
            return Err(refuse("too_many_files", format!("this form takes at most {} files", rules.max_files)));
        }
        files.push(Incoming { filename, declared, bytes: bytes.to_vec() });
    }
    let submission = submission.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "submission",
            "required",
            "send the submission's JSON in a `submission` part",
        )])
    })?;
    Ok((submission, files))
}

/// The type of a file from its bytes, among [`cit_core::forms::FILE_TYPES`]; `None` for
/// anything else (programs, archives, HTML, SVG, …).
pub fn sniff(bytes: &[u8]) -> Option<&'static FileType> {
    if let Some(t) = infer::get(bytes) {
        return FileType::of_mime(t.mime_type()).filter(|t| t.mime != "text/plain");
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let head: String = text.trim_start_matches('\u{feff}').trim_start().chars().take(1).collect();
    // Markup is never "plain text": HTML or SVG would run in a browser that guessed.
    if head == "<" || text.contains('\0') {
        return None;
    }
    FileType::of_mime("text/plain")
}

/// A name safe to keep and to put in a header: no path, no control characters, no quotes.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '\\')).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() { "allegato".into() } else { cleaned }
}

/// Checks every file: not empty, of an allowed type recognised from its bytes, and neither its
/// name's ending nor its declared type saying it is something else. Problems name `attachments`.
pub fn check(rules: &AttachmentRules, files: Vec<Incoming>) -> Result<Vec<Checked>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    let allowed = rules.labels();
    for f in files {
        let filename = clean_filename(&f.filename);
        if f.bytes.is_empty() {
            errors.push(FieldError::new(FIELD, "empty_file", format!("`{filename}` is empty")));
            continue;
        }
        let Some(kind) = sniff(&f.bytes).filter(|k| rules.allows(k.mime)) else {
            errors.push(FieldError::new(
                FIELD,
                "unsupported_type",
                format!("`{filename}` is not a file this form takes: {allowed}"),
            ));
            continue;
        };
        let by_name = FileType::of_name(&filename);
        let declared = f
            .declared
            .as_deref()
            .map(str::to_ascii_lowercase)
            .filter(|d| d != "application/octet-stream" && !(kind.mime == "text/plain" && d.starts_with("text/")));
        if by_name.is_some_and(|t| t != kind) || declared.is_some_and(|d| d != kind.mime) {
            errors.push(FieldError::new(
                FIELD,
                "type_mismatch",
                format!("`{filename}` is {} but its name or declared type says otherwise", kind.label),
            ));
            continue;
        }
        checked.push(Checked { filename, kind, bytes: f.bytes });
    }
    if errors.is_empty() { Ok(checked) } else { Err(errors) }
}

/// Writes the files of a submission and returns their catalogue rows. If one cannot be
/// written, those already written are removed and the error is returned.
pub async fn store(
    storage: &dyn ObjectStore,
    tenant: &str,
    submission: uuid::Uuid,
    files: Vec<Checked>,
) -> ApiResult<Vec<NewAttachment>> {
    let mut written = Vec::with_capacity(files.len());
    for f in files {
        let id = uuid::Uuid::now_v7();
        let sha256: String = Sha256::digest(&f.bytes).iter().map(|b| format!("{b:02x}")).collect();
        let size = i64::try_from(f.bytes.len()).unwrap_or(i64::MAX);
        if let Err(e) = storage.put(&key(tenant, submission, id), PutPayload::from(f.bytes)).await {
            discard(storage, tenant, submission).await;
            return Err(ApiError::internal(e));
        }
        written.push(NewAttachment { id, filename: f.filename, content_type: f.kind.mime.to_owned(), size, sha256 });
    }
    Ok(written)
}

/// Removes every file of a submission (a submission that was not stored, or retention).
pub async fn discard(storage: &dyn ObjectStore, tenant: &str, submission: uuid::Uuid) {
    crate::media::discard_all(storage, &folder(tenant, submission)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n...").map(|t| t.mime), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map(|t| t.mime), Some("image/png"));
        assert_eq!(sniff("Il protocollo non si apre.\n".as_bytes()).map(|t| t.mime), Some("text/plain"));
        assert_eq!(sniff(b"<!doctype html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), None, "a zip is no allowed type");
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_filename("C:\\\\Users\\\\x\\\\scan\".pdf"), "scan.pdf");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("\n"), "allegato");
        assert_eq!(clean_filename(".htaccess"), "htaccess");
    }
}
