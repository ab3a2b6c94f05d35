//! The tenant's API tokens: list (never their secrets), create (the secret is shown once, on
//! the page that answers the form: not in an address, not in a message kept for the next
//! page, and the answer is `no-store` like every desk page), revoke after a confirmation.

use actix_web::{HttpResponse, http::StatusCode, web};
use minijinja::context;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{admin_page, refused};
use crate::api::{Body, Problem};
use crate::error::{DeskError, DeskResult};
use crate::model::List;
use crate::pages::editor::fields::from_local_input;
use crate::pages::{InTenant, Posted, enc};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/amministrazione/token", web::get().to(list))
        .route("/t/{tenant}/amministrazione/token", web::post().to(create))
        .route("/t/{tenant}/amministrazione/token/{id}/revoca", web::get().to(confirm_revoke))
        .route("/t/{tenant}/amministrazione/token/{id}/revoca", web::post().to(revoke));
}

/// The scopes a token can have, with what each allows.
const SCOPES: &[(&str, &str)] = &[
    ("read", "lettura dei contenuti pubblicati"),
    ("preview", "lettura delle bozze (anteprima)"),
    ("write", "scrittura dei contenuti"),
];

#[derive(Debug, Clone, Deserialize, Serialize)]
struct Token {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Created {
    token: String,
    #[serde(flatten)]
    info: Token,
}

#[derive(Debug, Default, Serialize)]
struct CreateForm {
    name: String,
    scopes: Vec<String>,
    expires: String,
}

async fn show(
    t: &InTenant,
    form: CreateForm,
    problem: Option<Problem>,
    secret: Option<(String, Token)>,
    status: StatusCode,
) -> DeskResult<HttpResponse> {
    let list = t.get::<List<Token>>(&t.api("tokens"), &[]).await?.data;
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|k| json!({"k": k, "revoke_href": t.link(&format!("amministrazione/token/{}/revoca", enc(&k.id)))}))
        .collect();
    Ok(admin_page(t, "Token delle API").render_status(
        status,
        "admin/tokens.html",
        context! {
            rows => val(rows),
            scopes => val(SCOPES),
            form => val(&form),
            problem => val(&problem),
            secret => secret.as_ref().map(|(s, _)| s.clone()),
            created => val(secret.map(|(_, k)| k)),
            action => t.link("amministrazione/token"),
        },
    ))
}

/// `GET /t/{tenant}/amministrazione/token`.
async fn list(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let form = CreateForm { scopes: vec!["read".into()], ..CreateForm::default() };
    show(&t, form, None, None, StatusCode::OK).await
}

/// `POST /t/{tenant}/amministrazione/token`: `POST …/tokens`, then this page with the secret.
async fn create(t: InTenant, form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let typed = CreateForm {
        name: form.text("name").unwrap_or_default(),
        scopes: form.all("scopes").into_iter().map(str::to_owned).collect(),
        expires: form.text("expires").unwrap_or_default(),
    };
    let mut body = json!({"name": typed.name, "scopes": typed.scopes});
    if !typed.expires.is_empty() {
        match from_local_input(&typed.expires) {
            Some(at) => body["expires_at"] = json!(at),
            None => {
                let p = Problem::of_field(
                    "expires_at",
                    "invalid",
                    "Scrivi data e ora di scadenza, per esempio 2027-01-31T23:59.",
                );
                return show(&t, typed, Some(p), None, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        }
    }
    match t.try_call::<Created>(Method::POST, &t.api("tokens"), &[], Body::Json(body)).await? {
        Ok(c) => {
            let form = CreateForm { scopes: vec!["read".into()], ..CreateForm::default() };
            show(&t, form, None, Some((c.token, c.info)), StatusCode::CREATED).await
        }
        Err(p) => {
            let status = refused(&p);
            show(&t, typed, Some(p), None, status).await
        }
    }
}

async fn one(t: &InTenant, id: &str) -> DeskResult<Token> {
    let list = t.get::<List<Token>>(&t.api("tokens"), &[]).await?.data;
    list.into_iter().find(|k| k.id == id).ok_or(DeskError::NotFound)
}

/// `GET …/token/{id}/revoca`: asks first.
async fn confirm_revoke(t: InTenant, path: web::Path<(String, String)>) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, id) = path.into_inner();
    let k = one(&t, &id).await?;
    let page = admin_page(&t, format!("Revocare «{}»?", k.name))
        .crumb("Token delle API", Some(t.link("amministrazione/token")));
    Ok(page.render(
        "admin/confirm.html",
        context! {
            question => format!("Le integrazioni che usano il token «{}» ({}…) non potranno più chiamare le API. L'operazione non si può annullare.", k.name, k.prefix),
            action => t.link(&format!("amministrazione/token/{}/revoca", enc(&id))),
            button => "Revoca il token",
            back => t.link("amministrazione/token"),
        },
    ))
}

/// `POST …/token/{id}/revoca`: `DELETE …/tokens/{id}`.
async fn revoke(t: InTenant, path: web::Path<(String, String)>, _form: Posted) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let (_, id) = path.into_inner();
    let k = one(&t, &id).await?;
    let back = t.link("amministrazione/token");
    match t.try_send(Method::DELETE, &t.api(&format!("tokens/{}", enc(&id))), &[], Body::None).await? {
        Ok(()) => Ok(t.redirect_with(&back, "success", format!("Token «{}» revocato.", k.name))),
        Err(p) => Ok(t.redirect_with(&back, "danger", format!("Non revocato: {}", p.message()))),
    }
}
