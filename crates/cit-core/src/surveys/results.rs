//! The results of a survey, from its sent answers: per question how many answered, counts and
//! percentages per option (or scale point), mean and median where answers are numbers, a
//! breakdown by the answering body's kind and province, and a one-sentence summary in Italian
//! that says what a chart shows to someone who cannot see it.
//!
//! Free text is counted, never quoted: results may be public; the export carries the texts.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::answers::Answers;
use super::definition::{Question, QuestionKind, SCALE_MAX, Survey};

/// What is known of the body behind an answer (nothing for an anonymous one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The `kind` of the `ente`: comune, unione-di-comuni, …
    pub kind: Option<String>,
    /// Its `province` (a two-letter code).
    pub province: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceCount {
    pub value: String,
    pub label: String,
    pub count: u64,
    /// Of those who answered the question: for a multiple choice the shares add up to more
    /// than 100.
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// A row of a matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowResult {
    pub value: String,
    pub label: String,
    pub answered: u64,
    /// The points 1 to 5.
    pub points: Vec<ChoiceCount>,
    pub stats: Option<Stats>,
}

/// One group of a breakdown: the bodies of one kind, or of one province.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// `None`: the bodies that do not say (and anonymous answers).
    pub key: Option<String>,
    pub answered: u64,
    pub choices: Vec<ChoiceCount>,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// `kind` or `province`.
    pub by: &'static str,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionResult {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub section: String,
    pub answered: u64,
    /// Options, or the points of a scale; empty for numbers, texts and matrices.
    pub choices: Vec<ChoiceCount>,
    pub stats: Option<Stats>,
    pub rows: Vec<RowResult>,
    /// By kind, then by province: choice and scale questions.
    pub breakdowns: Vec<Breakdown>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    /// Sent answers.
    pub responses: u64,
    pub questions: Vec<QuestionResult>,
}

fn percent(count: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { count as f64 * 100.0 / of as f64 }
}

/// Mean, median (the middle value, or the mean of the two middle ones), min and max.
fn stats_of(mut xs: Vec<f64>) -> Option<Stats> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
    Some(Stats { mean: xs.iter().sum::<f64>() / n as f64, median, min: xs[0], max: xs[n - 1] })
}

fn scale_labels() -> Vec<(String, String)> {
    (1..=SCALE_MAX).map(|p| (p.to_string(), p.to_string())).collect()
}

/// The options a value counts for: one string, a list, or a scale point.
fn chosen(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn count(options: &[(String, String)], values: &[&Value]) -> Vec<ChoiceCount> {
    let answered = values.len() as u64;
    options
        .iter()
        .map(|(value, label)| {
            let count = values.iter().filter(|v| chosen(v).contains(value)).count() as u64;
            ChoiceCount { value: value.clone(), label: label.clone(), count, percent: percent(count, answered) }
        })
        .collect()
}

/// A number with a decimal comma, as Italian writes it: `3,5`, `12`.
pub fn it_number(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.1}").replace('.', ",") }
}

fn summary(q: &Question, answered: u64, choices: &[ChoiceCount], stats: Option<&Stats>, rows: &[RowResult]) -> String {
    let who = match answered {
        0 => return "Nessuna risposta.".into(),
        1 => "1 risposta".to_string(),
        n => format!("{n} risposte"),
    };
    let stats_text = |s: &Stats| {
        format!(
            "media {}, mediana {}, da {} a {}",
            it_number(s.mean),
            it_number(s.median),
            it_number(s.min),
            it_number(s.max)
        )
    };
    match q.kind {
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Scale => {
            let top = choices.iter().map(|c| c.count).max().unwrap_or(0);
            let leaders: Vec<String> = choices
                .iter()
                .filter(|c| c.count == top)
                .map(|c| format!("«{}» ({}, {} %)", c.label, c.count, it_number(c.percent)))
                .collect();
            let lead = if leaders.len() == 1 { "la più scelta è" } else { "le più scelte sono" };
            let listed = match leaders.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} e {last}", rest.join(", ")),
                _ => leaders.join(""),
            };
            let mut s = format!("{who}; {lead} {listed}");
            if let Some(st) = stats {
                s.push_str(&format!("; {}", stats_text(st)));
            }
            s.push('.');
            s
        }
        QuestionKind::Number => format!("{who}; {}.", stats.map(stats_text).unwrap_or_default()),
        QuestionKind::Short | QuestionKind::Long => format!("{who} di testo libero, non pubblicate."),
        QuestionKind::Matrix => {
            let rated: Vec<(&RowResult, f64)> =
                rows.iter().filter_map(|r| r.stats.as_ref().map(|s| (r, s.mean))).collect();
            let best = rated.iter().max_by(|a, b| a.1.total_cmp(&b.1));
            let worst = rated.iter().min_by(|a, b| a.1.total_cmp(&b.1));
            match (best, worst) {
                (Some(b), Some(w)) => format!(
                    "{who}; media più alta «{}» ({}), più bassa «{}» ({}).",
                    b.0.label,
                    it_number(b.1),
                    w.0.label,
                    it_number(w.1)
                ),
                _ => format!("{who}."),
            }
        }
    }
}

fn breakdown(
    by: &'static str,
    key: impl Fn(&Body) -> Option<String>,
    options: &[(String, String)],
    answers: &[(&Value, &Body)],
    numeric: bool,
) -> Breakdown {
    let mut groups: BTreeMap<Option<String>, Vec<&Value>> = BTreeMap::new();
    for (v, b) in answers {
        groups.entry(key(b)).or_default().push(v);
    }
    Breakdown {
        by,
        groups: groups
            .into_iter()
            .map(|(key, values)| Group {
                key,
                answered: values.len() as u64,
                choices: count(options, &values),
                mean: numeric
                    .then(|| stats_of(values.iter().filter_map(|v| v.as_f64()).collect()).map(|s| s.mean))
                    .flatten(),
            })
            .collect(),
    }
}

/// The results of a survey from its sent answers, each with what is known of its body.
pub fn tally(survey: &Survey, responses: &[(Answers, Body)]) -> Results {
    let mut questions = Vec::new();
    for section in &survey.def().sections {
        for q in &section.questions {
            let given: Vec<(&Value, &Body)> =
                responses.iter().filter_map(|(a, b)| a.get(&q.name).map(|v| (v, b))).collect();
            let values: Vec<&Value> = given.iter().map(|(v, _)| *v).collect();
            let answered = values.len() as u64;
            let options: Vec<(String, String)> = match q.kind {
                QuestionKind::Single | QuestionKind::Multiple => {
                    q.options.iter().map(|o| (o.value.clone(), o.label.clone())).collect()
                }
                QuestionKind::Scale => scale_labels(),
                _ => Vec::new(),
            };
            let choices = count(&options, &values);
            let numeric = matches!(q.kind, QuestionKind::Scale | QuestionKind::Number);
            let stats = numeric.then(|| stats_of(values.iter().filter_map(|v| v.as_f64()).collect())).flatten();
            let rows: Vec<RowResult> = if q.kind == QuestionKind::Matrix {
                q.rows
                    .iter()
                    .map(|r| {
                        let points: Vec<&Value> = values.iter().filter_map(|v| v.get(&r.value)).collect();
                        RowResult {
                            value: r.value.clone(),
                            label: r.label.clone(),
                            answered: points.len() as u64,
                            points: count(&scale_labels(), &points),
                            stats: stats_of(points.iter().filter_map(|v| v.as_f64()).collect()),
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let breakdowns = if options.is_empty() {
                Vec::new()
            } else {
                vec![
                    breakdown("kind", |b| b.kind.clone(), &options, &given, numeric),
                    breakdown("province", |b| b.province.clone(), &options, &given, numeric),
                ]
            };
            let summary = summary(q, answered, &choices, stats.as_ref(), &rows);
            questions.push(QuestionResult {
                name: q.name.clone(),
                label: q.label.clone(),
                kind: q.kind.as_str(),
                section: section.title.clone(),
                answered,
                choices,
                stats,
                rows,
                breakdowns,
                summary,
            });
        }
    }
    Results { responses: responses.len() as u64, questions }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::surveys::{SurveyDef, SurveySlug};

    #[test]
    fn counts_shares_mean_median_and_breakdowns() {
        let def: SurveyDef = serde_json::from_value(json!({"title": "T", "sections": [{"title": "S", "questions": [
            {"name": "voto", "label": "Voto", "kind": "scale"},
            {"name": "servizi", "label": "Servizi", "kind": "multiple",
             "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
            {"name": "aree", "label": "Aree", "kind": "matrix", "rows": [{"value": "dati", "label": "Dati"}]},
        ]}]}))
        .unwrap();
        let s = Survey::parse(SurveySlug::parse("t").unwrap(), def).unwrap();
        let body = |k: &str, p: &str| Body { kind: Some(k.into()), province: Some(p.into()) };
        let answers = |v: serde_json::Value| v.as_object().unwrap().clone();
        let r = tally(
            &s,
            &[
                (answers(json!({"voto": 2, "servizi": ["a", "b"], "aree": {"dati": 4}})), body("comune", "LE")),
                (answers(json!({"voto": 5, "servizi": ["a"]})), body("comune", "BR")),
                (answers(json!({"voto": 4})), body("unione-di-comuni", "LE")),
                (answers(json!({"voto": 4, "aree": {"dati": 1}})), Body::default()),
            ],
        );
        let voto = &r.questions[0];
        assert_eq!(voto.answered, 4);
        assert_eq!(voto.choices.iter().map(|c| c.count).collect::<Vec<_>>(), [0, 1, 0, 2, 1]);
        assert_eq!(voto.choices[3].percent, 50.0);
        let st = voto.stats.as_ref().unwrap();
        assert_eq!((st.mean, st.median, st.min, st.max), (3.75, 4.0, 2.0, 5.0));
        let by_kind = &voto.breakdowns[0];
        assert_eq!(
            by_kind.groups.iter().map(|g| (g.key.clone(), g.answered)).collect::<Vec<_>>(),
            [(None, 1), (Some("comune".into()), 2), (Some("unione-di-comuni".into()), 1)]
        );
        assert_eq!(by_kind.groups[1].mean, Some(3.5));
        assert_eq!(voto.summary, "4 risposte; la più scelta è «4» (2, 50 %); media 3,8, mediana 4, da 2 a 5.");
        let servizi = &r.questions[1];
        assert_eq!(servizi.choices.iter().map(|c| (c.count, c.percent)).collect::<Vec<_>>(), [(2, 100.0), (1, 50.0)]);
        let aree = &r.questions[2];
        assert_eq!(aree.rows[0].answered, 2);
        assert_eq!(aree.rows[0].stats.as_ref().unwrap().median, 2.5);
    }
}
