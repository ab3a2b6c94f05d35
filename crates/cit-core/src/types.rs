//! Checked domain values. Each has a private field and a `parse`; a value of the type is valid.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InvalidInput;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

uuid_id!(
    /// A user of the platform.
    UserId
);
uuid_id!(
    /// A login session: the family of refresh tokens issued from one login.
    SessionId
);
uuid_id!(
    /// An API token of one tenant.
    ApiTokenId
);
uuid_id!(
    /// An entry of one tenant (any type, any locale).
    EntryId
);
uuid_id!(
    /// A media file of one tenant.
    MediaId
);

/// A tenant's stable id: `lecce`, `genova`, `unione-valle-1`. Lower-case ASCII letters, digits and
/// single hyphens, 2 to 40 characters, starting with a letter. It appears in URLs and host names,
/// so it never changes once created.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

static TENANT_ID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$").ok());

/// Ids that would collide with routes or are too easy to confuse with the platform itself.
const RESERVED_TENANT_IDS: &[&str] =
    &["api", "admin", "auth", "me", "www", "static", "assets", "healthz", "readyz", "metrics"];

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let ok_shape = TENANT_ID_RE.as_ref().is_some_and(|re| re.is_match(raw));
        if !(2..=40).contains(&raw.len()) || !ok_shape {
            return Err(InvalidInput::new(
                "invalid_tenant_id",
                "a tenant id is 2 to 40 lower-case letters, digits and single hyphens, starting with a letter",
            ));
        }
        if RESERVED_TENANT_IDS.contains(&raw) {
            return Err(InvalidInput::new("reserved_tenant_id", format!("`{raw}` is reserved")));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

static EMAIL_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$").ok()
});

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let normalised = raw.trim().to_lowercase();
        let ok_shape = EMAIL_RE.as_ref().is_some_and(|re| re.is_match(&normalised));
        if normalised.len() > 254 || !ok_shape {
            return Err(InvalidInput::new("invalid_email", "not a valid email address"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password, as chosen by a person. Never printed: `Debug` masks it.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(InvalidInput::new(
                "password_too_short",
                format!("a password has at least {} characters", Self::MIN_CHARS),
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(InvalidInput::new("password_too_long", "a password has at most 1024 bytes"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A name shown to people: a tenant's or a user's. Trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 200 || trimmed.chars().any(char::is_control) {
            return Err(InvalidInput::new("invalid_name", "a name has 1 to 200 characters and no control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        for ok in ["lecce", "genova", "ab", "unione-valle-1", "cst2"] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Lecce", "1lecce", "lecce-", "le--cce", "lécce", "le cce", "api", &"x".repeat(41)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Mario.Rossi@Comune.Lecce.IT ").map(String::from).ok(),
            Some("mario.rossi@comune.lecce.it".into())
        );
        for bad in ["", "mario", "mario@", "@lecce.it", "mario@lecce", "ma rio@lecce.it", "mario@-lecce.it"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::parse("correct horse battery").ok();
        assert_eq!(format!("{p:?}"), "Some(Password(***))");
        assert!(Password::parse("short").is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Comune di Lecce ").map(String::from).ok(), Some("Comune di Lecce".into()));
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}

/// A content locale: a BCP 47 language with an optional region, `it` or `de-CH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

static LOCALE_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z]{2,3}(-[A-Z]{2})?$").ok());

impl Locale {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if LOCALE_RE.as_ref().is_some_and(|re| re.is_match(raw)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidInput::new(
                "invalid_locale",
                "a locale is a language code with an optional region: `it`, `de-CH`",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The platform's default content locale, `it`: a tenant's locale when it lists none.
    pub fn fallback() -> Self {
        Self("it".to_owned())
    }

    /// The locale a tenant writes and reads in: `requested` if it is one of the tenant's
    /// `locales`, else (when nothing is requested) the tenant's first locale, else `it`.
    /// The one place that knows the default-locale fallback.
    pub fn of_tenant(locales: &[String], requested: Option<&str>) -> Result<Self, InvalidInput> {
        match requested {
            Some(l) if locales.iter().any(|t| t == l) => Self::parse(l),
            Some(l) => Err(InvalidInput::new(
                "unknown_locale",
                format!("{l} is not a locale of this tenant ({})", locales.join(", ")),
            )),
            None => Ok(locales.first().and_then(|l| Self::parse(l).ok()).unwrap_or_else(Self::fallback)),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Locale {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Locale> for String {
    fn from(value: Locale) -> Self {
        value.0
    }
}

/// A host name a tenant's site answers on: `cit.comune.lecce.it`. Lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hostname(String);

static HOST_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$").ok());

impl Hostname {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let lower = raw.trim().to_lowercase();
        if lower.len() <= 253 && HOST_RE.as_ref().is_some_and(|re| re.is_match(&lower)) {
            Ok(Self(lower))
        } else {
            Err(InvalidInput::new("invalid_hostname", "not a valid host name"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Hostname {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Hostname> for String {
    fn from(value: Hostname) -> Self {
        value.0
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn locales_and_hosts() {
        assert!(Locale::parse("it").is_ok() && Locale::parse("de-CH").is_ok());
        assert!(Locale::parse("IT").is_err() && Locale::parse("it_IT").is_err() && Locale::parse("").is_err());
        assert_eq!(Hostname::parse("CIT.Comune.Lecce.it").map(String::from).ok(), Some("cit.comune.lecce.it".into()));
        assert!(Hostname::parse("localhost").is_ok());
        assert!(
            Hostname::parse("bad host").is_err() && Hostname::parse("-x.it").is_err() && Hostname::parse("").is_err()
        );
    }
}
