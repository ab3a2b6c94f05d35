//! Assistance tickets: states and the moves between them, priorities, and service-level targets.
//! Pure rules; the store keeps tickets and the API lets staff and requesters move them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// Where a ticket is. `new → open → waiting → resolved → closed`; staff may also jump ahead, and
/// a resolved or closed ticket may be reopened within the reopen window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    New,
    Open,
    /// Waiting for the requester.
    Waiting,
    Resolved,
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 5] =
        [TicketState::New, TicketState::Open, TicketState::Waiting, TicketState::Resolved, TicketState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::New => "new",
            TicketState::Open => "open",
            TicketState::Waiting => "waiting",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            InvalidInput::new("invalid_state", "a ticket state is one of new, open, waiting, resolved, closed")
        })
    }

    /// Still being worked on: counts for the SLA.
    pub fn is_active(self) -> bool {
        matches!(self, TicketState::New | TicketState::Open | TicketState::Waiting)
    }
}

/// How urgent a ticket is; decides its due dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| InvalidInput::new("invalid_priority", "a priority is one of low, normal, high, urgent"))
    }
}

/// Hours to the first answer and to the resolution, for one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    pub first_response_hours: u32,
    pub resolution_hours: u32,
}

/// Service-level targets per priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    pub low: SlaTarget,
    pub normal: SlaTarget,
    pub high: SlaTarget,
    pub urgent: SlaTarget,
}

impl Default for Sla {
    fn default() -> Self {
        Self {
            low: SlaTarget { first_response_hours: 72, resolution_hours: 240 },
            normal: SlaTarget { first_response_hours: 24, resolution_hours: 120 },
            high: SlaTarget { first_response_hours: 8, resolution_hours: 48 },
            urgent: SlaTarget { first_response_hours: 2, resolution_hours: 24 },
        }
    }
}

impl Sla {
    pub fn target(&self, p: Priority) -> SlaTarget {
        match p {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }

    /// (first answer due, resolution due) for a ticket opened at `opened` with priority `p`.
    pub fn due(&self, opened: DateTime<Utc>, p: Priority) -> (DateTime<Utc>, DateTime<Utc>) {
        let t = self.target(p);
        (
            opened + Duration::hours(i64::from(t.first_response_hours)),
            opened + Duration::hours(i64::from(t.resolution_hours)),
        )
    }
}

/// What the SLA check needs to know of a ticket.
#[derive(Debug, Clone, Copy)]
pub struct SlaFacts {
    pub state: TicketState,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
}

/// Past a due date it has not met: no first answer by its due time, or not resolved by its due time.
pub fn is_overdue(t: SlaFacts, now: DateTime<Utc>) -> bool {
    t.state.is_active() && ((t.first_response_at.is_none() && now > t.first_response_due) || now > t.resolution_due)
}

/// Whether staff may move a ticket from `from` to `to`. `since_done` is the time since it was
/// resolved or closed (for a reopen), `reopen_days` the window.
pub fn check_move(
    from: TicketState,
    to: TicketState,
    since_done: Option<Duration>,
    reopen_days: u32,
) -> Result<(), InvalidInput> {
    use TicketState::*;
    let reopen_ok = since_done.is_none_or(|d| d <= Duration::days(i64::from(reopen_days)));
    let ok = match (from, to) {
        (a, b) if a == b => true,
        (New | Open | Waiting, Open | Waiting | Resolved | Closed) => true,
        (Resolved, Closed) => true,
        (Resolved | Closed, Open) => reopen_ok,
        _ => false,
    };
    if ok {
        Ok(())
    } else if matches!((from, to), (Resolved | Closed, Open)) {
        Err(InvalidInput::new(
            "reopen_window_passed",
            format!("a ticket can be reopened within {reopen_days} days of being resolved or closed"),
        ))
    } else {
        Err(InvalidInput::new(
            "invalid_transition",
            format!("a ticket cannot go from {} to {}", from.as_str(), to.as_str()),
        ))
    }
}

/// Where a ticket goes when its requester writes: back to `open`, reopened if resolved within
/// the window; `None` when the requester can no longer write (closed, or resolved too long ago).
pub fn after_requester_message(
    state: TicketState,
    since_done: Option<Duration>,
    reopen_days: u32,
) -> Option<TicketState> {
    match state {
        TicketState::New => Some(TicketState::New),
        TicketState::Open | TicketState::Waiting => Some(TicketState::Open),
        TicketState::Resolved => {
            check_move(state, TicketState::Open, since_done, reopen_days).ok().map(|_| TicketState::Open)
        }
        TicketState::Closed => None,
    }
}

/// Where a ticket goes when staff answer in public: waiting for the requester.
pub fn after_staff_reply(state: TicketState) -> TicketState {
    match state {
        TicketState::New | TicketState::Open => TicketState::Waiting,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketState::*;

    #[test]
    fn the_state_machine_allows_the_usual_path_and_reopens_in_time() {
        for (a, b) in [(New, Open), (Open, Waiting), (Waiting, Resolved), (Resolved, Closed)] {
            assert!(check_move(a, b, None, 14).is_ok(), "{a:?} -> {b:?}");
        }
        assert!(check_move(Closed, Waiting, None, 14).is_err());
        assert!(check_move(Resolved, New, None, 14).is_err());
        assert!(check_move(Resolved, Open, Some(Duration::days(3)), 14).is_ok());
        assert_eq!(
            check_move(Closed, Open, Some(Duration::days(30)), 14).err().map(|e| e.code),
            Some("reopen_window_passed")
        );
        assert_eq!(after_requester_message(Waiting, None, 14), Some(Open));
        assert_eq!(after_requester_message(Resolved, Some(Duration::days(1)), 14), Some(Open));
        assert_eq!(after_requester_message(Resolved, Some(Duration::days(20)), 14), None);
        assert_eq!(after_requester_message(Closed, None, 14), None);
        assert_eq!(after_staff_reply(Open), Waiting);
    }

    #[test]
    fn due_dates_follow_the_priority_and_overdue_means_missed() {
        let sla = Sla::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let (first, done) = sla.due(t0, Priority::Urgent);
        assert_eq!((first - t0).num_hours(), 2);
        assert_eq!((done - t0).num_hours(), 24);
        let facts = SlaFacts { state: Open, first_response_due: first, resolution_due: done, first_response_at: None };
        assert!(!is_overdue(facts, t0 + Duration::hours(1)));
        assert!(is_overdue(facts, t0 + Duration::hours(3)));
        let answered = SlaFacts { first_response_at: Some(t0), ..facts };
        assert!(!is_overdue(answered, t0 + Duration::hours(3)));
        assert!(is_overdue(answered, t0 + Duration::hours(25)));
        assert!(!is_overdue(SlaFacts { state: Resolved, ..answered }, t0 + Duration::hours(25)));
    }
}
