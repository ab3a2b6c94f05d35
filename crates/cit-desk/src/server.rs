//! The HTTP side: one actix-web server, its shared state, the static files and the headers
//! every answer carries (a strict Content-Security-Policy: nothing but this origin, no inline
//! script or style).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::api::Api;
use crate::session::Sessions;
use crate::settings::DeskSettings;

/// What every request shares.
pub struct DeskState {
    pub settings: DeskSettings,
    pub api: Api,
    pub sessions: Sessions,
}

impl DeskState {
    pub fn new(settings: DeskSettings) -> Result<DeskState, String> {
        let api = Api::new(&settings.api_url, Duration::from_secs(settings.api_timeout_secs))?;
        let sessions = Sessions::new(Duration::from_secs(settings.session_idle_secs));
        Ok(DeskState { settings, api, sessions })
    }
}

/// The Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// A bound, not yet running desk server.
pub struct DeskApp {
    port: u16,
    server: Server,
}

impl DeskApp {
    /// Binds the listener (port 0 picks a free port) and prepares the server.
    pub fn build(settings: DeskSettings) -> Result<DeskApp, String> {
        crate::install_crypto_provider();
        let listener =
            TcpListener::bind(&settings.listen).map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        if !settings.assets_dir.join("css").join("bootstrap-italia.min.css").is_file() {
            tracing::warn!(
                dir = %settings.assets_dir.display(),
                "Bootstrap Italia not found: run `npm ci` in themes/base (the desk will have no styles)"
            );
        }
        let workers = settings.workers;
        let max_upload = settings.max_upload_bytes;
        let data = web::Data::new(DeskState::new(settings)?);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::FormConfig::default().limit(crate::pages::MAX_FORM))
                .app_data(web::PayloadConfig::new(max_upload.max(crate::pages::MAX_FORM)))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CONTENT_SECURITY_POLICY, CSP))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "same-origin"))
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()")),
                )
                .route("/_assets/bi/{path:.*}", web::get().to(bootstrap_asset))
                .route("/_assets/htmx/{path:.*}", web::get().to(htmx_asset))
                .route(
                    "/_assets/desk.css",
                    web::get().to(|| async { static_text("text/css; charset=utf-8", DESK_CSS) }),
                )
                .route(
                    "/_assets/desk.js",
                    web::get().to(|| async { static_text("text/javascript; charset=utf-8", DESK_JS) }),
                )
                .route("/healthz", web::get().to(|| async { HttpResponse::Ok().content_type("text/plain").body("ok") }))
                .configure(crate::pages::configure)
                .default_service(web::to(not_found))
        })
        .workers(workers)
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        Ok(DeskApp { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn not_found() -> Result<HttpResponse, crate::error::DeskError> {
    Err(crate::error::DeskError::NotFound)
}

const DESK_CSS: &str = include_str!("../static/desk.css");
const DESK_JS: &str = include_str!("../static/desk.js");

fn static_text(ct: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(ct).insert_header((header::CACHE_CONTROL, "public, max-age=3600")).body(body)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "map" | "json" => "application/json",
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

async fn send_file(path: Option<PathBuf>) -> HttpResponse {
    let Some(path) = path else { return HttpResponse::NotFound().content_type("text/plain").body("non trovato\n") };
    let ct = content_type(&path);
    match web::block(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => HttpResponse::Ok()
            .content_type(ct)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(bytes),
        _ => HttpResponse::NotFound().content_type("text/plain").body("non trovato\n"),
    }
}

async fn bootstrap_asset(state: web::Data<DeskState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.assets_dir, &path)).await
}

async fn htmx_asset(state: web::Data<DeskState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.htmx_dir, &path)).await
}
