//! Media files: where the bytes live (the local disk by default, an S3-compatible bucket by
//! configuration, behind object_store's one interface), what a file really is (from its bytes,
//! never its name), and image variants made on request and kept.

use std::io::Cursor;
use std::sync::Arc;

use cit_core::MediaId;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use crate::settings::Secret;

/// Media settings (`CIT_MEDIA__…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaSettings {
    /// Largest upload in bytes (`CIT_MEDIA__MAX_BYTES`); larger ones get 413.
    pub max_bytes: usize,
    /// Bytes of media each tenant may keep (`CIT_MEDIA__QUOTA_BYTES`).
    pub quota_bytes: i64,
    /// Largest image accepted, in pixels (width × height): guards against decompression bombs.
    pub max_pixels: u64,
    /// Store files in this S3-compatible bucket instead of `<data_dir>/media`.
    pub s3_bucket: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<Secret>,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
            max_pixels: 40_000_000,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
        }
    }
}

/// Opens the configured media storage.
pub fn open_storage(settings: &crate::Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if settings.media.s3_bucket.is_some() {
        return Ok(Arc::new(open_s3(settings)?));
    }
    let dir = settings.data_dir.join("media");
    std::fs::create_dir_all(&dir)?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(&dir)?))
}

/// The S3 bucket of `media.s3_bucket` (an error when none is set).
pub fn open_s3(settings: &crate::Settings) -> anyhow::Result<object_store::aws::AmazonS3> {
    let m = &settings.media;
    let bucket = m.s3_bucket.as_deref().ok_or_else(|| anyhow::anyhow!("media.s3_bucket is not set"))?;
    let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(bucket);
    if let Some(e) = &m.s3_endpoint {
        b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
    }
    if let Some(r) = &m.s3_region {
        b = b.with_region(r);
    }
    if let Some(k) = &m.s3_access_key_id {
        b = b.with_access_key_id(k);
    }
    if let Some(s) = &m.s3_secret_access_key {
        b = b.with_secret_access_key(s.expose());
    }
    Ok(b.build()?)
}

pub fn original_path(tenant: &str, id: MediaId) -> ObjectPath {
    ObjectPath::from(format!("{tenant}/{id}/original"))
}

pub fn variant_path(tenant: &str, id: MediaId, spec: &VariantSpec) -> ObjectPath {
    ObjectPath::from(format!(
        "{tenant}/{id}/{}x{}-{}.{}",
        spec.width,
        spec.height,
        spec.fit.as_str(),
        spec.format.extension()
    ))
}

/// What a file is, decided from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
    Pdf,
    Odt,
    Ods,
    Docx,
    Xlsx,
    Csv,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Svg => "image/svg+xml",
            Kind::Pdf => "application/pdf",
            Kind::Odt => "application/vnd.oasis.opendocument.text",
            Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Csv => "text/csv",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        let m = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        [
            Kind::Png,
            Kind::Jpeg,
            Kind::Gif,
            Kind::Webp,
            Kind::Svg,
            Kind::Pdf,
            Kind::Odt,
            Kind::Ods,
            Kind::Docx,
            Kind::Xlsx,
            Kind::Csv,
        ]
        .into_iter()
        .find(|k| k.mime() == m || (m == "image/jpg" && *k == Kind::Jpeg))
    }

    pub fn from_extension(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "png" => Kind::Png,
            "jpg" | "jpeg" => Kind::Jpeg,
            "gif" => Kind::Gif,
            "webp" => Kind::Webp,
            "svg" => Kind::Svg,
            "pdf" => Kind::Pdf,
            "odt" => Kind::Odt,
            "ods" => Kind::Ods,
            "docx" => Kind::Docx,
            "xlsx" => Kind::Xlsx,
            "csv" => Kind::Csv,
            _ => return None,
        })
    }

    pub fn is_raster(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }

    /// Shown in the browser (images and PDF); everything else, SVG included, is downloaded.
    pub fn inline(self) -> bool {
        self.is_raster() || self == Kind::Pdf
    }
}

/// The kind of a file from its bytes, or None when it is none of the accepted kinds.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if let Some(t) = infer::get(bytes).filter(|t| !t.mime_type().ends_with("xml")) {
        return Some(match t.mime_type() {
            "image/png" => Kind::Png,
            "image/jpeg" => Kind::Jpeg,
            "image/gif" => Kind::Gif,
            "image/webp" => Kind::Webp,
            "application/pdf" => Kind::Pdf,
            "application/vnd.oasis.opendocument.text" => Kind::Odt,
            "application/vnd.oasis.opendocument.spreadsheet" => Kind::Ods,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Kind::Docx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Kind::Xlsx,
            _ => return None,
        });
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let head = text.trim_start_matches('\u{feff}').trim_start();
    let lower: String = head.chars().take(512).collect::<String>().to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
        return Some(Kind::Svg);
    }
    if lower.starts_with('<') {
        return None; // HTML or other markup: never accepted
    }
    (!text.contains('\0')).then_some(Kind::Csv)
}

/// Whether an SVG carries active content: scripts, event handlers, javascript: links,
/// foreign objects or external references.
pub fn svg_is_active(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    [
        "<script",
        "javascript:",
        "<foreignobject",
        "<iframe",
        "<embed",
        "<object",
        "xlink:href=\"http",
        "href=\"http",
        "<!entity",
    ]
    .iter()
    .any(|bad| text.contains(bad))
        || text.split(|c: char| c.is_whitespace()).any(|attr| attr.starts_with("on") && attr.contains('='))
}

/// Width and height of a raster image, read from its header without decoding the pixels.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    // Only the header is read here; the caller then refuses absurd sizes with a clear message.
    // Decoding (for variants) keeps the library's memory limits.
    reader.no_limits();
    reader.into_dimensions().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Fill the box, cropping what overflows.
    Cover,
    /// Fit inside the box, keeping the whole picture.
    Contain,
}

impl Fit {
    fn as_str(self) -> &'static str {
        match self {
            Fit::Cover => "cover",
            Fit::Contain => "contain",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Webp,
    Png,
    Jpeg,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Webp => "webp",
            Format::Png => "png",
            Format::Jpeg => "jpg",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Format::Webp => "image/webp",
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantSpec {
    pub width: u32,
    pub height: u32,
    pub fit: Fit,
    pub format: Format,
}

impl VariantSpec {
    pub const MAX_SIDE: u32 = 4000;

    pub fn parse(
        w: Option<u32>,
        h: Option<u32>,
        fit: Option<&str>,
        format: Option<&str>,
        original: (u32, u32),
    ) -> Result<Self, String> {
        let (ow, oh) = original;
        let (width, height) = match (w, h) {
            (Some(w), Some(h)) => (w, h),
            (Some(w), None) => (w, ((u64::from(oh) * u64::from(w)) / u64::from(ow.max(1))).max(1) as u32),
            (None, Some(h)) => (((u64::from(ow) * u64::from(h)) / u64::from(oh.max(1))).max(1) as u32, h),
            (None, None) => (ow, oh),
        };
        if width == 0 || height == 0 || width > Self::MAX_SIDE || height > Self::MAX_SIDE {
            return Err(format!("w and h are between 1 and {}", Self::MAX_SIDE));
        }
        let fit = match fit.unwrap_or("contain") {
            "cover" => Fit::Cover,
            "contain" => Fit::Contain,
            _ => return Err("fit is cover or contain".into()),
        };
        let format = match format.unwrap_or("webp") {
            "webp" => Format::Webp,
            "png" => Format::Png,
            "jpeg" | "jpg" => Format::Jpeg,
            _ => return Err("format is webp, png or jpeg".into()),
        };
        Ok(Self { width, height, fit, format })
    }
}

/// Makes a variant. Runs on the blocking pool: decoding and resizing are CPU work.
pub fn render_variant(bytes: &[u8], spec: VariantSpec) -> anyhow::Result<Vec<u8>> {
    let img = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format()?.decode()?;
    let resized = match spec.fit {
        Fit::Cover => img.resize_to_fill(spec.width, spec.height, image::imageops::FilterType::Lanczos3),
        Fit::Contain => img.resize(spec.width, spec.height, image::imageops::FilterType::Lanczos3),
    };
    let mut out = Cursor::new(Vec::new());
    match spec.format {
        // WebP (lossless, as the pure-Rust encoder writes it) needs 8-bit RGBA.
        Format::Webp => {
            image::DynamicImage::ImageRgba8(resized.to_rgba8()).write_to(&mut out, image::ImageFormat::WebP)?
        }
        Format::Png => resized.write_to(&mut out, image::ImageFormat::Png)?,
        Format::Jpeg => {
            image::DynamicImage::ImageRgb8(resized.to_rgb8()).write_to(&mut out, image::ImageFormat::Jpeg)?
        }
    }
    Ok(out.into_inner())
}

/// Deletes the bytes at `key`. The caller's answer no longer depends on it (the catalogue
/// already says the file is gone, or refused it), so a failure is not returned: it is logged
/// with the key, so that bytes left behind are seen and can be removed.
pub async fn discard(storage: &dyn ObjectStore, key: &ObjectPath) {
    use object_store::ObjectStoreExt;
    match storage.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => tracing::error!(key = %key, error = %e, "cannot delete media bytes; they stay behind"),
    }
}

/// Deletes every object under `prefix` (a file and its variants), logging what it cannot list
/// or delete (see [`discard`]).
pub async fn discard_all(storage: &dyn ObjectStore, prefix: &ObjectPath) {
    use futures_util::StreamExt;
    let mut listing = storage.list(Some(prefix));
    while let Some(found) = listing.next().await {
        match found {
            Ok(meta) => discard(storage, &meta.location).await,
            Err(e) => tracing::error!(prefix = %prefix, error = %e, "cannot list media bytes to delete"),
        }
    }
}

/// The first `n` hex digits of a stored SHA-256, for ETags. Total on any stored text: a value
/// that is short or not hex (changed behind cit's back) gives fewer digits, never a panic or a
/// character a header cannot hold.
pub fn hash_prefix(sha256: &str, n: usize) -> String {
    sha256.chars().filter(char::is_ascii_hexdigit).take(n).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kinds_come_from_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(Kind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"), Some(Kind::Svg));
        assert_eq!(sniff(b"comune;abitanti\nLecce;95000\n"), Some(Kind::Csv));
        assert_eq!(sniff(b"<!doctype html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
    }

    #[test]
    fn active_svg_is_spotted() {
        assert!(svg_is_active(b"<svg><script>alert(1)</script></svg>"));
        assert!(svg_is_active(b"<svg onload=\"alert(1)\"></svg>"));
        assert!(svg_is_active(b"<svg><a href=\"javascript:alert(1)\">x</a></svg>"));
        assert!(!svg_is_active(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"4\"/></svg>"));
    }

    #[test]
    fn hash_prefixes_are_total_on_bad_stored_values() {
        let sha = "ab".repeat(32);
        assert_eq!(hash_prefix(&sha, 16), "ab".repeat(8));
        assert_eq!(hash_prefix("abc", 16), "abc", "short: what there is");
        assert_eq!(hash_prefix("é\"x1\r\nf", 16), "1f", "no character a header cannot hold");
        assert_eq!(hash_prefix("", 32), "");
    }
}
