//! `cit schema`: content types as code. `check` validates files; `apply` makes one tenant's (or
//! every tenant's) types match them, printing the plan, idempotently, and refusing changes that
//! would lose data unless `--force`.

use std::path::PathBuf;

use cit_core::content::{ContentType, SchemaFile};
use cit_core::forms::{Form, parse_forms};
use cit_core::{Action, PlatformAction, TenantId};
use cit_store::{ApplyReport, Store, StoreError};

use crate::cli::{CliResult, Failure};

/// The CIT preset, built into the binary so `cit demo` works from anywhere.
pub const CIT_PRESET: &str = include_str!("../../../schema/presets/cit.toml");

/// Reads and merges schema files in order, then checks the result (types and forms).
pub fn load(files: &[PathBuf]) -> CliResult<Vec<ContentType>> {
    let merged = merged(files)?;
    forms_of(&merged)?;
    checked(&merged)
}

/// The forms of the merged files, checked.
pub fn load_forms(files: &[PathBuf]) -> CliResult<Vec<Form>> {
    forms_of(&merged(files)?)
}

/// A usage error that lists every problem found in `what`, one a line.
fn not_valid<'a>(what: &str, messages: impl Iterator<Item = &'a str>) -> Failure {
    let lines: Vec<String> = messages.map(|m| format!("  {m}")).collect();
    Failure::Usage(format!("the {what} not valid:\n{}", lines.join("\n")))
}

fn forms_of(file: &SchemaFile) -> CliResult<Vec<Form>> {
    parse_forms(&file.forms).map_err(|errors| not_valid("forms are", errors.iter().map(|e| e.message.as_str())))
}

/// The schema file built into the binary (`schema/presets/cit.toml`).
fn preset_file() -> CliResult<SchemaFile> {
    SchemaFile::parse_toml(CIT_PRESET).map_err(|e| Failure::Other(anyhow::anyhow!("the built-in preset: {e}")))
}

/// The preset's forms.
pub fn preset_forms() -> CliResult<Vec<Form>> {
    forms_of(&preset_file()?)
}

fn merged(files: &[PathBuf]) -> CliResult<SchemaFile> {
    if files.is_empty() {
        return Err(Failure::Usage("give at least one schema file, e.g. schema/presets/cit.toml".into()));
    }
    let mut merged = SchemaFile::default();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        let file = SchemaFile::parse_toml(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        merged = merged.merge(file);
    }
    Ok(merged)
}

pub fn checked(file: &SchemaFile) -> CliResult<Vec<ContentType>> {
    file.content_types().map_err(|errors| not_valid("schema is", errors.iter().map(|e| e.message.as_str())))
}

pub fn preset() -> CliResult<Vec<ContentType>> {
    checked(&preset_file()?)
}

/// What happened in one tenant.
pub fn print_report(tenant: &TenantId, report: &ApplyReport, dry_run: bool) {
    if report.changes.is_empty() {
        println!("{tenant}: up to date");
        return;
    }
    let verb = if dry_run { "would change" } else { "changed" };
    println!("{tenant}: {verb} {} thing(s):", report.changes.len());
    for c in &report.changes {
        let note =
            if c.loses_data() { format!("   ({} entries hold data)", c.affected_entries) } else { String::new() };
        println!("  {}{note}", c.change);
    }
}

/// Applies `forms` to one tenant as the operator (only adds and changes; never removes unless `prune`).
pub async fn apply_forms_to(
    store: &Store,
    tenant: &TenantId,
    forms: &[Form],
    prune: bool,
    dry_run: bool,
) -> CliResult<()> {
    let (_, access) = crate::cli::console_in(store, tenant, Action::ManageSchema).await?;
    let report = store.scoped(&access).apply_forms(forms, prune, dry_run).await?;
    if !report.is_empty() {
        let verb = if dry_run { "would" } else { "did" };
        println!(
            "{tenant}: forms: {verb} add [{}], change [{}], remove [{}]",
            report.added.join(", "),
            report.changed.join(", "),
            report.removed.join(", ")
        );
    }
    Ok(())
}

/// Applies `types` to one tenant as the operator.
pub async fn apply_to(
    store: &Store,
    tenant: &TenantId,
    types: &[ContentType],
    prune: bool,
    force: bool,
    dry_run: bool,
) -> CliResult<ApplyReport> {
    let (_, access) = crate::cli::console_in(store, tenant, Action::ManageSchema).await?;
    match store.scoped(&access).apply_types(types, prune, force, dry_run).await {
        Ok(report) => Ok(report),
        Err(StoreError::Destructive(changes)) => {
            println!("{tenant}: refused, nothing was changed. These changes would lose data:");
            for c in changes.iter().filter(|c| c.loses_data()) {
                println!("  {}   ({} entries hold data)", c.change, c.affected_entries);
            }
            Err(Failure::Conflict("re-run with --force to apply them anyway".into()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn apply(
    store: &Store,
    tenant: Option<String>,
    all: bool,
    files: &[PathBuf],
    prune: bool,
    force: bool,
    dry_run: bool,
) -> CliResult<Vec<TenantId>> {
    let types = load(files)?;
    let forms = load_forms(files)?;
    let tenants: Vec<TenantId> = match (tenant, all) {
        (Some(t), false) => vec![TenantId::parse(&t).map_err(|_| Failure::NotFound(format!("tenant {t} not found")))?],
        (None, true) => {
            let access = crate::cli::console(PlatformAction::ManageTenants)?;
            store.list_tenants(&access).await?.into_iter().map(|t| t.id).collect()
        }
        _ => return Err(Failure::Usage("give --tenant ID or --all-tenants".into())),
    };
    println!("{} content type(s) in {} file(s)", types.len(), files.len());
    let mut changed = Vec::new();
    for tenant in &tenants {
        let report = apply_to(store, tenant, &types, prune, force, dry_run).await?;
        print_report(tenant, &report, dry_run);
        apply_forms_to(store, tenant, &forms, prune, dry_run).await?;
        if report.applied {
            changed.push(tenant.clone());
        }
    }
    Ok(changed)
}
