//! For platform admins: every tenant, a new one, and a tenant's name, domains, locales, public
//! reading and whether it is disabled.

use actix_web::{HttpResponse, http::StatusCode, web};
use minijinja::context;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::refused;
use crate::api::{Body, Problem};
use crate::error::{DeskError, DeskResult};
use crate::model::List;
use crate::pages::{Page, Posted, Signed, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/enti", web::get().to(list))
        .route("/enti", web::post().to(create))
        .route("/enti/{id}", web::get().to(one))
        .route("/enti/{id}", web::post().to(update));
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct Tenant {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    locales: Vec<String>,
    #[serde(default)]
    public_read: bool,
    #[serde(default)]
    disabled: bool,
}

fn require_platform(s: &Signed) -> DeskResult<()> {
    if s.session.user().platform_admin {
        Ok(())
    } else {
        Err(DeskError::Forbidden("Solo gli amministratori della piattaforma gestiscono gli enti.".into()))
    }
}

fn page(s: &Signed, title: impl Into<String>) -> Page {
    let mut page = s.page(title);
    page.section = "enti";
    page.crumb("Enti", Some("/enti".into()))
}

/// Comma- or space-separated words of a form field.
fn words(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// What the form of a tenant sends: name, domains, locales, public reading, disabled.
fn typed(form: &Posted) -> Tenant {
    Tenant {
        id: form.text("id").unwrap_or_default(),
        name: form.text("name").unwrap_or_default(),
        domains: words(form.get("domains").unwrap_or_default()),
        locales: words(form.get("locales").unwrap_or_default()),
        public_read: form.get("public_read") == Some("1"),
        disabled: form.get("disabled") == Some("1"),
    }
}

async fn show_list(s: &Signed, form: Tenant, problem: Option<Problem>, status: StatusCode) -> DeskResult<HttpResponse> {
    let tenants = s.get::<List<Tenant>>("api/v1/tenants", &[]).await?.data;
    let rows: Vec<Value> = tenants.iter().map(|t| json!({"t": t, "href": format!("/enti/{}", enc(&t.id))})).collect();
    let mut page = s.page("Enti");
    page.section = "enti";
    Ok(page.render_status(
        status,
        "admin/tenants.html",
        context! { rows => val(rows), form => val(&form), problem => val(&problem) },
    ))
}

/// `GET /enti`.
async fn list(s: Signed) -> DeskResult<HttpResponse> {
    require_platform(&s)?;
    let form = Tenant { locales: vec!["it".into()], public_read: true, ..Tenant::default() };
    show_list(&s, form, None, StatusCode::OK).await
}

/// `POST /enti`: `POST /api/v1/tenants`.
async fn create(s: Signed, form: Posted) -> DeskResult<HttpResponse> {
    require_platform(&s)?;
    let t = typed(&form);
    if t.locales.is_empty() {
        let p = Problem::of_field("locales", "invalid", "Indica almeno una lingua, per esempio it.");
        return show_list(&s, t, Some(p), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let body =
        json!({"id": t.id, "name": t.name, "domains": t.domains, "locales": t.locales, "public_read": t.public_read});
    match s.try_call::<Value>(Method::POST, "api/v1/tenants", &[], Body::Json(body)).await? {
        Ok(_) => Ok(s.redirect_with(&format!("/enti/{}", enc(&t.id)), "success", format!("Ente «{}» creato.", t.name))),
        Err(p) => {
            let status = refused(&p);
            show_list(&s, t, Some(p), status).await
        }
    }
}

async fn show_one(s: &Signed, t: Tenant, problem: Option<Problem>, status: StatusCode) -> DeskResult<HttpResponse> {
    let page = page(s, format!("Ente «{}»", t.id));
    Ok(page.render_status(
        status,
        "admin/tenant.html",
        context! { tf => val(&t), problem => val(&problem), action => format!("/enti/{}", enc(&t.id)), desk => format!("/t/{}/", enc(&t.id)) },
    ))
}

/// `GET /enti/{id}`.
async fn one(s: Signed, path: web::Path<String>) -> DeskResult<HttpResponse> {
    require_platform(&s)?;
    let t = s.get::<Tenant>(&format!("api/v1/tenants/{}", enc(&path)), &[]).await?;
    show_one(&s, t, None, StatusCode::OK).await
}

/// `POST /enti/{id}`: `PATCH /api/v1/tenants/{id}`.
async fn update(s: Signed, path: web::Path<String>, form: Posted) -> DeskResult<HttpResponse> {
    require_platform(&s)?;
    let mut t = typed(&form);
    t.id = path.into_inner();
    let body = json!({"name": t.name, "domains": t.domains, "locales": t.locales, "public_read": t.public_read, "disabled": t.disabled});
    let api_path = format!("api/v1/tenants/{}", enc(&t.id));
    match s.try_call::<Value>(Method::PATCH, &api_path, &[], Body::Json(body)).await? {
        Ok(_) => Ok(s.redirect_with(&format!("/enti/{}", enc(&t.id)), "success", "Ente aggiornato.")),
        Err(p) => {
            let status = refused(&p);
            show_one(&s, t, Some(p), status).await
        }
    }
}
