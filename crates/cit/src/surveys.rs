//! Surveys as code: `cit survey check FILE…` and `cit survey apply --tenant T FILE…`. Each file
//! is one survey (docs/surveys.md); its slug is the file's name without `.toml`. Applying puts
//! it through the same store call as `PUT …/surveys/{slug}`, so the same rules refuse the same
//! changes (a survey already answered keeps its questions).

use std::path::{Path, PathBuf};

use cit_core::TenantId;
use cit_core::surveys::{Survey, SurveyDef, SurveySlug};

use crate::cli::{CliResult, Failure};

/// Reads and checks one survey file; every problem is reported.
pub fn load(path: &Path) -> CliResult<Survey> {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let slug = SurveySlug::parse(name).map_err(|e| {
        Failure::Usage(format!("{}: the file name is the survey's slug: {}", path.display(), e.message))
    })?;
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let def: SurveyDef = toml::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Survey::parse(slug, def).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {}", e.message)).collect();
        Failure::Usage(format!("{}: the survey is not valid:\n{}", path.display(), lines.join("\n")))
    })
}

pub fn check(files: &[PathBuf]) -> CliResult {
    for f in files {
        let s = load(f)?;
        println!("ok: {} ({}, {} questions)", s.slug(), s.title(), s.questions().count());
    }
    Ok(())
}

/// Puts each survey into the tenant.
pub async fn apply(store: &cit_store::Store, tenant: &TenantId, surveys: &[Survey]) -> CliResult {
    let (_, access) = crate::cli::console_in(store, tenant, cit_core::Action::PublishContent).await?;
    let scoped = store.scoped(&access);
    for s in surveys {
        let (_, created) = scoped.put_survey(s, chrono::Utc::now()).await.map_err(|e| match e {
            cit_store::StoreError::Rule { message, .. } => {
                Failure::Conflict(format!("{tenant}: {}: {message}", s.slug()))
            }
            e => Failure::Other(e.into()),
        })?;
        println!("{tenant}: survey {} {}", s.slug(), if created { "created" } else { "updated" });
    }
    Ok(())
}

/// The demo's surveys (built in from schema/surveys/), in every partner that does not have them.
pub async fn demo(store: &cit_store::Store, tenant: &TenantId) -> CliResult {
    let (_, access) = crate::cli::console_in(store, tenant, cit_core::Action::PublishContent).await?;
    let scoped = store.scoped(&access);
    let existing = scoped.surveys().await?;
    for (slug, text) in DEMO {
        if existing.iter().any(|s| s.survey.slug().as_str() == *slug) {
            continue;
        }
        let def: SurveyDef = toml::from_str(text).map_err(|e| Failure::Other(e.into()))?;
        let slug = SurveySlug::parse(slug).map_err(|e| Failure::Other(anyhow::anyhow!(e.message)))?;
        let survey =
            Survey::parse(slug, def).map_err(|_| Failure::Other(anyhow::anyhow!("a demo survey is not valid")))?;
        scoped.put_survey(&survey, chrono::Utc::now()).await?;
    }
    Ok(())
}

const DEMO: &[(&str, &str)] = &[
    ("fabbisogni-digitali", include_str!("../../../schema/surveys/fabbisogni-digitali.toml")),
    ("maturita-digitale", include_str!("../../../schema/surveys/maturita-digitale.toml")),
];
