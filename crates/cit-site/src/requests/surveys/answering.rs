//! Answering: a member body through its own link (drafts, then sent), or anyone on an
//! anonymous survey (all at once).

use serde_json::{Value, json};

use super::{SESSION_EXPIRED, answers_of, list, refusal, sections_view, summary_of, survey_page, text};
use crate::api::ApiError;
use crate::pages::{Ctx, SiteError};
use crate::requests::forms::{FieldErrors, Posted};
use crate::requests::{Outcome, Visitor, client};

pub async fn invitation(
    cx: &Ctx,
    visitor: &mut Visitor,
    slug: &str,
    secret: &str,
    posted: Option<&Posted>,
) -> Result<Outcome, SiteError> {
    let path = format!("/questionari/{slug}/invito/{secret}");
    let form_key = format!("survey:{slug}");
    let inv = match client::survey_invitation(cx, slug, secret).await {
        Err(ApiError::NotFound) => return Err(SiteError::NotFound),
        other => other?,
    };
    let survey = inv.get("survey").cloned().unwrap_or(Value::Null);
    let (mut page, title) = survey_page(&survey);
    let mut errors = FieldErrors::new();
    let mut values = inv.get("answers").cloned().unwrap_or_else(|| json!({}));
    if let Some(posted) = posted {
        values = answers_of(&survey, posted);
        let send = posted.get("azione") == Some("invia");
        if !visitor.verify(cx, &form_key, posted.get("csrf")) {
            errors.insert("_form".into(), SESSION_EXPIRED.into());
            page.status = 400;
        } else {
            let payload = json!({"answers": values, "send": send});
            let reply = client::save_survey_answers(cx, slug, secret, &payload, &visitor.address).await?;
            match reply.status {
                200 => {
                    visitor.rotate();
                    return Ok(Outcome::SeeOther(format!("{path}?{}=1", if send { "inviato" } else { "salvato" })));
                }
                404 => return Err(SiteError::NotFound),
                s => {
                    errors = refusal(&survey, &reply);
                    page.status = s;
                }
            }
        }
        page.title = format!("Errore: {}", page.title);
    }
    let sections = sections_view(&survey, &values, &errors);
    let summary = summary_of(&sections, &errors);
    let status = text(&inv, "status").to_owned();
    let profile = inv.get("profile").filter(|p| !p.is_null()).map(|p| {
        let areas: Vec<Value> = list(p, "areas")
            .iter()
            .map(|a| {
                json!({"label": text(a, "label"), "percent": super::results::it_number(a.get("percent").and_then(Value::as_f64).unwrap_or(0.0)),
                       "level": a.get("level"), "level_label": text(a, "level_label"), "advice": a.get("advice"),
                       "services": a.get("services")})
            })
            .collect();
        json!({"areas": areas, "levels": p.get("levels"), "chart": p.get("chart")})
    });
    page.ctx.insert(
        "survey".into(),
        json!({
            "title": title,
            "description": survey.get("description"),
            "state": survey.get("state"),
            "closes": survey.get("closes"),
            "results_public": text(&survey, "results") == "public",
            "slug": slug,
            "ente_name": inv.get("ente_name"),
            "status": status,
            "saved_at": inv.get("saved_at"),
            "sent_at": inv.get("sent_at"),
            "profile": profile,
            "sections": sections,
            "summary": summary,
            "action": path,
            "csrf": visitor.token(cx, &form_key),
            "saved_now": posted.is_none() && cx.query.contains_key("salvato"),
            "sent_now": posted.is_none() && cx.query.contains_key("inviato"),
        }),
    );
    Ok(Outcome::Page(page))
}

/// `GET/POST /questionari/{slug}`: an anonymous survey, answered all at once (no draft: nothing
/// ties a visitor to one), with a fill token and a honeypot like every public form.
pub async fn anonymous(
    cx: &Ctx,
    visitor: &mut Visitor,
    slug: &str,
    posted: Option<&Posted>,
) -> Result<Outcome, SiteError> {
    let path = format!("/questionari/{slug}");
    let form_key = format!("survey:{slug}");
    let form = match client::survey_form(cx, slug).await {
        Err(ApiError::NotFound) => return Err(SiteError::NotFound),
        other => other?,
    };
    let survey = form.get("survey").cloned().unwrap_or(Value::Null);
    let (mut page, title) = survey_page(&survey);
    let mut errors = FieldErrors::new();
    let mut values = json!({});
    let mut fill_token = text(&form, "fill_token").to_owned();
    if let Some(posted) = posted {
        values = answers_of(&survey, posted);
        if !visitor.verify(cx, &form_key, posted.get("csrf")) {
            errors.insert("_form".into(), SESSION_EXPIRED.into());
            page.status = 400;
        } else {
            let payload = json!({"answers": values, "fill_token": posted.get("fill_token").unwrap_or(""),
                                 "website": posted.get("website").unwrap_or("")});
            let reply = client::answer_survey(cx, slug, &payload, &visitor.address).await?;
            match reply.status {
                202 => {
                    visitor.rotate();
                    return Ok(Outcome::SeeOther(format!("{path}?inviato=1")));
                }
                s => {
                    errors = refusal(&survey, &reply);
                    if !reply.code().starts_with("fill_token") && reply.code() != "fill_too_fast" {
                        fill_token = posted.get("fill_token").unwrap_or("").to_owned();
                    }
                    page.status = s;
                }
            }
        }
        page.title = format!("Errore: {}", page.title);
    }
    let sections = sections_view(&survey, &values, &errors);
    let summary = summary_of(&sections, &errors);
    let sent_now = posted.is_none() && cx.query.contains_key("inviato");
    page.ctx.insert(
        "survey".into(),
        json!({
            "title": title,
            "description": survey.get("description"),
            "state": survey.get("state"),
            "closes": survey.get("closes"),
            "results_public": text(&survey, "results") == "public",
            "slug": slug,
            "anonymous": true,
            "status": if sent_now { "sent" } else { "none" },
            "sections": sections,
            "summary": summary,
            "action": path,
            "csrf": visitor.token(cx, &form_key),
            "fill_token": fill_token,
            "sent_now": sent_now,
        }),
    );
    Ok(Outcome::Page(page))
}
