//! The public results of a survey and the list of surveys.

use serde_json::{Value, json};

use super::{list, text};
use crate::api::ApiError;
use crate::pages::{Ctx, Page, SiteError};
use crate::requests::{Outcome, client, crumbs};

/// A number as Italian writes it, one decimal at most.
pub(super) fn it_number(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}").replace('.', ",") }
}

fn choices_view(choices: &[Value]) -> Vec<Value> {
    choices
        .iter()
        .map(|c| {
            json!({"label": text(c, "label"), "count": c.get("count"),
                   "percent": it_number(c.get("percent").and_then(Value::as_f64).unwrap_or(0.0))})
        })
        .collect()
}

pub async fn results(cx: &Ctx, slug: &str) -> Result<Outcome, SiteError> {
    let r = match client::survey_results(cx, slug).await {
        Err(ApiError::NotFound) => return Err(SiteError::NotFound),
        other => other?,
    };
    let survey = r.get("survey").cloned().unwrap_or(Value::Null);
    let title = text(&survey, "title").to_owned();
    let mut page = Page::new("requests/survey_results.html", format!("Risultati: {title}"));
    page.description = Some(format!("I risultati del questionario «{title}»."));
    crumbs(&mut page, &[("Questionari", Some("/questionari")), (&title, None)]);
    let mut sections: Vec<(String, Vec<Value>)> = Vec::new();
    for q in list(&r, "questions") {
        let section = text(q, "section").to_owned();
        let charts: Vec<Value> = list(q, "charts")
            .iter()
            .map(|c| json!({"by": text(c, "by"), "kind": text(c, "kind"), "svg": text(c, "svg")}))
            .collect();
        let stats = q.get("stats").filter(|s| !s.is_null()).map(|s| {
            let f = |k: &str| it_number(s.get(k).and_then(Value::as_f64).unwrap_or(0.0));
            json!({"mean": f("mean"), "median": f("median"), "min": f("min"), "max": f("max")})
        });
        let rows: Vec<Value> = list(q, "rows")
            .iter()
            .map(|row| {
                json!({"label": text(row, "label"), "answered": row.get("answered"), "points": choices_view(list(row, "points")),
                       "mean": row.pointer("/stats/mean").and_then(Value::as_f64).map(it_number),
                       "median": row.pointer("/stats/median").and_then(Value::as_f64).map(it_number)})
            })
            .collect();
        let provinces: Vec<Value> = list(q, "breakdowns")
            .iter()
            .filter(|b| text(b, "by") == "province")
            .flat_map(|b| list(b, "groups").iter())
            .map(|g| json!({"key": g.get("key").and_then(Value::as_str).unwrap_or("non indicata"), "answered": g.get("answered"),
                            "choices": choices_view(list(g, "choices"))}))
            .collect();
        let view = json!({
            "name": text(q, "name"), "label": text(q, "label"), "kind": text(q, "kind"), "answered": q.get("answered"),
            "summary": text(q, "summary"), "choices": choices_view(list(q, "choices")), "stats": stats, "rows": rows,
            "provinces": provinces, "charts": charts,
        });
        match sections.last_mut() {
            Some((t, qs)) if *t == section => qs.push(view),
            _ => sections.push((section, vec![view])),
        }
    }
    page.ctx.insert(
        "results".into(),
        json!({
            "title": title, "description": survey.get("description"), "state": survey.get("state"),
            "closes": survey.get("closes"), "responses": r.get("responses"),
            "sections": sections.into_iter().map(|(t, qs)| json!({"title": t, "questions": qs})).collect::<Vec<_>>(),
        }),
    );
    Ok(Outcome::Page(page))
}

pub async fn index(cx: &Ctx) -> Result<Outcome, SiteError> {
    let all = client::surveys(cx).await?;
    let mut page = Page::new("requests/surveys.html", "Questionari");
    page.description = Some("I questionari del CIT agli enti aderenti e i loro risultati.".into());
    crumbs(&mut page, &[("Questionari", None)]);
    let items: Vec<Value> = list(&all, "data")
        .iter()
        .map(|s| json!({"slug": s.get("slug"), "title": s.get("title"), "description": s.get("description"),
                        "state": s.get("state"), "closes": s.get("closes"), "results_public": text(s, "results") == "public",
                        "anonymous": text(s, "audience") == "anonymous"}))
        .collect();
    page.ctx.insert("surveys".into(), json!(items));
    Ok(Outcome::Page(page))
}
