//! Event registration, the pure part: what an `evento` entry says about taking registrations
//! (places, window, waiting list), whether the window is open at a given instant, what a
//! registrant must send, and the states a registration goes through.
//!
//! An `evento` takes registrations through cit when it has `registration_capacity`; the window
//! runs from `registration_opens` (or always) to `registration_closes` (or the start).

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Map, Value};

use crate::{DisplayName, Email, InvalidInput};

/// The content type whose entries take registrations.
pub const EVENT_TYPE: &str = "evento";

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationStatus {
    /// Holds one of the places.
    Confirmed,
    /// On the waiting list, promoted in order of arrival when a place frees up.
    Waiting,
    Cancelled,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 3] = [Self::Confirmed, Self::Waiting, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Waiting => "waiting",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| InvalidInput::new("invalid_status", "expected confirmed, waiting or cancelled"))
    }
}

/// What an `evento` entry says about itself and its registrations.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFacts {
    pub title: String,
    pub summary: String,
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
    pub online_room_url: Option<String>,
    pub organizer: Option<String>,
    /// Places; `None` when the event takes no registrations through cit.
    pub capacity: Option<u32>,
    /// Whether registrations beyond the places wait for one (default yes).
    pub waiting_list: bool,
    pub opens: Option<DateTime<Utc>>,
    pub closes: Option<DateTime<Utc>>,
}

/// Whether registrations are taken now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The event takes no registrations through cit.
    NotTaken,
    NotYet(DateTime<Utc>),
    Open,
    Closed,
}

impl Window {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotTaken => "not_taken",
            Self::NotYet(_) => "not_yet",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

fn text(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn instant(data: &Map<String, Value>, key: &str) -> Option<DateTime<FixedOffset>> {
    data.get(key).and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

impl EventFacts {
    /// Reads an `evento`'s data (already validated against its type); `None` without a start.
    pub fn of(data: &Map<String, Value>) -> Option<Self> {
        let start = instant(data, "start")?;
        let capacity = data
            .get("registration_capacity")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        Some(Self {
            title: text(data, "title").unwrap_or_else(|| "Evento".into()),
            summary: text(data, "summary").unwrap_or_default(),
            start,
            end: instant(data, "end"),
            online_room_url: text(data, "online_room_url"),
            organizer: text(data, "organizer"),
            capacity,
            waiting_list: data.get("registration_waitlist").and_then(Value::as_bool).unwrap_or(true),
            opens: instant(data, "registration_opens").map(|d| d.with_timezone(&Utc)),
            closes: instant(data, "registration_closes").map(|d| d.with_timezone(&Utc)),
        })
    }

    /// Registrations close at `registration_closes`, or when the event starts.
    pub fn closes_at(&self) -> DateTime<Utc> {
        self.closes.unwrap_or_else(|| self.start.with_timezone(&Utc))
    }

    pub fn window(&self, now: DateTime<Utc>) -> Window {
        if self.capacity.is_none() {
            return Window::NotTaken;
        }
        match self.opens {
            Some(opens) if now < opens => Window::NotYet(opens),
            _ if now >= self.closes_at() => Window::Closed,
            _ => Window::Open,
        }
    }

    /// Where a new registration goes when `confirmed` places are taken: a place, the waiting
    /// list, or nowhere (full, without a waiting list).
    pub fn placement(&self, confirmed: u64) -> Option<RegistrationStatus> {
        let capacity = u64::from(self.capacity?);
        if confirmed < capacity {
            Some(RegistrationStatus::Confirmed)
        } else if self.waiting_list {
            Some(RegistrationStatus::Waiting)
        } else {
            None
        }
    }
}

/// What a person sends to register, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrant {
    pub name: DisplayName,
    pub email: Email,
    /// The member body they come for (slug), if any.
    pub ente: Option<String>,
}

/// A field of a registration that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrantError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Registrant {
    /// Checks every field and reports all that are wrong.
    pub fn parse(name: &str, email: &str, ente: Option<&str>) -> Result<Self, Vec<RegistrantError>> {
        let mut errors = Vec::new();
        let name = DisplayName::parse(name)
            .map_err(|e| errors.push(RegistrantError { field: "name", code: e.code, message: e.message }))
            .ok();
        let email = Email::parse(email)
            .map_err(|e| errors.push(RegistrantError { field: "email", code: e.code, message: e.message }))
            .ok();
        let ente = match ente.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s)
                if s.len() <= 200 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
            {
                Some(s.to_owned())
            }
            Some(_) => {
                errors.push(RegistrantError {
                    field: "ente",
                    code: "invalid_slug",
                    message: "the body's slug: lower-case letters, digits and dashes".into(),
                });
                None
            }
        };
        match (name, email) {
            (Some(name), Some(email)) if errors.is_empty() => Ok(Self { name, email, ente }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn event(extra: Value) -> EventFacts {
        let mut data = json!({"title": "Webinar PNRR", "summary": "s", "start": "2027-03-10T10:00:00+01:00"});
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        EventFacts::of(data.as_object().unwrap_or(&Map::new())).unwrap_or_else(|| panic!("no facts"))
    }

    #[test]
    fn the_window_runs_from_opening_to_closing_or_the_start() {
        let at = |d, h| Utc.with_ymd_and_hms(2027, 3, d, h, 0, 0).single().unwrap_or_default();
        assert_eq!(event(json!({})).window(at(1, 0)), Window::NotTaken);
        let e = event(json!({"registration_capacity": 3, "registration_opens": "2027-03-02T00:00:00Z"}));
        assert_eq!(e.window(at(1, 0)), Window::NotYet(at(2, 0)));
        assert_eq!(e.window(at(5, 0)), Window::Open);
        assert_eq!(e.window(at(10, 9)), Window::Closed, "09:00 UTC is the start");
        let e = event(json!({"registration_capacity": 3, "registration_closes": "2027-03-08T00:00:00Z"}));
        assert_eq!(e.window(at(7, 23)), Window::Open);
        assert_eq!(e.window(at(8, 0)), Window::Closed);
    }

    #[test]
    fn places_then_the_waiting_list() {
        let e = event(json!({"registration_capacity": 3}));
        assert_eq!(e.placement(2), Some(RegistrationStatus::Confirmed));
        assert_eq!(e.placement(3), Some(RegistrationStatus::Waiting));
        let e = event(json!({"registration_capacity": 3, "registration_waitlist": false}));
        assert_eq!(e.placement(3), None);
        assert_eq!(event(json!({})).placement(0), None);
    }

    #[test]
    fn a_registrant_is_checked_field_by_field() {
        let ok = Registrant::parse(" Anna Rossi ", "Anna@Comune.Example.it", Some("comune-di-lecce"));
        assert_eq!(
            ok.map(|r| (r.email.as_str().to_owned(), r.ente)),
            Ok(("anna@comune.example.it".into(), Some("comune-di-lecce".into())))
        );
        let errors = Registrant::parse("", "nope", Some("Not A Slug")).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.field).collect::<Vec<_>>(), ["name", "email", "ente"]);
    }
}
