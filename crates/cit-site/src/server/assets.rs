//! Static files: Bootstrap Italia, the base theme's files, each partner's palette and files.

use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::SiteState;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A file under `root` named by a request path; `..`, hidden files and absolute paths are refused.
fn file_under(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part.starts_with('.') || part.contains('\\') {
            return None;
        }
        path.push(part);
    }
    path.is_file().then_some(path)
}

async fn send_file(path: Option<PathBuf>, max_age: u32) -> HttpResponse {
    let Some(path) = path else { return plain_not_found() };
    let ct = content_type(&path);
    match web::block(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => HttpResponse::Ok()
            .content_type(ct)
            .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(bytes),
        _ => plain_not_found(),
    }
}

fn plain_not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("non trovato\n")
}

pub(super) async fn bootstrap_asset(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.assets_dir, &path), 86_400).await
}

pub(super) async fn base_asset(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.themes_dir.join("base").join("static"), &path), 3_600).await
}

pub(super) async fn theme_css(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    let themes = state.themes();
    let Some(theme) = themes.by_tenant.values().find(|t| t.id == *path) else { return plain_not_found() };
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(theme.palette.css())
}

pub(super) async fn theme_asset(state: web::Data<SiteState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (id, rel) = path.into_inner();
    let themes = state.themes();
    let Some(theme) = themes.by_tenant.values().find(|t| t.id == id) else { return plain_not_found() };
    // The logo, and whatever the theme keeps under static/.
    let file = if rel == theme.file.logo {
        Some(theme.dir.join(&theme.file.logo))
    } else {
        file_under(&theme.dir.join("static"), rel.strip_prefix("static/").unwrap_or("\u{0}"))
    };
    send_file(file.filter(|f| f.is_file()), 3_600).await
}
