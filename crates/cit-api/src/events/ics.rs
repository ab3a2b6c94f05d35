//! The event as iCalendar (RFC 5545), attached to confirmations and reminders.

use chrono::{Duration, Utc};
use cit_core::events::EventFacts;
use icalendar::{Calendar, Component, EventLike, EventStatus};

/// A calendar with the one event: `uid` stays the same for every message about the event, so a
/// calendar that imported it updates it instead of adding a second one.
pub fn calendar(uid: &str, facts: &EventFacts, link: &str, organizer: &str) -> String {
    let start = facts.start.with_timezone(&Utc);
    let end = facts.end.map(|e| e.with_timezone(&Utc)).filter(|e| *e > start).unwrap_or(start + Duration::hours(1));
    let mut description = facts.summary.clone();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(link);
    let mut event = icalendar::Event::new();
    event
        .uid(uid)
        .summary(&facts.title)
        .description(&description)
        .starts(start)
        .ends(end)
        .status(EventStatus::Confirmed)
        .url(link)
        .add_property("X-CIT-ORGANIZER", organizer);
    if let Some(room) = &facts.online_room_url {
        event.location(room);
    }
    let mut cal = Calendar::new();
    cal.append_property(icalendar::Property::new("METHOD", "PUBLISH"));
    cal.push(event.done());
    cal.done().to_string()
}
