//! Documents, training pieces and topics.

use serde_json::json;

use super::{Answer, Ctx, Page, PageResult, q};
use crate::api::types::{Argomento, Basic, Entry, Evento, Notizia, Progetto, Servizio};

pub async fn documents(cx: &Ctx) -> PageResult {
    let list = cx.list::<Basic>("documento", q(&[("sort", "-published_on,title"), ("limit", "100")])).await?;
    let page = Page::section_list("documents.html", "Documenti", "documenti")
        .describe(Some("Convenzioni, report, programmi e linee guida del CIT."))
        .with("documents", json!(list.items));
    Ok(Answer::Page(page))
}

pub(crate) fn document_page(d: Entry<Basic>) -> Page {
    let title = d.title();
    let summary = d.data.summary.clone();
    Page::in_section("document.html", title.clone(), "Documenti", "documenti")
        .describe(summary.as_deref())
        .with("document", json!(d))
}

pub async fn document(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(document_page(cx.entry("documento", slug, "argomenti").await?)))
}

pub async fn training(cx: &Ctx) -> PageResult {
    let list = cx.list::<Basic>("pillola", q(&[("sort", "title"), ("limit", "100"), ("expand", "argomenti")])).await?;
    let page = Page::section_list("training.html", "Formazione", "formazione")
        .describe(Some("Pillole formative per il personale degli enti aderenti."))
        .with("pieces", json!(list.items));
    Ok(Answer::Page(page))
}

pub(crate) fn pillola_page(p: Entry<Basic>) -> Page {
    let title = p.title();
    let summary = p.data.summary.clone();
    Page::in_section("pillola.html", title.clone(), "Formazione", "formazione")
        .describe(summary.as_deref())
        .with("piece", json!(p))
}

pub async fn pillola(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(pillola_page(cx.entry("pillola", slug, "argomenti").await?)))
}

pub async fn topics(cx: &Ctx) -> PageResult {
    let topics = cx.topics().await?;
    let page = Page::section_list("topics.html", "Argomenti", "argomenti")
        .describe(Some("Tutti gli argomenti del sito: servizi, notizie, eventi e documenti raccolti per tema."))
        .with("topics", json!(topics));
    Ok(Answer::Page(page))
}

pub async fn topic(cx: &Ctx, slug: &str) -> PageResult {
    let t = cx.entry::<Argomento>("argomento", slug, "").await?;
    let id = t.id.clone();
    let by_topic = |sort: &'static str| q(&[("sort", sort), ("limit", "12"), ("filter[argomenti][contains]", &id)]);
    let (services, news, events, documents, pieces, projects) = (
        cx.list::<Servizio>("servizio", by_topic("title")).await?,
        cx.list::<Notizia>("notizia", by_topic("-published_at")).await?,
        cx.list::<Evento>("evento", by_topic("-start")).await?,
        cx.list::<Basic>("documento", by_topic("title")).await?,
        cx.list::<Basic>("pillola", by_topic("title")).await?,
        cx.list::<Progetto>("progetto", by_topic("title")).await?,
    );
    let title = t.title();
    let desc = t.data.description.clone();
    let page = Page::in_section("topic.html", title.clone(), "Argomenti", "argomenti")
        .describe(desc.as_deref())
        .with("topic", json!(t))
        .with("services", json!(services.items))
        .with("news", json!(news.items))
        .with("events", json!(events.items))
        .with("documents", json!(documents.items))
        .with("pieces", json!(pieces.items))
        .with("projects", json!(projects.items));
    Ok(Answer::Page(page))
}
