//! The API calls of the request pages. None is cached: a form carries a fresh fill token, and a
//! ticket or a submission belongs to one visitor. The visitor's address goes along in
//! `X-Forwarded-For` (the API trusts it only from a proxy it was told to trust).

use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use super::forms::FormView;
use super::multipart::File;
use crate::api::ApiError;
use crate::pages::Ctx;

/// An API answer the pages look into: status, body (problem document or resource) and, for a
/// 429, when to try again.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Reply {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }
}

/// What a call sends: nothing, JSON, or a submission with its files.
enum Body<'a> {
    None,
    Json(&'a Value),
    WithFiles(&'a Value, &'a [File]),
}

async fn call(
    cx: &Ctx,
    method: reqwest::Method,
    rest: &str,
    body: Body<'_>,
    client: Option<&str>,
) -> Result<Reply, ApiError> {
    let url = cx.state.api.url(&format!("api/v1/t/{}/{rest}", cx.theme.tenant), &[])?;
    let mut request = cx.state.api.http().request(method, url).header("Cache-Control", "no-store");
    if let Some(ip) = client {
        request = request.header("X-Forwarded-For", ip);
    }
    match body {
        Body::None => {}
        Body::Json(b) => request = request.json(b),
        // As the API takes it: the JSON in a `submission` part, each file in an `attachments` part.
        Body::WithFiles(b, files) => {
            let mut form = reqwest::multipart::Form::new().text("submission", b.to_string());
            for f in files {
                let part = reqwest::multipart::Part::bytes(f.bytes.clone()).file_name(f.filename.clone());
                let part = part
                    .mime_str(&f.content_type)
                    .unwrap_or_else(|_| reqwest::multipart::Part::bytes(f.bytes.clone()).file_name(f.filename.clone()));
                form = form.part("attachments", part);
            }
            request = request.multipart(form);
        }
    }
    let resp = request.send().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if status >= 500 {
        return Err(ApiError::Unavailable(format!("status {status}")));
    }
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok(Reply { status, body, retry_after })
}

fn segment(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then_some(s)
}

/// A form with a fresh fill token; `NotFound` when the tenant has no such form.
pub async fn form(cx: &Ctx, id: &str) -> Result<FormView, ApiError> {
    let reply = call(cx, reqwest::Method::GET, &format!("forms/{id}"), Body::None, None).await?;
    match reply.status {
        200 => serde_json::from_value(reply.body).map_err(|e| ApiError::Unavailable(format!("form {id}: {e}"))),
        404 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("form {id}: status {s}"))),
    }
}

/// Sends a submission, as `multipart/form-data` when it has files; any answer but a failure
/// to reach the API is the caller's to read.
pub async fn submit(cx: &Ctx, id: &str, payload: &Value, files: &[File], client: &str) -> Result<Reply, ApiError> {
    let body = if files.is_empty() { Body::Json(payload) } else { Body::WithFiles(payload, files) };
    call(cx, reqwest::Method::POST, &format!("forms/{id}/submissions"), body, Some(client)).await
}

/// The requester's view of a ticket; `NotFound` for a secret that is not (or no longer) valid.
pub async fn ticket(cx: &Ctx, secret: &str) -> Result<Value, ApiError> {
    let secret = segment(secret).ok_or(ApiError::NotFound)?;
    let reply = call(cx, reqwest::Method::GET, &format!("tickets/by-secret/{secret}"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        s => Err(if s == 404 || s == 400 { ApiError::NotFound } else { ApiError::Unavailable(format!("status {s}")) }),
    }
}

/// The requester's answer on a ticket.
pub async fn reply(cx: &Ctx, secret: &str, text: &str, client: &str) -> Result<Reply, ApiError> {
    let secret = segment(secret).ok_or(ApiError::NotFound)?;
    let body = serde_json::json!({ "body": text });
    call(cx, reqwest::Method::POST, &format!("tickets/by-secret/{secret}/messages"), Body::Json(&body), Some(client))
        .await
}

/// Whether an event takes registrations, its places left and a fill token.
pub async fn registration(cx: &Ctx, event: &str) -> Result<Value, ApiError> {
    let event = segment(event).ok_or(ApiError::NotFound)?;
    let reply = call(cx, reqwest::Method::GET, &format!("events/{event}/registration"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        404 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("registration of {event}: status {s}"))),
    }
}

/// Registers for an event; any answer but a failure to reach the API is the caller's to read.
pub async fn register(cx: &Ctx, event: &str, payload: &Value, client: &str) -> Result<Reply, ApiError> {
    let event = segment(event).ok_or(ApiError::NotFound)?;
    call(cx, reqwest::Method::POST, &format!("events/{event}/registrations"), Body::Json(payload), Some(client)).await
}

/// A registration by the secret of its e-mails; `NotFound` for a secret that names nothing.
pub async fn own_registration(cx: &Ctx, secret: &str) -> Result<Value, ApiError> {
    let secret = segment(secret).ok_or(ApiError::NotFound)?;
    let reply = call(cx, reqwest::Method::GET, &format!("registrations/by-secret/{secret}"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        s => Err(if s == 404 || s == 400 { ApiError::NotFound } else { ApiError::Unavailable(format!("status {s}")) }),
    }
}

/// Cancels the registration behind `secret`.
pub async fn cancel_registration(cx: &Ctx, secret: &str, client: &str) -> Result<Reply, ApiError> {
    let secret = segment(secret).ok_or(ApiError::NotFound)?;
    let empty = serde_json::json!({});
    call(
        cx,
        reqwest::Method::POST,
        &format!("registrations/by-secret/{secret}/cancel"),
        Body::Json(&empty),
        Some(client),
    )
    .await
}

/// The tenant's newsletters.
pub async fn newsletter_lists(cx: &Ctx) -> Result<Value, ApiError> {
    let reply = call(cx, reqwest::Method::GET, "newsletter/lists", Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        s => Err(ApiError::Unavailable(format!("newsletter lists: status {s}"))),
    }
}

/// One newsletter with a fresh fill token; `NotFound` when there is no such list.
pub async fn newsletter_list(cx: &Ctx, list: &str) -> Result<Value, ApiError> {
    let list = segment(list).ok_or(ApiError::NotFound)?;
    let reply = call(cx, reqwest::Method::GET, &format!("newsletter/lists/{list}"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        404 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("newsletter {list}: status {s}"))),
    }
}

/// Asks to subscribe; any answer but a failure to reach the API is the caller's to read.
pub async fn newsletter_subscribe(cx: &Ctx, list: &str, payload: &Value, client: &str) -> Result<Reply, ApiError> {
    let list = segment(list).ok_or(ApiError::NotFound)?;
    call(
        cx,
        reqwest::Method::POST,
        &format!("newsletter/lists/{list}/subscriptions"),
        Body::Json(payload),
        Some(client),
    )
    .await
}

/// What a confirmation link names, without confirming it; any answer but a failure to reach
/// the API is the caller's to read.
pub async fn newsletter_confirmation(cx: &Ctx, token: &str) -> Result<Reply, ApiError> {
    let token = token_segment(token).ok_or(ApiError::NotFound)?;
    call(cx, reqwest::Method::GET, &format!("newsletter/confirmations/{token}"), Body::None, None).await
}

/// Confirms a subscription with the token of its link.
pub async fn newsletter_confirm(cx: &Ctx, token: &str, client: &str) -> Result<Reply, ApiError> {
    let body = serde_json::json!({ "token": token });
    call(cx, reqwest::Method::POST, "newsletter/confirmations", Body::Json(&body), Some(client)).await
}

/// The subscription behind an unsubscribe link (`post`: unsubscribes it).
pub async fn newsletter_unsubscribe(cx: &Ctx, token: &str, post: bool, client: &str) -> Result<Reply, ApiError> {
    let token = token_segment(token).ok_or(ApiError::NotFound)?;
    let empty = serde_json::json!({});
    let (method, body) =
        if post { (reqwest::Method::POST, Body::Json(&empty)) } else { (reqwest::Method::GET, Body::None) };
    call(cx, method, &format!("newsletter/unsubscribe/{token}"), body, Some(client)).await
}

/// A path segment of a newsletter link: base64url and dots.
fn token_segment(s: &str) -> Option<&str> {
    (!s.is_empty()
        && s.len() <= 400
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
    .then_some(s)
}

/// A member body's invitation to a survey, with its answers so far; `NotFound` for a link that
/// names nothing.
pub async fn survey_invitation(cx: &Ctx, survey: &str, secret: &str) -> Result<Value, ApiError> {
    let (survey, secret) = (segment(survey).ok_or(ApiError::NotFound)?, segment(secret).ok_or(ApiError::NotFound)?);
    let path = format!("surveys/{survey}/invitations/by-secret/{secret}");
    let reply = call(cx, reqwest::Method::GET, &path, Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        404 | 400 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("survey invitation: status {s}"))),
    }
}

/// Saves (or, with `send`, sends) a body's answers; any answer but a failure to reach the API
/// is the caller's to read.
pub async fn save_survey_answers(
    cx: &Ctx,
    survey: &str,
    secret: &str,
    payload: &Value,
    client: &str,
) -> Result<Reply, ApiError> {
    let (survey, secret) = (segment(survey).ok_or(ApiError::NotFound)?, segment(secret).ok_or(ApiError::NotFound)?);
    let path = format!("surveys/{survey}/invitations/by-secret/{secret}");
    call(cx, reqwest::Method::PUT, &path, Body::Json(payload), Some(client)).await
}

/// A survey's results with their charts drawn; `NotFound` when there is no such survey or its
/// results are not public.
pub async fn survey_results(cx: &Ctx, survey: &str) -> Result<Value, ApiError> {
    let survey = segment(survey).ok_or(ApiError::NotFound)?;
    let reply =
        call(cx, reqwest::Method::GET, &format!("surveys/{survey}/results?charts=svg"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        401 | 403 | 404 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("survey results: status {s}"))),
    }
}

/// The tenant's surveys.
pub async fn surveys(cx: &Ctx) -> Result<Value, ApiError> {
    let reply = call(cx, reqwest::Method::GET, "surveys", Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        s => Err(ApiError::Unavailable(format!("surveys: status {s}"))),
    }
}

/// An anonymous survey's form with a fresh fill token; `NotFound` when there is no such survey
/// or it is answered through invitations only.
pub async fn survey_form(cx: &Ctx, survey: &str) -> Result<Value, ApiError> {
    let survey = segment(survey).ok_or(ApiError::NotFound)?;
    let reply = call(cx, reqwest::Method::GET, &format!("surveys/{survey}/form"), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.body),
        404 | 409 => Err(ApiError::NotFound),
        s => Err(ApiError::Unavailable(format!("survey form: status {s}"))),
    }
}

/// Sends an anonymous survey's answers; any answer but a failure to reach the API is the
/// caller's to read.
pub async fn answer_survey(cx: &Ctx, survey: &str, payload: &Value, client: &str) -> Result<Reply, ApiError> {
    let survey = segment(survey).ok_or(ApiError::NotFound)?;
    call(cx, reqwest::Method::POST, &format!("surveys/{survey}/responses"), Body::Json(payload), Some(client)).await
}
