//! `cit tenant export` and `cit tenant import`: one tenant, whole, as a portable archive.
//!
//! The archive is a gzip-compressed tar file. Its members, in this order:
//! - `tenant.json`: the tenant's own row;
//! - `users.ndjson`: its members' users (by e-mail and name; password hashes only with
//!   `--with-credentials`);
//! - `tables/<table>/<n>.ndjson`: the rows of each tenant-owned table, at most
//!   [`ROWS_PER_MEMBER`] to a member, parents before the rows that refer to them;
//! - `media/<id>`: every media original; `attachments/<submission>/<id>`: every attachment;
//! - last, `manifest.json`: the format and its version, the cit version, the tenant, the rows
//!   per table, and the size and SHA-256 of every other member.
//!
//! Export holds one member in memory at a time. Import reads the archive twice: first to check
//! every byte against the manifest (a truncated, damaged or foreign archive is refused before
//! anything is written), then to load it in one database transaction. Files are written to the
//! storage during the second pass and removed again if the transaction does not commit.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use cit_api::Settings;
use cit_core::{PlatformAction, TenantId};
use cit_store::portable::{Counts, ExportOptions, ImportOptions, Part, TenantImport};
use cit_store::{Store, StoreError};
use clap::Args;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cli::{CliResult, Failure, console};

/// What `format` says in every manifest.
const FORMAT: &str = "cit-tenant";
/// The archive layout this build writes and reads.
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const TENANT: &str = "tenant.json";
const USERS: &str = "users.ndjson";
/// Rows held in memory, and written as one member, at a time.
pub const ROWS_PER_MEMBER: usize = 1_000;
/// A manifest is small; a bigger one is not ours.
const MANIFEST_MAX: u64 = 64 * 1024 * 1024;
/// Rows between two progress lines.
const PROGRESS_EVERY: u64 = 10_000;

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

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    cit_version: String,
    tenant: String,
    exported_at: chrono::DateTime<chrono::Utc>,
    credentials: bool,
    rows: BTreeMap<String, u64>,
    members: Vec<Member>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug)]
struct Member {
    name: String,
    size: u64,
    sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// The archive being written: members go out one at a time, each recorded for the manifest.
struct Writer {
    tar: tar::Builder<GzEncoder<BufWriter<File>>>,
    members: Vec<Member>,
    at: u64,
}

impl Writer {
    fn add(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(self.at);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut header, name, bytes)?;
        self.members.push(Member {
            name: name.to_owned(),
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(bytes)),
        });
        Ok(())
    }
}

/// The rows of one table waiting to become a member.
struct Chunk {
    table: &'static str,
    n: usize,
    bytes: Vec<u8>,
}

fn ndjson_line(buf: &mut Vec<u8>, v: &serde_json::Value) {
    buf.extend_from_slice(v.to_string().as_bytes());
    buf.push(b'\n');
}

pub async fn export(settings: &Settings, args: ExportArgs) -> CliResult {
    let id = TenantId::parse(&args.id).map_err(|_| Failure::NotFound(format!("tenant {} not found", args.id)))?;
    let store = cit_api::open_store(settings).await?;
    if store.tenant(&id).await?.is_none() {
        return Err(Failure::NotFound(format!("tenant {id} not found")));
    }
    let access = console(PlatformAction::MoveTenants)?;
    let media = cit_api::media::open_storage(settings)?;
    let attachments = cit_api::requests::attachments::open_storage(settings)?;
    let started = Instant::now();
    let now = chrono::Utc::now();
    let out =
        args.out.unwrap_or_else(|| PathBuf::from(format!("cit-tenant-{id}-{}.tar.gz", now.format("%Y%m%d-%H%M%S"))));
    if out.exists() {
        return Err(Failure::Conflict(format!("{} exists: choose another --out", out.display())));
    }
    let partial = out.with_extension("partial");
    let file = File::create(&partial)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {}: {e}", partial.display())))?;
    let mut w = Writer {
        tar: tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default())),
        members: Vec::new(),
        at: now.timestamp().max(0) as u64,
    };
    let result = write_archive(&store, &access, &id, args.with_credentials, &mut w, &*media, &*attachments).await;
    let counts = match result {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        cit_version: env!("CARGO_PKG_VERSION").into(),
        tenant: id.to_string(),
        exported_at: now,
        credentials: args.with_credentials,
        rows: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        members: std::mem::take(&mut w.members),
    };
    let finish = (|| -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&manifest)?;
        w.add(MANIFEST, &bytes)?;
        let gz = w.tar.into_inner()?;
        let mut file = gz.finish()?;
        file.flush()?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, &out)
    })();
    if let Err(e) = finish {
        let _ = std::fs::remove_file(&partial);
        return Err(Failure::Other(anyhow::anyhow!("cannot write {}: {e}", out.display())));
    }
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let rows: u64 = counts.values().sum();
    println!(
        "exported tenant {id}: {rows} rows ({} entries, {} revisions, {} media files) to {} ({:.1} MB) in {:.1} s",
        counts.get("entries").unwrap_or(&0),
        counts.get("entry_revisions").unwrap_or(&0),
        counts.get("media").unwrap_or(&0),
        out.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    if !args.with_credentials {
        println!("  no passwords or webhook secrets are in it: members set a password after the import");
    }
    Ok(())
}

async fn write_archive(
    store: &Store,
    access: &cit_core::PlatformAccess,
    id: &TenantId,
    credentials: bool,
    w: &mut Writer,
    media: &dyn ObjectStore,
    attachments: &dyn ObjectStore,
) -> CliResult<Counts> {
    let mut users: Vec<u8> = Vec::new();
    let mut chunk: Option<Chunk> = None;
    let mut seq: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut files: Vec<(ObjectPath, String, bool)> = Vec::new();
    let mut rows: u64 = 0;
    let mut users_written = false;
    let started = Instant::now();
    let flush = |w: &mut Writer, c: Chunk, seq: &mut BTreeMap<&'static str, usize>| -> io::Result<()> {
        let n = seq.entry(c.table).or_default();
        *n += 1;
        w.add(&format!("tables/{}/{:06}.ndjson", c.table, n), &c.bytes)
    };
    let mut sink = |part: Part| -> Result<(), StoreError> {
        match part {
            Part::Tenant(v) => w.add(TENANT, v.to_string().as_bytes()).map_err(io_err("writing the archive")),
            Part::User(v) => {
                ndjson_line(&mut users, &v);
                Ok(())
            }
            Part::Row { table, row } => {
                if !users_written {
                    w.add(USERS, &users).map_err(io_err("writing the archive"))?;
                    users_written = true;
                }
                match table {
                    "media" => {
                        let mid: Uuid = row["id"].as_str().unwrap_or_default().parse().unwrap_or_default();
                        files.push((
                            cit_api::media::original_path(id.as_str(), mid.into()),
                            format!("media/{mid}"),
                            true,
                        ));
                    }
                    "submission_attachments" => {
                        let sub = row["submission_id"].as_str().unwrap_or_default().to_owned();
                        let aid = row["id"].as_str().unwrap_or_default().to_owned();
                        files.push((
                            cit_api::requests::attachments::key(
                                id.as_str(),
                                sub.parse().unwrap_or_default(),
                                aid.parse().unwrap_or_default(),
                            ),
                            format!("attachments/{sub}/{aid}"),
                            false,
                        ));
                    }
                    _ => {}
                }
                let full = chunk.as_ref().is_some_and(|c| c.table != table || c.n >= ROWS_PER_MEMBER);
                if full && let Some(c) = chunk.take() {
                    flush(w, c, &mut seq).map_err(io_err("writing the archive"))?;
                }
                let c = chunk.get_or_insert_with(|| Chunk { table, n: 0, bytes: Vec::new() });
                ndjson_line(&mut c.bytes, &row);
                c.n += 1;
                rows += 1;
                if rows.is_multiple_of(PROGRESS_EVERY) {
                    eprintln!("  {rows} rows exported ({table}), {:.0} s", started.elapsed().as_secs_f64());
                }
                Ok(())
            }
        }
    };
    let counts = store.export_tenant(access, id, ExportOptions { credentials }, &mut sink).await?;
    if !users_written {
        w.add(USERS, &users).map_err(|e| Failure::Other(e.into()))?;
    }
    if let Some(c) = chunk.take() {
        flush(w, c, &mut seq).map_err(|e| Failure::Other(e.into()))?;
    }
    let total = files.len();
    for (n, (key, name, is_media)) in files.into_iter().enumerate() {
        let from = if is_media { media } else { attachments };
        let bytes = match from.get(&key).await {
            Ok(got) => got.bytes().await.map_err(|e| Failure::Other(anyhow::anyhow!("cannot read {key}: {e}")))?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Failure::Other(anyhow::anyhow!(
                    "{name} is in the catalogue but its file {key} is missing from the storage: nothing was exported"
                )));
            }
            Err(e) => return Err(Failure::Other(anyhow::anyhow!("cannot read {key}: {e}"))),
        };
        w.add(&name, &bytes).map_err(|e| Failure::Other(e.into()))?;
        if (n + 1) % 500 == 0 {
            eprintln!("  {} of {total} files exported", n + 1);
        }
    }
    Ok(counts)
}

/// Reads every member of the archive at `path`, checks it against the manifest, and returns
/// the manifest: the first pass of an import, before anything is written.
fn verify(path: &Path) -> CliResult<Manifest> {
    let damaged = |e: io::Error| Failure::Usage(format!("{} is damaged or truncated: {e}", path.display()));
    let file = File::open(path).map_err(|e| Failure::NotFound(format!("cannot open {}: {e}", path.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut seen: Vec<Member> = Vec::new();
    let mut manifest: Option<Vec<u8>> = None;
    for entry in archive.entries().map_err(|e| {
        Failure::Usage(format!(
            "{} is not a cit tenant archive (a .tar.gz written by cit tenant export): {e}",
            path.display()
        ))
    })? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry.path().map_err(damaged)?.to_string_lossy().into_owned();
        if manifest.is_some() {
            return Err(Failure::Usage(format!(
                "{} has members after its manifest: not a cit tenant archive",
                path.display()
            )));
        }
        if name == MANIFEST {
            if entry.size() > MANIFEST_MAX {
                return Err(Failure::Usage(format!("{} is not a cit tenant archive", path.display())));
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            manifest = Some(bytes);
            continue;
        }
        let mut hasher = Sha256::new();
        let size = io::copy(&mut entry, &mut HashWriter(&mut hasher)).map_err(damaged)?;
        seen.push(Member { name, size, sha256: hex(&hasher.finalize()) });
    }
    let Some(bytes) = manifest else {
        return Err(Failure::Usage(format!(
            "{} is truncated or not a cit tenant archive: it has no manifest (nothing was imported)",
            path.display()
        )));
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::Usage(format!("{} has a manifest that does not read: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(Failure::Usage(format!(
            "{} is a {:?} archive, not a cit tenant archive (for a backup, use cit restore)",
            path.display(),
            manifest.format
        )));
    }
    if manifest.format_version != FORMAT_VERSION {
        return Err(Failure::Usage(format!(
            "{} has format version {} (written by cit {}); this cit {} reads version {FORMAT_VERSION}",
            path.display(),
            manifest.format_version,
            manifest.cit_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    if seen != manifest.members {
        let listed: std::collections::HashMap<&str, &Member> =
            manifest.members.iter().map(|m| (m.name.as_str(), m)).collect();
        let what = seen
            .iter()
            .find(|m| listed.get(m.name.as_str()) != Some(m))
            .map(|m| format!("{} does not match its checksum", m.name))
            .or_else(|| {
                let present: std::collections::HashSet<&str> = seen.iter().map(|m| m.name.as_str()).collect();
                manifest
                    .members
                    .iter()
                    .find(|m| !present.contains(m.name.as_str()))
                    .map(|m| format!("{} is missing", m.name))
            })
            .unwrap_or_else(|| "its members are out of order".into());
        return Err(Failure::Usage(format!("{} is damaged: {what} (nothing was imported)", path.display())));
    }
    Ok(manifest)
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub async fn import(settings: &Settings, args: ImportArgs) -> CliResult {
    let as_id =
        args.as_id.as_deref().map(TenantId::parse).transpose().map_err(|e| Failure::Usage(format!("--as: {e}")))?;
    let started = Instant::now();
    let manifest = verify(&args.file)?;
    let target = as_id.clone().map_or_else(|| manifest.tenant.clone(), |t| t.to_string());
    eprintln!(
        "  {} checked: tenant {}, {} members, written by cit {} on {}",
        args.file.display(),
        manifest.tenant,
        manifest.members.len(),
        manifest.cit_version,
        manifest.exported_at.format("%Y-%m-%d %H:%M UTC")
    );
    let store = cit_api::open_store(settings).await?;
    let access = console(PlatformAction::MoveTenants)?;
    let media = cit_api::media::open_storage(settings)?;
    let attachments = cit_api::requests::attachments::open_storage(settings)?;
    let mut written: Vec<(Arc<dyn ObjectStore>, ObjectPath)> = Vec::new();
    let result = load(&store, &access, &args.file, as_id, &media, &attachments, &mut written).await;
    let counts = match result {
        Ok(counts) => counts,
        Err(e) => {
            for (storage, key) in written {
                cit_api::media::discard(&*storage, &key).await;
            }
            return Err(e);
        }
    };
    let tenant = TenantId::parse(&target).map_err(|e| Failure::Other(e.into()))?;
    crate::cli::tell_api_nodes(settings, &store, &[tenant]).await?;
    let rows: u64 = counts.values().sum();
    println!(
        "imported tenant {target} from {}: {rows} rows ({} entries, {} revisions, {} media files) in {:.1} s",
        args.file.display(),
        counts.get("entries").unwrap_or(&0),
        counts.get("entry_revisions").unwrap_or(&0),
        counts.get("media").unwrap_or(&0),
        started.elapsed().as_secs_f64()
    );
    if !manifest.credentials {
        println!("  the archive carried no passwords: new members set one with `cit user passwd --email EMAIL`");
    }
    Ok(())
}

async fn load(
    store: &Store,
    access: &cit_core::PlatformAccess,
    path: &Path,
    as_id: Option<TenantId>,
    media: &Arc<dyn ObjectStore>,
    attachments: &Arc<dyn ObjectStore>,
    written: &mut Vec<(Arc<dyn ObjectStore>, ObjectPath)>,
) -> CliResult<Counts> {
    let damaged = |e: io::Error| Failure::Usage(format!("{} changed while it was imported: {e}", path.display()));
    let file = File::open(path).map_err(|e| Failure::NotFound(format!("cannot open {}: {e}", path.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut import: Option<TenantImport<'_>> = None;
    let mut rows: u64 = 0;
    let started = Instant::now();
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry.path().map_err(damaged)?.to_string_lossy().into_owned();
        if name == MANIFEST {
            break;
        }
        if name == TENANT {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            let row =
                serde_json::from_slice(&bytes).map_err(|e| Failure::Usage(format!("{TENANT} does not read: {e}")))?;
            import = Some(
                store
                    .import_tenant(
                        access,
                        row,
                        ImportOptions { as_id: as_id.clone(), new_secret: cit_api::webhooks::new_secret },
                    )
                    .await?,
            );
            continue;
        }
        let Some(im) = import.as_mut() else {
            return Err(Failure::Usage(format!("{} does not start with {TENANT}", path.display())));
        };
        if name == USERS || name.starts_with("tables/") {
            let table = name.strip_prefix("tables/").and_then(|t| t.split('/').next()).map(str::to_owned);
            for line in BufReader::new(&mut entry).lines() {
                let line = line.map_err(damaged)?;
                let row =
                    serde_json::from_str(&line).map_err(|e| Failure::Usage(format!("{name} does not read: {e}")))?;
                match &table {
                    None => im.user(row).await?,
                    Some(t) => {
                        im.row(t, row).await?;
                        rows += 1;
                        if rows.is_multiple_of(PROGRESS_EVERY) {
                            eprintln!("  {rows} rows imported ({t}), {:.0} s", started.elapsed().as_secs_f64());
                        }
                    }
                }
            }
        } else if let Some(rest) = name.strip_prefix("media/") {
            let old: Uuid = rest.parse().map_err(|_| Failure::Usage(format!("{name} is not a media file of cit")))?;
            let key = cit_api::media::original_path(im.tenant().as_str(), im.id(old).into());
            put(media, key, &mut entry, written).await.map_err(damaged)?;
        } else if let Some(rest) = name.strip_prefix("attachments/") {
            let (sub, id) = rest
                .split_once('/')
                .and_then(|(s, i)| Some((s.parse::<Uuid>().ok()?, i.parse::<Uuid>().ok()?)))
                .ok_or_else(|| Failure::Usage(format!("{name} is not an attachment of cit")))?;
            let key = cit_api::requests::attachments::key(im.tenant().as_str(), im.id(sub), im.id(id));
            put(attachments, key, &mut entry, written).await.map_err(damaged)?;
        } else {
            return Err(Failure::Usage(format!(
                "{} holds {name}, which is not part of a tenant archive",
                path.display()
            )));
        }
    }
    let import = import.ok_or_else(|| Failure::Usage(format!("{} holds no tenant", path.display())))?;
    Ok(import.commit().await?)
}

async fn put(
    storage: &Arc<dyn ObjectStore>,
    key: ObjectPath,
    entry: &mut impl Read,
    written: &mut Vec<(Arc<dyn ObjectStore>, ObjectPath)>,
) -> io::Result<()> {
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    storage.put(&key, PutPayload::from(bytes)).await.map_err(io::Error::other)?;
    written.push((storage.clone(), key));
    Ok(())
}
