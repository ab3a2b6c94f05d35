//! For staff: invitations (sent once per body, with their links and where each stands), and the
//! results: JSON, SVG charts, CSV and XLSX. The results are public when the survey says so
//! (counts only, never free text).

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::content::Entry;
use cit_core::surveys::{Body, ResultsVisibility, tally};
use cit_store::surveys::{NewInvitation, ResponseStatus, StoredSurvey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{SurveySummary, slug_of};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::mail::templates::Partner;
use crate::routes::events::published_enti;
use crate::routes::no_store;
use crate::security::token_hash;
use crate::state::State;
use crate::surveys::{charts, export, invitation_link, invitation_mail};

fn text<'a>(e: &'a Entry, key: &str) -> Option<&'a str> {
    e.data.get(key).and_then(serde_json::Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBodies {
    /// The bodies to invite (slugs); absent: every published `ente`.
    #[serde(default)]
    pub enti: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BodiesInvited {
    /// Invitations written now.
    pub invited: u64,
    /// Bodies invited before: nothing written or sent again.
    pub already_invited: u64,
    /// Bodies invited without a `pec` to send the link to: staff pass it on (see the list).
    pub without_address: Vec<String>,
    /// Slugs asked for that name no published body.
    pub unknown: Vec<String>,
}

/// Invite member bodies: each gets its own link, e-mailed to its `pec`; once per body and
/// survey however often it is asked. Operators, editors and admins; 409 `survey_closed` once
/// the survey is closed.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    request_body = InviteBodies,
    responses(
        (status = 200, body = BodiesInvited),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/t/{tenant}/surveys/{slug}/invitations")]
pub async fn invite(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    body: Json<InviteBodies>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::AnswerRequests).await?;
    let scoped = state.store.scoped(&access);
    let s = scoped.survey(&slug).await?;
    let now = state.clock.now();
    if s.survey.state(now) == cit_core::surveys::SurveyState::Closed {
        return Err(ApiError::Conflict {
            code: "survey_closed",
            field: None,
            detail: "the survey is closed: invitations are no longer sent".into(),
        });
    }
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let enti = published_enti(&state, &read).await?;
    let mut unknown = Vec::new();
    let chosen: Vec<&Entry> = match &body.0.enti {
        None => enti.iter().collect(),
        Some(slugs) => slugs
            .iter()
            .filter_map(|want| {
                let found = enti.iter().find(|e| &e.slug == want);
                if found.is_none() {
                    unknown.push(want.clone());
                }
                found
            })
            .collect(),
    };
    let site = state.settings.requests.site_of(t.id.as_str());
    let partner = Partner { name: &t.name, site: &site };
    let mut without_address = Vec::new();
    let new: Vec<NewInvitation> = chosen
        .iter()
        .map(|e| {
            let id = uuid::Uuid::now_v7();
            let secret = state.request_keys.survey_secret(t.id.as_str(), id);
            let link = invitation_link(&site, slug.as_str(), &secret);
            let mail = match text(e, "pec") {
                Some(to) => {
                    Some(invitation_mail(&partner, s.survey.title(), text(e, "title").unwrap_or(&e.slug), &link, to))
                }
                None => {
                    without_address.push(e.slug.clone());
                    None
                }
            };
            NewInvitation { id, ente: e.id.0, secret_hash: token_hash(&secret), mail }
        })
        .collect();
    let written = scoped.invite(s.id, new, now).await?;
    // A body invited before keeps its first invitation, with or without an address.
    let fresh: Vec<&str> = chosen.iter().zip(&written).filter(|(_, w)| **w).map(|(e, _)| e.slug.as_str()).collect();
    without_address.retain(|slug| fresh.contains(&slug.as_str()));
    let invited = fresh.len() as u64;
    Ok(HttpResponse::Ok().json(BodiesInvited {
        invited,
        already_invited: written.len() as u64 - invited,
        without_address,
        unknown,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationRow {
    pub ente: Option<String>,
    pub ente_name: Option<String>,
    /// The body's own link (give it only to that body).
    pub link: String,
    /// none, draft or sent.
    pub status: String,
    pub invited_at: DateTime<Utc>,
    pub saved_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub invited: u64,
    pub drafts: u64,
    pub sent: u64,
    pub data: Vec<InvitationRow>,
}

/// A survey's invitations with their links and where each stands: operators, editors and admins.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = InvitationList))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/invitations")]
pub async fn invitations(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (t, access) = state.tenant_access(&auth, &tenant, Action::ReadRequests).await?;
    let scoped = state.store.scoped(&access);
    let s = scoped.survey(&slug).await?;
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let enti = published_enti(&state, &read).await?;
    let site = state.settings.requests.site_of(t.id.as_str());
    let mut list = InvitationList { invited: 0, drafts: 0, sent: 0, data: Vec::new() };
    for (i, r) in scoped.invitations(s.id).await? {
        let ente = enti.iter().find(|e| e.id.0 == i.ente);
        list.invited += 1;
        match r.as_ref().map(|r| r.status) {
            Some(ResponseStatus::Draft) => list.drafts += 1,
            Some(ResponseStatus::Sent) => list.sent += 1,
            None => {}
        }
        list.data.push(InvitationRow {
            ente: ente.map(|e| e.slug.clone()),
            ente_name: ente.and_then(|e| text(e, "title")).map(str::to_owned),
            link: invitation_link(&site, slug.as_str(), &state.request_keys.survey_secret(t.id.as_str(), i.id)),
            status: r.as_ref().map(|r| r.status.as_str()).unwrap_or("none").to_owned(),
            invited_at: i.created_at,
            saved_at: r.as_ref().map(|r| r.updated_at),
            sent_at: r.and_then(|r| r.sent_at),
        });
    }
    Ok(no_store(HttpResponse::Ok().json(list)))
}

/// One sent answer with its body.
struct Answered {
    response: cit_store::surveys::Response,
    ente: Option<Entry>,
}

/// The survey and its sent answers, for someone allowed to see its results: anybody when the
/// survey's results are public, else operators, editors and admins.
async fn answered(state: &State, auth: &Auth, tenant: &str, slug: &str) -> ApiResult<(StoredSurvey, Vec<Answered>)> {
    let slug = slug_of(slug)?;
    let (_, public) = state.tenant_access(auth, tenant, Action::SubmitRequest).await?;
    let s = state.store.scoped(&public).survey(&slug).await?;
    let access = if s.survey.def().results == ResultsVisibility::Public {
        public
    } else {
        state.tenant_access(auth, tenant, Action::ReadRequests).await?.1
    };
    let sent = state.store.scoped(&access).sent_answers(s.id).await?;
    let (_, read) = state.tenant_access(auth, tenant, Action::ReadPublished).await?;
    let enti = published_enti(state, &read).await?;
    let answered = sent
        .into_iter()
        .map(|(response, ente)| Answered {
            response,
            ente: ente.and_then(|id| enti.iter().find(|e| e.id.0 == id).cloned()),
        })
        .collect();
    Ok((s, answered))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsParams {
    /// `svg`: each question also carries its charts, drawn.
    pub charts: Option<ChartsParam>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartsParam {
    Svg,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsView {
    pub survey: SurveySummary,
    /// Sent answers.
    pub responses: u64,
    /// Per question: `answered`, `choices` (value, label, count, percent), `stats` (mean,
    /// median, min, max), `rows` of a matrix, `breakdowns` by kind and province, `summary`;
    /// with `?charts=svg`, `charts` (kind, by, svg).
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
}

/// A survey's results: counts and percentages per option, mean and median, a breakdown by
/// the bodies' kind and province, and a summary per question. Anybody when the survey's
/// results are public, else operators, editors and admins.
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path), ResultsParams),
    responses((status = 200, body = ResultsView))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/results")]
pub async fn get_results(
    state: State,
    auth: Auth,
    path: web::Path<(String, String)>,
    params: web::Query<ResultsParams>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let (s, answered) = answered(&state, &auth, &tenant, &slug).await?;
    let results = results_of(&s, &answered);
    let mut questions = serde_json::to_value(&results.questions).unwrap_or_default();
    if params.charts.is_some()
        && let Some(items) = questions.as_array_mut()
    {
        for (q, item) in results.questions.iter().zip(items) {
            let drawn: Vec<serde_json::Value> = [
                charts::question_chart(q, &format!("grafico-{}", q.name)).map(|c| ("question", c)),
                charts::province_chart(q, &format!("grafico-{}-provincia", q.name)).map(|c| ("province", c)),
            ]
            .into_iter()
            .flatten()
            .map(|(by, (kind, svg))| serde_json::json!({ "by": by, "kind": kind.as_str(), "svg": svg }))
            .collect();
            item["charts"] = serde_json::Value::Array(drawn);
        }
    }
    let view =
        ResultsView { survey: SurveySummary::of(&s, state.clock.now()), responses: results.responses, questions };
    Ok(no_store(HttpResponse::Ok().json(view)))
}

fn results_of(s: &StoredSurvey, answered: &[Answered]) -> cit_core::surveys::Results {
    let rows: Vec<(cit_core::surveys::Answers, Body)> = answered
        .iter()
        .map(|a| {
            let body = Body {
                kind: a.ente.as_ref().and_then(|e| text(e, "kind")).map(str::to_owned),
                province: a.ente.as_ref().and_then(|e| text(e, "province")).map(str::to_owned),
            };
            (a.response.answers.clone(), body)
        })
        .collect();
    tally(&s.survey, &rows)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartParams {
    /// `province`: the answers by province, stacked; absent: the question's own chart.
    pub by: Option<ChartBy>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartBy {
    Province,
}

/// One question's chart as SVG (an accessible image: `role="img"`, a title and a description),
/// on the same terms as the results; 404 for a question without one (numbers and texts).
#[utoipa::path(
    tag = "surveys",
    params(("tenant" = String, Path), ("slug" = String, Path), ("question" = String, Path), ChartParams),
    responses((status = 200, body = String, content_type = "image/svg+xml"))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/charts/{question}")]
pub async fn chart(
    state: State,
    auth: Auth,
    path: web::Path<(String, String, String)>,
    params: web::Query<ChartParams>,
) -> ApiResult<HttpResponse> {
    let (tenant, slug, question) = path.into_inner();
    let (s, answered) = answered(&state, &auth, &tenant, &slug).await?;
    let results = results_of(&s, &answered);
    let q = results.questions.iter().find(|q| q.name == question).ok_or(ApiError::NotFound("question"))?;
    let id = format!("grafico-{}", q.name);
    let drawn = match params.by {
        None => charts::question_chart(q, &id),
        Some(ChartBy::Province) => charts::province_chart(q, &format!("{id}-provincia")),
    };
    let (_, svg) = drawn.ok_or(ApiError::NotFound("chart"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(svg))
}

async fn export_table(
    state: &State,
    auth: &Auth,
    tenant: &str,
    slug: &str,
) -> ApiResult<(StoredSurvey, Vec<String>, Vec<Vec<export::Cell>>)> {
    // Exports carry free text: staff only, whatever the survey says of its results.
    state.tenant_access(auth, tenant, Action::ReadRequests).await?;
    let (s, answered) = answered(state, auth, tenant, slug).await?;
    let rows: Vec<export::Row<'_>> = answered
        .iter()
        .map(|a| export::Row {
            sent_at: a.response.sent_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
            ente: a.ente.as_ref().map(|e| e.slug.as_str()),
            ente_name: a.ente.as_ref().and_then(|e| text(e, "title")),
            kind: a.ente.as_ref().and_then(|e| text(e, "kind")),
            province: a.ente.as_ref().and_then(|e| text(e, "province")),
            answers: &a.response.answers,
        })
        .collect();
    let (header, body) = export::table(&s.survey, &rows);
    Ok((s, header, body))
}

/// The sent answers as CSV, one row per answer and one column per question (a matrix: one per
/// row). UTF-8, RFC 4180; a cell starting with `=`, `+`, `-` or `@` is prefixed with `'`.
/// Operators, editors and admins.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = String, content_type = "text/csv"))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/responses.csv")]
pub async fn responses_csv(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let (s, header, body) = export_table(&state, &auth, &tenant, &slug).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"questionario-{}.csv\"", s.survey.slug()),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(export::csv(&header, &body)))
}

/// The sent answers as a spreadsheet (XLSX), the same table as the CSV, numbers as numbers.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/responses.xlsx")]
pub async fn responses_xlsx(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let (s, header, body) = export_table(&state, &auth, &tenant, &slug).await?;
    let bytes = export::xlsx(s.survey.title(), &header, &body).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"questionario-{}.xlsx\"", s.survey.slug()),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
