//! "Anteprima sul sito": an entry as its partner site would show it, drafts included. The desk
//! asks the site for `/anteprima/{type}/{id}` server to server with the user's own access token
//! in the `Authorization` header (the site passes it to the API, which decides whether this user
//! may read the draft), then serves the page from its own origin with a `<base>` pointing at the
//! site, so that the theme's styles and links work. No token is ever in an address the browser
//! sees, which a `?token=` link to the site would need.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::{InTenant, enc};
use crate::error::{DeskError, DeskResult};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/contenuti/{type}/{id}/anteprima", web::get().to(preview));
}

/// The types whose pages the partner site can preview (`cit-site`'s `/anteprima/{type}/{id}`).
pub const PREVIEWED: &[&str] =
    &["servizio", "notizia", "evento", "progetto", "documento", "pillola", "ente", "luogo", "pagina"];

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// The site's page with a `<base>` at the site, right after `<head>` (before anything that
/// loads), so that its root-relative styles, scripts and links resolve there.
fn rebased(html: &str, site_origin: &str) -> String {
    let base = format!("<base href=\"{site_origin}/\">");
    match html.find("<head>") {
        Some(at) => {
            let end = at + "<head>".len();
            format!("{}{base}{}", &html[..end], &html[end..])
        }
        None => format!("{base}{html}"),
    }
}

/// The policy of a preview page: what the site's own pages load, from the site, and nothing else
/// (no other origin, no form posts, never framed).
fn policy(site_origin: &str) -> String {
    format!(
        "default-src 'none'; base-uri {site_origin}; style-src {site_origin}; script-src {site_origin}; \
         img-src {site_origin} data:; font-src {site_origin}; connect-src 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// `GET /t/{tenant}/contenuti/{type}/{id}/anteprima`.
async fn preview(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    if !PREVIEWED.contains(&type_id.as_str()) {
        return Err(DeskError::NotFound);
    }
    let site = url::Url::parse(&format!("{}/anteprima/{}/{}", t.site(), enc(&type_id), enc(&id)))
        .map_err(|e| DeskError::Unavailable(format!("the site's address: {e}")))?;
    let token = t.token().await?;
    let page = t.desk.api.raw(site.clone(), Some(&token), &[]).await;
    let page = match page {
        Ok(p) if p.status == 200 => p,
        Ok(_) | Err(crate::api::ApiFailure::Problem(_)) => return Err(DeskError::NotFound),
        Err(crate::api::ApiFailure::Unauthorized) => {
            return Err(DeskError::Forbidden("Il tuo ruolo non consente di vedere questa bozza.".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let html = String::from_utf8_lossy(&page.bytes);
    let site_origin = origin_of(&site);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, policy(&site_origin)))
        .insert_header(("X-Robots-Tag", "noindex, nofollow"))
        .body(rebased(&html, &site_origin)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_base_goes_first_in_the_head() {
        let html = "<!doctype html><html><head><link rel=\"stylesheet\" href=\"/_assets/a.css\"></head></html>";
        let out = rebased(html, "http://127.0.0.1:8081");
        assert!(out.contains("<head><base href=\"http://127.0.0.1:8081/\"><link"));
        assert_eq!(
            origin_of(&url::Url::parse("https://lecce.example/lecce/anteprima/x").unwrap()),
            "https://lecce.example"
        );
        assert!(policy("https://s.example").contains("style-src https://s.example;"));
    }
}
