//! The home page.

use serde_json::json;

use super::{Answer, Ctx, Page, PageResult, q, today_start};
use crate::api::types::{Evento, Notizia, Progetto, Servizio};

pub async fn home(cx: &Ctx) -> PageResult {
    let now = today_start();
    let services = cx.list::<Servizio>(
        "servizio",
        q(&[("sort", "title"), ("limit", "6"), ("filter[service_status][eq]", "attivo")]),
    );
    let news = cx.list::<Notizia>("notizia", q(&[("sort", "-published_at"), ("limit", "3")]));
    let events = cx.list::<Evento>(
        "evento",
        q(&[("sort", "start"), ("limit", "3"), ("filter[start][gte]", &now), ("expand", "place")]),
    );
    let projects = cx.list::<Progetto>(
        "progetto",
        q(&[("sort", "title"), ("limit", "3"), ("filter[project_status][ne]", "concluso")]),
    );
    let (services, news, events, projects, topics) = tokio::join!(services, news, events, projects, cx.topics());
    let (services, news, events, projects, topics) = (services?, news?, events?, projects?, topics?);
    let description = cx.theme.file.description.clone();
    let ld = json!({"@context": "https://schema.org", "@type": "WebSite", "name": cx.theme.file.name, "url": cx.absolute("/"), "publisher": cx.organization()});
    let page = Page::new("home.html", cx.theme.file.name.clone())
        .describe(description.as_deref())
        .with("services", json!(services.items))
        .with("news", json!(news.items))
        .with("events", json!(events.items))
        .with("projects", json!(projects.items))
        .with("topics", json!(topics))
        .linked_data(ld);
    Ok(Answer::Page(page))
}
