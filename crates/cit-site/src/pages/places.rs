//! Contacts and the places (offices, help desks) of the CIT.

use serde_json::json;

use super::community::geo;
use super::{Answer, Ctx, HOME, Page, PageResult, SiteError, q};
use crate::api::types::{Entry, Luogo, Pagina};

pub async fn contacts(cx: &Ctx) -> PageResult {
    let body = match cx.entry::<Pagina>("pagina", "contatti", "").await {
        Ok(p) => Some(p),
        Err(SiteError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let places = cx.list::<Luogo>("luogo", q(&[("sort", "title"), ("limit", "20")])).await?;
    let mut ld = cx.organization();
    ld["@context"] = json!("https://schema.org");
    let page = Page::new("contacts.html", "Contatti")
        .crumbs(&[(HOME, Some("/")), ("Contatti", None)])
        .section("contatti")
        .describe(Some("Come contattare il CIT: email, telefono, PEC e sedi."))
        .with("page", json!(body))
        .with("places", json!(places.items))
        .linked_data(ld);
    Ok(Answer::Page(page))
}

pub async fn places(cx: &Ctx) -> PageResult {
    let list = cx.list::<Luogo>("luogo", q(&[("sort", "title"), ("limit", "100")])).await?;
    let page = Page::section_list("places.html", "Dove siamo", "dove-siamo")
        .describe(Some("Le sedi e gli sportelli del CIT, con orari e indicazioni per raggiungerli."))
        .with("places", json!(list.items));
    Ok(Answer::Page(page))
}

pub(crate) fn place_page(cx: &Ctx, p: Entry<Luogo>) -> Page {
    let title = p.title();
    let d = &p.data;
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": title,
        "address": {"@type": "PostalAddress", "streetAddress": d.address, "addressLocality": d.city, "postalCode": d.postal_code, "addressRegion": d.province, "addressCountry": "IT"},
        "email": d.email,
        "telephone": d.phone,
        "parentOrganization": cx.organization(),
    });
    if let Some(loc) = &d.location {
        ld["geo"] = geo(loc);
    }
    let desc = format!("{}, {}", d.address.as_deref().unwrap_or(""), d.city.as_deref().unwrap_or(""));
    Page::in_section("place.html", title.clone(), "Dove siamo", "dove-siamo")
        .describe(Some(&desc))
        .with("place", json!(p))
        .linked_data(ld)
}

pub async fn place(cx: &Ctx, slug: &str) -> PageResult {
    let p = cx.entry("luogo", slug, "").await?;
    Ok(Answer::Page(place_page(cx, p)))
}
