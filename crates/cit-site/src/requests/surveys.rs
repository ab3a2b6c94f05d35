//! Surveys on the partner site, without JavaScript:
//! - `GET/POST /questionari/{slug}/invito/{secret}`: a member body's own link. The form shows
//!   every section and question with what was saved before; "Salva la bozza" keeps the answers
//!   to come back to (nothing is required), "Invia le risposte" sends them for good. A question
//!   with a condition says when to answer it (the API drops answers it hides). Refusals show
//!   next to their questions, the typed answers kept.
//! - `GET/POST /questionari/{slug}`: an anonymous survey, answered all at once with a fill token
//!   and a honeypot (404 for a survey answered through invitations).
//! - `GET /questionari/{slug}/risultati`: the results of a survey whose results are public:
//!   per question the summary, the chart (SVG drawn by the API) and the same numbers as a table.
//! - `GET /questionari`: the surveys, with links to the public results.

use serde_json::{Map, Value, json};

use super::forms::{FieldErrors, Posted};
use super::{Outcome, Visitor, client, crumbs, refusal_message};
use crate::api::ApiError;
use crate::pages::{Ctx, Page, SiteError};

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn questions(survey: &Value) -> impl Iterator<Item = &Value> {
    survey
        .get("sections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| s.get("questions").and_then(Value::as_array).into_iter().flatten())
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The form field of a matrix row.
fn row_field(q: &str, row: &str) -> String {
    format!("{q}__{row}")
}

/// The answers of a posted form, as the API takes them. What does not parse goes as typed, so
/// that the API says what is wrong with it.
fn answers_of(survey: &Value, posted: &Posted) -> Value {
    let mut out = Map::new();
    for q in questions(survey) {
        let name = text(q, "name");
        let value = match text(q, "kind") {
            "multiple" => {
                let chosen: Vec<Value> = posted.all(name).into_iter().map(|s| json!(s)).collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            "scale" => posted
                .get(name)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u64>().map(Value::from).unwrap_or(json!(s))),
            "number" => posted.get(name).map(str::trim).filter(|s| !s.is_empty()).map(|s| {
                let s = s.replace(',', ".");
                match (s.parse::<i64>(), s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)) {
                    (Ok(i), _) => Value::from(i),
                    (_, Some(n)) => Value::Number(n),
                    _ => json!(s),
                }
            }),
            "matrix" => {
                let rows: Map<String, Value> = list(q, "rows")
                    .iter()
                    .filter_map(|r| {
                        let row = text(r, "value");
                        let point = posted.get(&row_field(name, row)).filter(|s| !s.is_empty())?;
                        Some((row.to_owned(), point.parse::<u64>().map(Value::from).unwrap_or(json!(point))))
                    })
                    .collect();
                (!rows.is_empty()).then_some(Value::Object(rows))
            }
            _ => posted.get(name).filter(|s| !s.trim().is_empty()).map(|s| json!(s)),
        };
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    Value::Object(out)
}

fn message(code: &str, q: &Value) -> String {
    match code {
        "required" => "Rispondi a questa domanda.".into(),
        "not_in_enum" => "Scegli una delle opzioni proposte.".into(),
        "out_of_range" => "Scegli un valore da 1 a 5.".into(),
        "too_small" => {
            format!("Il numero deve essere almeno {}.", q.get("min").map(Value::to_string).unwrap_or_default())
        }
        "too_large" => {
            format!("Il numero deve essere al massimo {}.", q.get("max").map(Value::to_string).unwrap_or_default())
        }
        "too_long" => "Il testo è troppo lungo.".into(),
        "invalid_type" if text(q, "kind") == "number" => "Scrivi un numero, per esempio 12 o 3,5.".into(),
        _ => "La risposta non è valida.".into(),
    }
}

/// The problem's errors by question name (`answers.aree.dati` belongs to `aree`).
fn errors_of(survey: &Value, problem: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for e in list(problem, "errors") {
        let field = text(e, "field");
        let Some(name) = field.strip_prefix("answers.").and_then(|f| f.split('.').next()) else { continue };
        if let Some(q) = questions(survey).find(|q| text(q, "name") == name) {
            errors.entry(name.to_owned()).or_insert_with(|| message(text(e, "code"), q));
        }
    }
    errors
}

/// "Rispondi solo se…": the condition of a question, in words.
fn condition_text(survey: &Value, q: &Value) -> Option<String> {
    let cond = q.get("show_if")?;
    let on = questions(survey).find(|p| text(p, "name") == text(cond, "question"))?;
    let labels: Vec<String> = list(cond, "any_of")
        .iter()
        .filter_map(Value::as_str)
        .map(|v| {
            let label =
                list(on, "options").iter().find(|o| text(o, "value") == v).map(|o| text(o, "label")).unwrap_or(v);
            format!("«{label}»")
        })
        .collect();
    Some(format!("Rispondi solo se alla domanda «{}» hai risposto {}.", text(on, "label"), labels.join(" o ")))
}

/// The view of every section and question, with the values to show.
fn sections_view(survey: &Value, values: &Value, errors: &FieldErrors) -> Vec<Value> {
    list(survey, "sections")
        .iter()
        .map(|s| {
            let qs: Vec<Value> = list(s, "questions")
                .iter()
                .map(|q| {
                    let name = text(q, "name");
                    let v = values.get(name);
                    let is = |x: &str| match v {
                        Some(Value::String(s)) => s == x,
                        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(x)),
                        Some(Value::Number(n)) => n.to_string() == x,
                        _ => false,
                    };
                    let options: Vec<Value> = list(q, "options")
                        .iter()
                        .enumerate()
                        .map(|(i, o)| json!({"value": text(o, "value"), "label": text(o, "label"), "id": format!("domanda-{name}-{i}"), "checked": is(text(o, "value"))}))
                        .collect();
                    let points: Vec<Value> =
                        (1..=5).map(|p| json!({"value": p, "id": format!("domanda-{name}-{p}"), "checked": is(&p.to_string())})).collect();
                    let rows: Vec<Value> = list(q, "rows")
                        .iter()
                        .map(|r| {
                            let row = text(r, "value");
                            let chosen = v.and_then(|m| m.get(row)).map(|p| p.to_string().trim_matches('"').to_owned());
                            let points: Vec<Value> = (1..=5)
                                .map(|p| json!({"value": p, "id": format!("domanda-{name}-{row}-{p}"), "checked": chosen.as_deref() == Some(&p.to_string())}))
                                .collect();
                            json!({"value": row, "label": text(r, "label"), "field": row_field(name, row), "points": points})
                        })
                        .collect();
                    let value = match v {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => match n.as_f64() {
                            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
                            _ => n.to_string().replace('.', ","),
                        },
                        _ => String::new(),
                    };
                    json!({
                        "name": name, "id": format!("domanda-{name}"), "label": text(q, "label"), "help": q.get("help"),
                        "kind": text(q, "kind"), "required": q.get("required").and_then(Value::as_bool).unwrap_or(false),
                        "condition": condition_text(survey, q), "options": options, "points": points, "rows": rows,
                        "min_label": q.get("min_label"), "max_label": q.get("max_label"), "min": q.get("min"), "max": q.get("max"),
                        "value": value, "error": errors.get(name),
                    })
                })
                .collect();
            json!({"title": text(s, "title"), "description": s.get("description"), "questions": qs})
        })
        .collect()
}

/// The errors of a refused save or send: next to their questions (422) or for the whole form.
fn refusal(survey: &Value, reply: &client::Reply) -> FieldErrors {
    let mut errors = FieldErrors::new();
    match (reply.status, reply.code()) {
        (409, code) => {
            let m = match code {
                "already_answered" => "Le risposte di questo ente sono già state inviate: non si possono più cambiare.",
                "survey_closed" => "Il questionario è chiuso: le risposte non sono più accettate.",
                "survey_not_open" => "Il questionario non è ancora aperto.",
                _ => "Non è stato possibile salvare le risposte.",
            };
            errors.insert("_form".into(), m.into());
        }
        (422, _) => {
            errors = errors_of(survey, &reply.body);
            if errors.is_empty() {
                errors.insert("_form".into(), "Alcune risposte non sono valide: controllale.".into());
            }
        }
        _ => {
            let m = refusal_message(reply).unwrap_or_else(|| "Non è stato possibile salvare le risposte.".into());
            errors.insert("_form".into(), m);
        }
    }
    errors
}

/// The error summary of the form: each question's error, then the form's.
fn summary_of(sections: &[Value], errors: &FieldErrors) -> Vec<Value> {
    sections
        .iter()
        .flat_map(|s| list(s, "questions").iter())
        .filter_map(|q| {
            q.get("error").filter(|e| !e.is_null()).map(|e| json!({"id": q["id"], "label": q["label"], "message": e}))
        })
        .chain(errors.get("_form").map(|m| json!({"id": "modulo", "message": m})))
        .collect()
}

fn survey_page(survey: &Value) -> (Page, String) {
    let title = text(survey, "title").to_owned();
    let mut page = Page::new("requests/survey.html", format!("Questionario: {title}"));
    crumbs(&mut page, &[("Questionari", Some("/questionari")), (&title, None)]);
    (page, title)
}

const SESSION_EXPIRED: &str = "La sessione del modulo è scaduta: controlla le risposte e premi di nuovo il pulsante.";

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
                json!({"label": text(a, "label"), "percent": it_number(a.get("percent").and_then(Value::as_f64).unwrap_or(0.0)),
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

/// A number as Italian writes it, one decimal at most.
fn it_number(x: f64) -> String {
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
