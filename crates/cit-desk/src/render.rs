//! Templates (embedded at build time from `templates/`, see build.rs) and the HTML answers made
//! from them, with the headers every desk page carries.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use minijinja::{Environment, Value};

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, "template does not compile: {e}");
        }
    }
    env.add_filter("datetime", datetime);
    env.add_filter("date", date);
    env.add_filter("bytes", bytes);
    env.add_filter("field_anchor", |f: &str| field_anchor(f).to_owned());
    env.add_filter("field_label", |f: &str| f.strip_prefix("data.").unwrap_or(f).to_owned());
    env.add_filter("role_label", |r: &str| role_label(r).to_owned());
    env.add_filter("status_label", |s: &str| status_label(s).to_owned());
    env
});

/// The form field an error path of the API points at: `data.tags[2]` and `data.place.lat` are
/// the fields `tags` and `place`.
pub fn field_anchor(path: &str) -> &str {
    let path = path.strip_prefix("data.").unwrap_or(path);
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

/// The Italian name of a membership role.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Amministratore",
        "editor" => "Redattore capo",
        "author" => "Autore",
        "operator" => "Operatore",
        "member" => "Membro",
        "platform" => "Amministratore della piattaforma",
        _ => "Ruolo sconosciuto",
    }
}

/// The Italian name of an entry status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "draft" => "Bozza",
        "published" => "Pubblicato",
        "archived" => "Archiviato",
        "scheduled" => "Programmato",
        _ => "—",
    }
}

/// `2026-12-05T10:30:00Z` as `05/12/2026 10:30` (UTC, as the API keeps it).
pub fn datetime(v: Option<String>) -> String {
    let Some(v) = v else { return String::new() };
    match chrono::DateTime::parse_from_rfc3339(&v) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => v,
    }
}

fn date(v: Option<String>) -> String {
    let Some(v) = v else { return String::new() };
    match chrono::DateTime::parse_from_rfc3339(&v) {
        Ok(t) => t.format("%d/%m/%Y").to_string(),
        Err(_) => match chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(d) => d.format("%d/%m/%Y").to_string(),
            Err(_) => v,
        },
    }
}

fn bytes(n: Option<u64>) -> String {
    let n = n.unwrap_or(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    }
}

/// Renders `template` with `ctx` into an HTML answer with `status`. A template that fails is
/// logged and answered with a plain 500 page (never the error itself).
pub fn html(status: StatusCode, template: &str, ctx: Value) -> HttpResponse {
    match ENV.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(body) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body),
        Err(e) => {
            // `{e}` only: the alternate form would print the context, CSRF token included.
            tracing::error!(template, "template failed: {e}");
            HttpResponse::InternalServerError()
                .content_type("text/html; charset=utf-8")
                .body("<!doctype html><html lang=\"it\"><title>Errore</title><h1>Errore interno</h1><p>La pagina non può essere mostrata.</p></html>")
        }
    }
}

/// Any serialisable value as a template value: `context! { items => val(&items) }`.
pub fn val<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// The names of every embedded template (for tests).
pub fn template_names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} does not compile");
        }
        assert!(template_names().contains(&"layout.html"));
    }

    #[test]
    fn dates_are_shown_the_italian_way() {
        assert_eq!(datetime(Some("2026-12-05T10:30:00Z".into())), "05/12/2026 10:30");
        assert_eq!(date(Some("2026-12-05".into())), "05/12/2026");
        assert_eq!(bytes(Some(2048)), "2.0 KB");
        assert_eq!(field_anchor("data.tags[2]"), "tags");
        assert_eq!(field_anchor("data.place.lat"), "place");
        assert_eq!(field_anchor("slug"), "slug");
    }
}
