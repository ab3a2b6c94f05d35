//! The HTTP side: one actix-web server for every partner site. A request is matched to a site
//! by its Host header (the `hosts` of theme.toml) or else by its first path segment
//! (`/{tenant}/…`), then dispatched to a page, rendered with the partner's templates.
//!
//! Rooms: this file (the shared state and the server), [`assets`] (static files), [`dispatch`]
//! (from a request to a site and a page), [`routes`] (site paths to page handlers),
//! [`page_cache`] (rendered public pages kept while fresh) and [`respond`] (layout, rendering,
//! headers, error pages).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::api::ApiClient;
use crate::settings::SiteSettings;
use crate::theme::Themes;

mod assets;
mod dispatch;
mod page_cache;
mod respond;
pub(crate) use respond::respond;
mod routes;

use assets::{base_asset, bootstrap_asset, theme_asset, theme_css};
use dispatch::dispatch;
use page_cache::KeptPage;

/// What every request shares.
pub struct SiteState {
    pub settings: SiteSettings,
    pub api: ApiClient,
    themes: RwLock<Arc<Themes>>,
    last_scan: RwLock<Instant>,
    /// Rendered public pages, each kept while every API answer it was made of is fresh (the
    /// same `cache_ttl_secs` window that the API answers are kept for): a kept page is never
    /// older than a page rendered from the cached answers would be.
    pages: Mutex<HashMap<String, KeptPage>>,
    /// Signs the CSRF tokens of the request forms.
    pub csrf: crate::requests::csrf::CsrfKey,
}

impl SiteState {
    pub fn new(settings: SiteSettings) -> Result<SiteState, String> {
        let api = ApiClient::new(
            &settings.api_url,
            Duration::from_secs(settings.cache_ttl_secs),
            Duration::from_secs(settings.stale_max_secs),
            Duration::from_secs(settings.api_timeout_secs),
        )?;
        let themes = Themes::scan(&settings.themes_dir);
        let csrf = crate::requests::csrf::CsrfKey::new(settings.secret.as_deref());
        Ok(SiteState {
            csrf,
            settings,
            api,
            themes: RwLock::new(Arc::new(themes)),
            last_scan: RwLock::new(Instant::now()),
            pages: Mutex::new(HashMap::new()),
        })
    }

    pub fn themes(&self) -> Arc<Themes> {
        self.themes.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// Reads the themes folder again: a partner folder added while the site runs is picked up
    /// at its first request. `now` when the request names a folder that has a theme.toml;
    /// otherwise (an unknown host or path) at most once a second.
    fn rescan(&self, now: bool) -> Arc<Themes> {
        let due = now || self.last_scan.read().map(|t| t.elapsed() >= Duration::from_secs(1)).unwrap_or(false);
        if due {
            if let Ok(mut t) = self.last_scan.write() {
                *t = Instant::now();
            }
            let fresh = Arc::new(Themes::scan(&self.settings.themes_dir));
            if let Ok(mut t) = self.themes.write() {
                *t = fresh.clone();
            }
            return fresh;
        }
        self.themes()
    }
}

/// A bound, not yet running site server.
pub struct SiteApp {
    port: u16,
    server: Server,
    state: Arc<SiteState>,
}

impl SiteApp {
    /// Binds the listener (port 0 picks a free port) and prepares the server.
    pub fn build(settings: SiteSettings) -> Result<SiteApp, String> {
        crate::install_crypto_provider();
        let listener =
            TcpListener::bind(&settings.listen).map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        if !settings.assets_dir.join("css").join("bootstrap-italia.min.css").is_file() {
            tracing::warn!(
                dir = %settings.assets_dir.display(),
                "Bootstrap Italia not found: run `npm ci` in themes/base (the pages will have no styles)"
            );
        }
        let workers = settings.workers;
        let state = Arc::new(SiteState::new(settings)?);
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::FormConfig::default().limit(4096))
                // Request forms with files; each page checks its own, smaller limit.
                .app_data(web::PayloadConfig::new(crate::requests::MAX_UPLOAD))
                .route("/_assets/bi/{path:.*}", web::get().to(bootstrap_asset))
                .route("/_assets/base/{path:.*}", web::get().to(base_asset))
                .route("/_assets/themes/{theme}/theme.css", web::get().to(theme_css))
                .route("/_assets/themes/{theme}/{path:.*}", web::get().to(theme_asset))
                .route("/healthz", web::get().to(|| async { HttpResponse::Ok().content_type("text/plain").body("ok") }))
                .default_service(web::to(dispatch))
        })
        .workers(workers)
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        Ok(SiteApp { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tenants with a theme, in name order.
    pub fn tenants(&self) -> Vec<String> {
        self.state.themes().by_tenant.keys().cloned().collect()
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
