//! `cit schema export`: a tenant's live content model (content types and forms as stored, with
//! every change made through the API) written back as the TOML that `cit schema check` and
//! `cit schema apply` read, so that it can be versioned and applied to another tenant or
//! environment. The output is deterministic (types and forms by id, fields in their order).

use std::io::Write;
use std::path::{Path, PathBuf};

use cit_core::content::SchemaFile;
use cit_core::{Action, TenantId};
use cit_store::Store;

use crate::cli::{CliResult, Failure};

/// What an export holds, for the progress line.
pub struct Exported {
    pub text: String,
    pub types: usize,
    pub forms: usize,
}

/// The tenant's content types and forms as one schema file.
pub async fn export(store: &Store, tenant: &str) -> CliResult<Exported> {
    let id = TenantId::parse(tenant).map_err(|_| Failure::NotFound(format!("tenant {tenant} not found")))?;
    let (found, access) = crate::cli::console_in(store, &id, Action::ManageSchema).await?;
    let scoped = store.scoped(&access);
    let mut file = SchemaFile::default();
    for stored in scoped.content_types().await? {
        file.types.insert(stored.ct.id.to_string(), stored.ct.def());
    }
    for stored in scoped.forms().await? {
        file.forms.insert(stored.form.id.to_string(), stored.form.def().clone());
    }
    let header = format!(
        "# The content model of tenant `{id}` ({name}), written by `cit schema export`.\n\
         # Apply it with `cit schema apply --tenant <id> FILE`; the format is in schema/README.md.\n\n",
        name = found.name.replace(['\n', '\r'], " "),
    );
    let text = format!("{header}{}", to_toml(&file)?);
    Ok(Exported { text, types: file.types.len(), forms: file.forms.len() })
}

/// The file as TOML, checked to read back as the same model.
fn to_toml(file: &SchemaFile) -> CliResult<String> {
    let raw = toml::to_string_pretty(file)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write the content model as TOML: {e}")))?;
    let text = whole_bounds(&raw);
    // Bounds are written as whole numbers when they are (`max = 160`, as people write them);
    // the result must still read back as exactly this model, or the plain form is kept.
    let text = match SchemaFile::parse_toml(&text) {
        Ok(again) if &again == file => text,
        _ => raw,
    };
    match SchemaFile::parse_toml(&text) {
        Ok(again) if &again == file => Ok(text),
        Ok(_) => Err(Failure::Other(anyhow::anyhow!("the exported TOML does not read back as the same model"))),
        Err(e) => Err(Failure::Other(anyhow::anyhow!("the exported TOML does not read back: {e}"))),
    }
}

/// `min = 160.0` → `min = 160` (and `max`), on lines of their own.
fn whole_bounds(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let whole = ["min = ", "max = "].iter().find_map(|key| {
            let number = line.strip_prefix(key)?.strip_suffix(".0")?;
            let digits = number.strip_prefix('-').unwrap_or(number);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("{key}{number}"))
        });
        out.push_str(whole.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Writes `text` to `path` atomically: a temporary file in the same folder, then a rename, so a
/// reader never sees half a file and a failed export leaves the old one in place.
pub fn write_atomically(path: &Path, text: &str) -> CliResult<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::Usage(format!("--out {}: not a file name", path.display())))?;
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    fn write_then_rename(temp: &Path, path: &Path, text: &str) -> std::io::Result<()> {
        let mut f = std::fs::File::create(temp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(temp, path)
    }
    if let Err(e) = write_then_rename(&temp, path, text) {
        let _ = std::fs::remove_file(&temp);
        return Err(Failure::Other(anyhow::anyhow!("cannot write {}: {e}", path.display())));
    }
    Ok(())
}

/// `cit schema export --tenant ID [--out FILE]`.
pub async fn run(store: &Store, tenant: &str, out: Option<&Path>) -> CliResult {
    let exported = export(store, tenant).await?;
    match out {
        Some(path) => {
            write_atomically(path, &exported.text)?;
            eprintln!(
                "{tenant}: wrote {} content type(s) and {} form(s) to {}",
                exported.types,
                exported.forms,
                path.display()
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not a failure worth a message.
            match stdout.write_all(exported.text.as_bytes()).and_then(|()| stdout.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(Failure::Other(anyhow::anyhow!("cannot write the export: {e}"))),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn whole_bounds_only_touch_whole_numbers_of_min_and_max() {
        let text = "min = 1.0\nmax = -160.0\nmax = 2.5\nname = \"max = 3.0\"\nmin = 1e3\n";
        assert_eq!(whole_bounds(text), "min = 1\nmax = -160\nmax = 2.5\nname = \"max = 3.0\"\nmin = 1e3\n");
    }

    #[test]
    fn the_preset_reads_back_unchanged_with_bounds_written_as_people_write_them() {
        let preset = SchemaFile::parse_toml(crate::schema::CIT_PRESET).unwrap();
        let mut file = SchemaFile::default();
        for ct in preset.content_types().unwrap() {
            file.types.insert(ct.id.to_string(), ct.def());
        }
        for form in cit_core::forms::parse_forms(&preset.forms).unwrap() {
            file.forms.insert(form.id.to_string(), form.def().clone());
        }
        let text = to_toml(&file).unwrap();
        assert_eq!(SchemaFile::parse_toml(&text).unwrap(), file);
        assert!(text.contains("\nmax = 160\n"), "{text}");
        assert!(text.contains("[[types.servizio.fields]]"), "{text}");
    }
}
