//! Signing in and out, and choosing a tenant.
//!
//! The login form is protected against cross-site posts by a double-submit value: a random
//! value in a `SameSite=Strict` cookie that the form repeats in a hidden field.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::{Posted, Signed, see_other};
use crate::api::ApiFailure;
use crate::error::{DeskError, DeskResult};
use crate::server::DeskState;
use crate::session::{clear_cookie, random_token, read_cookie, set_cookie};

const LOGIN_COOKIE: &str = "cit_desk_login";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/", web::get().to(home))
        .route("/scegli", web::get().to(choose));
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only a path of this desk is a place to go back to.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn login_form(state: &DeskState, status: StatusCode, email: &str, next: &str, error: Option<String>) -> HttpResponse {
    let value = random_token();
    let mut resp = crate::render::html(
        status,
        "auth/login.html",
        context! {
            page => context! { title => "Accedi" },
            email => email,
            next => next,
            login_token => value.clone(),
            error => error,
        },
    );
    let cookie = format!(
        "{}; Max-Age=3600",
        set_cookie(&value, state.settings.secure_cookies).replacen(crate::session::COOKIE, LOGIN_COOKIE, 1,)
    );
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn login_page(state: web::Data<DeskState>, req: HttpRequest, q: web::Query<Next>) -> HttpResponse {
    // Already signed in: straight on.
    if let Ok(_signed) = <Signed as actix_web::FromRequest>::extract(&req).await {
        return see_other(&safe_next(q.next.as_deref()));
    }
    login_form(&state, StatusCode::OK, "", &safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    login_token: String,
}

async fn login(state: web::Data<DeskState>, req: HttpRequest, form: web::Form<LoginForm>) -> DeskResult {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| read_cookie(c, LOGIN_COOKIE))
        .unwrap_or_default()
        .to_owned();
    if cookie.is_empty() || cookie != form.login_token {
        return Ok(login_form(
            &state,
            StatusCode::FORBIDDEN,
            &form.email,
            &next,
            Some("Il modulo di accesso è scaduto: riprova.".into()),
        ));
    }
    let email = form.email.trim();
    if email.is_empty() || form.password.is_empty() {
        return Ok(login_form(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            email,
            &next,
            Some("Inserisci e-mail e password.".into()),
        ));
    }
    let pair = match state.api.login(email, &form.password).await {
        Ok(pair) => pair,
        Err(ApiFailure::Unauthorized) => {
            return Ok(login_form(
                &state,
                StatusCode::UNAUTHORIZED,
                email,
                &next,
                Some("E-mail o password non corrette.".into()),
            ));
        }
        Err(ApiFailure::Problem(p)) if p.status == 429 => {
            return Ok(login_form(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                email,
                &next,
                Some("Troppi tentativi di accesso: attendi qualche minuto e riprova.".into()),
            ));
        }
        Err(ApiFailure::Problem(p)) => {
            return Ok(login_form(&state, StatusCode::UNPROCESSABLE_ENTITY, email, &next, Some(p.message())));
        }
        Err(ApiFailure::Unavailable(e)) => return Err(DeskError::Unavailable(e)),
    };
    let me = state.api.me(&pair.access_token).await?;
    let session = state.sessions.open(pair, me);
    tracing::info!("desk: a user signed in");
    let mut resp = see_other(&next);
    for cookie in
        [set_cookie(session.id(), state.settings.secure_cookies), format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0")]
    {
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

async fn logout(signed: Signed, _form: Posted) -> HttpResponse {
    let token = signed.session.current_access_token().await;
    if let Err(e) = signed.desk.api.logout(&token).await {
        tracing::debug!("desk: logout at the API: {e}");
    }
    signed.desk.sessions.close(signed.session.id());
    let mut resp = see_other("/login");
    if let Ok(v) = header::HeaderValue::from_str(&clear_cookie(signed.desk.settings.secure_cookies)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `/`: the only tenant's desk, or the list to choose from.
async fn home(signed: Signed) -> DeskResult {
    // The memberships may have changed since the login.
    let token = signed.session.access_token(&signed.desk.api).await.map_err(DeskError::from)?;
    if let Ok(me) = signed.desk.api.me(&token).await {
        signed.session.set_user(me);
    }
    let me = signed.session.user();
    if me.memberships.len() == 1 && !me.platform_admin {
        return Ok(see_other(&format!("/t/{}/", me.memberships[0].tenant)));
    }
    // A platform admin may work in every tenant: list them all.
    let all_tenants: Vec<String> = if me.platform_admin {
        let list: crate::model::List<serde_json::Value> = signed.get("api/v1/tenants", &[]).await?;
        list.data.iter().filter_map(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_owned)).collect()
    } else {
        Vec::new()
    };
    let page = signed.page("Scegli l'ente");
    Ok(page.render("auth/choose.html", context! { all_tenants => all_tenants }))
}

#[derive(Deserialize)]
struct Choose {
    tenant: Option<String>,
}

/// The tenant switcher's target (a GET form, so it works without JavaScript).
async fn choose(_signed: Signed, q: web::Query<Choose>) -> HttpResponse {
    match q
        .tenant
        .as_deref()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        Some(t) => see_other(&format!("/t/{t}/")),
        None => see_other("/"),
    }
}
