//! A person's answers, checked against the survey. A draft may leave anything out; a sent
//! answer must answer every required question that is shown. Answers to a question that its
//! condition hides are dropped, so an answer never holds what its author could not see.

use serde_json::{Map, Number, Value};

use super::definition::{Question, QuestionKind, SCALE_MAX, Survey};
use crate::content::DataError;

/// Checked answers, by question name; what the store keeps.
pub type Answers = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Saved to come back to: every value is checked, nothing is required.
    Draft,
    /// Sent: required questions that are shown must be answered.
    Complete,
}

fn err(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> DataError {
    DataError { path: path.into(), code, message: message.into() }
}

fn scale_point(v: &Value) -> Option<u8> {
    v.as_u64().filter(|p| (1..=u64::from(SCALE_MAX)).contains(p)).map(|p| p as u8)
}

/// One value, checked; `None` when it is empty (no answer).
fn check_value(q: &Question, v: &Value, errors: &mut Vec<DataError>) -> Option<Value> {
    let name = q.name.as_str();
    let mut fail = |code: &'static str, message: String| {
        errors.push(err(name, code, message));
        None
    };
    match (q.kind, v) {
        (_, Value::Null) => None,
        (QuestionKind::Single, Value::String(s)) if s.is_empty() => None,
        (QuestionKind::Single, Value::String(s)) if q.options.iter().any(|o| &o.value == s) => Some(v.clone()),
        (QuestionKind::Single, Value::String(s)) => fail("not_in_enum", format!("'{s}' is not one of the options")),
        (QuestionKind::Multiple, Value::Array(items)) => {
            let mut chosen: Vec<&str> = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if q.options.iter().any(|o| o.value == s) => {
                        if !chosen.contains(&s) {
                            chosen.push(s);
                        }
                    }
                    Some(s) => return fail("not_in_enum", format!("'{s}' is not one of the options")),
                    None => return fail("invalid_type", "expected a list of options".into()),
                }
            }
            // In the order of the options, whatever the order sent.
            let ordered: Vec<Value> = q
                .options
                .iter()
                .filter(|o| chosen.contains(&o.value.as_str()))
                .map(|o| Value::String(o.value.clone()))
                .collect();
            (!ordered.is_empty()).then_some(Value::Array(ordered))
        }
        (QuestionKind::Scale, v) => match scale_point(v) {
            Some(p) => Some(Value::from(p)),
            None => fail("out_of_range", format!("expected a whole number from 1 to {SCALE_MAX}")),
        },
        (QuestionKind::Number, Value::Number(n)) => {
            let x = n.as_f64().filter(|x| x.is_finite());
            match x {
                None => fail("invalid_type", "expected a number".into()),
                Some(x) if q.min.is_some_and(|lo| x < lo) => {
                    fail("too_small", format!("at least {}", q.min.unwrap_or_default()))
                }
                Some(x) if q.max.is_some_and(|hi| x > hi) => {
                    fail("too_large", format!("at most {}", q.max.unwrap_or_default()))
                }
                Some(_) => Some(Value::Number(n.clone())),
            }
        }
        (QuestionKind::Short | QuestionKind::Long, Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else if t.chars().count() > q.max_len() {
                fail("too_long", format!("at most {} characters", q.max_len()))
            } else if q.kind == QuestionKind::Short && t.contains(['\n', '\r']) {
                fail("invalid_type", "one line of text".into())
            } else {
                Some(Value::String(t.to_owned()))
            }
        }
        (QuestionKind::Matrix, Value::Object(rows)) => {
            let mut out = Map::new();
            for (row, point) in rows {
                if !q.rows.iter().any(|r| &r.value == row) {
                    errors.push(err(format!("{name}.{row}"), "unknown_field", format!("'{row}' is not a row")));
                    continue;
                }
                match (point, scale_point(point)) {
                    (Value::Null, _) => {}
                    (_, Some(p)) => {
                        out.insert(row.clone(), Value::Number(Number::from(p)));
                    }
                    (_, None) => errors.push(err(
                        format!("{name}.{row}"),
                        "out_of_range",
                        format!("expected a whole number from 1 to {SCALE_MAX}"),
                    )),
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        (kind, _) => fail("invalid_type", format!("not an answer to a {} question", kind.as_str())),
    }
}

/// Whether a question is shown, given the answers checked so far (earlier questions only).
pub(super) fn shown(q: &Question, answers: &Answers) -> bool {
    let Some(cond) = &q.show_if else { return true };
    match answers.get(&cond.question) {
        Some(Value::String(s)) => cond.any_of.contains(s),
        Some(Value::Array(items)) => {
            items.iter().any(|i| i.as_str().is_some_and(|s| cond.any_of.iter().any(|a| a == s)))
        }
        _ => false,
    }
}

/// Checks `raw` (a JSON object, question name to answer) against the survey: unknown names,
/// wrong types and values out of range are errors; empty values are no answer; answers to
/// hidden questions are dropped; a complete answer must answer every required shown question
/// (every row of a required matrix).
pub fn check_answers(survey: &Survey, raw: &Value, mode: Completeness) -> Result<Answers, Vec<DataError>> {
    let Value::Object(raw) = raw else {
        return Err(vec![err("answers", "invalid_type", "expected an object of answers by question name")]);
    };
    let mut errors = Vec::new();
    for name in raw.keys() {
        if survey.question(name).is_none() {
            errors.push(err(name.as_str(), "unknown_field", format!("'{name}' is not a question of this survey")));
        }
    }
    let mut answers = Answers::new();
    for q in survey.questions() {
        if !shown(q, &answers) {
            continue;
        }
        let value = raw.get(&q.name).and_then(|v| check_value(q, v, &mut errors));
        let complete = match (&value, q.kind) {
            (Some(Value::Object(rows)), QuestionKind::Matrix) => rows.len() == q.rows.len(),
            (v, _) => v.is_some(),
        };
        if mode == Completeness::Complete
            && q.required
            && !complete
            && !errors.iter().any(|e| e.path.starts_with(&q.name))
        {
            errors.push(err(q.name.as_str(), "required", "an answer is required"));
        }
        if let Some(v) = value {
            answers.insert(q.name.clone(), v);
        }
    }
    if errors.is_empty() { Ok(answers) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::surveys::{SurveyDef, SurveySlug};

    fn survey() -> Survey {
        let def: SurveyDef = serde_json::from_value(json!({
            "title": "Fabbisogni",
            "sections": [{"title": "Ente", "questions": [
                {"name": "pec", "label": "PEC?", "kind": "single", "required": true,
                 "options": [{"value": "si", "label": "Sì"}, {"value": "no", "label": "No"}]},
                {"name": "caselle", "label": "Quante?", "kind": "number", "min": 0, "max": 100, "required": true,
                 "show_if": {"question": "pec", "any_of": ["si"]}},
                {"name": "servizi", "label": "Servizi", "kind": "multiple",
                 "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
                {"name": "voto", "label": "Voto", "kind": "scale"},
                {"name": "nota", "label": "Nota", "kind": "short", "max": 10},
                {"name": "aree", "label": "Aree", "kind": "matrix", "required": true,
                 "rows": [{"value": "dati", "label": "Dati"}, {"value": "rete", "label": "Rete"}]},
            ]}]
        }))
        .unwrap();
        Survey::parse(SurveySlug::parse("f").unwrap(), def).unwrap()
    }

    fn codes(r: Result<Answers, Vec<DataError>>) -> Vec<(String, &'static str)> {
        r.unwrap_err().into_iter().map(|e| (e.path, e.code)).collect()
    }

    #[test]
    fn a_draft_may_be_partial_but_its_values_are_checked() {
        let s = survey();
        let a = check_answers(&s, &json!({"pec": "si", "servizi": ["b", "a", "b"]}), Completeness::Draft).unwrap();
        assert_eq!(a["servizi"], json!(["a", "b"]));
        let c = codes(check_answers(&s, &json!({"voto": 6, "nota": "troppo lunga", "x": 1}), Completeness::Draft));
        assert!(c.contains(&("voto".into(), "out_of_range")));
        assert!(c.contains(&("nota".into(), "too_long")));
        assert!(c.contains(&("x".into(), "unknown_field")));
        assert_eq!(
            codes(check_answers(&s, &json!({"voto": "5"}), Completeness::Draft)),
            [("voto".into(), "out_of_range")]
        );
        assert_eq!(codes(check_answers(&s, &json!({"pec": 1}), Completeness::Draft)), [("pec".into(), "invalid_type")]);
    }

    #[test]
    fn a_sent_answer_needs_the_required_questions_that_are_shown() {
        let s = survey();
        let c = codes(check_answers(&s, &json!({"pec": "si", "aree": {"dati": 3}}), Completeness::Complete));
        assert_eq!(c, [("caselle".to_string(), "required"), ("aree".to_string(), "required")]);
        // `caselle` is hidden when the answer is no: not required, and dropped when sent.
        let a = check_answers(
            &s,
            &json!({"pec": "no", "caselle": 4, "aree": {"dati": 3, "rete": 1}}),
            Completeness::Complete,
        )
        .unwrap();
        assert!(!a.contains_key("caselle"));
        assert_eq!(a["aree"], json!({"dati": 3, "rete": 1}));
    }
}
