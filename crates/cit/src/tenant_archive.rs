//! `cit tenant export` and `cit tenant import`: one tenant, whole, as a portable archive. The
//! archive and both operations are [`cit_api::portable::archive`]'s (the admin API runs the same
//! as background jobs); this is their command line: arguments, progress and exit codes.

use std::path::PathBuf;
use std::time::Instant;

use cit_api::Settings;
use cit_api::portable::archive::{self, ArchiveError, Progress, Storages};
use cit_core::{PlatformAction, TenantId};
use clap::Args;

use crate::cli::{CliResult, Failure, console};

#[derive(Args)]
pub struct ExportArgs {
    /// The tenant to export.
    id: String,
    /// The archive to write (default: ./cit-tenant-ID-YYYYMMDD-HHMMSS.tar.gz). It must not exist.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write the members' password hashes and the webhooks' signing secrets. Keep such an
    /// archive as you would keep the passwords.
    #[arg(long)]
    with_credentials: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    /// An archive written by `cit tenant export`.
    file: PathBuf,
    /// Load it as a new tenant with this id: a copy with new ids, no host names and its
    /// webhooks disabled (see docs/portability.md).
    #[arg(long = "as", value_name = "NEW_ID")]
    as_id: Option<String>,
}

impl From<ArchiveError> for Failure {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Refused(m) => Failure::Usage(m),
            ArchiveError::NotFound(m) => Failure::NotFound(m),
            ArchiveError::Conflict(m) => Failure::Conflict(m),
            ArchiveError::Failed(e) => Failure::Other(e),
        }
    }
}

pub async fn export(settings: &Settings, args: ExportArgs) -> CliResult {
    let id = TenantId::parse(&args.id).map_err(|_| Failure::NotFound(format!("tenant {} not found", args.id)))?;
    let store = cit_api::open_store(settings).await?;
    let access = console(PlatformAction::MoveTenants)?;
    let media = cit_api::media::open_storage(settings)?;
    let attachments = cit_api::requests::attachments::open_storage(settings)?;
    let started = Instant::now();
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from(format!("cit-tenant-{id}-{}.tar.gz", chrono::Utc::now().format("%Y%m%d-%H%M%S")))
    });
    if out.exists() {
        return Err(Failure::Conflict(format!("{} exists: choose another --out", out.display())));
    }
    let files = Storages { media: &media, attachments: &attachments };
    let done = archive::export(&store, &access, &id, args.with_credentials, files, &out, &Progress::printing()).await?;
    let rows: u64 = done.counts.values().sum();
    println!(
        "exported tenant {id}: {rows} rows ({} entries, {} revisions, {} media files) to {} ({:.1} MB) in {:.1} s",
        done.counts.get("entries").unwrap_or(&0),
        done.counts.get("entry_revisions").unwrap_or(&0),
        done.counts.get("media").unwrap_or(&0),
        out.display(),
        done.size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    if !args.with_credentials {
        println!("  no passwords or webhook secrets are in it: members set a password after the import");
    }
    Ok(())
}

pub async fn import(settings: &Settings, args: ImportArgs) -> CliResult {
    let as_id =
        args.as_id.as_deref().map(TenantId::parse).transpose().map_err(|e| Failure::Usage(format!("--as: {e}")))?;
    let started = Instant::now();
    let shown = args.file.display().to_string();
    // Checked before the database is opened: a bad archive is refused on any machine.
    let manifest = archive::verify(&args.file, &shown)?;
    let store = cit_api::open_store(settings).await?;
    let access = console(PlatformAction::MoveTenants)?;
    let media = cit_api::media::open_storage(settings)?;
    let attachments = cit_api::requests::attachments::open_storage(settings)?;
    let files = Storages { media: &media, attachments: &attachments };
    let done =
        archive::import_checked(&store, &access, &args.file, &shown, manifest, as_id, files, &Progress::printing())
            .await?;
    crate::cli::tell_api_nodes(settings, &store, std::slice::from_ref(&done.tenant)).await?;
    let rows: u64 = done.counts.values().sum();
    println!(
        "imported tenant {} from {shown}: {rows} rows ({} entries, {} revisions, {} media files) in {:.1} s",
        done.tenant,
        done.counts.get("entries").unwrap_or(&0),
        done.counts.get("entry_revisions").unwrap_or(&0),
        done.counts.get("media").unwrap_or(&0),
        started.elapsed().as_secs_f64()
    );
    if !done.manifest.credentials {
        println!("  the archive carried no passwords: new members set one with `cit user passwd --email EMAIL`");
    }
    Ok(())
}
