//! Site paths to page handlers. A new page family registers its paths here.

use crate::pages::{self, Answer, Ctx, SiteError};

pub(super) async fn route(cx: &Ctx, segments: &[&str]) -> pages::PageResult {
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
