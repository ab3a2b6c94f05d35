//! `/cerca`: the site's full-text search through the API's search.

use serde::Serialize;
use serde_json::json;

use super::{Answer, Ctx, HOME, Page, PageResult, Tree, q};
use crate::api::ApiError;

/// Where an entry of a type lives on the site (pages use the tree).
pub(crate) fn site_path(ty: &str, slug: &str, tree: &Tree) -> Option<String> {
    let prefix = match ty {
        "servizio" => "/servizi",
        "notizia" => "/notizie",
        "evento" => "/eventi",
        "progetto" => "/progetti",
        "ente" => "/community",
        "documento" => "/documenti",
        "pillola" => "/formazione",
        "argomento" => "/argomenti",
        "luogo" => "/dove-siamo",
        "pagina" => return tree.by_slug(slug).map(|p| tree.path_of(p)),
        _ => return None,
    };
    Some(format!("{prefix}/{slug}"))
}

fn type_label(ty: &str) -> &'static str {
    match ty {
        "servizio" => "Servizio",
        "notizia" => "Notizia",
        "evento" => "Evento",
        "progetto" => "Progetto",
        "ente" => "Ente",
        "documento" => "Documento",
        "pillola" => "Pillola formativa",
        "argomento" => "Argomento",
        "luogo" => "Sede",
        "pagina" => "Pagina",
        _ => "Contenuto",
    }
}

/// The API's snippet is HTML-escaped text with `<mark>` around the matches; anything else that
/// looks like markup is escaped again, so that only the marks reach the page as HTML.
pub fn safe_snippet(raw: &str) -> String {
    let clean = raw.replace(['\u{1}', '\u{2}'], "");
    let marked = clean.replace("<mark>", "\u{1}").replace("</mark>", "\u{2}");
    let escaped = marked.replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    escaped.replace('\u{1}', "<mark>").replace('\u{2}', "</mark>")
}

/// One hit as the search page shows it.
#[derive(Debug, Serialize)]
struct Hit {
    url: String,
    title: String,
    #[serde(rename = "type")]
    type_label: &'static str,
    snippet: String,
}

const SEARCH_PAGE: usize = 10;

/// `/cerca?q=…`: full-text search of the site through the API's search.
pub async fn search(cx: &Ctx) -> PageResult {
    let text: String = cx.param("q").unwrap_or("").trim().chars().take(200).collect();
    let page_no: usize = cx.param("pagina").and_then(|p| p.parse().ok()).filter(|p| (1..=50).contains(p)).unwrap_or(1);
    let mut hits = Vec::new();
    let mut total = 0;
    let mut available = true;
    if !text.is_empty() {
        let offset = ((page_no - 1) * SEARCH_PAGE).to_string();
        let limit = SEARCH_PAGE.to_string();
        match cx.search(q(&[("q", &text), ("limit", &limit), ("offset", &offset)])).await {
            Ok(results) => {
                let tree = Tree::new(cx.pages().await?);
                total = results.total;
                for h in results.hits {
                    let (Some(ty), Some(slug)) = (h.type_id.as_deref(), h.slug.as_deref()) else { continue };
                    let Some(url) = site_path(ty, slug, &tree) else { continue };
                    hits.push(Hit {
                        url,
                        title: h.title.as_deref().unwrap_or(slug).to_owned(),
                        type_label: type_label(ty),
                        snippet: safe_snippet(h.snippet.as_deref().unwrap_or("")),
                    });
                }
            }
            Err(ApiError::NotFound | ApiError::BadRequest) => available = false,
            Err(e) => return Err(e.into()),
        }
    }
    let more = (page_no * SEARCH_PAGE) < usize::try_from(total).unwrap_or(0);
    let page = Page::new("search.html", if text.is_empty() { "Cerca".to_owned() } else { format!("Cerca: {text}") })
        .crumbs(&[(HOME, Some("/")), ("Cerca", None)])
        .describe(Some("Cerca tra servizi, notizie, eventi, documenti e pagine del sito."))
        .with("q", json!(text))
        .with("hits", json!(hits))
        .with("total", json!(total))
        .with("page_no", json!(page_no))
        .with("more", json!(more))
        .with("available", json!(available));
    Ok(Answer::Page(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_only_their_marks() {
        assert_eq!(safe_snippet("il <mark>protocollo</mark> &amp; altro"), "il <mark>protocollo</mark> &amp; altro");
        assert_eq!(safe_snippet("<script>x</script> <mark>a</mark>"), "&lt;script&gt;x&lt;/script&gt; <mark>a</mark>");
    }
}
