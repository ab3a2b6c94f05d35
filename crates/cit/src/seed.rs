//! Demo content: `demo/content/common.toml` then `demo/content/<tenant>.toml`, built into the
//! binary. Entries are created in file order through the same validation as the API; those
//! already there (same type, slug and locale) are left alone, so seeding twice adds nothing.

use chrono::{DateTime, Utc};
use cit_core::content::{ContentType, EntryInput, FieldKind, Slug, WriteError, slugify};
use cit_core::{Action, Locale, TenantId};
use cit_store::{Entry, EntryKey, EntryStatus, Store, StoreError, TenantStore};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cli::{CliResult, Failure};

pub const COMMON: &str = include_str!("../../../demo/content/common.toml");

pub fn partner_content(tenant: &str) -> Option<&'static str> {
    Some(match tenant {
        "lecce" => include_str!("../../../demo/content/lecce.toml"),
        "genova" => include_str!("../../../demo/content/genova.toml"),
        "avellino" => include_str!("../../../demo/content/avellino.toml"),
        "potenza" => include_str!("../../../demo/content/potenza.toml"),
        "brescia" => include_str!("../../../demo/content/brescia.toml"),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContentFile {
    #[serde(default)]
    entries: Vec<SeedEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEntry {
    #[serde(rename = "type")]
    type_id: String,
    slug: Option<String>,
    status: Option<String>,
    locale: Option<String>,
    publish_at: Option<DateTime<Utc>>,
    data: Map<String, Value>,
}

/// Seeds one content file into a tenant; returns how many entries it created.
pub async fn seed(store: &Store, tenant: &TenantId, types: &[ContentType], name: &str, text: &str) -> CliResult<usize> {
    let file: ContentFile = toml::from_str(text).map_err(|e| Failure::Other(anyhow::anyhow!("{name}: {e}")))?;
    let (t, access) = crate::cli::console_in(store, tenant, Action::PublishContent).await?;
    let scoped = store.scoped(&access);
    let mut created = 0;
    for (i, e) in file.entries.into_iter().enumerate() {
        let at = || format!("{name}, entry {} ({})", i + 1, e.type_id);
        let ct = types
            .iter()
            .find(|c| c.id.as_str() == e.type_id)
            .ok_or_else(|| Failure::Other(anyhow::anyhow!("{}: unknown type", at())))?;
        let locale = Locale::of_tenant(&t.locales, e.locale.as_deref())
            .map_err(|err| Failure::Other(anyhow::anyhow!("{}: {}", at(), err.message)))?;
        let slug = match &e.slug {
            Some(s) => Slug::parse(s).map_err(|err| Failure::Other(anyhow::anyhow!("{}: {err}", at())))?,
            None => e
                .data
                .get(ct.slug_from.as_str())
                .and_then(Value::as_str)
                .and_then(slugify)
                .ok_or_else(|| Failure::Other(anyhow::anyhow!("{}: no title to make a slug from", at())))?,
        };
        if scoped.entry(ct.id.as_str(), EntryKey::Slug(slug.as_str(), &locale), &EntryStatus::ALL).await?.is_some() {
            continue;
        }
        let mut data = e.data.clone();
        resolve_references(&scoped, ct, &locale, &mut data)
            .await
            .map_err(|m| Failure::Other(anyhow::anyhow!("{}: {m}", at())))?;
        let status = match e.status.as_deref() {
            None => EntryStatus::Published,
            Some(s) => {
                EntryStatus::parse(s).ok_or_else(|| Failure::Other(anyhow::anyhow!("{}: bad status {s}", at())))?
            }
        };
        let input = EntryInput {
            data: Some(data),
            locale: Some(locale.to_string()),
            slug: Some(slug),
            status: Some(status),
            publish_at: Some(e.publish_at),
            ..EntryInput::default()
        };
        create_entry(&scoped, ct, &t.locales, input)
            .await
            .map_err(|err| Failure::Other(anyhow::anyhow!("{}: {err}", at())))?;
        created += 1;
    }
    Ok(created)
}

/// Why [`create_entry`] did not create an entry.
#[derive(Debug)]
pub enum CreateError {
    /// The data does not fit its type: every problem, `path: message`, joined.
    Invalid(String),
    /// The store refused it (a missing reference, a taken slug or unique value) or failed.
    Store(StoreError),
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreateError::Invalid(m) => f.write_str(m),
            CreateError::Store(e) => write!(f, "{e}"),
        }
    }
}

/// Creates one entry through the API's write path: `cit-core` plans it (the right it needs, the
/// locale, the data validated against its type: a draft without a schedule may be incomplete,
/// anything else needs every required field, defaults applied), then the store checks
/// references and unique values and writes the entry, its first revision, its search index
/// rows and the audit line in one transaction.
pub async fn create_entry(
    scoped: &TenantStore<'_>,
    ct: &ContentType,
    tenant_locales: &[String],
    input: EntryInput,
) -> Result<Entry, CreateError> {
    let new = input.plan_create(ct, tenant_locales).map_err(|e| match e {
        WriteError::Data(errs) => CreateError::Invalid(
            errs.iter().map(|x| format!("{}: {}", x.path, x.message)).collect::<Vec<_>>().join("; "),
        ),
        other => CreateError::Invalid(other.to_string()),
    })?;
    scoped.create_entry(ct, new).await.map_err(CreateError::Store)
}

/// Turns slugs in reference fields into the ids of the entries they name.
async fn resolve_references(
    scoped: &TenantStore<'_>,
    ct: &ContentType,
    locale: &Locale,
    data: &mut Map<String, Value>,
) -> Result<(), String> {
    for f in &ct.fields {
        let FieldKind::Reference { to, .. } = &f.kind else { continue };
        let Some(value) = data.get_mut(f.name.as_str()) else { continue };
        let resolve = async |slug: &str| -> Result<Value, String> {
            let found = scoped
                .entry(to.as_str(), EntryKey::Slug(slug, locale), &EntryStatus::ALL)
                .await
                .map_err(|e| e.to_string())?;
            found
                .map(|e| Value::String(e.id.to_string()))
                .ok_or_else(|| format!("{}: no {to} with slug {slug}", f.name))
        };
        *value = match value.take() {
            Value::String(s) => resolve(&s).await?,
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => out.push(resolve(s).await?),
                        None => return Err(format!("{}: references are written as slugs", f.name)),
                    }
                }
                Value::Array(out)
            }
            other => other,
        };
    }
    Ok(())
}
