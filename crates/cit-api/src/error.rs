//! One error type for the HTTP layer, mapped to a status in one place and written as RFC 9457
//! `application/problem+json` with a stable machine-readable `code`. Internal causes are logged
//! with the request id and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use cit_core::content::WriteError;
use cit_core::{AccessDenied, InvalidInput};
use cit_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of the input.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `email` or `data.title`.
    pub field: String,
    /// Stable code, e.g. `invalid_email`, `unknown_field`, `missing_field`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }

    pub fn from_invalid(field: &str, e: InvalidInput) -> Self {
        Self::new(field, e.code, e.message)
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:cit:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid")]
    Validation(Vec<FieldError>),
    /// A 422 with its own code (e.g. `consent_required`) and the fields it concerns.
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: &'static str },
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("this tenant is disabled")]
    TenantDisabled,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("this path answers only {allow}")]
    MethodNotAllowed { allow: String },
    #[error("{detail}")]
    Conflict { code: &'static str, field: Option<&'static str>, detail: String },
    #[error("the change would lose data in existing entries; nothing was changed (add ?force=true to apply it anyway)")]
    Destructive(Vec<FieldError>),
    #[error("the entry changed since you read it; reload it and apply your change again")]
    Stale,
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// The database cannot be reached (or the node is not ready): nothing was done; answered
    /// 503 with `Retry-After`.
    #[error("the database cannot be reached just now; nothing was changed: try again in a few seconds")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// What a 503 asks the client to wait, in seconds: about how long a database restart takes.
const UNAVAILABLE_RETRY_AFTER: HeaderValue = HeaderValue::from_static("5");

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    pub fn destructive(changes: &[cit_store::PlannedChange]) -> Self {
        Self::Destructive(
            changes
                .iter()
                .filter(|c| c.loses_data())
                .map(|c| {
                    FieldError::new(
                        "definition",
                        "loses_data",
                        format!("{} ({} entries hold data)", c.change, c.affected_entries),
                    )
                })
                .collect(),
        )
    }

    pub fn field(field: &str, e: InvalidInput) -> Self {
        Self::Validation(vec![FieldError::from_invalid(field, e)])
    }

    fn code(&self) -> &str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::Unprocessable { code, .. } => code,
            ApiError::BadRequest { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unauthenticated { code, .. } => code,
            ApiError::Forbidden => "forbidden",
            ApiError::TenantDisabled => "tenant_disabled",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict { code, .. } => code,
            ApiError::Destructive(_) => "destructive_change",
            ApiError::Stale => "stale",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let errors = match self {
            ApiError::Validation(errors) | ApiError::Destructive(errors) | ApiError::Unprocessable { errors, .. } => {
                errors.clone()
            }
            ApiError::Conflict { field: Some(field), detail, code } => {
                vec![FieldError::new(*field, *code, detail.clone())]
            }
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            ApiError::Validation(errors) => format!("{} fields are not valid", errors.len()),
            other => other.to_string(),
        };
        Problem {
            kind: format!("urn:cit:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::TenantDisabled => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::Destructive(_) | ApiError::Stale => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            ApiError::TooManyRequests { retry_after } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable => {
                res.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER));
            }
            ApiError::Unauthenticated { .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        res.json(self.problem())
    }
}

impl From<AccessDenied> for ApiError {
    fn from(e: AccessDenied) -> Self {
        match e {
            AccessDenied::Unauthenticated => {
                ApiError::Unauthenticated { code: "unauthenticated", detail: "log in or present an API token" }
            }
            AccessDenied::Forbidden => ApiError::Forbidden,
            AccessDenied::TenantDisabled => ApiError::TenantDisabled,
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Input { input, code, message } => {
                ApiError::Validation(vec![FieldError::new(input.as_str(), code, message)])
            }
            WriteError::Data(errors) => ApiError::Validation(
                errors.into_iter().map(|e| FieldError::new(format!("data.{}", e.path), e.code, e.message)).collect(),
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict { field, message } => {
                ApiError::Conflict { code: "conflict", field: Some(field), detail: message }
            }
            StoreError::Invalid { field, code, message } => {
                ApiError::Validation(vec![FieldError::new(field, code, message)])
            }
            StoreError::Rule { code, message } => ApiError::Conflict { code, field: None, detail: message },
            StoreError::InvalidData(issues) => ApiError::Validation(
                issues.into_iter().map(|i| FieldError::new(format!("data.{}", i.path), i.code, i.message)).collect(),
            ),
            StoreError::Destructive(changes) => ApiError::destructive(&changes),
            StoreError::Stale => ApiError::Stale,
            StoreError::BadCursor => {
                ApiError::BadRequest { code: "invalid_query", detail: "cursor: not a cursor of this list".into() }
            }
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "the database is unavailable");
                ApiError::Unavailable
            }
            StoreError::WrongCapability
            | StoreError::Corrupt(_)
            | StoreError::InvalidUrl(_)
            | StoreError::Io { .. }
            | StoreError::Db(_) => ApiError::internal(e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
