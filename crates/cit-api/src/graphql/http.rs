//! The GraphQL endpoint: `POST /api/v1/t/{tenant}/graphql` (one request or a batch, JSON, same
//! body limit as every JSON body), `GET` with `?query=&variables=&operationName=` for queries
//! (strong ETag, 304 on `If-None-Match`), the GraphiQL page on a `GET` that accepts HTML, and
//! GraphiQL's files under `/api/v1/graphiql/`, all served by cit itself.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use cit_core::TenantId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::limits::MAX_BATCH;
use super::{Incoming, MutationOverGet, Runner};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Json, parse_json};
use crate::http_cache::{Cacheability, json_with_etag};
use crate::state::State;

/// A GraphQL request, as in the GraphQL-over-HTTP convention. A POST body may also be an array
/// of them (a batch of at most 10), answered by an array of responses.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GraphqlRequest {
    /// The GraphQL document.
    pub query: String,
    /// Values of the document's variables.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Value>,
    /// Which operation of the document runs, when it has several.
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<serde_json::Value>,
}

/// A GraphQL response: `data`, and `errors` when something went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphqlResponse {
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    pub errors: Option<Vec<GraphqlError>>,
}

/// One error. `extensions.code` is stable: the REST API's code (`validation_failed`,
/// `not_found`, `forbidden`, `unauthenticated`, `conflict`, `stale`, `invalid_query`, …), or for a
/// refused query `DEPTH_LIMIT`, `COMPLEXITY_LIMIT`, `TOO_MANY_ALIASES`, `FIRST_TOO_LARGE`,
/// `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphqlError {
    pub message: String,
    #[schema(value_type = Option<Vec<Object>>)]
    pub locations: Option<Vec<serde_json::Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub path: Option<Vec<serde_json::Value>>,
    /// `code`; `status` (what REST would answer); `errors: [{field, code, message}]` for invalid data.
    #[schema(value_type = Object)]
    pub extensions: serde_json::Value,
}

/// Query parameters of a GET.
#[derive(Debug, Default, IntoParams)]
pub struct GetParams {
    /// The GraphQL document (a query; mutations need POST). Without it, a GET that accepts
    /// text/html gets the GraphiQL page.
    #[param(required = true)]
    pub query: Option<String>,
    /// The variables, as a JSON object.
    pub variables: Option<String>,
    #[param(rename = "operationName")]
    pub operation_name: Option<String>,
}

fn json_response(status: StatusCode, body: &impl Serialize) -> ApiResult<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .content_type("application/json")
        .body(bytes))
}

fn method_not_allowed() -> ApiResult<HttpResponse> {
    let body = serde_json::json!({"errors": [{
        "message": "mutations need POST; GET runs queries only",
        "extensions": {"code": "METHOD_NOT_ALLOWED"}
    }]});
    let mut res = json_response(StatusCode::METHOD_NOT_ALLOWED, &body)?;
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    Ok(res)
}

impl From<GraphqlRequest> for Incoming {
    fn from(r: GraphqlRequest) -> Self {
        Incoming { query: r.query, variables: r.variables, operation_name: r.operation_name }
    }
}

/// Run a GraphQL query or mutation (or a batch of up to 10) against the tenant's schema.
/// Errors of the request itself (unknown tenant, a private tenant without credentials, a body
/// too large or not JSON) are problem documents as everywhere; errors of the query are in the
/// GraphQL response.
#[utoipa::path(
    tag = "graphql",
    params(("tenant" = String, Path)),
    request_body = GraphqlRequest,
    responses(
        (status = 200, body = GraphqlResponse),
    )
)]
#[post("/api/v1/t/{tenant}/graphql")]
pub async fn post(
    state: State,
    auth: Auth,
    path: web::Path<String>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let bytes = serde_json::to_vec(&body.0).map_err(ApiError::internal)?;
    let batch = body.0.is_array();
    let requests: Vec<GraphqlRequest> =
        if batch { parse_json(&bytes)? } else { vec![parse_json::<GraphqlRequest>(&bytes)?] };
    if requests.len() > MAX_BATCH || requests.is_empty() {
        return Err(ApiError::BadRequest {
            code: "invalid_batch",
            detail: format!("a batch holds 1 to {MAX_BATCH} requests"),
        });
    }
    let runner = Runner::new(&state, &auth, &path.into_inner()).await?;
    let mut responses = Vec::with_capacity(requests.len());
    for r in requests {
        match runner.run(r.into(), false).await {
            Ok(response) => responses.push(response),
            Err(MutationOverGet) => return method_not_allowed(),
        }
    }
    let mut res = if batch {
        json_response(StatusCode::OK, &responses)?
    } else {
        json_response(StatusCode::OK, &responses.remove(0))?
    };
    if runner.rc.wrote() {
        res.extensions_mut().insert(crate::read_cache::Wrote);
    } else if !runner.rc.touched_requests() && runner.rc.tenant.public_read && !runner.rc.is_private() {
        // What anybody may read: the read cache keeps it for the next anonymous POST of the
        // same body (see `crate::read_cache`).
        res.extensions_mut().insert(crate::read_cache::Shareable);
    }
    Ok(res)
}

fn accepts_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/html")))
}

fn bad_query(detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "invalid_query", detail: detail.into() }
}

/// Run a GraphQL query given in the URL. Answers carry a strong ETag (304 on `If-None-Match`)
/// and `Cache-Control: public` when they hold only published content of a public tenant;
/// answers that reach tickets, submissions or forms are `no-store`, without an ETag.
/// With `Accept: text/html` and no `query`, the GraphiQL IDE (served entirely by cit).
#[utoipa::path(
    tag = "graphql",
    params(("tenant" = String, Path), GetParams),
    responses(
        (status = 200, body = GraphqlResponse, description = "With a strong ETag; or the GraphiQL page for Accept: text/html"),
        (status = 304),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "A mutation over GET"),
    )
)]
#[get("/api/v1/t/{tenant}/graphql")]
pub async fn get(state: State, auth: Auth, req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let tenant = path.into_inner();
    let mut params = GetParams::default();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "query" => params.query = Some(value),
            "variables" => params.variables = Some(value),
            "operationName" => params.operation_name = Some(value),
            "extensions" => {}
            other => return Err(bad_query(format!("{other}: unknown parameter"))),
        }
    }
    let Some(query) = params.query else {
        if accepts_html(&req) && req.method() == Method::GET {
            return ide(&state, &tenant).await;
        }
        return Err(bad_query("query: give the GraphQL document as ?query="));
    };
    let variables = match params.variables.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(serde_json::from_str(raw).map_err(|_| bad_query("variables: not a JSON object"))?),
    };
    let runner = Runner::new(&state, &auth, &tenant).await?;
    let incoming = Incoming { query, variables, operation_name: params.operation_name.filter(|n| !n.is_empty()) };
    let response = match runner.run(incoming, true).await {
        Ok(response) => response,
        Err(MutationOverGet) => return method_not_allowed(),
    };
    if runner.rc.touched_requests() {
        // Tickets, submissions and forms: no ETag, no cache anywhere (as REST answers them).
        return json_response(StatusCode::OK, &response);
    }
    let cache = if runner.rc.tenant.public_read && !runner.rc.is_private() {
        Cacheability::Public
    } else {
        Cacheability::Private
    };
    json_with_etag(&req, &response, cache)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const DEFAULT_QUERY: &str = "# Welcome to the GraphQL API of cit.\n#\n# Published content needs no credentials. To preview drafts or to run mutations,\n# open \"Headers\" below and add {\"Authorization\": \"Bearer <access or API token>\"}.\n# The documentation explorer (the book icon) lists every type and field.\n\nquery {\n  tenant {\n    id\n    name\n    locales\n  }\n}\n";

async fn ide(state: &State, tenant: &str) -> ApiResult<HttpResponse> {
    let id = TenantId::parse(tenant).map_err(|_| ApiError::NotFound("tenant"))?;
    let tenant = state.store.tenant(&id).await?.ok_or(ApiError::NotFound("tenant"))?;
    let endpoint = format!("/api/v1/t/{}/graphql", tenant.id);
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>GraphQL · {name}</title>
<link rel="stylesheet" href="/api/v1/graphiql/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}" data-query="{query}">Loading GraphiQL…</div>
<script src="/api/v1/graphiql/react.production.min.js"></script>
<script src="/api/v1/graphiql/react-dom.production.min.js"></script>
<script src="/api/v1/graphiql/graphiql.min.js"></script>
<script src="/api/v1/graphiql/cit-graphiql.js"></script>
</body>
</html>
"#,
        name = html_escape(&tenant.name),
        endpoint = html_escape(&endpoint),
        query = html_escape(DEFAULT_QUERY),
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
            ),
        ))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// GraphiQL's files, embedded in the binary.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.css")),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    ("cit-graphiql.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/cit-graphiql.js")),
    ("LICENSE-graphiql", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-graphiql")),
    ("LICENSE-react", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-react")),
    ("LICENSE-react-dom", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-react-dom")),
];

/// Strong ETags of the assets, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(_, _, bytes)| {
            let digest = Sha256::digest(bytes);
            format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
        })
        .collect()
});

/// A file of the GraphiQL page.
#[get("/api/v1/graphiql/{file}")]
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let name = path.into_inner();
    let (i, (_, content_type, bytes)) =
        ASSETS.iter().enumerate().find(|(_, (n, _, _))| *n == name).ok_or(ApiError::NotFound("file"))?;
    let etag = ETAGS.get(i).cloned().unwrap_or_default();
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res.content_type(*content_type).body(*bytes))
}
