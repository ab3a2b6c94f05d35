//! Answering a survey. A member body answers through its invitation link: it may save a draft
//! and come back, and once it sends, its answers are final. An anonymous survey is answered in
//! one go from the site, with a fill token and a honeypot like every public form.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::surveys::{Audience, Completeness, SurveyState, check_answers};
use cit_store::surveys::{Invitation, Response, StoredSurvey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{SurveyView, slug_of};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::requests::end_user_address;
use crate::routes::forms::{bad, check_fill_token};
use crate::routes::no_store;
use crate::security::token_hash;
use crate::state::State;

/// The fill-token key of an anonymous survey's form.
fn form_key(survey: uuid::Uuid) -> String {
    format!("survey:{survey}")
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict { code, field: None, detail: detail.to_owned() }
}

/// Refuses answers outside the survey's window: 409 `survey_not_open` or `survey_closed`.
fn check_open(s: &StoredSurvey, now: DateTime<Utc>) -> ApiResult<()> {
    match s.survey.state(now) {
        SurveyState::Open => Ok(()),
        SurveyState::NotYet => Err(conflict("survey_not_open", "this survey does not take answers yet")),
        SurveyState::Closed => Err(conflict("survey_closed", "this survey is closed: answers are no longer taken")),
    }
}

fn answer_errors(errors: Vec<cit_core::content::DataError>) -> ApiError {
    ApiError::Validation(
        errors.into_iter().map(|e| FieldError::new(format!("answers.{}", e.path), e.code, e.message)).collect(),
    )
}

/// A member body's invitation, for whoever holds its link.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub survey: SurveyView,
    /// The body invited: its slug and name.
    pub ente: Option<String>,
    pub ente_name: Option<String>,
    /// none (nothing saved yet), draft or sent.
    pub status: String,
    /// The answers saved so far (a draft) or sent.
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    pub saved_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// An assessment's profile of the sent answers: each area's level, advice and services.
    pub profile: Option<super::ProfileView>,
}

async fn invitation_view(
    state: &State,
    auth: &Auth,
    tenant: &str,
    s: &StoredSurvey,
    invitation: &Invitation,
    response: Option<Response>,
) -> ApiResult<InvitationView> {
    let (_, read) = state.tenant_access(auth, tenant, Action::ReadPublished).await?;
    let enti = crate::routes::events::published_enti(state, &read).await?;
    let ente = enti.iter().find(|e| e.id.0 == invitation.ente);
    let name = ente.and_then(|e| e.data.get("title")).and_then(serde_json::Value::as_str).map(str::to_owned);
    let profile = match response.as_ref().filter(|r| r.status == cit_store::surveys::ResponseStatus::Sent) {
        Some(r) => super::profile_view(state, auth, tenant, &s.survey, &r.answers).await?,
        None => None,
    };
    Ok(InvitationView {
        profile,
        survey: SurveyView::of(s, state.clock.now()),
        ente: ente.map(|e| e.slug.clone()),
        ente_name: name,
        status: response.as_ref().map(|r| r.status.as_str()).unwrap_or("none").to_owned(),
        answers: response
            .as_ref()
            .map(|r| serde_json::Value::Object(r.answers.clone()))
            .unwrap_or_else(|| serde_json::json!({})),
        saved_at: response.as_ref().map(|r| r.updated_at),
        sent_at: response.and_then(|r| r.sent_at),
    })
}

async fn by_secret(
    state: &State,
    auth: &Auth,
    tenant: &str,
    slug: &str,
    secret: &str,
) -> ApiResult<(StoredSurvey, Invitation, Option<Response>)> {
    let slug = slug_of(slug)?;
    let (_, access) = state.tenant_access(auth, tenant, Action::SubmitRequest).await?;
    let scoped = state.store.scoped(&access);
    let s = scoped.survey(&slug).await?;
    let (invitation, response) =
        scoped.invitation_by_secret(&token_hash(secret)).await.map_err(|_| ApiError::NotFound("invitation"))?;
    if invitation.survey != s.id {
        return Err(ApiError::NotFound("invitation"));
    }
    Ok((s, invitation, response))
}

/// A member body's invitation by the secret of its link: the survey, and the answers saved so
/// far or sent (404 for a secret that names nothing).
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path), ("secret" = String, Path)),
    responses((status = 200, body = InvitationView))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/invitations/by-secret/{secret}")]
pub async fn by_link(state: State, auth: Auth, path: web::Path<(String, String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug, secret) = path.into_inner();
    let (s, invitation, response) = by_secret(&state, &auth, &tenant, &slug, &secret).await?;
    Ok(no_store(HttpResponse::Ok().json(invitation_view(&state, &auth, &tenant, &s, &invitation, response).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswers {
    /// Answers by question name (docs/surveys.md says what each kind takes).
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// false: save a draft to come back to (nothing is required); true: send them, after which
    /// they never change.
    #[serde(default)]
    pub send: bool,
}

/// Save or send a member body's answers through its invitation link. Refused with nothing
/// stored: an unknown question, a wrong type or a value out of range, or when sending a
/// required question left out (422 `validation_failed`, each error naming `answers.{question}`);
/// a survey not open yet or closed (409 `survey_not_open`, `survey_closed`); answers already
/// sent (409 `already_answered`).
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path), ("secret" = String, Path)),
    request_body = SaveAnswers,
    responses(
        (status = 200, body = InvitationView),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/t/{tenant}/surveys/{slug}/invitations/by-secret/{secret}")]
pub async fn save(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
    body: Json<SaveAnswers>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug, secret) = path.into_inner();
    let (s, invitation, response) = by_secret(&state, &auth, &tenant, &slug, &secret).await?;
    if response.as_ref().is_some_and(|r| r.status == cit_store::surveys::ResponseStatus::Sent) {
        return Err(conflict("already_answered", "this invitation's answers were sent: they can no longer change"));
    }
    let now = state.clock.now();
    check_open(&s, now)?;
    let mode = if body.0.send { Completeness::Complete } else { Completeness::Draft };
    let answers = check_answers(&s.survey, &body.0.answers, mode).map_err(answer_errors)?;
    let (_, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let saved = state.store.scoped(&access).save_answers(&invitation, &answers, body.0.send, now).await?;
    Ok(no_store(HttpResponse::Ok().json(invitation_view(&state, &auth, &tenant, &s, &invitation, Some(saved)).await?)))
}

/// What an anonymous survey's form needs: the survey and a fill token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerForm {
    pub survey: SurveyView,
    /// Send it back with the answers; absent while the survey is not open.
    pub fill_token: Option<String>,
}

/// The form of an anonymous survey, with a fill token while it is open (409
/// `survey_invited_only` for a survey answered through invitations).
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses(
        (status = 200, body = AnswerForm),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/form")]
pub async fn form(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let s = state.store.scoped(&access).survey(&slug).await?;
    if s.survey.def().audience != Audience::Anonymous {
        return Err(invited_only());
    }
    let now = state.clock.now();
    let open = s.survey.state(now) == SurveyState::Open;
    let fill_token = open.then(|| state.request_keys.fill_token(t.id.as_str(), &form_key(s.id), now));
    Ok(no_store(HttpResponse::Ok().json(AnswerForm { survey: SurveyView::of(&s, now), fill_token })))
}

fn invited_only() -> ApiError {
    conflict("survey_invited_only", "this survey is answered by the member bodies through their invitation links")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymousAnswers {
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// From `GET surveys/{slug}/form`.
    pub fill_token: String,
    /// The honeypot: it must be empty or absent.
    #[serde(default)]
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswersReceived {
    pub received: bool,
}

/// Answer an anonymous survey, all at once. Refused with nothing stored: a filled honeypot or
/// a bad fill token (400), too many requests (429), answers that do not fit the survey (422),
/// a survey not open, closed, or answered through invitations (409).
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path)),
    request_body = AnonymousAnswers,
    responses(
        (status = 202, body = AnswersReceived),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/surveys/{slug}/responses")]
pub async fn answer(
    state: State,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<AnonymousAnswers>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let scoped = state.store.scoped(&access);
    let s = scoped.survey(&slug).await?;
    let address = end_user_address(&req, &state.settings.requests.trusted_proxies);
    state.submit_limits.hit(t.id.as_str(), &address).map_err(|wait| ApiError::TooManyRequests { retry_after: wait })?;
    if s.survey.def().audience != Audience::Anonymous {
        return Err(invited_only());
    }
    if body.0.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(bad("honeypot", "the answers look automated and were not accepted"));
    }
    let now = state.clock.now();
    check_open(&s, now)?;
    check_fill_token(&state, &body.0.fill_token, t.id.as_str(), &form_key(s.id), now)?;
    let answers = check_answers(&s.survey, &body.0.answers, Completeness::Complete).map_err(answer_errors)?;
    scoped.answer_anonymously(s.id, &answers, now).await?;
    Ok(no_store(HttpResponse::Accepted().json(AnswersReceived { received: true })))
}
