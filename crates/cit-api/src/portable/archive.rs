//! The tenant archive: one tenant, whole, as a gzip-compressed tar file. Written and read by
//! `cit tenant export` / `cit tenant import` and by the admin API's jobs ([`super::jobs`]).
//!
//! Its members, in this order:
//! - `tenant.json`: the tenant's own row;
//! - `users.ndjson`: its members' users (by e-mail and name; password hashes only with
//!   credentials);
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
//!
//! Both read and write the file with blocking calls between awaits: run them where that is
//! allowed (the CLI's runtime, or a blocking thread as the jobs do).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cit_core::{PlatformAccess, TenantId};
use cit_store::portable::{Counts, ExportOptions, ImportOptions, Part, TenantImport};
use cit_store::{Store, StoreError};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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

/// Why an export or an import did not happen. Whatever the reason, nothing was left behind:
/// no partial archive, no imported row, no stored file.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive is damaged, truncated, foreign, of another version, or holds a row the
    /// database refuses.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    /// The tenant, or rows of the archive, are already in this instance.
    #[error("{0}")]
    Conflict(String),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl ArchiveError {
    /// The `code` the admin API reports for it.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::Refused(_) => "archive_refused",
            ArchiveError::NotFound(_) => "not_found",
            ArchiveError::Conflict(_) => "conflict",
            ArchiveError::Failed(_) => "internal",
        }
    }
}

impl From<StoreError> for ArchiveError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ArchiveError::NotFound(format!("{what} not found")),
            StoreError::Conflict { message, .. } | StoreError::Rule { message, .. } => ArchiveError::Conflict(message),
            StoreError::Invalid { message, .. } => ArchiveError::Refused(message),
            other => ArchiveError::Failed(other.into()),
        }
    }
}

fn failed(context: impl std::fmt::Display) -> impl FnOnce(io::Error) -> ArchiveError {
    let context = context.to_string();
    move |e| ArchiveError::Failed(anyhow::anyhow!("{context}: {e}"))
}

/// Rows done so far: printed every [`PROGRESS_EVERY`] rows when asked (the CLI), read by the
/// job's heartbeat (the admin API).
#[derive(Debug)]
pub struct Progress {
    rows: AtomicU64,
    print: bool,
    started: Instant,
}

impl Progress {
    pub fn printing() -> Self {
        Self { rows: AtomicU64::new(0), print: true, started: Instant::now() }
    }
    pub fn quiet() -> Self {
        Self { rows: AtomicU64::new(0), print: false, started: Instant::now() }
    }
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
    fn row(&self, what: &str, table: &str) {
        let n = self.rows.fetch_add(1, Ordering::Relaxed) + 1;
        if self.print && n.is_multiple_of(PROGRESS_EVERY) {
            eprintln!("  {n} rows {what} ({table}), {:.0} s", self.started.elapsed().as_secs_f64());
        }
    }
    fn say(&self, line: impl FnOnce() -> String) {
        if self.print {
            eprintln!("  {}", line());
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub cit_version: String,
    pub tenant: String,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub credentials: bool,
    pub rows: BTreeMap<String, u64>,
    members: Vec<Member>,
}

impl Manifest {
    pub fn members(&self) -> usize {
        self.members.len()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    pub counts: Counts,
    /// The archive's size in bytes.
    pub size: u64,
}

/// Where an export reads the files it packs.
pub struct Storages<'a> {
    pub media: &'a Arc<dyn ObjectStore>,
    pub attachments: &'a Arc<dyn ObjectStore>,
}

/// Writes tenant `id` to the archive `out` (which is replaced): first to `out` with the
/// extension `.partial`, renamed once whole and synced. On failure nothing is left.
pub async fn export(
    store: &Store,
    access: &PlatformAccess,
    id: &TenantId,
    credentials: bool,
    files: Storages<'_>,
    out: &Path,
    progress: &Progress,
) -> Result<Exported, ArchiveError> {
    if store.tenant(id).await?.is_none() {
        return Err(ArchiveError::NotFound(format!("tenant {id} not found")));
    }
    let now = chrono::Utc::now();
    let partial = out.with_extension("partial");
    let file = File::create(&partial).map_err(failed(format_args!("cannot write {}", partial.display())))?;
    let mut w = Writer {
        tar: tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default())),
        members: Vec::new(),
        at: now.timestamp().max(0) as u64,
    };
    let counts = match write_archive(store, access, id, credentials, &mut w, &files, progress).await {
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
        credentials,
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
        std::fs::rename(&partial, out)
    })();
    if let Err(e) = finish {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(format_args!("cannot write {}", out.display()))(e));
    }
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(Exported { counts, size })
}

async fn write_archive(
    store: &Store,
    access: &PlatformAccess,
    id: &TenantId,
    credentials: bool,
    w: &mut Writer,
    files: &Storages<'_>,
    progress: &Progress,
) -> Result<Counts, ArchiveError> {
    let mut users: Vec<u8> = Vec::new();
    let mut chunk: Option<Chunk> = None;
    let mut seq: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut to_pack: Vec<(ObjectPath, String, bool)> = Vec::new();
    let mut users_written = false;
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
                        to_pack.push((
                            crate::media::original_path(id.as_str(), mid.into()),
                            format!("media/{mid}"),
                            true,
                        ));
                    }
                    "submission_attachments" => {
                        let sub = row["submission_id"].as_str().unwrap_or_default().to_owned();
                        let aid = row["id"].as_str().unwrap_or_default().to_owned();
                        to_pack.push((
                            crate::requests::attachments::key(
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
                progress.row("exported", table);
                Ok(())
            }
        }
    };
    let counts = store.export_tenant(access, id, ExportOptions { credentials }, &mut sink).await?;
    if !users_written {
        w.add(USERS, &users).map_err(failed("cannot write the archive"))?;
    }
    if let Some(c) = chunk.take() {
        flush(w, c, &mut seq).map_err(failed("cannot write the archive"))?;
    }
    let total = to_pack.len();
    for (n, (key, name, is_media)) in to_pack.into_iter().enumerate() {
        let from = if is_media { files.media } else { files.attachments };
        let bytes = match from.get(&key).await {
            Ok(got) => {
                got.bytes().await.map_err(|e| ArchiveError::Failed(anyhow::anyhow!("cannot read {key}: {e}")))?
            }
            Err(object_store::Error::NotFound { .. }) => {
                return Err(ArchiveError::Failed(anyhow::anyhow!(
                    "{name} is in the catalogue but its file {key} is missing from the storage: nothing was exported"
                )));
            }
            Err(e) => return Err(ArchiveError::Failed(anyhow::anyhow!("cannot read {key}: {e}"))),
        };
        w.add(&name, &bytes).map_err(failed("cannot write the archive"))?;
        if (n + 1) % 500 == 0 {
            progress.say(|| format!("{} of {total} files exported", n + 1));
        }
    }
    Ok(counts)
}

/// Reads every member of the archive at `path`, checks it against the manifest, and returns
/// the manifest: the first pass of an import, before anything is written. `shown` names the
/// archive in messages.
pub fn verify(path: &Path, shown: &str) -> Result<Manifest, ArchiveError> {
    let damaged = |e: io::Error| ArchiveError::Refused(format!("{shown} is damaged or truncated: {e}"));
    let file = File::open(path).map_err(|e| ArchiveError::NotFound(format!("cannot open {shown}: {e}")))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut seen: Vec<Member> = Vec::new();
    let mut manifest: Option<Vec<u8>> = None;
    for entry in archive.entries().map_err(|e| {
        ArchiveError::Refused(format!(
            "{shown} is not a cit tenant archive (a .tar.gz written by cit tenant export): {e}"
        ))
    })? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry.path().map_err(damaged)?.to_string_lossy().into_owned();
        if manifest.is_some() {
            return Err(ArchiveError::Refused(format!(
                "{shown} has members after its manifest: not a cit tenant archive"
            )));
        }
        if name == MANIFEST {
            if entry.size() > MANIFEST_MAX {
                return Err(ArchiveError::Refused(format!("{shown} is not a cit tenant archive")));
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
        return Err(ArchiveError::Refused(format!(
            "{shown} is truncated or not a cit tenant archive: it has no manifest (nothing was imported)"
        )));
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| ArchiveError::Refused(format!("{shown} has a manifest that does not read: {e}")))?;
    if manifest.format != FORMAT {
        return Err(ArchiveError::Refused(format!(
            "{shown} is a {:?} archive, not a cit tenant archive (for a backup, use cit restore)",
            manifest.format
        )));
    }
    if manifest.format_version != FORMAT_VERSION {
        return Err(ArchiveError::Refused(format!(
            "{shown} has format version {} (written by cit {}); this cit {} reads version {FORMAT_VERSION}",
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
        return Err(ArchiveError::Refused(format!("{shown} is damaged: {what} (nothing was imported)")));
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

/// What an import loaded.
#[derive(Debug)]
pub struct Imported {
    /// The tenant created: the archive's, or the `--as` id.
    pub tenant: TenantId,
    pub counts: Counts,
    pub manifest: Manifest,
}

/// Checks the archive at `path`, then loads it as one tenant (as `as_id` when given). On any
/// failure nothing is imported: the transaction rolls back and the files already stored are
/// removed. The caller tells the API nodes about the new tenant.
pub async fn import(
    store: &Store,
    access: &PlatformAccess,
    path: &Path,
    shown: &str,
    as_id: Option<TenantId>,
    files: Storages<'_>,
    progress: &Progress,
) -> Result<Imported, ArchiveError> {
    let manifest = verify(path, shown)?;
    import_checked(store, access, path, shown, manifest, as_id, files, progress).await
}

/// [`import`] of an archive that [`verify`] has just checked and described by `manifest`.
#[allow(clippy::too_many_arguments)]
pub async fn import_checked(
    store: &Store,
    access: &PlatformAccess,
    path: &Path,
    shown: &str,
    manifest: Manifest,
    as_id: Option<TenantId>,
    files: Storages<'_>,
    progress: &Progress,
) -> Result<Imported, ArchiveError> {
    progress.say(|| {
        format!(
            "{shown} checked: tenant {}, {} members, written by cit {} on {}",
            manifest.tenant,
            manifest.members.len(),
            manifest.cit_version,
            manifest.exported_at.format("%Y-%m-%d %H:%M UTC")
        )
    });
    let mut written: Vec<(Arc<dyn ObjectStore>, ObjectPath)> = Vec::new();
    match load(store, access, path, shown, as_id, &files, &mut written, progress).await {
        Ok((tenant, counts)) => Ok(Imported { tenant, counts, manifest }),
        Err(e) => {
            for (storage, key) in written {
                crate::media::discard(&*storage, &key).await;
            }
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn load(
    store: &Store,
    access: &PlatformAccess,
    path: &Path,
    shown: &str,
    as_id: Option<TenantId>,
    files: &Storages<'_>,
    written: &mut Vec<(Arc<dyn ObjectStore>, ObjectPath)>,
    progress: &Progress,
) -> Result<(TenantId, Counts), ArchiveError> {
    let damaged = |e: io::Error| ArchiveError::Refused(format!("{shown} changed while it was imported: {e}"));
    let file = File::open(path).map_err(|e| ArchiveError::NotFound(format!("cannot open {shown}: {e}")))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut import: Option<TenantImport<'_>> = None;
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry.path().map_err(damaged)?.to_string_lossy().into_owned();
        if name == MANIFEST {
            break;
        }
        if name == TENANT {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            let row = serde_json::from_slice(&bytes)
                .map_err(|e| ArchiveError::Refused(format!("{TENANT} does not read: {e}")))?;
            import = Some(
                store
                    .import_tenant(
                        access,
                        row,
                        ImportOptions { as_id: as_id.clone(), new_secret: crate::webhooks::new_secret },
                    )
                    .await?,
            );
            continue;
        }
        let Some(im) = import.as_mut() else {
            return Err(ArchiveError::Refused(format!("{shown} does not start with {TENANT}")));
        };
        if name == USERS || name.starts_with("tables/") {
            let table = name.strip_prefix("tables/").and_then(|t| t.split('/').next()).map(str::to_owned);
            for line in BufReader::new(&mut entry).lines() {
                let line = line.map_err(damaged)?;
                let row = serde_json::from_str(&line)
                    .map_err(|e| ArchiveError::Refused(format!("{name} does not read: {e}")))?;
                match &table {
                    None => im.user(row).await?,
                    Some(t) => {
                        im.row(t, row).await?;
                        progress.row("imported", t);
                    }
                }
            }
        } else if let Some(rest) = name.strip_prefix("media/") {
            let old: Uuid =
                rest.parse().map_err(|_| ArchiveError::Refused(format!("{name} is not a media file of cit")))?;
            let key = crate::media::original_path(im.tenant().as_str(), im.id(old).into());
            put(files.media, key, &mut entry, written).await.map_err(damaged)?;
        } else if let Some(rest) = name.strip_prefix("attachments/") {
            let (sub, id) = rest
                .split_once('/')
                .and_then(|(s, i)| Some((s.parse::<Uuid>().ok()?, i.parse::<Uuid>().ok()?)))
                .ok_or_else(|| ArchiveError::Refused(format!("{name} is not an attachment of cit")))?;
            let key = crate::requests::attachments::key(im.tenant().as_str(), im.id(sub), im.id(id));
            put(files.attachments, key, &mut entry, written).await.map_err(damaged)?;
        } else {
            return Err(ArchiveError::Refused(format!("{shown} holds {name}, which is not part of a tenant archive")));
        }
    }
    let import = import.ok_or_else(|| ArchiveError::Refused(format!("{shown} holds no tenant")))?;
    let tenant = import.tenant().clone();
    Ok((tenant, import.commit().await?))
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
