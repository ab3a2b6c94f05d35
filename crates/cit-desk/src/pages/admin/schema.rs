//! The audit log, and the content types: each type's definition as JSON, its versions, and a
//! change that is first shown as the API's plan (`PUT …?dry_run=true`) and only then applied;
//! a change that would lose data needs an explicit check box (`force=true`).

use actix_web::{HttpResponse, http::StatusCode, web};
use minijinja::context;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{admin_page, refused};
use crate::api::{Body, Problem};
use crate::error::DeskResult;
use crate::model::{ContentType, List};
use crate::pages::{InTenant, Posted, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/amministrazione/registro", web::get().to(audit))
        .route("/t/{tenant}/amministrazione/tipi", web::get().to(types))
        .route("/t/{tenant}/amministrazione/tipi/{api_id}", web::get().to(one_type))
        .route("/t/{tenant}/amministrazione/tipi/{api_id}", web::post().to(change_type));
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    quanti: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize)]
struct AuditRecord {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    details: Value,
    #[serde(default)]
    at: Option<String>,
}

/// `GET /t/{tenant}/amministrazione/registro?quanti=50|200|500`: newest first.
async fn audit(t: InTenant, q: web::Query<AuditQuery>) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let limit = q.quanti.unwrap_or(50).clamp(1, 500).to_string();
    let records = t.get::<List<AuditRecord>>(&t.api("audit"), &[("limit", limit.as_str())]).await?.data;
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "r": r,
                "details": if r.details.is_null() || r.details == json!({}) { String::new() } else { r.details.to_string() },
            })
        })
        .collect();
    Ok(admin_page(&t, "Registro delle attività").render(
        "admin/audit.html",
        context! {
            more => (records.len().to_string() == limit && limit != "500").then(|| t.link("amministrazione/registro?quanti=500")),
            rows => val(rows),
            limit,
        },
    ))
}

/// `GET /t/{tenant}/amministrazione/tipi`.
async fn types(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let types = t.get::<List<ContentType>>(&t.api("content-types"), &[]).await?.data;
    let rows: Vec<Value> = types
        .iter()
        .map(|ct| {
            json!({
                "href": t.link(&format!("amministrazione/tipi/{}", enc(&ct.api_id))),
                "label": ct.plural(),
                "api_id": ct.api_id,
                "version": ct.version,
                "fields": ct.definition.fields.len(),
            })
        })
        .collect();
    Ok(admin_page(&t, "Tipi di contenuto").render("admin/types.html", context! { rows => val(rows) }))
}

#[derive(Debug, Deserialize, Serialize)]
struct Version {
    version: i64,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Plan {
    #[serde(default)]
    applied: bool,
    #[serde(default)]
    changes: Vec<PlannedChange>,
}

#[derive(Debug, Deserialize, Serialize)]
struct PlannedChange {
    change: String,
    #[serde(default)]
    may_lose_data: bool,
    #[serde(default)]
    affected_entries: u64,
}

/// What the type's page shows besides the definition being edited.
struct Shown {
    definition: String,
    plan: Option<Plan>,
    problem: Option<Problem>,
    force: bool,
}

async fn show_type(t: &InTenant, api_id: &str, shown: Shown, status: StatusCode) -> DeskResult<HttpResponse> {
    let ct = t.get::<ContentType>(&t.api(&format!("content-types/{}", enc(api_id))), &[]).await?;
    let versions =
        t.get::<List<Version>>(&t.api(&format!("content-types/{}/versions", enc(api_id))), &[]).await.map(|l| l.data);
    // A plan that loses data, or the API's refusal to apply one without `force`.
    let destructive = shown.plan.as_ref().is_some_and(|p| p.changes.iter().any(|c| c.may_lose_data))
        || shown.problem.as_ref().is_some_and(|p| p.errors.iter().any(|e| e.code == "loses_data"));
    let page = admin_page(t, format!("Tipo «{}»", ct.plural()))
        .crumb("Tipi di contenuto", Some(t.link("amministrazione/tipi")));
    Ok(page.render_status(
        status,
        "admin/type.html",
        context! {
            ct => val(&ct),
            definition => shown.definition,
            plan => val(&shown.plan),
            destructive,
            force => shown.force,
            problem => val(&shown.problem),
            versions => val(versions.unwrap_or_default()),
            action => t.link(&format!("amministrazione/tipi/{}", enc(api_id))),
        },
    ))
}

/// `GET /t/{tenant}/amministrazione/tipi/{api_id}`: the definition as the API keeps it.
async fn one_type(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, api_id) = path.into_inner();
    // The definition exactly as the API keeps it (not as the desk's model reads it).
    let ct = t.get::<Value>(&t.api(&format!("content-types/{}", enc(&api_id))), &[]).await?;
    let definition = serde_json::to_string_pretty(&ct["definition"]).unwrap_or_default();
    show_type(&t, &api_id, Shown { definition, plan: None, problem: None, force: false }, StatusCode::OK).await
}

/// `POST /t/{tenant}/amministrazione/tipi/{api_id}`: `azione=piano` asks the API for the plan
/// (nothing changes); `azione=applica` applies it, with `force=true` only when the check box
/// "accept the loss" was ticked. A definition that is not JSON, or that the API refuses, comes
/// back next to the text area with nothing changed.
async fn change_type(t: InTenant, path: web::Path<(String, String)>, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, api_id) = path.into_inner();
    let definition = form.get("definition").unwrap_or_default().to_owned();
    let apply = form.pressed("azione", "applica");
    let force = form.get("force") == Some("1");
    let mut shown = Shown { definition: definition.clone(), plan: None, problem: None, force };
    let parsed: Value = match serde_json::from_str(&definition) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) | Err(_) => {
            shown.problem =
                Some(Problem::of_field("definition", "invalid", "La definizione non è un oggetto JSON valido."));
            return show_type(&t, &api_id, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let path = t.api(&format!("content-types/{}", enc(&api_id)));
    let mut query = vec![("dry_run", if apply { "false" } else { "true" })];
    if apply && force {
        query.push(("force", "true"));
    }
    match t.try_call::<Plan>(Method::PUT, &path, &query, Body::Json(parsed)).await? {
        Ok(plan) if plan.applied => {
            let n = plan.changes.len();
            Ok(t.redirect_with(
                &t.link(&format!("amministrazione/tipi/{}", enc(&api_id))),
                "success",
                format!("Modifica applicata: {n} cambiamenti."),
            ))
        }
        Ok(plan) => {
            shown.plan = Some(plan);
            show_type(&t, &api_id, shown, StatusCode::OK).await
        }
        Err(mut p) => {
            let status = refused(&p);
            // Every error is of the one text area: the path inside the JSON goes in the message.
            for e in &mut p.errors {
                if e.field != "definition" {
                    e.message = format!("{}: {}", e.field, e.message);
                    e.field = "definition".into();
                }
            }
            shown.problem = Some(p);
            show_type(&t, &api_id, shown, status).await
        }
    }
}
