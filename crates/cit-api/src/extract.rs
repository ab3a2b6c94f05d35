//! Request extractors: the JSON body (size-capped, field-level errors), the caller's identity,
//! and the client address.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use cit_core::SessionId;
use cit_store::{ApiToken, User};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
use crate::security::{API_TOKEN_PREFIX, token_hash};
use crate::state::AppState;

/// A JSON request body of type `T`. Checks the content type, caps the size (413 beyond
/// `body_limit`), and reports bad input by field path: `400 malformed_json` for broken JSON,
/// `422 validation_failed` with `errors[].field` for unknown fields, wrong types, missing fields
/// and values that fail their domain type's `parse`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map_or(1024 * 1024, |s| s.settings.body_limit);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .is_some_and(|mime| mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json"));
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::BadRequest {
                    code: "bad_body",
                    detail: "the body could not be read".into(),
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// Deserialises `body`, turning serde's errors into field-level problems.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    let err = match result {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let path = err.path().to_string();
    let inner = err.into_inner();
    if !inner.is_data() {
        return Err(ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("the body is not valid JSON: {inner}"),
        });
    }
    let message = strip_position(&inner.to_string());
    let parent = if path == "." { String::new() } else { path };
    // serde_path_to_error already points at an unknown field, but at the parent of a missing one.
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else if parent == name || parent.ends_with(&format!(".{name}")) {
            parent.clone()
        } else {
            format!("{parent}.{name}")
        }
    };
    let error = if let Some(name) = quoted_after(&message, "unknown field `") {
        FieldError::new(join(name), "unknown_field", format!("unknown field `{name}`"))
    } else if let Some(name) = quoted_after(&message, "missing field `") {
        FieldError::new(join(name), "missing_field", format!("`{name}` is required"))
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        FieldError::new(if parent.is_empty() { "(body)".into() } else { parent }, "invalid_type", message)
    } else {
        FieldError::new(if parent.is_empty() { "(body)".into() } else { parent }, "invalid_value", message)
    };
    Err(ApiError::Validation(vec![error]))
}

fn quoted_after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    rest.find('`').map(|end| &rest[..end])
}

/// serde_json appends " at line 1 column 42" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Who is calling: nobody, a logged-in user (by access token), or an API token.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    User { user: User, session: SessionId },
    Token(ApiToken),
}

impl Auth {
    /// The logged-in user, or 401.
    pub fn user(&self) -> Result<(&User, SessionId), ApiError> {
        match self {
            Auth::User { user, session } => Ok((user, *session)),
            Auth::Token(_) => Err(ApiError::Forbidden),
            Auth::Anonymous => Err(ApiError::Unauthenticated { code: "unauthenticated", detail: "log in first" }),
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthenticated { code: "invalid_token", detail: "the token is invalid, expired or revoked" }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))?;
            let token = match header {
                None => return Ok(Auth::Anonymous),
                Some(Err(_)) => return Err(invalid_token()),
                Some(Ok(value)) => match value.split_once(' ') {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                        token.trim().to_owned()
                    }
                    _ => return Err(invalid_token()),
                },
            };
            if token.starts_with(API_TOKEN_PREFIX) {
                return match state.api_token(&token_hash(&token)).await? {
                    Some(api_token) => Ok(Auth::Token(api_token)),
                    None => Err(invalid_token()),
                };
            }
            let claims = state.jwt.verify(&token).ok_or_else(invalid_token)?;
            match state.store.session_user(claims.sid).await? {
                Some(user) if user.id == claims.sub => Ok(Auth::User { user, session: claims.sid }),
                _ => Err(invalid_token()),
            }
        })
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when configured to trust it.
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for && let Some(first) = first_forwarded_for(req) {
        return first.to_owned();
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// The first hop of `X-Forwarded-For`, trimmed, when there is a non-empty one. Whether to believe
/// it is the caller's decision.
pub fn first_forwarded_for(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: cit_core::Email,
        nested: Option<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(body: &str) -> Option<(String, String)> {
        match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors.first().map(|e| (e.field.clone(), e.code.clone())),
            _ => None,
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(r#"{"email": "nope"}"#), Some(("email".into(), "invalid_value".into())));
        assert_eq!(field_of(r#"{"email": "a@b.it", "extra": 1}"#), Some(("extra".into(), "unknown_field".into())));
        assert_eq!(field_of(r#"{}"#), Some(("email".into(), "missing_field".into())));
        assert_eq!(
            field_of(r#"{"email": "a@b.it", "nested": {"count": "x"}}"#),
            Some(("nested.count".into(), "invalid_type".into()))
        );
        assert_eq!(
            field_of(r#"{"email": "a@b.it", "nested": {"bad": 1}}"#),
            Some(("nested.bad".into(), "unknown_field".into()))
        );
        assert!(matches!(
            parse_json::<Body>(b"{\"email\": "),
            Err(ApiError::BadRequest { code: "malformed_json", .. })
        ));
    }
}
