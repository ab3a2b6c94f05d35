//! The route table behind `405 Method Not Allowed`. Every handler is its own actix resource with a
//! method guard, so a request whose path exists under another method falls through to the default
//! service. That service asks this table which methods the path has: none is a 404, some is a 405
//! with `Allow` listing them. The table is read from the OpenAPI document (generated from the same
//! handlers), plus the few routes the document leaves out (GraphiQL's files, the API docs page).

use std::sync::LazyLock;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use utoipa::OpenApi;

use crate::error::{ApiError, ApiResult};
use crate::openapi::ApiDoc;

/// Methods in the order `Allow` lists them.
const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// Routes that the OpenAPI document does not describe, as actix patterns.
const UNDOCUMENTED: &[(&str, Method)] =
    &[("/api/v1/graphiql/{file}", Method::GET), ("/api/v1/docs/{_:.*}", Method::GET)];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: one non-empty segment.
    Param,
    /// `{name:.*}` at the end: whatever follows, slashes included.
    Rest,
}

#[derive(Debug)]
struct Route {
    segments: Vec<Segment>,
    method: Method,
}

impl Route {
    fn new(pattern: &str, method: Method) -> Self {
        let segments = pattern
            .trim_start_matches('/')
            .split('/')
            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(inner) if inner.ends_with(":.*") => Segment::Rest,
                Some(_) => Segment::Param,
                None => Segment::Literal(s.to_owned()),
            })
            .collect();
        Self { segments, method }
    }

    fn matches(&self, path: &str) -> bool {
        let mut parts = path.trim_start_matches('/').split('/');
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Param => match parts.next() {
                    Some(p) if !p.is_empty() => {}
                    _ => return false,
                },
                Segment::Literal(l) => {
                    if parts.next() != Some(l.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

/// Which methods each path of the server answers.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// The routes of an OpenAPI document, plus [`UNDOCUMENTED`].
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ];
            for (method, present) in operations {
                if present {
                    routes.push(Route::new(path, method));
                }
            }
        }
        routes.extend(UNDOCUMENTED.iter().map(|(pattern, method)| Route::new(pattern, method.clone())));
        Self { routes }
    }

    /// The methods `path` answers, in `Allow` order; empty when no route has this path.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        METHODS.into_iter().filter(|m| self.routes.iter().any(|r| r.method == *m && r.matches(path))).collect()
    }
}

static TABLE: LazyLock<RouteTable> = LazyLock::new(|| RouteTable::from_openapi(&ApiDoc::openapi()));

/// The default service: 405 with `Allow` when the path exists under other methods, else 404.
pub async fn fallback(req: HttpRequest) -> ApiResult<HttpResponse> {
    let allowed = TABLE.allowed(req.path());
    if allowed.is_empty() || allowed.contains(req.method()) {
        return Err(ApiError::NotFound("route"));
    }
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    Err(ApiError::MethodNotAllowed { allow })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_patterns() {
        let table = RouteTable::from_openapi(&ApiDoc::openapi());
        assert_eq!(table.allowed("/api/v1/tenants"), vec![Method::GET, Method::POST]);
        assert_eq!(table.allowed("/api/v1/tenants/lecce"), vec![Method::GET, Method::PATCH]);
        assert_eq!(table.allowed("/api/v1/t/lecce/entries/notizia"), vec![Method::GET, Method::POST]);
        assert_eq!(
            table.allowed("/api/v1/t/lecce/entries/notizia/some-slug"),
            vec![Method::GET, Method::PATCH, Method::DELETE]
        );
        assert_eq!(table.allowed("/api/v1/docs/index.html"), vec![Method::GET]);
        assert_eq!(table.allowed("/api/v1/graphiql/graphiql.js"), vec![Method::GET]);
        assert!(table.allowed("/api/v1/tenants/").is_empty());
        assert!(table.allowed("/api/v1/t//entries").is_empty());
        assert!(table.allowed("/api/v1/nothing").is_empty());
        assert!(table.allowed("/healthz/more").is_empty());
    }
}
