//! Assessment profiles: a body's own (with its invitation, once its answers are sent), and every
//! body side by side for staff. Each area's advice links the catalogue's published services
//! that close the gap.

use actix_web::{HttpResponse, get, web};
use cit_core::Action;
use cit_core::content::Entry;
use cit_core::surveys::{AreaScore, Survey, profile};
use serde::Serialize;
use utoipa::ToSchema;

use super::slug_of;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::routes::events::{published, published_enti};
use crate::routes::no_store;
use crate::state::State;
use crate::surveys::charts;

fn text<'a>(e: &'a Entry, key: &str) -> Option<&'a str> {
    e.data.get(key).and_then(serde_json::Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLink {
    pub slug: String,
    pub title: String,
}

/// One area of a body's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaView {
    pub name: String,
    pub label: String,
    pub points: f64,
    pub max_points: f64,
    /// The share of the area's points, 0 to 100.
    pub percent: f64,
    /// 1 for the lowest level.
    pub level: usize,
    pub level_label: String,
    /// Below the top level: what to do, and the services of the catalogue that help.
    pub advice: Option<String>,
    pub services: Vec<ServiceLink>,
}

/// A body's maturity profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub areas: Vec<AreaView>,
    /// The levels, lowest first.
    pub levels: Vec<String>,
    /// The profile as an SVG image (a radar from three areas).
    pub chart: Option<String>,
}

fn area_view(a: AreaScore, services: &[Entry]) -> AreaView {
    let links = services
        .iter()
        .filter(|s| {
            a.services.contains(&s.slug) || text(s, "category").is_some_and(|c| a.categories.iter().any(|x| x == c))
        })
        .map(|s| ServiceLink { slug: s.slug.clone(), title: text(s, "title").unwrap_or(&s.slug).to_owned() })
        .collect();
    AreaView {
        name: a.name,
        label: a.label,
        points: a.points,
        max_points: a.max_points,
        percent: a.percent,
        level: a.level,
        level_label: a.level_label,
        advice: a.advice,
        services: links,
    }
}

fn levels_of(survey: &Survey) -> Vec<String> {
    survey.def().assessment.iter().flat_map(|a| a.levels.iter().map(|l| l.label.clone())).collect()
}

/// The profile of one body's sent answers, with the services of its advice; `None` when the
/// survey is not an assessment.
pub(crate) async fn profile_view(
    state: &State,
    auth: &Auth,
    tenant: &str,
    survey: &Survey,
    answers: &cit_core::surveys::Answers,
) -> ApiResult<Option<ProfileView>> {
    let Some(areas) = profile(survey, answers) else { return Ok(None) };
    let (_, read) = state.tenant_access(auth, tenant, Action::ReadPublished).await?;
    let services = published(state, &read, "servizio").await.unwrap_or_default();
    let chart = charts::profile_chart(&areas, "grafico-profilo", &format!("Profilo di maturità: {}", survey.title()));
    Ok(Some(ProfileView {
        levels: levels_of(survey),
        chart: chart.map(|(_, svg)| svg),
        areas: areas.into_iter().map(|a| area_view(a, &services)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BodyProfile {
    pub ente: Option<String>,
    pub ente_name: Option<String>,
    pub kind: Option<String>,
    pub province: Option<String>,
    pub areas: Vec<AreaView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profiles {
    pub levels: Vec<String>,
    /// The areas, in order: `name`, `label`.
    #[schema(value_type = Vec<Object>)]
    pub areas: serde_json::Value,
    /// Every body that sent its answers, by name.
    pub data: Vec<BodyProfile>,
    /// Per area, how many bodies stand at each level: a stacked bar as an SVG image.
    pub chart: Option<String>,
}

/// Every body's maturity profile side by side (operators, editors, admins); 409
/// `not_an_assessment` for a survey without an assessment.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("tenant" = String, Path), ("slug" = String, Path)),
    responses(
        (status = 200, body = Profiles),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/t/{tenant}/surveys/{slug}/profiles")]
pub async fn all_profiles(state: State, auth: Auth, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant, slug) = path.into_inner();
    let slug = slug_of(&slug)?;
    let (_, access) = state.tenant_access(&auth, &tenant, Action::ReadRequests).await?;
    let scoped = state.store.scoped(&access);
    let s = scoped.survey(&slug).await?;
    let Some(assessment) = s.survey.def().assessment.clone() else {
        return Err(ApiError::Conflict {
            code: "not_an_assessment",
            field: None,
            detail: "this survey has no assessment: it gives no profiles".into(),
        });
    };
    let sent = scoped.sent_answers(s.id).await?;
    let (_, read) = state.tenant_access(&auth, &tenant, Action::ReadPublished).await?;
    let enti = published_enti(&state, &read).await?;
    let services = published(&state, &read, "servizio").await?;
    let mut scores = Vec::new();
    let mut data = Vec::new();
    for (response, ente) in sent {
        let ente = ente.and_then(|id| enti.iter().find(|e| e.id.0 == id));
        let areas = profile(&s.survey, &response.answers).unwrap_or_default();
        scores.push(areas.clone());
        data.push(BodyProfile {
            ente: ente.map(|e| e.slug.clone()),
            ente_name: ente.and_then(|e| text(e, "title")).map(str::to_owned),
            kind: ente.and_then(|e| text(e, "kind")).map(str::to_owned),
            province: ente.and_then(|e| text(e, "province")).map(str::to_owned),
            areas: areas.into_iter().map(|a| area_view(a, &services)).collect(),
        });
    }
    data.sort_by(|a, b| a.ente_name.cmp(&b.ente_name));
    let area_names: Vec<(String, String)> =
        assessment.areas.iter().map(|a| (a.name.clone(), a.label.clone())).collect();
    let levels = levels_of(&s.survey);
    let chart = charts::levels_chart(&area_names, &levels, &scores, "grafico-livelli").map(|(_, svg)| svg);
    let areas = serde_json::json!(
        area_names.iter().map(|(n, l)| serde_json::json!({"name": n, "label": l})).collect::<Vec<_>>()
    );
    Ok(no_store(HttpResponse::Ok().json(Profiles { levels, areas, data, chart })))
}
