//! The OpenAPI 3.1 document, generated from the handlers' annotations. `cit openapi` prints it and
//! CI compares it with the committed `openapi/openapi.json`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::graphql::http as graphql;
use crate::routes::{auth, content_types, entries, forms, media, members, ops, search, tenants, tickets, tokens};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cit",
        description = "Multi-tenant headless CMS for the Italian public bodies that run a Centro Innovazione e Tecnologie. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    paths(
        auth::login, auth::refresh, auth::logout, auth::me,
        tenants::create_tenant, tenants::list_tenants, tenants::get_tenant, tenants::update_tenant, tenants::create_user, tenants::profile,
        members::list, members::add, members::change_role, members::remove, members::audit,
        tokens::list, tokens::create, tokens::revoke,
        content_types::list, content_types::get_one, content_types::versions, content_types::put_one, content_types::delete_one,
        entries::list, entries::get_one, entries::create, entries::update, entries::remove,
        entries::revisions, entries::diff, entries::restore,
        search::search,
        media::upload, media::list, media::get_one, media::file, media::remove,
        forms::list, forms::get_one, forms::submit, forms::by_secret, forms::reply_by_secret,
        tickets::list, tickets::export_csv, tickets::get_one, tickets::update, tickets::add_message,
        tickets::submissions, tickets::submission,
        graphql::post, graphql::get,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Log in, refresh, log out"),
        (name = "tenants", description = "Tenants and users (platform admins)"),
        (name = "members", description = "People of a tenant and their roles"),
        (name = "tokens", description = "API tokens of a tenant"),
        (name = "content", description = "Content types and entries"),
        (name = "media", description = "The media library"),
        (name = "requests", description = "Forms, submissions and assistance tickets"),
        (name = "graphql", description = "GraphQL: a typed schema per tenant generated from its content types"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /api/v1/auth/login, or an API token (cit_…)"))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
