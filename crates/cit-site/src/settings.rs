//! Settings of the site process: defaults, then `CIT_SITE_*` / `CIT_THEMES_DIR` variables.

use std::path::PathBuf;

/// What `cit site` needs to run. Every field has a default that works with `cit demo`.
#[derive(Clone)]
pub struct SiteSettings {
    /// Address the sites listen on (`CIT_SITE_LISTEN`, default `127.0.0.1:8081`).
    pub listen: String,
    /// Base URL of the cit API (`CIT_SITE_API_URL`, default `http://127.0.0.1:8080`).
    pub api_url: String,
    /// Folder of the theme bundles (`CIT_THEMES_DIR`, default `./themes`).
    pub themes_dir: PathBuf,
    /// Folder of the Bootstrap Italia `dist` files (`CIT_SITE_ASSETS_DIR`, default
    /// `<themes_dir>/base/node_modules/bootstrap-italia/dist`).
    pub assets_dir: PathBuf,
    /// How long an API answer is used without asking again (`CIT_SITE_CACHE_TTL_SECS`, default 30).
    pub cache_ttl_secs: u64,
    /// How long a cached answer may still be served, marked stale, while the API is unreachable
    /// (`CIT_SITE_STALE_MAX_SECS`, default 86400).
    pub stale_max_secs: u64,
    /// Time allowed to one API request (`CIT_SITE_API_TIMEOUT_SECS`, default 5).
    pub api_timeout_secs: u64,
    /// HTTP worker threads (`CIT_SITE_WORKERS`, default 2).
    pub workers: usize,
    /// Key that signs the CSRF tokens of the forms (`CIT_SITE_SECRET`; default: random at
    /// start-up, so set it when several site processes share one address).
    pub secret: Option<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

impl std::fmt::Debug for SiteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteSettings")
            .field("listen", &self.listen)
            .field("api_url", &self.api_url)
            .field("themes_dir", &self.themes_dir)
            .field("assets_dir", &self.assets_dir)
            .field("cache_ttl_secs", &self.cache_ttl_secs)
            .field("stale_max_secs", &self.stale_max_secs)
            .field("api_timeout_secs", &self.api_timeout_secs)
            .field("workers", &self.workers)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Default for SiteSettings {
    fn default() -> Self {
        let themes_dir = PathBuf::from("themes");
        Self {
            listen: DEFAULT_LISTEN.into(),
            api_url: DEFAULT_API_URL.into(),
            assets_dir: default_assets_dir(&themes_dir),
            themes_dir,
            cache_ttl_secs: 30,
            stale_max_secs: 86_400,
            api_timeout_secs: 5,
            workers: 2,
            secret: None,
        }
    }
}

fn default_assets_dir(themes_dir: &std::path::Path) -> PathBuf {
    themes_dir.join("base").join("node_modules").join("bootstrap-italia").join("dist")
}

impl SiteSettings {
    /// Defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Defaults overridden by `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut s = Self::default();
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(v) = get("CIT_SITE_LISTEN") {
            s.listen = v;
        }
        if let Some(v) = get("CIT_SITE_API_URL") {
            s.api_url = v;
        }
        if let Some(v) = get("CIT_THEMES_DIR") {
            s.themes_dir = PathBuf::from(v);
        }
        s.assets_dir = match get("CIT_SITE_ASSETS_DIR") {
            Some(v) => PathBuf::from(v),
            None => default_assets_dir(&s.themes_dir),
        };
        let number = |name: &'static str, default: u64| -> Result<u64, SettingsError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| SettingsError { name, message: format!("expected a whole number, got {v:?}") }),
            }
        };
        s.secret = get("CIT_SITE_SECRET");
        s.cache_ttl_secs = number("CIT_SITE_CACHE_TTL_SECS", s.cache_ttl_secs)?;
        s.stale_max_secs = number("CIT_SITE_STALE_MAX_SECS", s.stale_max_secs)?;
        s.api_timeout_secs = number("CIT_SITE_API_TIMEOUT_SECS", s.api_timeout_secs)?.max(1);
        s.workers = usize::try_from(number("CIT_SITE_WORKERS", 2)?.clamp(1, 64)).unwrap_or(2);
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let url = url::Url::parse(&self.api_url)
            .map_err(|e| SettingsError { name: "CIT_SITE_API_URL", message: format!("not a URL: {e}") })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SettingsError { name: "CIT_SITE_API_URL", message: "must be an http or https URL".into() });
        }
        if !self.listen.contains(':') {
            return Err(SettingsError { name: "CIT_SITE_LISTEN", message: "expected host:port".into() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let s = SiteSettings::from_lookup(|k| match k {
            "CIT_SITE_LISTEN" => Some("0.0.0.0:9000".into()),
            "CIT_THEMES_DIR" => Some("/srv/themes".into()),
            "CIT_SITE_CACHE_TTL_SECS" => Some("5".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.cache_ttl_secs, 5);
        assert_eq!(s.assets_dir, PathBuf::from("/srv/themes/base/node_modules/bootstrap-italia/dist"));
        assert_eq!(s.api_url, DEFAULT_API_URL);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(SiteSettings::from_lookup(|k| (k == "CIT_SITE_CACHE_TTL_SECS").then(|| "soon".into())).is_err());
        assert!(SiteSettings::from_lookup(|k| (k == "CIT_SITE_API_URL").then(|| "ftp://x".into())).is_err());
    }
}
