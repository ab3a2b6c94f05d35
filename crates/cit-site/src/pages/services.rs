//! The catalogue of services and a service's page.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Answer, CATEGORIES, Ctx, Page, PageResult, SiteError, q};
use crate::api::types::{Entry, Servizio};

pub async fn services(cx: &Ctx) -> PageResult {
    let topics = cx.topics().await?;
    let mut query = q(&[("sort", "title"), ("limit", "100"), ("expand", "argomenti")]);
    let category = cx.param("categoria").filter(|c| CATEGORIES.iter().any(|(v, _)| v == c));
    if let Some(c) = category {
        query.push(("filter[category][eq]".into(), c.to_owned()));
    }
    let topic = match cx.param("argomento") {
        Some(slug) => Some(topics.iter().find(|t| t.slug == slug).ok_or(SiteError::NotFound)?.clone()),
        None => None,
    };
    if let Some(t) = topic.as_ref().filter(|t| !t.id.is_empty()) {
        query.push(("filter[argomenti][contains]".into(), t.id.clone()));
    }
    let all = cx.list::<Servizio>("servizio", query).await?;
    let mut groups = Vec::new();
    for (value, label) in CATEGORIES {
        let items: Vec<&Entry<Servizio>> =
            all.items.iter().filter(|s| s.data.category.as_deref() == Some(value)).collect();
        if !items.is_empty() {
            groups.push(json!({"category": value, "label": label, "services": items}));
        }
    }
    let counts: BTreeMap<&str, usize> =
        all.items.iter().filter_map(|s| s.data.category.as_deref()).fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c).or_default() += 1;
            m
        });
    let categories: Vec<_> = CATEGORIES
        .iter()
        .map(|(v, l)| json!({"value": v, "label": l, "count": counts.get(v).copied().unwrap_or(0)}))
        .collect();
    let page = Page::section_list("services.html", "Servizi", "servizi")
        .describe(Some("Il catalogo dei servizi offerti dal CIT agli enti aderenti, per categoria e argomento."))
        .with("groups", json!(groups))
        .with("count", json!(all.items.len()))
        .with("categories", json!(categories))
        .with("category", json!(category))
        .with("topic", json!(topic))
        .with("topics", json!(topics));
    Ok(Answer::Page(page))
}

pub(crate) fn service_page(cx: &Ctx, s: Entry<Servizio>) -> Page {
    let title = s.title();
    let summary = s.data.summary.clone();
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": title,
        "description": summary,
        "url": cx.absolute(&format!("/servizi/{}", s.slug)),
        "serviceType": s.data.category.as_deref().and_then(|c| crate::render::label("category", c)),
        "provider": cx.organization(),
        "areaServed": cx.theme.file.body,
    });
    if let Some(a) = &s.data.audience {
        ld["audience"] = json!({"@type": "Audience", "audienceType": a.join(", ")});
    }
    if let Some(u) = &s.data.access_url {
        ld["availableChannel"] = json!({"@type": "ServiceChannel", "serviceUrl": u});
    }
    Page::in_section("service.html", title.clone(), "Servizi", "servizi")
        .describe(summary.as_deref())
        .with("service", json!(s))
        .linked_data(ld)
}

pub async fn service(cx: &Ctx, slug: &str) -> PageResult {
    let s = cx.entry("servizio", slug, "office,argomenti").await?;
    Ok(Answer::Page(service_page(cx, s)))
}
