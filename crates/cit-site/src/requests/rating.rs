//! The page rating ("Quanto sono chiare le informazioni su questa pagina?"), stored as a
//! submission of form `valutazione-pagina`.
//!
//! The widget is the same markup on every page, pages the site keeps and shares between
//! visitors, so it cannot carry a visitor's CSRF token nor a fresh fill token. Its POST stores
//! nothing: it answers with the rating to confirm, with the visitor's choices kept, a CSRF token
//! and a fill token; the confirmation stores it. Without JavaScript the model's two steps (the
//! rating, then the reasons and a comment) are shown by CSS once a rating is chosen.

use serde_json::{Map, Value, json};

use super::client;
use super::forms::{FieldView, FormView, Posted};
use super::{Outcome, Visitor, crumbs, refusal_message};
use crate::api::ApiError;
use crate::pages::{Ctx, Page, SiteError};

/// The form id of the page rating.
const FORM: &str = "valutazione-pagina";
/// Longest comment kept (the model's free-text field).
const MAX_DETAILS: usize = 200;

/// The rated page: a site path, nothing else.
fn page_path(posted: &Posted) -> String {
    posted
        .get("page")
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 300)
        .unwrap_or("/")
        .to_owned()
}

/// The model's follow-up questions: the form fields that answer them are found by these labels
/// (or by their usual names), and their answers by position, so the widget's fixed texts map to
/// whatever values the form gives them.
const POSITIVE_QUESTION: &str = "Quali sono stati gli aspetti che hai preferito?";
const NEGATIVE_QUESTION: &str = "Dove hai incontrato le maggiori difficoltà?";

struct Choice {
    rating: Option<u8>,
    /// Position (1–5) of the chosen answer of the side the rating is on.
    reason: Option<usize>,
    details: String,
}

impl Choice {
    fn of(posted: &Posted) -> Choice {
        let rating = posted.get("rating").and_then(|r| r.parse::<u8>().ok()).filter(|r| (1..=5).contains(r));
        // Only the answer of the side the rating is on: the other side's is hidden.
        let reason = rating
            .and_then(|r| posted.get(if r > 3 { "positive" } else { "negative" }))
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|i| (1..=5).contains(i));
        let details: String = posted.get("details").unwrap_or("").trim().chars().take(MAX_DETAILS).collect();
        Choice { rating, reason, details }
    }

    /// The submission's `data`: only the fields the form has.
    fn data(&self, form: &FormView) -> Map<String, Value> {
        let is = |f: &&FieldView, names: &[&str], question: &str| {
            names.contains(&f.name.as_str()) || f.label.trim().eq_ignore_ascii_case(question)
        };
        let rating = form
            .fields
            .iter()
            .find(|f| f.name == "rating")
            .or_else(|| form.fields.iter().find(|f| f.kind == "integer"));
        let positive = form.fields.iter().find(|f| is(f, &["positive", "aspetti_positivi"], POSITIVE_QUESTION));
        let negative = form.fields.iter().find(|f| is(f, &["negative", "difficolta"], NEGATIVE_QUESTION));
        let details = form.fields.iter().find(|f| ["details", "dettagli"].contains(&f.name.as_str()));
        let mut data = Map::new();
        if let (Some(f), Some(r)) = (rating, self.rating) {
            data.insert(f.name.clone(), Value::from(r));
        }
        let side = if self.rating.is_some_and(|r| r > 3) { positive } else { negative };
        let answer = side.zip(self.reason).and_then(|(f, i)| Some((f, f.values.as_ref()?.get(i - 1)?.clone())));
        if let Some((f, value)) = answer {
            data.insert(f.name.clone(), if f.many { json!([value]) } else { json!(value) });
        }
        if let (Some(f), false) = (details, self.details.is_empty()) {
            data.insert(f.name.clone(), json!(self.details));
        }
        data
    }
}

pub async fn post(cx: &Ctx, visitor: &mut Visitor, posted: &Posted) -> Result<Outcome, SiteError> {
    let back = page_path(posted);
    let choice = Choice::of(posted);
    let form = match client::form(cx, FORM).await {
        Ok(f) => f,
        Err(ApiError::NotFound) => {
            tracing::warn!(tenant = %cx.theme.tenant, "no form {FORM}: the rating of {back} is not stored");
            return Ok(Outcome::Page(thanks(&choice, &back, false)));
        }
        Err(e) => return Err(e.into()),
    };
    let confirming = posted.get("fill_token").is_some();
    let mut error: Option<String> = None;
    let mut token_refused = false;
    if confirming && !visitor.verify(cx, FORM, posted.get("csrf")) {
        error = Some("La sessione è scaduta o la valutazione è già stata inviata: confermala di nuovo.".into());
    } else if confirming && choice.rating.is_none() {
        error = Some("Scegli un voto da 1 a 5.".into());
    } else if confirming {
        let payload = json!({
            "data": choice.data(&form),
            "consent": null,
            "fill_token": posted.get("fill_token"),
            "website": posted.get("website").unwrap_or(""),
            "page": back,
        });
        let reply = client::submit(cx, FORM, &payload, &[], &visitor.address).await?;
        if reply.status == 201 {
            visitor.rotate();
            return Ok(Outcome::Page(thanks(&choice, &back, true)));
        }
        token_refused = reply.code().starts_with("fill_token");
        error = refusal_message(&reply).or_else(|| {
            Some(match reply.body.pointer("/errors/0/field").and_then(Value::as_str) {
                Some(f) if f.ends_with("rating") => "Scegli un voto da 1 a 5.".to_owned(),
                _ => "Non è stato possibile registrare la valutazione: controlla i dati.".to_owned(),
            })
        });
    }
    // The widget's post, or a confirmation the API refused: show the rating to confirm.
    let fill_token = match posted.get("fill_token") {
        Some(t) if !t.is_empty() && !token_refused => t.to_owned(),
        _ => form.fill_token.clone().unwrap_or_default(),
    };
    let mut page = Page::new("requests/rating.html", "Conferma la tua valutazione");
    crumbs(&mut page, &[("Valutazione della pagina", None)]);
    if error.is_some() {
        page.status = 422;
        page.title = "Errore: conferma la tua valutazione".into();
    }
    page.ctx.insert(
        "rating".into(),
        json!({
            "rating": choice.rating,
            "reason": choice.reason,
            "details": choice.details,
            "page": back,
            "error": error,
            "csrf": visitor.token(cx, FORM),
            "fill_token": fill_token,
        }),
    );
    Ok(Outcome::Page(page))
}

fn thanks(choice: &Choice, back: &str, stored: bool) -> Page {
    let mut page = Page::new("feedback.html", "Grazie per il tuo parere");
    crumbs(&mut page, &[("Valutazione della pagina", None)]);
    page.ctx.insert("rating".into(), json!(choice.rating));
    page.ctx.insert("back".into(), json!(back));
    page.ctx.insert("stored".into(), json!(stored));
    page
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn form() -> FormView {
        serde_json::from_value(json!({"id": FORM, "fields": [
            {"name": "rating", "kind": "integer", "label": "Valuta da 1 a 5", "required": true, "min": 1, "max": 5},
            {"name": "aspetti_positivi", "kind": "enum", "label": POSITIVE_QUESTION, "values": ["a", "b", "c", "d", "altro"]},
            {"name": "difficolta", "kind": "enum", "label": NEGATIVE_QUESTION, "values": ["v", "w", "x", "problemi-tecnici", "altro"]},
            {"name": "dettagli", "kind": "text", "label": "Dettagli", "max_length": 200}
        ]}))
        .unwrap()
    }

    #[test]
    fn only_the_answer_of_the_rating_side_is_sent_as_the_form_value() {
        let p = Posted::parse(b"rating=2&negative=4&positive=1&details=+boh+&page=/servizi");
        let data = Choice::of(&p).data(&form());
        assert_eq!(Value::Object(data), json!({"rating": 2, "difficolta": "problemi-tecnici", "dettagli": "boh"}));
        let p = Posted::parse(b"rating=5&negative=4&positive=1");
        assert_eq!(Value::Object(Choice::of(&p).data(&form())), json!({"rating": 5, "aspetti_positivi": "a"}));
        assert_eq!(page_path(&p), "/");
        assert_eq!(page_path(&Posted::parse(b"page=//evil.example")), "/");
        assert_eq!(page_path(&Posted::parse(b"page=/servizi/x")), "/servizi/x");
        let none = Choice::of(&Posted::parse(b"rating=9&negative=1"));
        assert!(none.rating.is_none() && none.data(&form()).is_empty());
    }
}
