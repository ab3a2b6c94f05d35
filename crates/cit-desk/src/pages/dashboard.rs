//! The dashboard of a tenant: my drafts, what is scheduled, recent changes, overdue tickets.

use actix_web::web;
use futures_util::future::join_all;
use minijinja::context;
use serde::Serialize;

use super::InTenant;
use crate::error::DeskResult;
use crate::model::{ContentType, Entry, List};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/", web::get().to(dashboard))
        .route("/t/{tenant}", web::get().to(|t: InTenant| async move { super::see_other(&t.link("")) }));
}

/// An entry in one of the dashboard's lists.
#[derive(Debug, Serialize)]
struct Item {
    title: String,
    type_label: String,
    href: Option<String>,
    status: String,
    updated_at: Option<String>,
    publish_at: Option<String>,
    mine: bool,
}

/// How many of each list the dashboard shows.
const SHOWN: usize = 8;

async fn dashboard(t: InTenant) -> DeskResult {
    let types: List<ContentType> = t.get(&t.api("content-types"), &[]).await?;
    let mut drafts = Vec::new();
    let mut recent = Vec::new();
    let mut counts = Vec::new();
    if t.rights.write {
        let me = format!("user:{}", t.session.user().id);
        let tr = &t;
        let drafts_of = types.data.iter().map(|ct| {
            let t = tr;
            let path = t.api(&format!("entries/{}", ct.api_id));
            async move {
                let drafts: DeskResult<List<Entry>> =
                    t.get(&path, &[("status", "draft"), ("sort", "-updated_at"), ("limit", "20")]).await;
                let latest: DeskResult<List<Entry>> =
                    t.get(&path, &[("status", "any"), ("sort", "-updated_at"), ("limit", "5")]).await;
                (ct, drafts, latest)
            }
        });
        for (ct, d, l) in join_all(drafts_of).await {
            let item = |e: &Entry| Item {
                title: ct.title_of(e),
                type_label: ct.singular().to_owned(),
                href: Some(t.link(&format!("contenuti/{}/{}", ct.api_id, e.id))),
                status: e.shown_status().to_owned(),
                updated_at: e.updated_at.clone(),
                publish_at: e.publish_at.clone(),
                mine: e.author.as_deref() == Some(me.as_str()),
            };
            let d = d?;
            counts.push(
                context! { api_id => ct.api_id.clone(), label => ct.plural().to_owned(), drafts => d.data.len() },
            );
            drafts.extend(d.data.iter().map(item));
            recent.extend(l?.data.iter().map(item));
        }
    }
    let by_time = |a: &Item, b: &Item| b.updated_at.cmp(&a.updated_at);
    drafts.sort_by(by_time);
    recent.sort_by(by_time);
    recent.truncate(SHOWN);
    // Scheduled: drafts with a publication time, soonest first.
    let mut scheduled: Vec<Item> = Vec::new();
    let mut mine = Vec::new();
    for d in drafts {
        if d.publish_at.is_some() {
            scheduled.push(d);
        } else {
            mine.push(d);
        }
    }
    scheduled.sort_by(|a, b| a.publish_at.cmp(&b.publish_at));
    scheduled.truncate(SHOWN);
    // "Le mie bozze": mine when the API says who wrote each; every draft otherwise.
    let some_mine = mine.iter().any(|d| d.mine);
    if some_mine {
        mine.retain(|d| d.mine);
    }
    mine.truncate(SHOWN);
    let overdue = if t.rights.requests {
        let tickets: DeskResult<serde_json::Value> =
            t.get(&t.api("tickets"), &[("overdue", "true"), ("limit", "10")]).await;
        tickets?.get("data").cloned().unwrap_or_default()
    } else {
        serde_json::Value::Null
    };
    let page = t.page("Bacheca", "bacheca");
    let mut page = page;
    page.crumbs.clear();
    Ok(page.render(
        "dashboard.html",
        context! {
            drafts => val(&mine),
            scheduled => val(&scheduled),
            recent => val(&recent),
            counts => counts,
            overdue => val(&overdue),
        },
    ))
}
