//! From a page handler's answer to an HTTP response: the layout's context, rendering, the
//! headers every answer carries, and the themed error pages.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::value::Serde;
use serde_json::{Map, Value, json};

use super::dispatch::{origin, redirect};
use super::page_cache::{FreshUntil, PUBLIC};
use crate::pages::{self, Answer, Ctx, Page, SiteError, Tree};
use crate::theme::Themes;

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

pub(super) fn security_headers(h: &mut actix_web::http::header::HeaderMap) {
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

pub(super) fn platform_index(themes: &Themes, req: &HttpRequest) -> HttpResponse {
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

pub(super) fn platform_error(themes: &Themes, status: u16) -> HttpResponse {
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
