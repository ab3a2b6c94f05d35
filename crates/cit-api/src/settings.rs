//! Layered, typed configuration: defaults, then an optional `cit.toml`, then `CIT_*` environment
//! variables (`__` for nesting: `CIT_LOGIN_LIMIT__PER_ACCOUNT=5`). Settings are passed explicitly;
//! there is no global. Secrets are masked in `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string: printed as `***`, serialised as is (only for layering).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Accepts any scalar: environment values like `CIT_ADMIN_PASSWORD=12345678901` arrive as numbers.
struct Stringish;
impl Visitor<'_> for Stringish {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Stringish).map(Secret)
    }
}

fn stringish_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Secret>::deserialize(d).map(|o| o.map(|s| s.0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Generates and keeps a JWT key under the data folder when none is configured.
    Development,
    /// Refuses to start without `CIT_JWT_SECRET`.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Login attempts allowed per window, per account and per client address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginLimit {
    pub per_account: u32,
    pub per_address: u32,
    pub window_secs: u64,
}

/// The in-process cache of public reads (see `read_cache`). `CIT_CACHE__ENABLED`,
/// `CIT_CACHE__MAX_BYTES`, `CIT_CACHE__LEASE_MS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheSettings {
    pub enabled: bool,
    /// Memory for kept answers; when full, everything is dropped and the cache fills again.
    pub max_bytes: usize,
    /// On PostgreSQL, how long a node's heartbeat vouches for it (see `cit_store::changes`):
    /// a writer waits at most this long for a node that does not acknowledge a change.
    pub lease_ms: u64,
    /// The node's memory of tenants, tokens, roles and content types (see `lookups`).
    /// `CIT_CACHE__LOOKUPS`.
    #[serde(default = "yes")]
    pub lookups: bool,
}

fn yes() -> bool {
    true
}

/// argon2id cost. The defaults follow OWASP's recommendation; tests lower them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordHashing {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub mode: Mode,
    /// Address the API listens on. `CIT_LISTEN`.
    pub listen: String,
    /// Where the SQLite database, the generated JWT key and media live. `CIT_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://<data_dir>/cit.db`. `CIT_DATABASE_URL`.
    pub database_url: Option<Secret>,
    /// PostgreSQL: a streaming replica of the database, for content reads of `GET` requests, with
    /// read-your-writes across nodes (README, "Read replica"). `CIT_DATABASE_REPLICA_URL`.
    pub database_replica_url: Option<Secret>,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before it is answered 503 (PostgreSQL;
    /// also the time to connect). `CIT_DB_ACQUIRE_TIMEOUT_SECS`.
    pub db_acquire_timeout_secs: u64,
    /// Largest JSON request body, in bytes; larger ones get 413. `CIT_BODY_LIMIT`.
    pub body_limit: usize,
    /// HMAC key for access tokens (at least 32 bytes). `CIT_JWT_SECRET`.
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// A session (one login) lasts at most this long, however often it is refreshed.
    pub session_ttl_secs: u64,
    /// The first platform admin, created at start-up when no user exists. `CIT_ADMIN_EMAIL`.
    #[serde(deserialize_with = "stringish_opt", default)]
    pub admin_email: Option<String>,
    /// `CIT_ADMIN_PASSWORD`.
    pub admin_password: Option<Secret>,
    pub login_limit: LoginLimit,
    pub password_hashing: PasswordHashing,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    pub log_format: LogFormat,
    /// Seconds given to in-flight requests on SIGTERM / Ctrl-C.
    pub shutdown_timeout_secs: u64,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// How often the scheduler publishes due entries, in seconds; 0 turns it off.
    pub scheduler_interval_secs: u64,
    /// Uploads, quotas and where the files are kept.
    pub media: crate::media::MediaSettings,
    /// The read cache.
    pub cache: CacheSettings,
    /// Forms, submissions, tickets (`CIT_REQUESTS__…`).
    pub requests: crate::requests::RequestSettings,
    /// Outgoing e-mail (`CIT_MAIL__…`).
    pub mail: crate::mail::MailSettings,
    /// Webhook deliveries (`CIT_WEBHOOKS__…`).
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Event registration (`CIT_EVENTS__…`).
    pub events: crate::events::EventSettings,
    /// The newsletter (`CIT_NEWSLETTER__…`).
    pub newsletter: crate::newsletter::NewsletterSettings,
    /// The admin API's tenant export and import jobs (`CIT_PORTABILITY__…`).
    pub portability: crate::portable::PortabilitySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Development,
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_replica_url: None,
            db_max_connections: 16,
            db_acquire_timeout_secs: 5,
            body_limit: 1024 * 1024,
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            session_ttl_secs: 90 * 24 * 3600,
            admin_email: None,
            admin_password: None,
            login_limit: LoginLimit { per_account: 10, per_address: 50, window_secs: 300 },
            password_hashing: PasswordHashing { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 },
            trust_forwarded_for: false,
            log_format: LogFormat::Text,
            shutdown_timeout_secs: 30,
            workers: 0,
            scheduler_interval_secs: 5,
            media: crate::media::MediaSettings::default(),
            cache: CacheSettings {
                enabled: true,
                max_bytes: 32 * 1024 * 1024,
                lease_ms: cit_store::changes::LEASE.as_millis() as u64,
                lookups: true,
            },
            requests: crate::requests::RequestSettings::default(),
            mail: crate::mail::MailSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
            events: crate::events::EventSettings::default(),
            newsletter: crate::newsletter::NewsletterSettings::default(),
            portability: crate::portable::PortabilitySettings::default(),
        }
    }
}

impl Settings {
    /// Defaults, then `config_file` (or `./cit.toml` when it exists), then `CIT_*` variables.
    pub fn load(config_file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match config_file {
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None if Path::new("cit.toml").exists() => fig = fig.merge(Toml::file_exact("cit.toml")),
            None => {}
        }
        fig.merge(Env::prefixed("CIT_").split("__")).extract().map_err(Box::new)
    }

    /// Checks what can be checked before anything is opened.
    pub fn validate(&self) -> Result<(), String> {
        match (&self.jwt_secret, self.mode) {
            (None, Mode::Production) => {
                return Err("CIT_JWT_SECRET is required in production mode (CIT_MODE=production)".into());
            }
            (Some(s), _) if s.expose().len() < 32 => {
                return Err("CIT_JWT_SECRET must be at least 32 bytes long".into());
            }
            _ => {}
        }
        if self.body_limit == 0 {
            return Err("CIT_BODY_LIMIT must be greater than 0".into());
        }
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("cit.db").display()),
        }
    }

    /// The database URL with any password replaced by `***`, for logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url(&self.database_url())
    }
}

pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Settings {
            jwt_secret: Some(Secret::new("super-secret-key")),
            admin_password: Some(Secret::new("hunter2hunter2")),
            database_url: Some(Secret::new("postgres://cit:pw@db/cit")),
            ..Settings::default()
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("super-secret-key") && !printed.contains("hunter2") && !printed.contains(":pw@"));
        assert_eq!(s.database_url_redacted(), "postgres://cit:***@db/cit");
        assert_eq!(redact_url("postgres://cit@db/cit"), "postgres://cit@db/cit");
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_folder() {
        let s = Settings::default();
        assert_eq!(s.database_url(), "sqlite://./data/cit.db?mode=rwc");
    }
}
