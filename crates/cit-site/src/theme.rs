//! Theme bundles: `themes/base/` (templates, CSS) and one folder per partner with `theme.toml`,
//! a logo and optional template overrides. Adding a partner is adding a folder: the registry is
//! read at start and read again when a request names a tenant or host it does not know.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::colour::{Palette, Rgb};

/// `theme.toml`, as a partner writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    /// Site name, e.g. "CIT Lecce".
    pub name: String,
    /// The tenant id in the API (default: the folder name).
    #[serde(default)]
    pub tenant: Option<String>,
    /// The body the CIT belongs to, e.g. "Comune di Lecce".
    pub body: String,
    /// The body's institutional site.
    #[serde(default)]
    pub body_url: Option<String>,
    /// Line under the site name in the header.
    #[serde(default)]
    pub tagline: Option<String>,
    /// One or two sentences on the CIT, for the home page and link previews.
    #[serde(default)]
    pub description: Option<String>,
    /// Host names this site answers on (besides `/{tenant}/` on any host).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Logo file in the theme folder (default `logo.svg`).
    #[serde(default = "default_logo")]
    pub logo: String,
    pub colors: Colors,
    #[serde(default)]
    pub contacts: Contacts,
    #[serde(default)]
    pub footer: Footer,
    #[serde(default)]
    pub social: Vec<Social>,
}

fn default_logo() -> String {
    "logo.svg".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    pub primary: String,
    pub secondary: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub pec: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Footer {
    /// Seat of the body, one line.
    #[serde(default)]
    pub address: Option<String>,
    /// Codice fiscale of the body.
    #[serde(default)]
    pub tax_code: Option<String>,
    /// Partita IVA, when the body has one distinct from the tax code.
    #[serde(default)]
    pub vat_number: Option<String>,
    #[serde(default)]
    pub pec: Option<String>,
    /// Free text shown under the address (e.g. "Valori illustrativi").
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Social {
    /// Shown to screen readers and on hover, e.g. "Facebook".
    pub name: String,
    pub url: String,
    /// A Bootstrap Italia sprite icon, e.g. "it-facebook" (default from the name).
    #[serde(default)]
    pub icon: Option<String>,
}

/// One partner's loaded theme.
pub struct Theme {
    /// Folder name.
    pub id: String,
    /// Tenant id in the API.
    pub tenant: String,
    pub dir: PathBuf,
    pub file: ThemeFile,
    pub palette: Palette,
    pub env: minijinja::Environment<'static>,
}

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theme").field("id", &self.id).field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// Why a theme folder was skipped.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{0}: cannot read theme.toml: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: invalid theme.toml: {1}")]
    Parse(PathBuf, String),
    #[error("{0}: {1}")]
    Invalid(PathBuf, String),
}

/// A tenant id or theme folder name: 2 to 40 lower-case letters, digits and hyphens, starting
/// with a letter (the API's rule for tenant ids).
pub fn valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    (2..=40).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// A file name inside a theme folder: no separators, no `..`.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Theme {
    pub fn load(themes_dir: &Path, id: &str) -> Result<Theme, ThemeError> {
        let dir = themes_dir.join(id);
        let path = dir.join("theme.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| ThemeError::Read(path.clone(), e))?;
        let file: ThemeFile = toml::from_str(&text).map_err(|e| ThemeError::Parse(path.clone(), e.to_string()))?;
        let tenant = file.tenant.clone().unwrap_or_else(|| id.to_owned());
        if !valid_id(&tenant) {
            return Err(ThemeError::Invalid(path, format!("tenant {tenant:?} is not a valid tenant id")));
        }
        let colour = |name: &str, raw: &str| {
            Rgb::parse(raw)
                .ok_or_else(|| ThemeError::Invalid(path.clone(), format!("colors.{name} {raw:?} is not #rrggbb")))
        };
        let palette =
            Palette::new(colour("primary", &file.colors.primary)?, colour("secondary", &file.colors.secondary)?);
        if !safe_file_name(&file.logo) || !dir.join(&file.logo).is_file() {
            return Err(ThemeError::Invalid(path, format!("logo {:?} is not a file of the theme folder", file.logo)));
        }
        let env = crate::render::environment(Some(dir.clone()), themes_dir.join("base"));
        Ok(Theme { id: id.to_owned(), tenant, dir, file, palette, env })
    }

    /// Does the theme folder have this file under `static/`?
    pub fn static_file(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join("static").join(name);
        path.is_file().then_some(path)
    }
}

/// Every theme found in the themes folder.
#[derive(Debug, Default)]
pub struct Themes {
    pub by_tenant: BTreeMap<String, Arc<Theme>>,
    pub by_host: HashMap<String, String>,
    /// The environment with the base templates only (platform index, unknown sites).
    pub base_env: Option<Arc<minijinja::Environment<'static>>>,
}

impl Themes {
    /// Reads every folder of `themes_dir` that has a `theme.toml`; a broken one is logged and
    /// skipped so that one partner's mistake does not take the others down.
    pub fn scan(themes_dir: &Path) -> Themes {
        let mut themes = Themes {
            base_env: Some(Arc::new(crate::render::environment(None, themes_dir.join("base")))),
            ..Themes::default()
        };
        let entries = match std::fs::read_dir(themes_dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(dir = %themes_dir.display(), "cannot read the themes folder: {e}");
                return themes;
            }
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("theme.toml").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|name| name != "base" && valid_id(name))
            .collect();
        ids.sort();
        for id in ids {
            match Theme::load(themes_dir, &id) {
                Ok(theme) => {
                    for host in &theme.file.hosts {
                        themes.by_host.insert(host.to_ascii_lowercase(), theme.tenant.clone());
                    }
                    if let Some(old) = themes.by_tenant.insert(theme.tenant.clone(), Arc::new(theme)) {
                        tracing::warn!(tenant = %old.tenant, "two theme folders name the same tenant; the later one wins");
                    }
                }
                Err(e) => tracing::warn!("theme skipped: {e}"),
            }
        }
        themes
    }

    pub fn tenant(&self, id: &str) -> Option<Arc<Theme>> {
        self.by_tenant.get(id).cloned()
    }

    pub fn host(&self, host: &str) -> Option<Arc<Theme>> {
        let host = host
            .rsplit_once(':')
            .map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
        self.by_host.get(&host.to_ascii_lowercase()).and_then(|t| self.tenant(t))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn ids_and_file_names() {
        assert!(valid_id("lecce"));
        assert!(valid_id("reggio-calabria"));
        for bad in ["", "a", "Lecce", "1lecce", "lecce-", "le--cce", "../x", "base/x"] {
            assert!(!valid_id(bad), "{bad}");
        }
        assert!(safe_file_name("logo.svg"));
        for bad in ["", "../logo.svg", "a/b.svg", ".hidden", "logo svg"] {
            assert!(!safe_file_name(bad), "{bad}");
        }
    }
}
