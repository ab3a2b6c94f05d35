//! The OpenAPI 3.1 document, generated from the handlers' annotations. `cit openapi` prints it and
//! CI compares it with the committed `openapi/openapi.json`.

use utoipa::openapi::content::Content;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::graphql::http as graphql;
use crate::routes::{
    attachments, auth, content_types, entries, events, forms, media, members, newsletter, ops, search, surveys,
    tenant_jobs, tenants, tickets, tokens, webhooks,
};

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
        tenant_jobs::export, tenant_jobs::import, tenant_jobs::list, tenant_jobs::get_one, tenant_jobs::archive, tenant_jobs::remove,
        members::list, members::add, members::change_role, members::remove, members::audit,
        tokens::list, tokens::create, tokens::revoke,
        webhooks::list, webhooks::create, webhooks::get_one, webhooks::update, webhooks::remove,
        webhooks::deliveries, webhooks::redeliver,
        content_types::list, content_types::get_one, content_types::versions, content_types::put_one, content_types::delete_one,
        entries::list, entries::get_one, entries::create, entries::update, entries::remove,
        entries::revisions, entries::diff, entries::restore,
        search::search,
        media::upload, media::list, media::get_one, media::file, media::uses, media::update, media::remove,
        forms::list, forms::get_one, forms::submit, forms::by_secret, forms::reply_by_secret,
        events::registration_info, events::register, events::by_secret, events::cancel, events::list, events::list_csv, events::invite,
        newsletter::lists, newsletter::list_form, newsletter::put_list, newsletter::subscribe, newsletter::confirm, newsletter::confirmation, newsletter::unsubscribe_view, newsletter::unsubscribe, newsletter::subscribers, newsletter::create_campaign, newsletter::campaign, newsletter::send,
        surveys::list, surveys::get_one, surveys::put_one, surveys::by_link, surveys::save, surveys::form, surveys::answer,
        surveys::invite, surveys::invitations, surveys::get_results, surveys::all_profiles, surveys::chart, surveys::responses_csv, surveys::responses_xlsx,
        tickets::list, tickets::export_csv, tickets::get_one, tickets::update, tickets::add_message,
        tickets::submissions, tickets::submission, attachments::download,
        graphql::post, graphql::get,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    modifiers(&BearerAuth, &ProblemAnswers),
    tags(
        (name = "auth", description = "Log in, refresh, log out"),
        (name = "tenants", description = "Tenants and users, and moving a tenant between instances as export and import jobs (platform admins)"),
        (name = "members", description = "People of a tenant and their roles"),
        (name = "tokens", description = "API tokens of a tenant"),
        (name = "webhooks", description = "Webhook subscriptions of a tenant, their deliveries and redelivery"),
        (name = "content", description = "Content types and entries"),
        (name = "media", description = "The media library"),
        (name = "requests", description = "Forms, submissions and assistance tickets"),
        (name = "newsletter", description = "Newsletters: lists, double opt-in subscription, one-click unsubscribe, campaigns sent at a pace through the e-mail outbox"),
        (name = "surveys", description = "Surveys: sections and questions, invitation links for the member bodies with drafts, anonymous answers, results with charts, CSV and XLSX"),
        (name = "events", description = "Registration for events: places, waiting list, cancellation, attendees, invitations"),
        (name = "graphql", description = "GraphQL: a typed schema per tenant generated from its content types"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

const PROBLEM_JSON: &str = "application/problem+json";

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

/// Adds to every operation the problem answers that follow from what it is, so handlers list only
/// what is their own: a JSON body can be malformed (400), too large (413), of another media type
/// (415) or invalid (422); a multipart body can be broken (400) or too large (413); query
/// parameters can be invalid (400); a bearer token can be invalid or expired (401) and a caller
/// can lack the right (403); a path names something that may not exist (404). What a handler
/// already declares stays as it is.
struct ProblemAnswers;

const JSON_BODY: &[(u16, &str)] = &[
    (400, "The body is not valid JSON (`malformed_json`)."),
    (413, "The body is larger than the server accepts (`payload_too_large`)."),
    (415, "The body is not `application/json` (`unsupported_media_type`)."),
    (422, "A field is missing, unknown or not valid (`validation_failed`, with `errors[].field`)."),
];
const MULTIPART_BODY: &[(u16, &str)] = &[
    (400, "The body is not a readable multipart form (`bad_multipart`)."),
    (413, "The file or a field is larger than the server accepts (`payload_too_large`)."),
    (422, "A part is missing, unknown or not valid (`validation_failed`, with `errors[].field`)."),
];
const QUERY: (u16, &str) = (400, "A query parameter is not valid (`invalid_query`).");
const UNAUTHENTICATED: (u16, &str) =
    (401, "No token, or the token is invalid, expired or revoked (`unauthenticated`, `invalid_token`).");
const BAD_TOKEN: (u16, &str) = (401, "The token presented is invalid, expired or revoked (`invalid_token`).");
const FORBIDDEN: (u16, &str) =
    (403, "The caller may not do this (`forbidden`), or the tenant is disabled (`tenant_disabled`).");
const TENANT_FORBIDDEN: (u16, &str) = (
    403,
    "The tenant is not readable without a token or this one lacks the right (`forbidden`), or it is disabled (`tenant_disabled`).",
);
const NOT_FOUND: (u16, &str) = (404, "Nothing answers to this path (`not_found`).");

impl Modify for ProblemAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let tenant_scoped = path.starts_with("/api/v1/t/{tenant}");
            let has_path_params = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ]
            .into_iter()
            .flatten()
            {
                let mut add: Vec<(u16, &str)> = Vec::new();
                match op.request_body.as_ref() {
                    Some(RefOr::T(body)) if body.content.contains_key("application/json") => {
                        add.extend_from_slice(JSON_BODY)
                    }
                    Some(RefOr::T(body)) if body.content.contains_key("multipart/form-data") => {
                        add.extend_from_slice(MULTIPART_BODY)
                    }
                    _ => {}
                }
                let has_query = op.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => matches!(p.parameter_in, ParameterIn::Query),
                    RefOr::Ref(_) => false,
                });
                if has_query {
                    add.push(QUERY);
                }
                let needs_auth = op.security.as_ref().is_some_and(|s| !s.is_empty());
                if needs_auth {
                    add.push(UNAUTHENTICATED);
                    add.push(FORBIDDEN);
                } else if tenant_scoped {
                    add.push(BAD_TOKEN);
                    add.push(TENANT_FORBIDDEN);
                }
                if has_path_params {
                    add.push(NOT_FOUND);
                }
                for (status, description) in add {
                    let key = status.to_string();
                    match op.responses.responses.get_mut(&key) {
                        // Declared by the handler without words: keep its body, add the words.
                        Some(RefOr::T(r)) if r.description.is_empty() => r.description = description.to_owned(),
                        Some(_) => {}
                        None => {
                            op.responses.responses.insert(key, RefOr::T(problem(description)));
                        }
                    }
                }
            }
        }
    }
}

/// A problem answer: `application/problem+json` with the `Problem` schema.
pub fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
}

/// The document as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Schemas of the constraints that the domain types of `cit-core` enforce when a body is parsed,
/// for fields whose shape the derive cannot state (arrays of constrained strings, enums of
/// strings). Used as `#[schema(schema_with = …)]`.
pub mod shapes {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};

    /// `Hostname::parse`: lower-case labels of letters, digits and inner hyphens.
    pub const HOSTNAME: &str = "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";
    /// `Locale::parse`: `it`, `en`, `de-AT`.
    pub const LOCALE: &str = "^[a-z]{2,3}(-[A-Z]{2})?$";

    fn string(pattern: &str, max_length: usize) -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).max_length(Some(max_length))
    }

    fn enumeration(values: &[&str], nullable: bool) -> ObjectBuilder {
        let ty = if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { Type::String.into() };
        let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
        if nullable {
            values.push(serde_json::Value::Null);
        }
        ObjectBuilder::new().schema_type(ty).enum_values(Some(values))
    }

    fn array_of(items: impl Into<Schema>, nullable: bool, min_items: Option<usize>) -> ArrayBuilder {
        let ty = if nullable { SchemaType::from_iter([Type::Array, Type::Null]) } else { Type::Array.into() };
        ArrayBuilder::new()
            .schema_type(ty)
            .items(ArrayItems::RefOrSchema(Box::new(RefOr::T(items.into()))))
            .min_items(min_items)
    }

    /// `CreateTenant.domains`.
    pub fn tenant_domains() -> Schema {
        array_of(string(HOSTNAME, 253), false, None)
            .description(Some("Host names the tenant's site answers on."))
            .into()
    }

    /// `UpdateTenant.domains`.
    pub fn domains_patch() -> Schema {
        array_of(string(HOSTNAME, 253), true, None).into()
    }

    /// `CreateTenant.locales`.
    pub fn tenant_locales() -> Schema {
        array_of(string(LOCALE, 6), false, None)
            .description(Some("Content locales; the first is the default. Defaults to `[\"it\"]`."))
            .into()
    }

    /// `UpdateTenant.locales`: at least one when given.
    pub fn locales_patch() -> Schema {
        array_of(string(LOCALE, 6), true, Some(1)).into()
    }

    const ROLES: &[&str] = &["admin", "editor", "author", "member"];

    // `example` (singular), as the derive writes it for the other fields.
    /// `AddMember.role` (`Role::parse`).
    #[allow(deprecated)]
    pub fn role_to_add() -> Schema {
        enumeration(ROLES, false).example(Some("editor".into())).into()
    }

    /// `ChangeRole.role` (`Role::parse`).
    #[allow(deprecated)]
    pub fn role_to_change() -> Schema {
        enumeration(ROLES, false).example(Some("author".into())).into()
    }

    fn names<const N: usize, T: Copy>(all: [T; N], name: fn(T) -> &'static str) -> Vec<&'static str> {
        all.into_iter().map(name).collect()
    }

    /// A ticket state (`TicketState::parse`), in a query.
    pub fn ticket_state() -> Schema {
        enumeration(&names(cit_core::tickets::TicketState::ALL, cit_core::tickets::TicketState::as_str), false).into()
    }

    /// A priority (`Priority::parse`), in a query.
    pub fn ticket_priority() -> Schema {
        enumeration(&names(cit_core::tickets::Priority::ALL, cit_core::tickets::Priority::as_str), false).into()
    }

    /// `PatchTicket.state`.
    pub fn ticket_state_patch() -> Schema {
        enumeration(&names(cit_core::tickets::TicketState::ALL, cit_core::tickets::TicketState::as_str), true)
            .description(Some("The new state; a closed ticket reopens only within the reopen window."))
            .into()
    }

    /// `PatchTicket.priority`.
    pub fn ticket_priority_patch() -> Schema {
        enumeration(&names(cit_core::tickets::Priority::ALL, cit_core::tickets::Priority::as_str), true)
            .description(Some("The new priority: the due dates follow."))
            .into()
    }

    /// `CreateToken.scopes` (`Scopes::new`): at least one.
    #[allow(deprecated)]
    pub fn scopes() -> Schema {
        array_of(enumeration(&["read", "preview", "write"], false), false, Some(1))
            .description(Some("`read` (published content), `preview` (drafts too), `write` (create, change, publish)."))
            .example(Some(serde_json::json!(["read"])))
            .into()
    }

    /// `EntryWrite.status`.
    pub fn entry_status() -> Schema {
        enumeration(&["draft", "published", "archived"], true)
            .description(Some("draft (default), published or archived."))
            .into()
    }
}
