//! The members of a tenant: list, add (a new user is created with a name and a password; an
//! existing one is only given the role), change role, remove after a confirmation.

use actix_web::{HttpResponse, http::StatusCode, web};
use minijinja::context;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{admin_page, refused};
use crate::api::{Body, Problem};
use crate::error::DeskResult;
use crate::model::List;
use crate::pages::{InTenant, Posted, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/amministrazione/membri", web::get().to(list))
        .route("/t/{tenant}/amministrazione/membri", web::post().to(add))
        .route("/t/{tenant}/amministrazione/membri/{user}/ruolo", web::post().to(change_role))
        .route("/t/{tenant}/amministrazione/membri/{user}/rimuovi", web::get().to(confirm_remove))
        .route("/t/{tenant}/amministrazione/membri/{user}/rimuovi", web::post().to(remove));
}

/// The roles a member can be given, in the order the form offers them.
pub const ROLES: &[&str] = &["member", "author", "editor", "operator", "admin"];

#[derive(Debug, Clone, Deserialize, Serialize)]
struct Member {
    user_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    since: Option<String>,
}

/// What was typed in the form to add a member, kept when it is refused.
#[derive(Debug, Default, Serialize)]
struct AddForm {
    email: String,
    name: String,
    role: String,
}

async fn members(t: &InTenant) -> DeskResult<Vec<Member>> {
    Ok(t.get::<List<Member>>(&t.api("members"), &[]).await?.data)
}

async fn show(t: &InTenant, form: AddForm, problem: Option<Problem>, status: StatusCode) -> DeskResult<HttpResponse> {
    let list = members(t).await?;
    let me = t.session.user().id;
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|m| {
            json!({
                "m": m,
                "me": m.user_id == me,
                "role_action": t.link(&format!("amministrazione/membri/{}/ruolo", enc(&m.user_id))),
                "remove_href": t.link(&format!("amministrazione/membri/{}/rimuovi", enc(&m.user_id))),
            })
        })
        .collect();
    Ok(admin_page(t, "Persone e ruoli").render_status(
        status,
        "admin/members.html",
        context! {
            rows => val(rows),
            roles => val(ROLES),
            form => val(&form),
            problem => val(&problem),
            action => t.link("amministrazione/membri"),
        },
    ))
}

/// `GET /t/{tenant}/amministrazione/membri`.
async fn list(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    show(&t, AddForm { role: "author".into(), ..AddForm::default() }, None, StatusCode::OK).await
}

/// `POST /t/{tenant}/amministrazione/membri`: `POST …/members`. A name and a password are sent
/// only when given: the API needs them to create a user who does not exist yet, and says so.
async fn add(t: InTenant, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let typed = AddForm {
        email: form.text("email").unwrap_or_default(),
        name: form.text("name").unwrap_or_default(),
        role: form.text("role").unwrap_or_default(),
    };
    if !ROLES.contains(&typed.role.as_str()) {
        let p = Problem::of_field("role", "invalid", "Scegli un ruolo dall'elenco.");
        return show(&t, typed, Some(p), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut body = json!({"email": typed.email, "role": typed.role});
    if !typed.name.is_empty() {
        body["name"] = json!(typed.name);
    }
    if let Some(pw) = form.get("password").filter(|p| !p.is_empty()) {
        body["password"] = json!(pw);
    }
    match t.try_call::<serde_json::Value>(Method::POST, &t.api("members"), &[], Body::Json(body)).await? {
        Ok(_) => Ok(t.redirect_with(
            &t.link("amministrazione/membri"),
            "success",
            format!("{} ora è membro con il ruolo {}.", typed.email, crate::render::role_label(&typed.role)),
        )),
        Err(p) => {
            let status = refused(&p);
            show(&t, typed, Some(p), status).await
        }
    }
}

/// `POST …/membri/{user}/ruolo`: `PATCH …/members/{user}`; the API keeps the last admin.
async fn change_role(t: InTenant, path: web::Path<(String, String)>, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, user) = path.into_inner();
    let role = form.text("role").unwrap_or_default();
    let back = t.link("amministrazione/membri");
    if !ROLES.contains(&role.as_str()) {
        return Ok(t.redirect_with(&back, "danger", "Scegli un ruolo dall'elenco."));
    }
    let path = t.api(&format!("members/{}", enc(&user)));
    match t.try_send(Method::PATCH, &path, &[], Body::Json(json!({"role": role}))).await? {
        Ok(()) => {
            Ok(t.redirect_with(&back, "success", format!("Ruolo cambiato: {}.", crate::render::role_label(&role))))
        }
        Err(p) => Ok(t.redirect_with(&back, "danger", format!("Ruolo non cambiato: {}", p.message()))),
    }
}

async fn one(t: &InTenant, user: &str) -> DeskResult<Member> {
    members(t).await?.into_iter().find(|m| m.user_id == user).ok_or(crate::error::DeskError::NotFound)
}

/// `GET …/membri/{user}/rimuovi`: asks first.
async fn confirm_remove(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, user) = path.into_inner();
    let m = one(&t, &user).await?;
    let page = admin_page(&t, format!("Togliere {}?", m.name))
        .crumb("Persone e ruoli", Some(t.link("amministrazione/membri")));
    Ok(page.render(
        "admin/confirm.html",
        context! {
            question => format!("{} ({}, {}) non potrà più lavorare in {}. Il suo account resta: potrai aggiungerlo di nuovo.", m.name, m.email, crate::render::role_label(&m.role), t.tenant),
            action => t.link(&format!("amministrazione/membri/{}/rimuovi", enc(&user))),
            button => "Togli dall'ente",
            back => t.link("amministrazione/membri"),
        },
    ))
}

/// `POST …/membri/{user}/rimuovi`: `DELETE …/members/{user}`.
async fn remove(t: InTenant, path: web::Path<(String, String)>, _form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, user) = path.into_inner();
    let m = one(&t, &user).await?;
    let back = t.link("amministrazione/membri");
    match t.try_send(Method::DELETE, &t.api(&format!("members/{}", enc(&user))), &[], Body::None).await? {
        Ok(()) => Ok(t.redirect_with(&back, "success", format!("{} non è più membro.", m.name))),
        Err(p) => Ok(t.redirect_with(&back, "danger", format!("Non tolto: {}", p.message()))),
    }
}
