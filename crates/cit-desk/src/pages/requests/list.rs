//! `GET /t/{tenant}/richieste`: the inbox, 25 a page, with the API's filters.

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

use super::{PRIORITIES, STATES, Ticket, label};
use crate::error::DeskResult;
use crate::model::List;
use crate::pages::{InTenant, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/richieste", web::get().to(inbox));
}

#[derive(Debug, Deserialize)]
struct Filters {
    /// A state, or empty for all.
    stato: Option<String>,
    /// `1`: only the ones assigned to me.
    mie: Option<String>,
    /// `1`: only those past a due date.
    scadute: Option<String>,
    cursor: Option<String>,
}

async fn inbox(t: InTenant, q: web::Query<Filters>) -> DeskResult<HttpResponse> {
    t.require(t.rights.requests)?;
    let state = q.stato.clone().filter(|s| STATES.iter().any(|(v, _)| v == s)).unwrap_or_default();
    let mine = q.mie.as_deref() == Some("1");
    let overdue = q.scadute.as_deref() == Some("1");
    let me = t.session.user().id;
    let mut query: Vec<(&str, &str)> = vec![("limit", "25")];
    if !state.is_empty() {
        query.push(("state", &state));
    }
    if mine {
        query.push(("assignee", &me));
    }
    if overdue {
        query.push(("overdue", "true"));
    }
    let cursor = q.cursor.clone().filter(|c| c.len() <= 18 && c.bytes().all(|b| b.is_ascii_digit()));
    if let Some(c) = &cursor {
        query.push(("cursor", c));
    }
    let list = t.get::<List<Ticket>>(&t.api("tickets"), &query).await?;
    let rows: Vec<serde_json::Value> = list
        .data
        .iter()
        .map(|tk| {
            json!({
                "tk": tk,
                "href": t.link(&format!("richieste/{}", tk.number)),
                "state": label(STATES, &tk.state),
                "priority": label(PRIORITIES, &tk.priority),
                "mine": tk.assignee.as_deref() == Some(me.as_str()),
            })
        })
        .collect();
    let filters =
        format!("stato={}{}{}", enc(&state), if mine { "&mie=1" } else { "" }, if overdue { "&scadute=1" } else { "" });
    let next = list.next_cursor.as_ref().map(|c| t.link(&format!("richieste?{filters}&cursor={}", enc(c))));
    let first = cursor.is_some().then(|| t.link(&format!("richieste?{filters}")));
    Ok(t.page("Richieste", "richieste").render(
        "requests/list.html",
        context! { rows => val(rows), states => val(STATES), state, mine, overdue, next, first },
    ))
}
