//! What the cit-site tests share: a stand-in API on a free port, a themes folder with partners,
//! and the site started against both.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

use actix_web::dev::ServerHandle;
use actix_web::{App, FromRequest, Handler, HttpServer, Responder, web};
use cit_site::{SiteApp, SiteSettings};

pub fn base_theme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes/base").canonicalize().unwrap()
}

/// Serves every request with `handler` (with `data` as its app data) on a free port: the
/// stand-in for the cit API. Returns the port and the handle that stops it.
pub fn fake_api<T, F, Args>(data: web::Data<T>, handler: F) -> (u16, ServerHandle)
where
    T: Send + Sync + 'static,
    F: Handler<Args> + Clone + Send + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(handler.clone())))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    (port, handle)
}

/// A themes folder holding the base theme (linked) and nothing else yet.
pub fn themes_dir() -> tempfile::TempDir {
    let themes = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(base_theme(), themes.path().join("base")).unwrap();
    themes
}

/// Writes partner `id` into `dir`: its theme.toml (served on `hosts`, if any) and a logo.
pub fn write_theme(dir: &Path, id: &str, hosts: &[&str], primary: &str) {
    let t = dir.join(id);
    std::fs::create_dir_all(&t).unwrap();
    let hosts = if hosts.is_empty() { String::new() } else { format!("hosts = {hosts:?}\n") };
    std::fs::write(
        t.join("theme.toml"),
        format!(
            "name = \"CIT Demo\"\nbody = \"Comune di Esempio\"\n{hosts}[colors]\nprimary = \"{primary}\"\nsecondary = \"#e0a800\"\n"
        ),
    )
    .unwrap();
    std::fs::write(t.join("logo.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"/>").unwrap();
}

/// The site's settings against the stand-in API on `api_port` and the partners in `themes`: no
/// cache, a 2 s API timeout, no secret (tests change what they need).
pub fn settings(api_port: u16, themes: &Path) -> SiteSettings {
    SiteSettings {
        listen: "127.0.0.1:0".into(),
        api_url: format!("http://127.0.0.1:{api_port}"),
        themes_dir: themes.to_path_buf(),
        assets_dir: base_theme().join("node_modules/bootstrap-italia/dist"),
        cache_ttl_secs: 0,
        stale_max_secs: 3600,
        api_timeout_secs: 2,
        workers: 1,
        secret: None,
    }
}

/// Starts the site and returns its base URL.
pub fn start_site(settings: SiteSettings) -> String {
    let app = SiteApp::build(settings).unwrap();
    let site = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    site
}

/// An answer's status, headers and body.
pub async fn parts(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}
