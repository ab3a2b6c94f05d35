//! Assessment checklists: a survey whose questions score for areas (servizi online, sicurezza,
//! …). A body's answers give each area a share of its possible points and so a maturity level;
//! an area below the top level gets its advice and the services of the catalogue that close
//! the gap (by the services' `category`, or named by slug).
//!
//! Points: a single choice scores its option's `score`; a multiple choice the sum of the chosen
//! options' scores; a scale point `p` scores `p − 1` of 4; each row of a matrix the same. A
//! question not answered (or hidden) counts for nothing either way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answers::Answers;
use super::definition::{Question, QuestionKind, SCALE_MAX, Survey};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// The share of the area's points (0 to 100) from which the level holds.
    pub min: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaDef {
    pub name: String,
    pub label: String,
    /// What to do about it, shown when the area is below the top level.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub advice: String,
    /// The catalogue's services that help, by their `category` …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// … or by slug.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDef {
    /// From the lowest (`min` 0) to the highest, `min` rising.
    pub levels: Vec<Level>,
    pub areas: Vec<AreaDef>,
}

/// One area of a body's profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaScore {
    pub name: String,
    pub label: String,
    pub points: f64,
    pub max_points: f64,
    /// `points / max_points`, 0 to 100 (0 when nothing was answered).
    pub percent: f64,
    /// 1 for the lowest level.
    pub level: usize,
    pub level_label: String,
    /// The area's advice when it is below the top level.
    pub advice: Option<String>,
    pub categories: Vec<String>,
    pub services: Vec<String>,
}

fn valid_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 40
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The assessment's own rules, and that every scored question names one of its areas.
pub(super) fn check(a: &AssessmentDef, questions: &[&Question], fail: &mut impl FnMut(&'static str, String)) {
    if a.levels.len() < 2 {
        fail("invalid_levels", "assessment.levels: two or more".into());
    }
    if a.levels.first().is_some_and(|l| l.min != 0.0) {
        fail("invalid_levels", "assessment.levels[0].min: the lowest level starts at 0".into());
    }
    for (i, pair) in a.levels.windows(2).enumerate() {
        if !(pair[1].min > pair[0].min && pair[1].min <= 100.0) {
            fail("invalid_levels", format!("assessment.levels[{}].min: above the one before, at most 100", i + 1));
        }
    }
    if a.levels.iter().any(|l| l.label.trim().is_empty()) {
        fail("invalid_label", "assessment.levels: each needs a label".into());
    }
    if a.areas.is_empty() {
        fail("no_areas", "assessment.areas: at least one".into());
    }
    for (i, area) in a.areas.iter().enumerate() {
        if !valid_name(&area.name) {
            fail("invalid_name", format!("assessment.areas[{i}].name: lower-case letters, digits, '-' and '_'"));
        } else if a.areas[..i].iter().any(|b| b.name == area.name) {
            fail("duplicate_name", format!("assessment.areas[{i}].name: '{}' is used twice", area.name));
        }
        if area.label.trim().is_empty() {
            fail("invalid_label", format!("assessment.areas[{i}].label: required"));
        }
        for slug in area.categories.iter().chain(&area.services) {
            if !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || slug.is_empty() {
                fail("invalid_slug", format!("assessment.areas[{i}]: '{slug}' is not a slug"));
            }
        }
        if !questions.iter().any(|q| q.area.as_deref() == Some(area.name.as_str())) {
            fail("empty_area", format!("assessment.areas[{i}]: no question scores for '{}'", area.name));
        }
    }
    for q in questions {
        let Some(area) = &q.area else { continue };
        if !a.areas.iter().any(|x| &x.name == area) {
            fail("invalid_area", format!("question '{}': '{area}' is not an area of the assessment", q.name));
        }
        if !matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Scale | QuestionKind::Matrix)
        {
            fail("invalid_area", format!("question '{}': a {} question cannot score", q.name, q.kind.as_str()));
        }
        if q.options.iter().any(|o| o.score.is_some_and(|s| !s.is_finite() || s < 0.0)) {
            fail("invalid_score", format!("question '{}': scores are numbers from 0", q.name));
        }
    }
}

const SCALE_TOP: f64 = (SCALE_MAX - 1) as f64;

/// The points an answer scores and the most it could have.
fn points(q: &Question, v: &Value) -> (f64, f64) {
    let score_of = |value: &str| q.options.iter().find(|o| o.value == value).and_then(|o| o.score).unwrap_or(0.0);
    match q.kind {
        QuestionKind::Single => {
            let best = q.options.iter().filter_map(|o| o.score).fold(0.0, f64::max);
            (v.as_str().map(score_of).unwrap_or(0.0), best)
        }
        QuestionKind::Multiple => {
            let all: f64 = q.options.iter().filter_map(|o| o.score).sum();
            let got = v.as_array().into_iter().flatten().filter_map(Value::as_str).map(score_of).sum();
            (got, all)
        }
        QuestionKind::Scale => (v.as_f64().map(|p| p - 1.0).unwrap_or(0.0), SCALE_TOP),
        QuestionKind::Matrix => {
            let rated: Vec<f64> =
                v.as_object().into_iter().flat_map(|m| m.values()).filter_map(Value::as_f64).collect();
            (rated.iter().map(|p| p - 1.0).sum(), SCALE_TOP * rated.len() as f64)
        }
        _ => (0.0, 0.0),
    }
}

/// A body's profile: each area's points, share and level, with advice where it falls short.
/// `None` when the survey is not an assessment.
pub fn profile(survey: &Survey, answers: &Answers) -> Option<Vec<AreaScore>> {
    let a = survey.def().assessment.as_ref()?;
    let top = a.levels.len();
    Some(
        a.areas
            .iter()
            .map(|area| {
                let (got, max) = survey
                    .questions()
                    .filter(|q| q.area.as_deref() == Some(area.name.as_str()))
                    .filter_map(|q| answers.get(&q.name).map(|v| points(q, v)))
                    .fold((0.0, 0.0), |(g, m), (pg, pm)| (g + pg, m + pm));
                let percent = if max > 0.0 { got * 100.0 / max } else { 0.0 };
                let level = a.levels.iter().rposition(|l| percent >= l.min).unwrap_or(0) + 1;
                AreaScore {
                    name: area.name.clone(),
                    label: area.label.clone(),
                    points: got,
                    max_points: max,
                    percent,
                    level,
                    level_label: a.levels[level - 1].label.clone(),
                    advice: (level < top && !area.advice.is_empty()).then(|| area.advice.clone()),
                    categories: if level < top { area.categories.clone() } else { Vec::new() },
                    services: if level < top { area.services.clone() } else { Vec::new() },
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::surveys::{SurveyDef, SurveySlug};

    fn survey() -> Survey {
        let def: SurveyDef = serde_json::from_value(json!({
            "title": "Maturità",
            "sections": [{"title": "S", "questions": [
                {"name": "pec", "label": "PEC?", "kind": "single", "area": "servizi",
                 "options": [{"value": "si", "label": "Sì", "score": 2}, {"value": "no", "label": "No", "score": 0}]},
                {"name": "canali", "label": "Canali", "kind": "multiple", "area": "servizi",
                 "options": [{"value": "io", "label": "IO", "score": 1}, {"value": "web", "label": "Web", "score": 1}]},
                {"name": "backup", "label": "Backup", "kind": "scale", "area": "sicurezza"},
                {"name": "note", "label": "Note", "kind": "long"},
            ]}],
            "assessment": {
                "levels": [{"min": 0, "label": "Iniziale"}, {"min": 50, "label": "Intermedio"}, {"min": 80, "label": "Avanzato"}],
                "areas": [
                    {"name": "servizi", "label": "Servizi online", "advice": "Attivate i servizi.", "categories": ["istanze-e-protocollo"]},
                    {"name": "sicurezza", "label": "Sicurezza", "advice": "Fate i backup.", "services": ["disaster-recovery"]},
                ]
            }
        }))
        .unwrap();
        Survey::parse(SurveySlug::parse("m").unwrap(), def).unwrap()
    }

    #[test]
    fn points_shares_levels_and_advice_where_an_area_falls_short() {
        let s = survey();
        let a = json!({"pec": "si", "canali": ["io"], "backup": 2}).as_object().unwrap().clone();
        let p = profile(&s, &a).unwrap();
        assert_eq!((p[0].points, p[0].max_points, p[0].percent), (3.0, 4.0, 75.0));
        assert_eq!((p[0].level, p[0].level_label.as_str()), (2, "Intermedio"));
        assert_eq!(p[0].advice.as_deref(), Some("Attivate i servizi."));
        assert_eq!(p[0].categories, ["istanze-e-protocollo"]);
        assert_eq!((p[1].percent, p[1].level), (25.0, 1));
        assert_eq!(p[1].services, ["disaster-recovery"]);
        let full = json!({"pec": "si", "canali": ["io", "web"], "backup": 5}).as_object().unwrap().clone();
        let p = profile(&s, &full).unwrap();
        assert!(p.iter().all(|a| a.level == 3 && a.advice.is_none() && a.categories.is_empty()));
    }

    #[test]
    fn an_assessment_checks_its_levels_areas_and_scored_questions() {
        let mut def = survey().def().clone();
        def.assessment.as_mut().unwrap().levels[1].min = 0.0;
        def.sections[0].questions[3].area = Some("servizi".into());
        def.sections[0].questions[1].area = Some("nessuna".into());
        let codes: Vec<_> =
            Survey::parse(SurveySlug::parse("m").unwrap(), def).unwrap_err().into_iter().map(|e| e.code).collect();
        assert_eq!(codes.iter().filter(|c| **c == "invalid_area").count(), 2, "{codes:?}");
        assert!(codes.contains(&"invalid_levels"), "{codes:?}");
    }
}
