//! News and events: lists and single pages.

use serde_json::json;

use super::{Answer, Ctx, Page, PageResult, now_rfc3339, q, today_start};
use crate::api::types::{Entry, Evento, Notizia};

pub async fn news(cx: &Ctx) -> PageResult {
    let mut query = q(&[("sort", "-published_at"), ("limit", "6"), ("expand", "argomenti")]);
    let cursor = cx.param("cursor").filter(|c| c.len() < 512).map(str::to_owned);
    if let Some(c) = &cursor {
        query.push(("cursor".into(), c.clone()));
    }
    let list = cx.list::<Notizia>("notizia", query).await?;
    let page = Page::section_list("news.html", "Notizie", "notizie")
        .describe(Some("Notizie e comunicati del CIT."))
        .with("news", json!(list.items))
        .with("next_cursor", json!(list.next_cursor))
        .with("paged", json!(cursor.is_some()));
    Ok(Answer::Page(page))
}

pub(crate) fn article_page(cx: &Ctx, n: Entry<Notizia>) -> Page {
    let title = n.title();
    let summary = n.data.summary.clone();
    let url = cx.absolute(&format!("/notizie/{}", n.slug));
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "description": summary,
        "datePublished": n.published_at,
        "dateModified": n.updated_at,
        "mainEntityOfPage": url,
        "inLanguage": n.locale.as_deref().unwrap_or("it"),
        "author": {"@type": "Organization", "name": n.data.author_name.as_deref().unwrap_or(&cx.theme.file.name)},
        "publisher": cx.organization(),
        "image": cx.logo_url(),
        "license": "https://creativecommons.org/licenses/by/4.0/",
    });
    Page::in_section("article.html", title.clone(), "Notizie", "notizie")
        .describe(summary.as_deref())
        .with("article", json!(n))
        .og_type("article")
        .linked_data(ld)
}

pub async fn article(cx: &Ctx, slug: &str) -> PageResult {
    let n = cx.entry("notizia", slug, "argomenti,related_services").await?;
    Ok(Answer::Page(article_page(cx, n)))
}

pub async fn events(cx: &Ctx) -> PageResult {
    let now = today_start();
    let upcoming = cx.list::<Evento>(
        "evento",
        q(&[("sort", "start"), ("limit", "50"), ("filter[start][gte]", &now), ("expand", "place")]),
    );
    let past = cx.list::<Evento>(
        "evento",
        q(&[("sort", "-start"), ("limit", "20"), ("filter[start][lt]", &now), ("expand", "place")]),
    );
    let (upcoming, past) = tokio::join!(upcoming, past);
    let (upcoming, past) = (upcoming?, past?);
    let page = Page::section_list("events.html", "Eventi", "eventi")
        .describe(Some("Webinar, incontri ed eventi pubblici del CIT: in programma e passati."))
        .with("upcoming", json!(upcoming.items))
        .with("past", json!(past.items));
    Ok(Answer::Page(page))
}

pub(crate) fn event_page(cx: &Ctx, e: Entry<Evento>) -> Page {
    let title = e.title();
    let summary = e.data.summary.clone();
    let place = e.data.place.as_deref();
    let room = e.data.online_room_url.as_deref();
    let mut locations = Vec::new();
    if let Some(p) = place {
        let d = &p.data;
        locations.push(json!({
            "@type": "Place",
            "name": d.title,
            "address": {"@type": "PostalAddress", "streetAddress": d.address, "addressLocality": d.city, "postalCode": d.postal_code, "addressRegion": d.province, "addressCountry": "IT"},
        }));
    }
    if let Some(r) = room {
        locations.push(json!({"@type": "VirtualLocation", "url": r}));
    }
    let mode = match (place.is_some(), room.is_some()) {
        (true, true) => "https://schema.org/MixedEventAttendanceMode",
        (false, true) => "https://schema.org/OnlineEventAttendanceMode",
        _ => "https://schema.org/OfflineEventAttendanceMode",
    };
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": title,
        "description": summary,
        "startDate": e.data.start,
        "endDate": e.data.end,
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": mode,
        "location": if locations.len() == 1 { locations.remove(0) } else { json!(locations) },
        "organizer": e.data.organizer.as_deref().map_or_else(|| cx.organization(), |o| json!({"@type": "Organization", "name": o})),
        "url": cx.absolute(&format!("/eventi/{}", e.slug)),
        "inLanguage": "it",
    });
    let upcoming = e.data.start.as_deref().is_some_and(|s| s >= now_rfc3339().as_str());
    Page::in_section("event.html", title.clone(), "Eventi", "eventi")
        .describe(summary.as_deref())
        .with("event", json!(e))
        .with("upcoming", json!(upcoming))
        .linked_data(ld)
}

pub async fn event(cx: &Ctx, slug: &str) -> PageResult {
    let e = cx.entry("evento", slug, "place,argomenti").await?;
    Ok(Answer::Page(event_page(cx, e)))
}
