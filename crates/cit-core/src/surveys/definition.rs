//! What a survey is: its sections and questions, who answers it (anyone, or the member bodies
//! through their invitation links), when it is open and who sees its results. [`Survey::parse`]
//! is the only way to a [`Survey`]: every rule below is checked there, all problems at once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidInput;

/// The highest point of a scale question and of a matrix row; the lowest is 1.
pub const SCALE_MAX: u8 = 5;
const DEFAULT_SHORT_MAX: u32 = 200;
const DEFAULT_LONG_MAX: u32 = 4000;
const TEXT_MAX: u32 = 20_000;

/// A survey's address in its tenant: lower-case letters, digits and dashes, at most 100.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SurveySlug(String);

impl SurveySlug {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let ok = !raw.is_empty()
            && raw.len() <= 100
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidInput::new(
                "invalid_slug",
                "a survey's slug: lower-case letters, digits and dashes, at most 100",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SurveySlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The member bodies, each through its own invitation link: one answer per body, with a
    /// draft it can save and come back to.
    #[default]
    Invited,
    /// Anyone, without a name: each answer is sent whole, once.
    Anonymous,
}

/// Who sees the results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultsVisibility {
    /// Operators, editors and admins only.
    #[default]
    Staff,
    /// Also the public, on the partner site (counts only: free text is never published).
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of `options`.
    Single,
    /// Any of `options`, at least one when answered.
    Multiple,
    /// An integer from 1 to 5.
    Scale,
    /// A number between `min` and `max` when they are set.
    Number,
    /// One line of text, at most `max` characters (200).
    Short,
    /// Text, at most `max` characters (4,000).
    Long,
    /// Each of `rows` rated from 1 to 5.
    Matrix,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Multiple => "multiple",
            Self::Scale => "scale",
            Self::Number => "number",
            Self::Short => "short",
            Self::Long => "long",
            Self::Matrix => "matrix",
        }
    }

    fn has_options(self) -> bool {
        matches!(self, Self::Single | Self::Multiple)
    }

    pub fn is_text(self) -> bool {
        matches!(self, Self::Short | Self::Long)
    }
}

/// An option of a choice question, or a row of a matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What the answers hold: lower-case letters, digits, `-` and `_`.
    pub value: String,
    pub label: String,
    /// An assessment's points for choosing it (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// A question shown only when an earlier choice question was answered with one of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    pub any_of: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Its key in the answers: lower-case letters, digits, `-` and `_`, at most 40.
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    pub kind: QuestionKind,
    /// A sent answer must answer it (when it is shown).
    #[serde(default)]
    pub required: bool,
    /// `single` and `multiple`: at least two.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// `matrix`: at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Choice>,
    /// `number`: the bounds; `short` and `long`: `max` is the length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `scale` and `matrix`: what 1 and 5 mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// The assessment area it scores for (`single`, `multiple`, `scale`, `matrix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

impl Question {
    /// The longest text a `short` or `long` answer may hold.
    pub fn max_len(&self) -> usize {
        let default = if self.kind == QuestionKind::Long { DEFAULT_LONG_MAX } else { DEFAULT_SHORT_MAX };
        self.max.map(|m| m as usize).unwrap_or(default as usize)
    }

    /// The label of one of its options (or rows).
    pub fn label_of(&self, value: &str) -> Option<&str> {
        self.options.iter().chain(&self.rows).find(|c| c.value == value).map(|c| c.label.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub questions: Vec<Question>,
}

/// A survey as written (TOML as code, JSON through the API), before its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyDef {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Answers are taken from then (always when absent)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<DateTime<Utc>>,
    /// … until then (never closes when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<DateTime<Utc>>,
    #[serde(default)]
    pub audience: Audience,
    #[serde(default)]
    pub results: ResultsVisibility,
    pub sections: Vec<Section>,
    /// Makes the survey an assessment checklist: areas scored from the answers, a maturity
    /// level per area, advice and services for each gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<super::assessment::AssessmentDef>,
}

/// Whether a survey takes answers at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyState {
    NotYet,
    Open,
    Closed,
}

impl SurveyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotYet => "not_yet",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// A checked survey.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    slug: SurveySlug,
    def: SurveyDef,
}

fn valid_name(raw: &str, max: usize) -> bool {
    !raw.is_empty()
        && raw.len() <= max
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Survey {
    /// Checks a definition; every problem is reported, each naming where it is
    /// (`sections[1].questions[0].options`).
    pub fn parse(slug: SurveySlug, def: SurveyDef) -> Result<Survey, Vec<InvalidInput>> {
        let mut errors = Vec::new();
        let mut fail = |code: &'static str, message: String| errors.push(InvalidInput::new(code, message));
        if def.title.trim().is_empty() || def.title.chars().count() > 200 {
            fail("invalid_title", "title: 1 to 200 characters".into());
        }
        if let (Some(o), Some(c)) = (def.opens, def.closes)
            && o >= c
        {
            fail("invalid_window", "closes must come after opens".into());
        }
        if def.sections.is_empty() {
            fail("no_sections", "sections: at least one".into());
        }
        let mut seen: Vec<&Question> = Vec::new();
        for (s, section) in def.sections.iter().enumerate() {
            let at = format!("sections[{s}]");
            if section.title.trim().is_empty() {
                fail("invalid_title", format!("{at}.title: required"));
            }
            if section.questions.is_empty() {
                fail("no_questions", format!("{at}.questions: at least one"));
            }
            for (i, q) in section.questions.iter().enumerate() {
                let at = format!("{at}.questions[{i}]");
                if !valid_name(&q.name, 40) {
                    fail(
                        "invalid_name",
                        format!(
                            "{at}.name: lower-case letters, digits, '-' and '_', at most 40, starting with a letter"
                        ),
                    );
                } else if seen.iter().any(|p| p.name == q.name) {
                    fail("duplicate_name", format!("{at}.name: '{}' is used twice", q.name));
                }
                if q.label.trim().is_empty() {
                    fail("invalid_label", format!("{at}.label: required"));
                }
                check_choices(&q.options, &format!("{at}.options"), &mut fail);
                check_choices(&q.rows, &format!("{at}.rows"), &mut fail);
                match q.kind {
                    k if k.has_options() && q.options.len() < 2 => {
                        fail("too_few_options", format!("{at}.options: a {} question needs two or more", k.as_str()))
                    }
                    k if !k.has_options() && !q.options.is_empty() => {
                        fail("unexpected_options", format!("{at}.options: only single and multiple take options"))
                    }
                    _ => {}
                }
                match q.kind {
                    QuestionKind::Matrix if q.rows.is_empty() => {
                        fail("too_few_rows", format!("{at}.rows: a matrix needs one row or more"))
                    }
                    QuestionKind::Matrix => {}
                    _ if !q.rows.is_empty() => fail("unexpected_rows", format!("{at}.rows: only a matrix takes rows")),
                    _ => {}
                }
                match q.kind {
                    QuestionKind::Number => {
                        let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
                        if !finite(q.min) || !finite(q.max) {
                            fail("invalid_bounds", format!("{at}: min and max must be numbers"));
                        } else if let (Some(lo), Some(hi)) = (q.min, q.max)
                            && lo > hi
                        {
                            fail("invalid_bounds", format!("{at}: min is above max"));
                        }
                    }
                    QuestionKind::Short | QuestionKind::Long => {
                        if q.min.is_some() {
                            fail("invalid_bounds", format!("{at}.min: a text question takes only max"));
                        }
                        if q.max.is_some_and(|m| m.fract() != 0.0 || m < 1.0 || m > f64::from(TEXT_MAX)) {
                            fail("invalid_bounds", format!("{at}.max: a length from 1 to {TEXT_MAX}"));
                        }
                    }
                    _ if q.min.is_some() || q.max.is_some() => {
                        fail("invalid_bounds", format!("{at}: only number and text questions take min or max"))
                    }
                    _ => {}
                }
                if (q.min_label.is_some() || q.max_label.is_some())
                    && !matches!(q.kind, QuestionKind::Scale | QuestionKind::Matrix)
                {
                    fail("unexpected_labels", format!("{at}: only scale and matrix take min_label and max_label"));
                }
                if let Some(cond) = &q.show_if {
                    match seen.iter().find(|p| p.name == cond.question) {
                        None => fail(
                            "invalid_condition",
                            format!("{at}.show_if.question: '{}' is not an earlier question", cond.question),
                        ),
                        Some(p) if !p.kind.has_options() => fail(
                            "invalid_condition",
                            format!("{at}.show_if.question: '{}' is not a choice question", cond.question),
                        ),
                        Some(p) => {
                            if cond.any_of.is_empty() {
                                fail("invalid_condition", format!("{at}.show_if.any_of: at least one option"));
                            }
                            for v in &cond.any_of {
                                if !p.options.iter().any(|o| &o.value == v) {
                                    fail(
                                        "invalid_condition",
                                        format!("{at}.show_if.any_of: '{v}' is not an option of '{}'", p.name),
                                    );
                                }
                            }
                        }
                    }
                }
                seen.push(q);
            }
        }
        if let Some(a) = &def.assessment {
            super::assessment::check(a, &seen, &mut fail);
        } else if let Some(q) = seen.iter().find(|q| q.area.is_some()) {
            fail("invalid_area", format!("question '{}': an area needs the survey's assessment", q.name));
        }
        if errors.is_empty() { Ok(Survey { slug, def }) } else { Err(errors) }
    }

    pub fn slug(&self) -> &SurveySlug {
        &self.slug
    }

    pub fn def(&self) -> &SurveyDef {
        &self.def
    }

    pub fn title(&self) -> &str {
        &self.def.title
    }

    /// Every question, section after section.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.def.sections.iter().flat_map(|s| s.questions.iter())
    }

    pub fn question(&self, name: &str) -> Option<&Question> {
        self.questions().find(|q| q.name == name)
    }

    pub fn state(&self, now: DateTime<Utc>) -> SurveyState {
        match (self.def.opens, self.def.closes) {
            (Some(o), _) if now < o => SurveyState::NotYet,
            (_, Some(c)) if now >= c => SurveyState::Closed,
            _ => SurveyState::Open,
        }
    }

    /// Whether `other` asks the same questions (labels and texts aside): what answers already
    /// given need before a definition may change.
    pub fn same_questions(&self, other: &Survey) -> bool {
        let shape = |s: &Survey| -> Vec<(String, QuestionKind, Vec<String>, Vec<String>)> {
            s.questions()
                .map(|q| {
                    let values = |cs: &[Choice]| cs.iter().map(|c| c.value.clone()).collect::<Vec<_>>();
                    (q.name.clone(), q.kind, values(&q.options), values(&q.rows))
                })
                .collect()
        };
        shape(self) == shape(other) && self.def.audience == other.def.audience
    }
}

fn check_choices(choices: &[Choice], at: &str, fail: &mut impl FnMut(&'static str, String)) {
    let mut values = BTreeSet::new();
    for (i, c) in choices.iter().enumerate() {
        if !valid_name(&c.value, 60) {
            fail("invalid_value", format!("{at}[{i}].value: lower-case letters, digits, '-' and '_', at most 60"));
        } else if !values.insert(c.value.as_str()) {
            fail("duplicate_value", format!("{at}[{i}].value: '{}' is used twice", c.value));
        }
        if c.label.trim().is_empty() {
            fail("invalid_label", format!("{at}[{i}].label: required"));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn def(json: serde_json::Value) -> SurveyDef {
        serde_json::from_value(json).unwrap()
    }

    fn slug() -> SurveySlug {
        SurveySlug::parse("fabbisogni").unwrap()
    }

    #[test]
    fn a_good_survey_parses_and_every_fault_is_reported() {
        let good = def(serde_json::json!({
            "title": "Fabbisogni",
            "sections": [{"title": "Ente", "questions": [
                {"name": "pec", "label": "Usate la PEC?", "kind": "single", "required": true,
                 "options": [{"value": "si", "label": "Sì"}, {"value": "no", "label": "No"}]},
                {"name": "quanti", "label": "Quante caselle?", "kind": "number", "min": 0,
                 "show_if": {"question": "pec", "any_of": ["si"]}},
            ]}]
        }));
        assert!(Survey::parse(slug(), good).is_ok());
        let bad = def(serde_json::json!({
            "title": "",
            "opens": "2026-12-02T00:00:00Z", "closes": "2026-12-01T00:00:00Z",
            "sections": [{"title": "Ente", "questions": [
                {"name": "a", "label": "A", "kind": "single", "options": [{"value": "x", "label": "X"}]},
                {"name": "a", "label": "B", "kind": "scale", "options": [{"value": "y", "label": "Y"}]},
                {"name": "c", "label": "C", "kind": "number", "min": 5, "max": 1,
                 "show_if": {"question": "later", "any_of": ["x"]}},
                {"name": "d", "label": "D", "kind": "matrix"},
            ]}]
        }));
        let codes: Vec<_> = Survey::parse(slug(), bad).unwrap_err().into_iter().map(|e| e.code).collect();
        for code in [
            "invalid_title",
            "invalid_window",
            "too_few_options",
            "duplicate_name",
            "unexpected_options",
            "invalid_bounds",
            "invalid_condition",
            "too_few_rows",
        ] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
    }

    #[test]
    fn the_window_decides_the_state() {
        let mut d = def(serde_json::json!({"title": "T", "sections": [{"title": "S", "questions": [
            {"name": "q", "label": "Q", "kind": "scale"}]}]}));
        d.opens = Some("2026-12-01T00:00:00Z".parse().unwrap());
        d.closes = Some("2026-12-10T00:00:00Z".parse().unwrap());
        let s = Survey::parse(slug(), d).unwrap();
        assert_eq!(s.state("2026-11-30T23:59:59Z".parse().unwrap()), SurveyState::NotYet);
        assert_eq!(s.state("2026-12-05T00:00:00Z".parse().unwrap()), SurveyState::Open);
        assert_eq!(s.state("2026-12-10T00:00:00Z".parse().unwrap()), SurveyState::Closed);
    }
}
