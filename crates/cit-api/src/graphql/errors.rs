//! Errors of resolvers. Domain errors carry the REST API's code (`validation_failed`,
//! `not_found`, `forbidden`, …) in `extensions.code`, the HTTP status REST would have answered in
//! `extensions.status`, and field-level problems in `extensions.errors`; refusals of the query
//! itself have codes of their own (`DEPTH_LIMIT`, `FIRST_TOO_LARGE`, … see [`super::limits`]).

use async_graphql::{ErrorExtensionValues, Name, Value};
use cit_core::AccessDenied;
use cit_store::StoreError;

use super::plan::TypePlan;
use crate::error::ApiError;

#[derive(Debug)]
pub(crate) enum GqlError {
    Api(ApiError),
    Coded { code: &'static str, message: String },
}

pub(crate) type GqlResult<T> = Result<T, GqlError>;

impl From<ApiError> for GqlError {
    fn from(e: ApiError) -> Self {
        GqlError::Api(e)
    }
}

impl From<StoreError> for GqlError {
    fn from(e: StoreError) -> Self {
        match e {
            // GraphQL names the cursor of a connection `after`.
            StoreError::BadCursor => invalid("after", "not a cursor of this list"),
            other => GqlError::Api(other.into()),
        }
    }
}

impl From<AccessDenied> for GqlError {
    fn from(e: AccessDenied) -> Self {
        GqlError::Api(e.into())
    }
}

/// A refused argument, as REST refuses a bad query parameter: 400 `invalid_query`.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> GqlError {
    GqlError::Api(ApiError::BadRequest { code: "invalid_query", detail: format!("{field}: {}", message.into()) })
}

/// An error from a batch load (shared between the fields that waited for it).
pub(crate) fn shared(e: &std::sync::Arc<StoreError>) -> GqlError {
    GqlError::Api(ApiError::internal(anyhow::anyhow!("batch load failed: {e}")))
}

/// An error with a code and a message.
pub(crate) fn coded(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    async_graphql::Error { message: message.into(), source: None, extensions: Some(ext) }
}

impl GqlError {
    /// The GraphQL error; field paths in `data.*` are renamed to the GraphQL names of `ty`.
    pub fn into_graphql(self, ty: Option<&TypePlan>) -> async_graphql::Error {
        let e = match self {
            GqlError::Coded { code, message } => return coded(code, message),
            GqlError::Api(e) => e,
        };
        if let ApiError::Internal(cause) = &e {
            tracing::error!(error = format!("{cause:#}"), "GraphQL resolver failed");
        }
        let problem = e.problem();
        let mut ext = ErrorExtensionValues::default();
        ext.set("code", problem.code.as_str());
        ext.set("status", i32::from(problem.status));
        if !problem.errors.is_empty() {
            let errors = problem
                .errors
                .iter()
                .map(|fe| {
                    let field = ty.map_or_else(|| fe.field.clone(), |t| t.gql_path(&fe.field));
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(Name::new("field"), Value::String(field));
                    m.insert(Name::new("code"), Value::String(fe.code.clone()));
                    m.insert(Name::new("message"), Value::String(fe.message.clone()));
                    Value::Object(m)
                })
                .collect();
            ext.set("errors", Value::List(errors));
        }
        let message = match (ty, &e) {
            (Some(t), ApiError::Validation(errors)) if errors.len() == 1 => {
                format!("{}: {}", t.gql_path(&errors[0].field), errors[0].message)
            }
            _ => problem.detail,
        };
        async_graphql::Error { message, source: None, extensions: Some(ext) }
    }
}
