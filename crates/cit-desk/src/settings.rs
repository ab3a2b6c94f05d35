//! Settings of the desk process: defaults, then `CIT_DESK_*` / `CIT_THEMES_DIR` variables.

use std::path::PathBuf;

/// What `cit desk` needs to run. Every field has a default that works with `cit demo`.
#[derive(Clone)]
pub struct DeskSettings {
    /// Address the desk listens on (`CIT_DESK_LISTEN`, default `127.0.0.1:8082`).
    pub listen: String,
    /// Base URL of the cit API (`CIT_DESK_API_URL`, default `http://127.0.0.1:8080`).
    pub api_url: String,
    /// Address of the partner sites, for preview links (`CIT_DESK_SITE_URL`, default
    /// `http://127.0.0.1:8081/{tenant}`; `{tenant}` is replaced by the tenant id).
    pub site_url: String,
    /// Folder of the Bootstrap Italia `dist` files (`CIT_DESK_ASSETS_DIR`, default
    /// `<CIT_THEMES_DIR>/base/node_modules/bootstrap-italia/dist`).
    pub assets_dir: PathBuf,
    /// Folder of the htmx files (`CIT_DESK_HTMX_DIR`, default
    /// `<CIT_THEMES_DIR>/base/node_modules/htmx.org/dist`).
    pub htmx_dir: PathBuf,
    /// Whether the session cookie is `Secure` (`CIT_DESK_SECURE_COOKIES`: `true`, `false` or
    /// `auto`, the default: secure unless the desk listens on a loopback address).
    pub secure_cookies: bool,
    /// A session unused this long ends (`CIT_DESK_SESSION_IDLE_SECS`, default 8 hours).
    pub session_idle_secs: u64,
    /// Time allowed to one API request (`CIT_DESK_API_TIMEOUT_SECS`, default 15).
    pub api_timeout_secs: u64,
    /// Largest upload the desk forwards to the API (`CIT_DESK_MAX_UPLOAD_BYTES`, default 32 MiB).
    pub max_upload_bytes: usize,
    /// HTTP worker threads (`CIT_DESK_WORKERS`, default 2).
    pub workers: usize,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8082";
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_SITE_URL: &str = "http://127.0.0.1:8081/{tenant}";

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

impl std::fmt::Debug for DeskSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskSettings")
            .field("listen", &self.listen)
            .field("api_url", &self.api_url)
            .field("site_url", &self.site_url)
            .field("assets_dir", &self.assets_dir)
            .field("htmx_dir", &self.htmx_dir)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_idle_secs", &self.session_idle_secs)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Default for DeskSettings {
    fn default() -> Self {
        let themes = PathBuf::from("themes");
        Self {
            listen: DEFAULT_LISTEN.into(),
            api_url: DEFAULT_API_URL.into(),
            site_url: DEFAULT_SITE_URL.into(),
            assets_dir: bootstrap_dir(&themes),
            htmx_dir: htmx_dir(&themes),
            secure_cookies: false,
            session_idle_secs: 8 * 3600,
            api_timeout_secs: 15,
            max_upload_bytes: 32 * 1024 * 1024,
            workers: 2,
        }
    }
}

fn bootstrap_dir(themes: &std::path::Path) -> PathBuf {
    themes.join("base").join("node_modules").join("bootstrap-italia").join("dist")
}

fn htmx_dir(themes: &std::path::Path) -> PathBuf {
    themes.join("base").join("node_modules").join("htmx.org").join("dist")
}

/// Whether `listen` (host:port) is a loopback address, where cookies over plain http are fine.
fn is_loopback(listen: &str) -> bool {
    let host = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or(listen).trim_matches(['[', ']']);
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl DeskSettings {
    /// Defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Defaults overridden by `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut s = Self::default();
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(v) = get("CIT_DESK_LISTEN") {
            s.listen = v;
        }
        if let Some(v) = get("CIT_DESK_API_URL") {
            s.api_url = v;
        }
        if let Some(v) = get("CIT_DESK_SITE_URL") {
            s.site_url = v;
        }
        let themes = get("CIT_THEMES_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("themes"));
        s.assets_dir = get("CIT_DESK_ASSETS_DIR").map(PathBuf::from).unwrap_or_else(|| bootstrap_dir(&themes));
        s.htmx_dir = get("CIT_DESK_HTMX_DIR").map(PathBuf::from).unwrap_or_else(|| htmx_dir(&themes));
        let number = |name: &'static str, default: u64| -> Result<u64, SettingsError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| SettingsError { name, message: format!("expected a whole number, got {v:?}") }),
            }
        };
        s.session_idle_secs = number("CIT_DESK_SESSION_IDLE_SECS", s.session_idle_secs)?.max(60);
        s.api_timeout_secs = number("CIT_DESK_API_TIMEOUT_SECS", s.api_timeout_secs)?.max(1);
        s.max_upload_bytes = usize::try_from(number("CIT_DESK_MAX_UPLOAD_BYTES", s.max_upload_bytes as u64)?)
            .unwrap_or(s.max_upload_bytes);
        s.workers = usize::try_from(number("CIT_DESK_WORKERS", 2)?.clamp(1, 64)).unwrap_or(2);
        s.secure_cookies = match get("CIT_DESK_SECURE_COOKIES").as_deref() {
            None | Some("auto") => !is_loopback(&s.listen),
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(v) => {
                return Err(SettingsError {
                    name: "CIT_DESK_SECURE_COOKIES",
                    message: format!("expected true, false or auto, got {v:?}"),
                });
            }
        };
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        for (name, value) in [("CIT_DESK_API_URL", &self.api_url), ("CIT_DESK_SITE_URL", &self.site_url)] {
            let url = url::Url::parse(&value.replace("{tenant}", "t"))
                .map_err(|e| SettingsError { name, message: format!("not a URL: {e}") })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(SettingsError { name, message: "must be an http or https URL".into() });
            }
        }
        if !self.listen.contains(':') {
            return Err(SettingsError { name: "CIT_DESK_LISTEN", message: "expected host:port".into() });
        }
        Ok(())
    }

    /// The partner site of `tenant` (no trailing slash).
    pub fn site_of(&self, tenant: &str) -> String {
        let url = if self.site_url.contains("{tenant}") {
            self.site_url.replace("{tenant}", tenant)
        } else {
            format!("{}/{tenant}", self.site_url.trim_end_matches('/'))
        };
        url.trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let s = DeskSettings::from_lookup(|k| match k {
            "CIT_DESK_LISTEN" => Some("0.0.0.0:9000".into()),
            "CIT_THEMES_DIR" => Some("/srv/themes".into()),
            "CIT_DESK_SITE_URL" => Some("https://{tenant}.cit.example".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert!(s.secure_cookies, "not loopback: secure cookies by default");
        assert_eq!(s.assets_dir, PathBuf::from("/srv/themes/base/node_modules/bootstrap-italia/dist"));
        assert_eq!(s.site_of("lecce"), "https://lecce.cit.example");
        assert!(!DeskSettings::from_lookup(|_| None).unwrap().secure_cookies, "loopback default");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(DeskSettings::from_lookup(|k| (k == "CIT_DESK_WORKERS").then(|| "many".into())).is_err());
        assert!(DeskSettings::from_lookup(|k| (k == "CIT_DESK_API_URL").then(|| "ftp://x".into())).is_err());
        assert!(DeskSettings::from_lookup(|k| (k == "CIT_DESK_SECURE_COOKIES").then(|| "maybe".into())).is_err());
    }
}
