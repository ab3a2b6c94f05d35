//! The newsletter, the pure part: a list's slug, the states of a subscription and of a
//! campaign, and the pace at which a campaign's messages fall due.

use chrono::{DateTime, Duration, Utc};

use crate::InvalidInput;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Asked for, waiting for the confirmation link to be followed (double opt-in).
    Pending,
    /// Confirmed: receives the campaigns.
    Active,
    Unsubscribed,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 3] = [Self::Pending, Self::Active, Self::Unsubscribed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Unsubscribed => "unsubscribed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| InvalidInput::new("invalid_status", "expected pending, active or unsubscribed"))
    }
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    Draft,
    /// Its messages are in the outbox; some may still be due.
    Sending,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sending => "sending",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw {
            "draft" => Ok(Self::Draft),
            "sending" => Ok(Self::Sending),
            _ => Err(InvalidInput::new("invalid_status", "expected draft or sending")),
        }
    }
}

/// A list's slug: lower-case letters, digits and dashes, 1 to 100 characters.
pub fn parse_list_slug(raw: &str) -> Result<String, InvalidInput> {
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(InvalidInput::new("invalid_slug", "a list's id is lower-case letters, digits and dashes"))
    }
}

/// When the `n`-th message (from 0) of a campaign started at `start` falls due, at `per_minute`
/// messages a minute: the campaign's throttle. Since the due times are stored with the messages,
/// a restart resumes where the sending stood.
pub fn due_at(start: DateTime<Utc>, n: usize, per_minute: u32) -> DateTime<Utc> {
    let per_minute = i64::from(per_minute.max(1));
    let n = i64::try_from(n).unwrap_or(i64::MAX / 60_000);
    start + Duration::milliseconds(n.saturating_mul(60_000) / per_minute)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_fall_due_at_the_pace() {
        let t = Utc::now();
        assert_eq!(due_at(t, 0, 60), t);
        assert_eq!(due_at(t, 1, 60), t + Duration::seconds(1));
        assert_eq!(due_at(t, 120, 60), t + Duration::minutes(2));
        assert_eq!(due_at(t, 3, 0), t + Duration::minutes(3), "a pace of 0 is one a minute");
    }

    #[test]
    fn slugs_and_states_parse() {
        assert!(parse_list_slug("notizie-cit").is_ok());
        for bad in ["", "Notizie", "a b", "-x", "x-", &"a".repeat(101)] {
            assert!(parse_list_slug(bad).is_err(), "{bad}");
        }
        for s in SubscriptionStatus::ALL {
            assert_eq!(SubscriptionStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(CampaignStatus::parse("sent").is_err());
    }
}
