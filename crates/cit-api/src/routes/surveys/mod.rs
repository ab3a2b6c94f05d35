//! `/api/v1/t/{tenant}/surveys/…`: questionnaires for the member bodies or the public.
//! Definitions (editors and admins) here; answering by invitation link or anonymously in
//! `answers.rs`; invitations, results, charts and exports for staff in `results.rs`.

mod answers;
mod profiles;
mod results;

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::surveys::{Audience, ResultsVisibility, Survey, SurveyDef, SurveySlug};
use cit_store::surveys::StoredSurvey;
use serde::Serialize;
use utoipa::ToSchema;

pub use answers::*;
pub use profiles::*;
pub use results::*;

use super::no_store;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Auth, Json};
use crate::state::State;

pub(crate) fn slug_of(raw: &str) -> ApiResult<SurveySlug> {
    SurveySlug::parse(raw).map_err(|_| ApiError::NotFound("survey"))
}

fn audience_str(a: Audience) -> &'static str {
    match a {
        Audience::Invited => "invited",
        Audience::Anonymous => "anonymous",
    }
}

fn results_str(r: ResultsVisibility) -> &'static str {
    match r {
        ResultsVisibility::Staff => "staff",
        ResultsVisibility::Public => "public",
    }
}

/// A survey in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveySummary {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// not_yet, open, closed.
    pub state: String,
    pub opens: Option<DateTime<Utc>>,
    pub closes: Option<DateTime<Utc>>,
    /// invited (each member body through its own link) or anonymous.
    pub audience: String,
    /// staff or public.
    pub results: String,
    pub updated_at: DateTime<Utc>,
}

impl SurveySummary {
    fn of(s: &StoredSurvey, now: DateTime<Utc>) -> Self {
        let d = s.survey.def();
        Self {
            slug: s.survey.slug().to_string(),
            title: d.title.clone(),
            description: d.description.clone(),
            state: s.survey.state(now).as_str().to_owned(),
            opens: d.opens,
            closes: d.closes,
            audience: audience_str(d.audience).to_owned(),
            results: results_str(d.results).to_owned(),
            updated_at: s.updated_at,
        }
    }
}

/// A survey with its sections and questions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    #[serde(flatten)]
    pub summary: SurveySummary,
    /// The sections, as in the definition (docs/surveys.md).
    #[schema(value_type = Vec<Object>)]
    pub sections: serde_json::Value,
    /// An assessment's levels and areas (docs/surveys.md#assessments); null for a plain survey.
    #[schema(value_type = Option<Object>)]
    pub assessment: serde_json::Value,
}

impl SurveyView {
    pub(crate) fn of(s: &StoredSurvey, now: DateTime<Utc>) -> Self {
        Self {
            summary: SurveySummary::of(s, now),
            sections: serde_json::to_value(&s.survey.def().sections).unwrap_or_default(),
            assessment: serde_json::to_value(&s.survey.def().assessment).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyList {
    pub data: Vec<SurveySummary>,
}

/// The tenant's surveys, by slug: anybody (the partner site lists them).
#[utoipa::path(tag = "surveys", params(("tenant" = String, Path)), responses((status = 200, body = SurveyList)))]
#[get("/api/v1/t/{tenant}/surveys")]
pub async fn list(state: State, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (_, access) = state.tenant_access(&auth, &path, Action::SubmitRequest).await?;
    let now = state.clock.now();
    let data = state.store.scoped(&access).surveys().await?.iter().map(|s| SurveySummary::of(s, now)).collect();
    Ok(no_store(HttpResponse::Ok().json(SurveyList { data })))
}

/// One survey with its questions: anybody.
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = SurveyView))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}")]
pub async fn get_one(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (_, access) = state.tenant_access(&auth, &tenant, Action::SubmitRequest).await?;
    let s = state.store.scoped(&access).survey(&slug).await?;
    Ok(no_store(HttpResponse::Ok().json(SurveyView::of(&s, state.clock.now()))))
}

/// Create or change a survey (editors and admins): 201 when new. Every problem of the
/// definition is reported at once (422, each naming where it is). Once anybody has answered,
/// the questions and the audience can no longer change: 409 `survey_answered`.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    request_body(content = Object, description = "A survey definition, as in docs/surveys.md"),
    responses(
        (status = 200, body = SurveyView),
        (status = 201, body = SurveyView),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/t/{tenant}/surveys/{slug}")]
pub async fn put_one(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<SurveyDef>,
) -> ApiResult<HttpResponse> {
    let (tenant, raw) = path.into_inner();
    let (_, access) = state.tenant_access(&auth, &tenant, Action::PublishContent).await?;
    let slug =
        SurveySlug::parse(&raw).map_err(|e| ApiError::Validation(vec![FieldError::new("slug", e.code, e.message)]))?;
    let survey = Survey::parse(slug, body.0).map_err(|errors| {
        ApiError::Validation(errors.into_iter().map(|e| FieldError::new("definition", e.code, e.message)).collect())
    })?;
    let now = state.clock.now();
    let (stored, created) = state.store.scoped(&access).put_survey(&survey, now).await?;
    let view = SurveyView::of(&stored, now);
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}
