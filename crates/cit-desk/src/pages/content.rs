//! Content: the tenant's content types, the entries of a type (search, status filter, sort,
//! paging through the API's cursor) and an entry's page (its fields as the API reads them out,
//! rich text as the API renders and sanitises it). The editor is in [`super::editor`].

use actix_web::web;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{InTenant, enc};
use crate::error::DeskResult;
use crate::model::{ContentType, Entry, List};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/contenuti", web::get().to(types))
        .route("/t/{tenant}/contenuti/{type}", web::get().to(entries))
        .route("/t/{tenant}/contenuti/{type}/{id}", web::get().to(entry));
}

/// Entries on one page of a list.
const PAGE_SIZE: &str = "20";

async fn types(t: InTenant) -> DeskResult {
    t.require(t.rights.write)?;
    let types: List<ContentType> = t.get(&t.api("content-types"), &[]).await?;
    let rows: Vec<Value> = types
        .data
        .iter()
        .map(|ct| {
            serde_json::json!({
                "href": t.link(&format!("contenuti/{}", ct.api_id)),
                "label": ct.plural(),
                "api_id": ct.api_id,
                "description": ct.definition.description,
                "fields": ct.definition.fields.len(),
            })
        })
        .collect();
    let page = t.page("Contenuti", "contenuti");
    Ok(page.render("content/types.html", context! { types => val(&rows) }))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    stato: Option<String>,
    ordina: Option<String>,
    cursor: Option<String>,
}

/// The sorts the list offers: (value in the desk's URL, the API's sort, label).
const SORTS: [(&str, &str, &str); 4] = [
    ("recenti", "-updated_at", "Modificati di recente"),
    ("meno-recenti", "updated_at", "Modificati meno di recente"),
    ("titolo", "title", "Titolo (A-Z)"),
    ("pubblicazione", "-published_at", "Pubblicati di recente"),
];

/// The statuses the list filters by: (value, label).
const STATUSES: [(&str, &str); 4] =
    [("any", "Tutti"), ("draft", "Bozze"), ("published", "Pubblicati"), ("archived", "Archiviati")];

#[derive(Debug, Serialize)]
struct Row {
    title: String,
    href: String,
    status: String,
    locale: String,
    updated_at: Option<String>,
    publish_at: Option<String>,
}

async fn entries(t: InTenant, path: web::Path<(String, String)>, q: web::Query<ListQuery>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id) = path.into_inner();
    let ct: ContentType = t.get(&t.api(&format!("content-types/{}", enc(&type_id))), &[]).await?;
    let q = q.into_inner();
    let status = q.stato.as_deref().filter(|s| STATUSES.iter().any(|(v, _)| v == s)).unwrap_or("any");
    let sort_key = q.ordina.as_deref().filter(|s| SORTS.iter().any(|(v, ..)| v == s)).unwrap_or("recenti");
    let mut sort = SORTS.iter().find(|(v, ..)| *v == sort_key).map(|(_, s, _)| *s).unwrap_or("-updated_at").to_owned();
    let title_field = ct.title_field().map(str::to_owned);
    if sort == "title" {
        match &title_field {
            Some(f) => sort = f.clone(),
            None => sort = "-updated_at".into(),
        }
    }
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let filter_key = title_field.as_ref().map(|f| format!("filter[{f}][contains]"));
    let mut query: Vec<(&str, &str)> = vec![("status", status), ("sort", &sort), ("limit", PAGE_SIZE)];
    if let (Some(s), Some(k)) = (&search, &filter_key) {
        query.push((k.as_str(), s.as_str()));
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        query.push(("cursor", c));
    }
    let list: List<Entry> = t.get(&t.api(&format!("entries/{}", enc(&type_id))), &query).await?;
    let rows: Vec<Row> = list
        .data
        .iter()
        .map(|e| Row {
            title: ct.title_of(e),
            href: t.link(&format!("contenuti/{}/{}", enc(&type_id), enc(&e.id))),
            status: e.shown_status().to_owned(),
            locale: e.locale.clone(),
            updated_at: e.updated_at.clone(),
            publish_at: e.publish_at.clone(),
        })
        .collect();
    // The same list, one page on: the filters stay, the cursor is the API's.
    let here = |cursor: Option<&str>| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(q) = &search {
            s.append_pair("q", q);
        }
        s.append_pair("stato", status).append_pair("ordina", sort_key);
        if let Some(c) = cursor {
            s.append_pair("cursor", c);
        }
        format!("{}?{}", t.link(&format!("contenuti/{}", enc(&type_id))), s.finish())
    };
    let next = list.next_cursor.as_deref().map(|c| here(Some(c)));
    let first = q.cursor.as_deref().filter(|c| !c.is_empty()).map(|_| here(None));
    let page = t.page(ct.plural().to_owned(), "contenuti").crumb("Contenuti", Some(t.link("contenuti")));
    Ok(page.render(
        "content/list.html",
        context! {
            rows => val(&rows),
            q => search,
            status => status,
            statuses => val(STATUSES),
            sort => sort_key,
            sorts => val(SORTS.map(|(v, _, l)| (v, l))),
            next => next,
            first => first,
            searchable => title_field.is_some(),
            plural => ct.plural(),
            singular => ct.singular(),
            new_href => t.link(&format!("contenuti/{}/nuovo", enc(&type_id))),
        },
    ))
}

/// One field's value as the entry page shows it.
#[derive(Debug, Serialize)]
struct Shown {
    label: String,
    name: String,
    /// Plain text (escaped by the template).
    text: Option<String>,
    /// Rich text as the API rendered and sanitised it.
    html: Option<String>,
}

/// A value as text: strings as they are, lists joined, the rest as JSON.
pub(crate) fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "sì".into(),
        Value::Bool(false) => "no".into(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where the partner site shows a published entry of `type_id` (the pages without a list of their own, such as `pagina`, have none).
fn site_section(type_id: &str) -> Option<&'static str> {
    Some(match type_id {
        "notizia" => "notizie",
        "servizio" => "servizi",
        "evento" => "eventi",
        "progetto" => "progetti",
        "ente" => "community",
        "documento" => "documenti",
        "pillola" => "formazione",
        "argomento" => "argomenti",
        "luogo" => "dove-siamo",
        _ => return None,
    })
}

/// `GET /api/v1/t/{tenant}`: what the desk needs of the tenant.
#[derive(Debug, Deserialize)]
struct TenantProfile {
    #[serde(default)]
    locales: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TranslationLink {
    locale: String,
    href: String,
}

async fn entry(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let ct_path = t.api(&format!("content-types/{}", enc(&type_id)));
    let entry_path = t.api(&format!("entries/{}/{}", enc(&type_id), enc(&id)));
    let tenant_path = t.api("");
    let (ct, e, profile) = tokio::join!(
        t.get::<ContentType>(&ct_path, &[]),
        t.get::<Entry>(&entry_path, &[("status", "any")]),
        t.get::<TenantProfile>(&tenant_path, &[]),
    );
    let (ct, e) = (ct?, e?);
    let html = e.html.clone().unwrap_or_default();
    let fields: Vec<Shown> = ct
        .definition
        .fields
        .iter()
        .map(|f| {
            let rendered = html.get(&f.name).and_then(Value::as_str).map(str::to_owned);
            let text = e.data.get(&f.name).map(as_text).filter(|s| !s.is_empty());
            Shown {
                label: f.label().to_owned(),
                name: f.name.clone(),
                text: if rendered.is_some() { None } else { text },
                html: rendered,
            }
        })
        .collect();
    // Translations: those there are, and the tenant's other locales to translate into.
    let base = t.link(&format!("contenuti/{}", enc(&type_id)));
    let translations: Vec<TranslationLink> = e
        .translations
        .iter()
        .filter_map(|tr| {
            let id = tr.get("id")?.as_str()?;
            let locale = tr.get("locale")?.as_str()?;
            (id != e.id).then(|| TranslationLink { locale: locale.to_owned(), href: format!("{base}/{}", enc(id)) })
        })
        .collect();
    let missing: Vec<TranslationLink> = profile
        .map(|p| p.locales)
        .unwrap_or_default()
        .into_iter()
        .filter(|l| *l != e.locale && !translations.iter().any(|tr| tr.locale == *l))
        .map(|l| TranslationLink {
            href: format!("{base}/nuovo?traduzione_di={}&lingua={}", enc(&e.id), enc(&l)),
            locale: l,
        })
        .collect();
    let on_site = match (e.status.as_str(), site_section(&type_id)) {
        ("published", Some(section)) => Some(format!("{}/{section}/{}", t.site(), enc(&e.slug))),
        _ => None,
    };
    let title = ct.title_of(&e);
    let page = t
        .page(title.clone(), "contenuti")
        .crumb("Contenuti", Some(t.link("contenuti")))
        .crumb(ct.plural().to_owned(), Some(base.clone()));
    let here = format!("{base}/{}", enc(&id));
    Ok(page.render(
        "content/entry.html",
        context! {
            entry => val(&e),
            status => e.shown_status(),
            fields => val(&fields),
            singular => ct.singular(),
            edit_href => format!("{here}/modifica"),
            revisions_href => format!("{here}/revisioni"),
            status_action => format!("{here}/stato"),
            on_site => on_site,
            preview_href => super::site_preview::PREVIEWED.contains(&type_id.as_str()).then(|| format!("{here}/anteprima")),
            translations => val(&translations),
            missing => val(&missing),
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn values_are_shown_as_text() {
        assert_eq!(as_text(&serde_json::json!(["a", "b"])), "a, b");
        assert_eq!(as_text(&serde_json::json!(true)), "sì");
        assert_eq!(as_text(&serde_json::json!(3)), "3");
    }
}
