//! Template environments and the filters the templates use. Templates are read at run time from
//! the partner's `templates/` folder first, then from `themes/base/templates/`, so a partner can
//! override any template by placing a file of the same name in its own folder.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use minijinja::{Environment, Error, ErrorKind, Value};

/// A template environment: the partner's folder (if any), then base.
pub fn environment(theme_dir: Option<PathBuf>, base_dir: PathBuf) -> Environment<'static> {
    let mut env = Environment::new();
    // `a.b.c` on a missing `a` is empty rather than an error: content fields are often optional.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_loader(move |name: &str| {
        if name.split('/').any(|part| part.is_empty() || part.starts_with('.')) || name.contains('\\') {
            return Ok(None);
        }
        let dirs = theme_dir.iter().map(|d| d.join("templates")).chain(std::iter::once(base_dir.join("templates")));
        for dir in dirs {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Error::new(ErrorKind::InvalidOperation, format!("cannot read {}", path.display()))
                        .with_source(e));
                }
            }
        }
        Ok(None)
    });
    env.add_filter("date", date_filter);
    env.add_filter("label", label_filter);
    env.add_filter("euro", euro_filter);
    env.add_filter("percent", percent_filter);
    env.add_filter("truncate", truncate_filter);
    env
}

/// `{{ text|truncate(180) }}`: at most `n` characters, cut at a word boundary, with "…".
pub fn truncate_filter(value: String, n: Option<usize>) -> String {
    let n = n.unwrap_or(255);
    if value.chars().count() <= n {
        return value;
    }
    let cut: String = value.chars().take(n).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > n / 2 => cut.get(..i).unwrap_or(&cut).to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

/// The Italian month names, January first (the seeding text generator of `cit` writes dates with
/// them too).
pub const MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

const MONTHS_SHORT: [&str; 12] = ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"];

enum When {
    Date(NaiveDate),
    Time(DateTime<FixedOffset>),
}

/// Italian civil time (Europe/Rome): CET, or CEST from 01:00 UTC of the last Sunday of March to
/// 01:00 UTC of the last Sunday of October (the EU rule since 1996).
pub fn rome_offset(utc: DateTime<chrono::Utc>) -> FixedOffset {
    use chrono::{Offset, TimeZone, Utc, Weekday};
    let last_sunday = |month: u32| -> Option<DateTime<Utc>> {
        let next_first = if month == 12 {
            NaiveDate::from_ymd_opt(utc.year() + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(utc.year(), month + 1, 1)?
        };
        let mut day = next_first.pred_opt()?;
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt()?;
        }
        Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0)?).into()
    };
    let summer = match (last_sunday(3), last_sunday(10)) {
        (Some(start), Some(end)) => utc >= start && utc < end,
        _ => false,
    };
    let hours = if summer { 2 } else { 1 };
    FixedOffset::east_opt(hours * 3600).unwrap_or(Utc.fix())
}

fn parse_when(raw: &str) -> Option<When> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        let utc = t.with_timezone(&chrono::Utc);
        return Some(When::Time(utc.with_timezone(&rome_offset(utc))));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(When::Date)
}

/// `{{ value|date }}` → "30 novembre 2020"; formats: long (default), short ("30/11/2020"),
/// time ("10:00"), datetime ("30 novembre 2020, ore 10:00"), day ("30"), month ("nov"), year, iso.
/// A value that is not a date is shown as it is.
pub fn date_filter(value: String, format: Option<String>) -> String {
    let Some(when) = parse_when(&value) else { return value };
    let date = match &when {
        When::Date(d) => *d,
        When::Time(t) => t.date_naive(),
    };
    let month = usize::try_from(date.month0()).unwrap_or(0);
    let long = format!("{} {} {}", date.day(), MONTHS.get(month).unwrap_or(&""), date.year());
    let time = match &when {
        When::Time(t) => Some(format!("{:02}:{:02}", t.hour(), t.minute())),
        When::Date(_) => None,
    };
    match format.as_deref().unwrap_or("long") {
        "short" => format!("{:02}/{:02}/{}", date.day(), date.month(), date.year()),
        "time" => time.unwrap_or_default(),
        "datetime" => match time {
            Some(t) => format!("{long}, ore {t}"),
            None => long,
        },
        "day" => format!("{:02}", date.day()),
        "month" => MONTHS_SHORT.get(month).unwrap_or(&"").to_string(),
        "year" => date.year().to_string(),
        "iso" => match &when {
            When::Time(t) => t.to_rfc3339(),
            When::Date(d) => d.format("%Y-%m-%d").to_string(),
        },
        _ => long,
    }
}

/// `{{ value|label("category") }}`: the Italian label of an enum value of the CIT preset.
pub fn label_filter(value: String, kind: String) -> String {
    label(&kind, &value).map_or_else(|| value.replace('-', " "), str::to_owned)
}

pub fn label(kind: &str, value: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = match kind {
        "category" => &crate::pages::CATEGORIES,
        "access_channel" => {
            &[("online", "Online"), ("sportello", "Allo sportello"), ("entrambi", "Online e allo sportello")]
        }
        "service_status" => &[("attivo", "Attivo"), ("in-arrivo", "In arrivo"), ("sospeso", "Sospeso")],
        "event_kind" => &[
            ("webinar", "Webinar"),
            ("incontro", "Incontro"),
            ("evento-pubblico", "Evento pubblico"),
            ("riunione-community", "Riunione della Community"),
            ("formazione", "Formazione"),
        ],
        "ente_kind" => &[
            ("comune", "Comune"),
            ("unione-di-comuni", "Unione di comuni"),
            ("provincia", "Provincia"),
            ("citta-metropolitana", "Città metropolitana"),
            ("regione", "Regione"),
            ("consorzio", "Consorzio"),
            ("azienda-partecipata", "Azienda partecipata"),
            ("parco", "Parco"),
            ("altro", "Altro ente"),
        ],
        "ente_role" => &crate::pages::ROLES,
        "document_type" => &[
            ("convenzione", "Convenzione"),
            ("delibera", "Delibera"),
            ("report", "Report"),
            ("programma", "Programma"),
            ("presentazione", "Presentazione"),
            ("linee-guida", "Linee guida"),
            ("modulo", "Modulo"),
            ("brochure", "Brochure"),
            ("altro", "Altro"),
        ],
        "project_status" => &[("in-avvio", "In avvio"), ("in-corso", "In corso"), ("concluso", "Concluso")],
        "level" => &[("base", "Base"), ("intermedio", "Intermedio"), ("avanzato", "Avanzato")],
        _ => return None,
    };
    table.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}

/// `{{ 155972|euro }}` → "€ 155.972" (Italian thousands separator; cents when there are any).
pub fn euro_filter(value: Value) -> String {
    let Some(n) = value.as_i64().map(|i| i as f64).or_else(|| f64::try_from(value.clone()).ok()) else {
        return value.to_string();
    };
    let cents = (n * 100.0).round() as i64;
    let (neg, cents) = (cents < 0, cents.unsigned_abs());
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    let frac = cents % 100;
    let sign = if neg { "-" } else { "" };
    if frac == 0 { format!("€ {sign}{grouped}") } else { format!("€ {sign}{grouped},{frac:02}") }
}

/// A number clamped to 0–100, for progress bars.
pub fn percent_filter(value: Value) -> i64 {
    value.as_i64().unwrap_or(0).clamp(0, 100)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn italian_dates() {
        assert_eq!(date_filter("2020-11-30T10:00:00+01:00".into(), None), "30 novembre 2020");
        assert_eq!(
            date_filter("2020-11-30T10:00:00+01:00".into(), Some("datetime".into())),
            "30 novembre 2020, ore 10:00"
        );
        assert_eq!(date_filter("2019-12-31".into(), Some("short".into())), "31/12/2019");
        // Times are shown in Italian civil time, whatever offset the API uses.
        assert_eq!(date_filter("2027-04-15T08:00:00Z".into(), Some("time".into())), "10:00");
        assert_eq!(date_filter("2026-11-30T09:00:00Z".into(), Some("time".into())), "10:00");
        assert_eq!(date_filter("2026-03-29T00:59:00Z".into(), Some("time".into())), "01:59");
        assert_eq!(date_filter("2026-03-29T01:00:00Z".into(), Some("time".into())), "03:00");
        assert_eq!(date_filter("2026-12-31T23:30:00Z".into(), None), "1 gennaio 2027");
        assert_eq!(date_filter("non una data".into(), None), "non una data");
    }

    #[test]
    fn euro_amounts() {
        assert_eq!(euro_filter(Value::from(155_972)), "€ 155.972");
        assert_eq!(euro_filter(Value::from(1234.5)), "€ 1.234,50");
        assert_eq!(euro_filter(Value::from(12)), "€ 12");
    }

    #[test]
    fn truncation_cuts_at_a_word() {
        assert_eq!(truncate_filter("breve".into(), Some(10)), "breve");
        assert_eq!(truncate_filter("una frase piuttosto lunga".into(), Some(12)), "una frase…");
    }

    #[test]
    fn labels() {
        assert_eq!(label_filter("in-arrivo".into(), "service_status".into()), "In arrivo");
        assert_eq!(label_filter("sconosciuto-x".into(), "nope".into()), "sconosciuto x");
    }
}
