//! Projects and the community of member bodies.

use serde_json::{Value, json};

use super::{Answer, Ctx, Page, PageResult, ROLES, q};
use crate::api::types::{Ente, Entry, GeoPoint, Progetto};

pub async fn projects(cx: &Ctx) -> PageResult {
    let list = cx.list::<Progetto>("progetto", q(&[("sort", "title"), ("limit", "100")])).await?;
    let (done, open): (Vec<_>, Vec<_>) =
        list.items.into_iter().partition(|p| p.data.project_status.as_deref() == Some("concluso"));
    let page = Page::section_list("projects.html", "Progetti", "progetti")
        .describe(Some("Work in progress: i progetti del CIT, con stato e avanzamento."))
        .with("open", json!(open))
        .with("done", json!(done));
    Ok(Answer::Page(page))
}

pub(crate) fn project_page(p: Entry<Progetto>) -> Page {
    let title = p.title();
    let summary = p.data.summary.clone();
    Page::in_section("project.html", title.clone(), "Progetti", "progetti")
        .describe(summary.as_deref())
        .with("project", json!(p))
}

pub async fn project(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(project_page(cx.entry("progetto", slug, "partners,argomenti").await?)))
}

pub async fn community(cx: &Ctx) -> PageResult {
    let list = cx.list::<Ente>("ente", q(&[("sort", "title"), ("limit", "100")])).await?;
    let mut groups = Vec::new();
    for (role, label) in ROLES {
        let members: Vec<&Entry<Ente>> =
            list.items.iter().filter(|e| e.data.role.as_deref().unwrap_or("aderente") == role).collect();
        if !members.is_empty() {
            groups.push(json!({"role": role, "label": label, "members": members}));
        }
    }
    let page = Page::section_list("community.html", "Community", "community")
        .describe(Some("Gli enti della Community del CIT: coordinatore, partner ed enti aderenti."))
        .with("groups", json!(groups))
        .with("count", json!(list.items.len()));
    Ok(Answer::Page(page))
}

/// schema.org coordinates of a `location` field.
pub(crate) fn geo(loc: &GeoPoint) -> Value {
    json!({"@type": "GeoCoordinates", "latitude": loc.lat, "longitude": loc.lon})
}

pub(crate) fn ente_page(cx: &Ctx, e: Entry<Ente>) -> Page {
    let title = e.title();
    let d = &e.data;
    let mut ld = json!({"@context": "https://schema.org", "@type": "GovernmentOrganization", "name": title, "description": d.description, "url": d.website, "email": d.pec});
    if let Some(loc) = &d.location {
        ld["geo"] = geo(loc);
    }
    ld["memberOf"] = json!({"@type": "Organization", "name": cx.theme.file.name});
    let desc = d.description.clone();
    Page::in_section("ente.html", title.clone(), "Community", "community")
        .describe(desc.as_deref())
        .with("ente", json!(e))
        .linked_data(ld)
}

pub async fn ente(cx: &Ctx, slug: &str) -> PageResult {
    let e = cx.entry("ente", slug, "").await?;
    Ok(Answer::Page(ente_page(cx, e)))
}
