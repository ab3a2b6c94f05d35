//! Static pages by their path in the tree, the built-in legal pages, previews of drafts and the
//! answer to the page-feedback form.

use serde_json::json;

use super::community::{ente_page, project_page};
use super::documents::{document_page, pillola_page};
use super::news::{article_page, event_page};
use super::places::place_page;
use super::services::service_page;
use super::{Answer, Ctx, HOME, LEGAL_PAGES, Page, PageResult, SiteError, Tree};
use crate::api::types::{Entry, Pagina};

fn static_page(p: Entry<Pagina>, tree: &Tree) -> Page {
    let title = p.title();
    let summary = p.data.summary.clone();
    let mut page = Page::new("page.html", title.clone()).crumbs(&[(HOME, Some("/"))]).describe(summary.as_deref());
    if let Some(me) = tree.by_slug(&p.slug) {
        let chain = tree.chain(me);
        for anc in chain.iter().take(chain.len().saturating_sub(1)) {
            let url = tree.path_of(anc);
            page = page.crumb(&anc.title(), Some(&url));
        }
        if let Some(root) = chain.first() {
            page = page.with("root_slug", json!(root.slug));
        }
    }
    let children = tree.children(Some(&p.id), false);
    page.crumb(&title, None).with("page", json!(p)).with("children", json!(children))
}

/// A static page by its path of slugs (`/chi-siamo/il-cit-di-lecce`). A page reached by a
/// path that is not its own is redirected to it.
pub async fn page_by_path(cx: &Ctx, segments: &[&str]) -> PageResult {
    let Some(slug) = segments.last() else { return Err(SiteError::NotFound) };
    let tree = Tree::new(cx.pages().await?);
    let found = tree.by_slug(slug).map(|p| tree.path_of(p));
    let requested: String = segments.iter().map(|s| format!("/{s}")).collect();
    match found {
        Some(path) if path != requested => Ok(Answer::Redirect(path)),
        Some(_) => {
            let p = cx.entry("pagina", slug, "").await?;
            Ok(Answer::Page(static_page(p, &tree)))
        }
        None if segments.len() == 1 && LEGAL_PAGES.contains(slug) => {
            let title = match *slug {
                "dichiarazione-di-accessibilita" => "Dichiarazione di accessibilità",
                "privacy" => "Informativa sulla privacy",
                _ => "Note legali",
            };
            Ok(Answer::Page(
                Page::new(&format!("legal/{slug}.html"), title).crumbs(&[(HOME, Some("/")), (title, None)]),
            ))
        }
        None => Err(SiteError::NotFound),
    }
}

/// `/anteprima/{type}/{id}?token=cit_…`: an editor's view of a draft, through a preview token;
/// or with `Authorization: Bearer …` (an API token or a user's access token), as the desk asks for
/// it server to server so that no token is ever in an address.
pub async fn preview(cx: &Ctx, ty: &str, id: &str) -> PageResult {
    let token = match (&cx.bearer, cx.param("token")) {
        (Some(bearer), _) => bearer.as_str(),
        (None, Some(t)) if t.starts_with("cit_") && t.len() <= 200 && t.bytes().all(|b| b.is_ascii_graphic()) => t,
        _ => return Err(SiteError::Denied),
    };
    if id.is_empty() || id.len() > 200 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(SiteError::NotFound);
    }
    let mut page = match ty {
        "servizio" => service_page(cx, cx.preview_entry(ty, id, "office,argomenti", token).await?),
        "notizia" => article_page(cx, cx.preview_entry(ty, id, "argomenti,related_services", token).await?),
        "evento" => event_page(cx, cx.preview_entry(ty, id, "place,argomenti", token).await?),
        "progetto" => project_page(cx.preview_entry(ty, id, "partners,argomenti", token).await?),
        "documento" => document_page(cx.preview_entry(ty, id, "argomenti", token).await?),
        "pillola" => pillola_page(cx.preview_entry(ty, id, "argomenti", token).await?),
        "ente" => ente_page(cx, cx.preview_entry(ty, id, "", token).await?),
        "luogo" => place_page(cx, cx.preview_entry(ty, id, "", token).await?),
        "pagina" => static_page(cx.preview_entry(ty, id, "", token).await?, &Tree::new(Vec::new())),
        _ => return Err(SiteError::NotFound),
    };
    page.preview = true;
    page.jsonld = None;
    Ok(Answer::Page(page))
}
