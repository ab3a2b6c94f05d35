//! From a request to a partner site and a page: by Host header or by path prefix.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::SiteState;
use super::respond::{platform_error, platform_index, respond};
use super::routes::route;
use crate::pages::Ctx;

pub(super) fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

pub(super) async fn dispatch(req: HttpRequest, body: web::Bytes, state: web::Data<SiteState>) -> HttpResponse {
    let state = state.into_inner();
    // A request with credentials is someone's own view (a preview): never from the page cache.
    if req.method() != actix_web::http::Method::GET || req.headers().contains_key(header::AUTHORIZATION) {
        return render_page(req, body, state).await;
    }
    let key = format!("{}{}?{}", origin(&req), req.path(), req.query_string());
    if let Some(page) = state.kept_page(&key) {
        return page;
    }
    let resp = render_page(req, body, state.clone()).await;
    state.keep_page(key, resp).await
}

async fn render_page(req: HttpRequest, body: web::Bytes, state: Arc<SiteState>) -> HttpResponse {
    let host = req.connection_info().host().to_owned();
    let path = req.path().to_owned();
    let mut themes = state.themes();
    let mut by_host = themes.host(&host);
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("").to_owned();
    // An unknown host or tenant may be a partner added since the last scan (`cit partner new`).
    if by_host.is_none() && themes.tenant(&first).is_none() && (first.is_empty() || crate::theme::valid_id(&first)) {
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
        bearer: req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 8192 && t.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned),
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
    if is_post {
        return HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "GET, HEAD")).finish();
    }
    let answer = route(&cx, &segments).await;
    // Every page needs the tenant to exist in the API: its name and the page tree.
    respond(&cx, answer).await
}

pub(super) fn redirect(to: &str, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::LOCATION, to.to_owned())).finish()
}
