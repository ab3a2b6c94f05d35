//! Administration: the members of a tenant and their roles ([`members`]), its API tokens
//! ([`tokens`]), the audit log and the content types with the plan of a change shown before it
//! is applied ([`schema`]); for platform admins, the tenants themselves ([`tenants`]). Every
//! page is for the tenant's admins (or a platform admin); the API checks each call again.

use actix_web::web;
use actix_web::{HttpResponse, http::StatusCode};
use minijinja::context;

use super::InTenant;
use crate::api::Problem;
use crate::error::DeskResult;

mod members;
mod schema;
mod tenants;
mod tokens;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/amministrazione", web::get().to(index));
    members::configure(cfg);
    tokens::configure(cfg);
    schema::configure(cfg);
    tenants::configure(cfg);
}

/// `GET /t/{tenant}/amministrazione`: what an admin can do here.
async fn index(t: InTenant) -> DeskResult<HttpResponse> {
    t.require(t.rights.admin)?;
    let page = t.page("Amministrazione", "amministrazione");
    Ok(page.render(
        "admin/index.html",
        context! {
            links => vec![
                (t.link("amministrazione/membri"), "Persone e ruoli", "Chi lavora in questo ente e con quale ruolo: aggiungi, cambia ruolo, togli."),
                (t.link("amministrazione/token"), "Token delle API", "Le chiavi delle integrazioni: crea (il segreto si vede una volta sola), revoca."),
                (t.link("amministrazione/registro"), "Registro delle attività", "Chi ha fatto che cosa, e quando."),
                (t.link("amministrazione/tipi"), "Tipi di contenuto", "I campi di ogni tipo; una modifica mostra prima il suo piano."),
            ],
            platform => t.rights.platform_admin,
        },
    ))
}

/// The layout of an administration page below the index.
fn admin_page(t: &InTenant, title: impl Into<String>) -> super::Page {
    t.page(title, "amministrazione").crumb("Amministrazione", Some(t.link("amministrazione")))
}

/// The status of a page shown again after the API refused its form.
fn refused(p: &Problem) -> StatusCode {
    StatusCode::from_u16(p.status).ok().filter(|s| s.is_client_error()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}
