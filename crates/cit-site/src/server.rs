//! The HTTP side: one actix-web server for every partner site. A request is matched to a site
//! by its Host header (the `hosts` of theme.toml) or else by its first path segment
//! (`/{tenant}/…`), then dispatched to a page, rendered with the partner's templates.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use minijinja::value::Serde;
use serde_json::{Map, Value, json};

use crate::api::ApiClient;
use crate::pages::{self, Answer, Ctx, Page, SiteError, Tree};
use crate::settings::SiteSettings;
use crate::theme::Themes;

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

struct KeptPage {
    body: web::Bytes,
    content_type: HeaderValue,
    until: Instant,
}

/// Most pages kept; beyond it, the expired ones go, then all.
const PAGE_LIMIT: usize = 2048;
/// Pages larger than this are not kept.
const PAGE_MAX_BYTES: usize = 512 * 1024;

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

// ---- static files -------------------------------------------------------------------------

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

async fn bootstrap_asset(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.assets_dir, &path), 86_400).await
}

async fn base_asset(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    send_file(file_under(&state.settings.themes_dir.join("base").join("static"), &path), 3_600).await
}

async fn theme_css(state: web::Data<SiteState>, path: web::Path<String>) -> HttpResponse {
    let themes = state.themes();
    let Some(theme) = themes.by_tenant.values().find(|t| t.id == *path) else { return plain_not_found() };
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(theme.palette.css())
}

async fn theme_asset(state: web::Data<SiteState>, path: web::Path<(String, String)>) -> HttpResponse {
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

// ---- dispatch -----------------------------------------------------------------------------

fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

async fn dispatch(req: HttpRequest, body: web::Bytes, state: web::Data<SiteState>) -> HttpResponse {
    let state = state.into_inner();
    if req.method() != actix_web::http::Method::GET {
        return render_page(req, body, state).await;
    }
    let key = format!("{}{}?{}", origin(&req), req.path(), req.query_string());
    if let Some(page) = state.kept_page(&key) {
        return page;
    }
    let resp = render_page(req, body, state.clone()).await;
    state.keep_page(key, resp).await
}

impl SiteState {
    fn kept_page(&self, key: &str) -> Option<HttpResponse> {
        let pages = self.pages.lock().ok()?;
        let page = pages.get(key).filter(|p| p.until > Instant::now())?;
        let mut resp = HttpResponse::Ok();
        resp.insert_header((header::CONTENT_TYPE, page.content_type.clone()))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(PUBLIC)))
            .insert_header(("x-cit-page-cache", "hit"));
        let mut resp = resp.body(page.body.clone());
        security_headers(resp.headers_mut());
        Some(resp)
    }

    /// Keeps `resp` when it is a fresh public page, and gives it back.
    async fn keep_page(&self, key: String, resp: HttpResponse) -> HttpResponse {
        let public = resp.headers().get(header::CACHE_CONTROL).is_some_and(|v| v == PUBLIC);
        let until = resp.extensions().get::<FreshUntil>().map(|f| f.0);
        let (Some(until), true, true, Some(content_type)) = (
            until.filter(|u| *u > Instant::now()),
            public,
            resp.status() == StatusCode::OK,
            resp.headers().get(header::CONTENT_TYPE).cloned(),
        ) else {
            return resp;
        };
        use actix_web::body::{BodySize, MessageBody};
        if !matches!(resp.body().size(), BodySize::Sized(n) if n as usize <= PAGE_MAX_BYTES) {
            return resp;
        }
        let (resp, body) = resp.into_parts();
        let bytes = match actix_web::body::to_bytes(body).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot read a rendered page: {e}");
                return HttpResponse::InternalServerError().finish();
            }
        };
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= PAGE_LIMIT {
                let now = Instant::now();
                pages.retain(|_, p| p.until > now);
                if pages.len() >= PAGE_LIMIT {
                    pages.clear();
                }
            }
            pages.insert(key, KeptPage { body: bytes.clone(), content_type, until });
        }
        resp.set_body(actix_web::body::BoxBody::new(bytes))
    }
}

/// When the page's freshest-kept API answer stops being fresh (set by [`respond`]).
#[derive(Clone, Copy)]
struct FreshUntil(Instant);

/// `Cache-Control` of a public page that is not stale.
const PUBLIC: &str = "public, max-age=30";

async fn render_page(req: HttpRequest, body: web::Bytes, state: Arc<SiteState>) -> HttpResponse {
    let host = req.connection_info().host().to_owned();
    let path = req.path().to_owned();
    let mut themes = state.themes();
    let mut by_host = themes.host(&host);
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("").to_owned();
    if by_host.is_none() && themes.tenant(&first).is_none() && crate::theme::valid_id(&first) {
        let has_theme = state.settings.themes_dir.join(&first).join("theme.toml").is_file();
        themes = state.rescan(has_theme);
        by_host = themes.host(&host);
    }
    let (theme, base, rest) = match by_host {
        Some(t) => (t, String::new(), path.clone()),
        None => match themes.tenant(&first) {
            Some(t) => {
                let base = format!("/{first}");
                let rest = path.get(base.len()..).unwrap_or("").to_owned();
                if rest.is_empty() {
                    // `/lecce` → `/lecce/`, so that relative links behave.
                    return redirect(&format!("{base}/"), StatusCode::MOVED_PERMANENTLY);
                }
                (t, base, rest)
            }
            None if path == "/" => return platform_index(&themes, &req),
            None => return platform_error(&themes, 404),
        },
    };
    let cx = Ctx {
        state: state.clone(),
        theme,
        base,
        origin: origin(&req),
        path: rest.clone(),
        query: query_map(&req),
        stale: std::cell::Cell::new(false),
        seen: std::cell::RefCell::new(HashMap::new()),
        fresh_until: std::cell::Cell::new(None),
    };
    let is_post = req.method() == actix_web::http::Method::POST;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if !is_post && req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD {
        return HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "GET, HEAD, POST")).finish();
    }
    if rest.len() > 1 && rest.ends_with('/') {
        return redirect(&format!("{}{}", cx.base, rest.trim_end_matches('/')), StatusCode::MOVED_PERMANENTLY);
    }
    // Contact, assistance, ticket and rating forms: never cached, CSRF-protected.
    if let Some(resp) = crate::requests::handle(&cx, &req, &segments, &body).await {
        return resp;
    }
    let answer = if is_post {
        return HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "GET, HEAD")).finish();
    } else {
        route(&cx, &segments).await
    };
    // Every page needs the tenant to exist in the API: its name and the page tree.
    respond(&cx, answer).await
}

async fn route(cx: &Ctx, segments: &[&str]) -> pages::PageResult {
    match segments {
        [] => pages::home(cx).await,
        ["servizi"] => pages::services(cx).await,
        ["servizi", slug] => pages::service(cx, slug).await,
        ["notizie"] => pages::news(cx).await,
        ["notizie", "feed.xml"] => pages::feed(cx).await,
        ["notizie", slug] => pages::article(cx, slug).await,
        ["eventi"] => pages::events(cx).await,
        ["eventi", slug] => pages::event(cx, slug).await,
        ["progetti"] => pages::projects(cx).await,
        ["progetti", slug] => pages::project(cx, slug).await,
        ["community"] => pages::community(cx).await,
        ["community", slug] => pages::ente(cx, slug).await,
        ["documenti"] => pages::documents(cx).await,
        ["documenti", slug] => pages::document(cx, slug).await,
        ["formazione"] => pages::training(cx).await,
        ["formazione", slug] => pages::pillola(cx, slug).await,
        ["argomenti"] => pages::topics(cx).await,
        ["argomenti", slug] => pages::topic(cx, slug).await,
        ["dove-siamo"] => pages::places(cx).await,
        ["dove-siamo", slug] => pages::place(cx, slug).await,
        ["contatti"] => pages::contacts(cx).await,
        ["cerca"] => pages::search(cx).await,
        ["anteprima", ty, id] => pages::preview(cx, ty, id).await,
        ["sitemap.xml"] => pages::sitemap(cx).await,
        ["robots.txt"] => pages::robots(cx),
        ["feed.xml"] => Ok(Answer::Redirect("/notizie/feed.xml".into())),
        rest if rest.len() <= 6
            && rest
                .iter()
                .all(|s| crate::theme::valid_id(s) || s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) =>
        {
            pages::page_by_path(cx, rest).await
        }
        _ => Err(SiteError::NotFound),
    }
}

fn redirect(to: &str, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::LOCATION, to.to_owned())).finish()
}

/// The layout's context: site, palette, menus, breadcrumbs, meta tags.
async fn chrome(cx: &Ctx, page: &Page, with_api: bool) -> Map<String, Value> {
    let theme = &cx.theme;
    let tree = if with_api { cx.pages().await.ok().map(Tree::new) } else { None };
    let top_pages = tree.as_ref().map(|t| t.children(None, true)).unwrap_or_default();
    let crumbs: Vec<Value> = page
        .breadcrumbs
        .iter()
        .map(|(title, url)| json!({"title": title, "url": url.as_ref().map(|u| format!("{}{}", cx.base, u))}))
        .collect();
    let description = page.description.clone().or_else(|| theme.file.description.clone()).unwrap_or_default();
    let mut ctx = Map::new();
    ctx.insert(
        "site".into(),
        json!({
            "id": theme.id,
            "tenant": theme.tenant,
            "name": theme.file.name,
            "file": theme.file,
            "logo": format!("/_assets/themes/{}/{}", theme.id, theme.file.logo),
            "css": format!("/_assets/themes/{}/theme.css", theme.id),
            "extra_css": theme.static_file("site.css").map(|_| format!("/_assets/themes/{}/static/site.css", theme.id)),
            "palette": theme.palette,
        }),
    );
    ctx.insert("base".into(), json!(cx.base));
    ctx.insert("path".into(), json!(cx.path));
    ctx.insert("url".into(), json!(cx.absolute(&cx.path)));
    ctx.insert("origin".into(), json!(cx.origin));
    ctx.insert("title".into(), json!(page.title));
    ctx.insert("description".into(), json!(description));
    ctx.insert("og_type".into(), json!(page.og_type));
    ctx.insert("og_image".into(), json!(format!("{}/_assets/themes/{}/{}", cx.origin, theme.id, theme.file.logo)));
    ctx.insert("breadcrumbs".into(), json!(crumbs));
    ctx.insert("section".into(), json!(page.section));
    ctx.insert("top_pages".into(), json!(top_pages));
    ctx.insert("preview".into(), json!(page.preview));
    ctx.insert("year".into(), json!(chrono::Utc::now().format("%Y").to_string()));
    let mut org = cx.organization();
    org["@context"] = json!("https://schema.org");
    ctx.insert("org_jsonld".into(), org);
    if let Some(ld) = &page.jsonld {
        ctx.insert("jsonld".into(), ld.clone());
    }
    ctx
}

pub(crate) async fn respond(cx: &Ctx, answer: pages::PageResult) -> HttpResponse {
    match answer {
        Ok(Answer::Redirect(path)) => redirect(&format!("{}{}", cx.base, path), StatusCode::MOVED_PERMANENTLY),
        Ok(Answer::Document { content_type, body }) => {
            finish(cx, HttpResponse::Ok().content_type(content_type).body(body))
        }
        Ok(Answer::Page(page)) => {
            // The tenant must exist in the API; a theme folder alone is not a site.
            if let Err(e) = cx.profile().await {
                return error_page(cx, e).await;
            }
            let mut ctx = chrome(cx, &page, true).await;
            ctx.extend(page.ctx.clone());
            ctx.insert("stale".into(), json!(cx.stale.get()));
            match render(&cx.theme.env, &page.template, ctx) {
                Ok(html) => {
                    let mut resp = HttpResponse::build(StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK));
                    resp.content_type("text/html; charset=utf-8");
                    if page.preview {
                        resp.insert_header((header::CACHE_CONTROL, "no-store"));
                        resp.insert_header(("X-Robots-Tag", "noindex, nofollow"));
                    }
                    finish(cx, resp.body(html))
                }
                Err(e) => {
                    tracing::error!(tenant = %cx.theme.tenant, template = %page.template, "template error: {e:#}");
                    error_page(cx, SiteError::Internal(e.to_string())).await
                }
            }
        }
        Err(e) => error_page(cx, e).await,
    }
}

/// Headers every site answer carries; a stale answer says so.
fn finish(cx: &Ctx, mut resp: HttpResponse) -> HttpResponse {
    let h = resp.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        let cc = if cx.stale.get() { "no-cache" } else { PUBLIC };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    }
    if cx.stale.get() {
        h.insert(header::WARNING, HeaderValue::from_static("110 cit-site \"Response is Stale\""));
        h.insert(header::HeaderName::from_static("x-cit-stale"), HeaderValue::from_static("1"));
    }
    security_headers(h);
    let until = cx.fresh_until.get().unwrap_or_else(|| Instant::now() + cx.state.api.ttl());
    resp.extensions_mut().insert(FreshUntil(until));
    resp
}

fn security_headers(h: &mut actix_web::http::header::HeaderMap) {
    h.insert(header::HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    // Everything comes from this origin: no third-party requests, no inline scripts but JSON-LD.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'self'",
        ),
    );
}

fn render(
    env: &minijinja::Environment<'static>,
    template: &str,
    ctx: Map<String, Value>,
) -> Result<String, minijinja::Error> {
    env.get_template(template)?.render(minijinja::Value::from(Serde(Value::Object(ctx))))
}

/// The themed error page for a failure; never a stack trace or an internal message.
async fn error_page(cx: &Ctx, e: SiteError) -> HttpResponse {
    let (status, title, message) = match &e {
        SiteError::NotFound => (404, "Pagina non trovata", "La pagina che cerchi non esiste o è stata spostata."),
        SiteError::Denied => (
            403,
            "Anteprima non autorizzata",
            "Il collegamento di anteprima non è valido o è scaduto: chiedine uno nuovo alla redazione.",
        ),
        SiteError::Unavailable(_) => (
            503,
            "Servizio momentaneamente non disponibile",
            "Non riusciamo a raggiungere i contenuti del sito in questo momento. Riprova tra qualche minuto.",
        ),
        SiteError::Internal(_) => {
            (500, "Errore del sito", "Si è verificato un errore imprevisto. Riprova tra qualche minuto.")
        }
    };
    if let SiteError::Internal(m) | SiteError::Unavailable(m) = &e {
        tracing::warn!(tenant = %cx.theme.tenant, path = %cx.path, status, "{m}");
    }
    let page = Page::new("error.html", title);
    // With the API down, do not try it again for the layout.
    let with_api = matches!(e, SiteError::NotFound | SiteError::Denied);
    let mut ctx = chrome(cx, &page, with_api).await;
    ctx.insert("status".into(), json!(status));
    ctx.insert("message".into(), json!(message));
    ctx.insert("stale".into(), json!(cx.stale.get()));
    let html = render(&cx.theme.env, "error.html", ctx).unwrap_or_else(|err| {
        tracing::error!(tenant = %cx.theme.tenant, "error template failed: {err:#}");
        fallback_html(status, title, message)
    });
    let mut resp = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html);
    if status == 503 {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    security_headers(resp.headers_mut());
    resp
}

fn fallback_html(status: u16, title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head><body><main><h1>{title}</h1><p>{message}</p><p>Codice: {status}</p></main></body></html>"
    )
}

fn platform_index(themes: &Themes, req: &HttpRequest) -> HttpResponse {
    let sites: Vec<Value> = themes
        .by_tenant
        .values()
        .map(|t| json!({"tenant": t.tenant, "name": t.file.name, "body": t.file.body, "url": format!("/{}/", t.tenant), "logo": format!("/_assets/themes/{}/{}", t.id, t.file.logo), "primary": t.palette.primary}))
        .collect();
    let mut ctx = Map::new();
    ctx.insert("sites".into(), json!(sites));
    ctx.insert("origin".into(), json!(origin(req)));
    let html = match themes.base_env.as_ref().map(|env| render(env, "index.html", ctx)) {
        Some(Ok(html)) => html,
        Some(Err(e)) => {
            tracing::error!("index template failed: {e:#}");
            fallback_html(500, "Errore", "Errore imprevisto.")
        }
        None => fallback_html(500, "Errore", "Errore imprevisto."),
    };
    let mut resp = HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html);
    security_headers(resp.headers_mut());
    resp
}

fn platform_error(themes: &Themes, status: u16) -> HttpResponse {
    let (title, message) = ("Sito non trovato", "Nessun sito risponde a questo indirizzo.");
    let mut ctx = Map::new();
    ctx.insert("status".into(), json!(status));
    ctx.insert("title".into(), json!(title));
    ctx.insert("message".into(), json!(message));
    let html = themes
        .base_env
        .as_ref()
        .and_then(|env| render(env, "platform_error.html", ctx).ok())
        .unwrap_or_else(|| fallback_html(status, title, message));
    let mut resp = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND))
        .content_type("text/html; charset=utf-8")
        .body(html);
    security_headers(resp.headers_mut());
    resp
}
