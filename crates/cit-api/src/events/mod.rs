//! Event registration: its settings, the `.ics` of an event and the e-mails to registrants and
//! invited bodies. The routes are in `routes/events.rs`; the rules in `cit_core::events`.

mod ics;
pub mod templates;

use serde::{Deserialize, Serialize};

pub use ics::calendar;

/// `CIT_EVENTS__REMINDER_HOURS=24`, …
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventSettings {
    /// A reminder goes this many hours before the start to each confirmed registrant; 0: none.
    pub reminder_hours: u32,
    /// The version of the privacy notice a registrant accepts, and where it is.
    pub privacy_version: String,
    pub privacy_url: String,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self { reminder_hours: 24, privacy_version: "2026-01".into(), privacy_url: "/privacy".into() }
    }
}
