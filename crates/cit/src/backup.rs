//! `cit backup` and `cit restore`: one archive with a consistent copy of the live SQLite
//! database, the media and attachments folders (and the generated JWT key), and a manifest that
//! lets `restore` check every byte before it writes anything.
//!
//! The archive is a gzip-compressed tar file. Its members are `cit.db` (taken with `VACUUM INTO`
//! while the server keeps writing), `jwt.key` when the data directory has one, every file under
//! `media/` and `attachments/`, and last `manifest.json`: the format version, the cit version,
//! when it was made, the database kind, and the size and SHA-256 of every other member.
//! The database is copied first and the folders after it, so the folders may hold files that
//! arrived after the snapshot (unused by it), never lack one the snapshot names.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use cit_api::Settings;
use cit_store::{ConnectSettings, Store};
use clap::Args;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::{CliResult, Failure};

/// What `format` says in every manifest.
const FORMAT: &str = "cit-backup";
/// The archive layout this build writes and reads.
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "cit.db";
const JWT_KEY: &str = "jwt.key";
/// The folders of the data directory that go into the archive.
const FOLDERS: [&str; 2] = ["media", "attachments"];
/// A manifest is small; a bigger one is not ours.
const MANIFEST_MAX: u64 = 64 * 1024 * 1024;

#[derive(Args)]
pub struct BackupArgs {
    /// The archive to write (default: ./cit-backup-YYYYMMDD-HHMMSS.tar.gz). It must not exist.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// An archive written by `cit backup`.
    file: PathBuf,
    /// The data directory to create (then run `cit serve` with CIT_DATA_DIR set to it).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// Replace a data directory that is not empty (the old one is kept beside it, renamed).
    #[arg(long)]
    force: bool,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    cit_version: String,
    created_at: String,
    database: String,
    members: Vec<Member>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
struct Member {
    path: String,
    size: u64,
    sha256: String,
}

fn io_failure(what: String) -> impl Fn(io::Error) -> Failure {
    move |e| Failure::Other(anyhow::anyhow!("{what}: {e}"))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Self { inner, hasher: Sha256::new(), read: 0 }
    }

    fn finish(self) -> (u64, String) {
        (self.read, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// backup

/// `cit backup [--out FILE]`.
pub async fn backup(settings: &Settings, args: BackupArgs) -> CliResult {
    let url = settings.database_url();
    if !url.starts_with("sqlite:") {
        return Err(Failure::Conflict(postgres_recipe(settings)));
    }
    let db_file = sqlite_file(&url);
    if !db_file.is_file() {
        return Err(Failure::NotFound(format!("no database at {}: nothing to back up", db_file.display())));
    }
    let started = chrono::Utc::now();
    let out = match args.out {
        Some(out) => out,
        None => PathBuf::from(format!("cit-backup-{}.tar.gz", started.format("%Y%m%d-%H%M%S"))),
    };
    if out.exists() {
        return Err(Failure::Conflict(format!("{} exists already: choose another --out", out.display())));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Failure::Usage(format!("{} is not a folder: cannot write the archive there", parent.display())));
    }

    // 1. The database, as of one instant, into a private folder beside the archive.
    let staging = tempfile::Builder::new()
        .prefix(".cit-backup-")
        .tempdir_in(&parent)
        .map_err(io_failure(format!("cannot create a temporary folder in {}", parent.display())))?;
    let snapshot = staging.path().join(DATABASE);
    eprintln!("backup: copying the database {} (online, VACUUM INTO)", db_file.display());
    let store = Store::connect(&url, &ConnectSettings { max_connections: 1, ..Default::default() })
        .await
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot open the database at {}: {e}", db_file.display())))?;
    let copied = store.vacuum_into(&snapshot).await;
    store.close().await.ok();
    copied.map_err(|e| Failure::Other(anyhow::anyhow!("cannot copy the database: {e}")))?;
    let snapshot_at = chrono::Utc::now();
    let db_size = fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0);
    eprintln!("backup: database copied ({db_size} bytes)");

    // 2. The archive, under a temporary name beside its final one.
    let partial = tempfile::Builder::new()
        .prefix(".cit-backup-")
        .suffix(".partial")
        .tempfile_in(&parent)
        .map_err(io_failure(format!("cannot create a temporary file in {}", parent.display())))?;
    let gz = GzEncoder::new(BufWriter::new(partial.as_file()), Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut members = Vec::new();
    members.push(append(&mut tar, &snapshot, DATABASE)?);
    let key = settings.data_dir.join(JWT_KEY);
    if key.is_file() {
        members.push(append(&mut tar, &key, JWT_KEY)?);
    }
    for folder in FOLDERS {
        let dir = settings.data_dir.join(folder);
        if folder == "media" && settings.media.s3_bucket.is_some() {
            eprintln!("backup: media live in an S3 bucket, not in the archive: back the bucket up with its own tools");
            continue;
        }
        let mut files = Vec::new();
        if dir.is_dir() {
            walk(&dir, &mut files).map_err(io_failure(format!("cannot read {}", dir.display())))?;
        }
        let mut bytes = 0;
        for file in &files {
            let relative = file.strip_prefix(&settings.data_dir).unwrap_or(file);
            let name = archive_name(relative)
                .ok_or_else(|| Failure::Other(anyhow::anyhow!("{}: a file name that is not UTF-8", file.display())))?;
            let member = append(&mut tar, file, &name)?;
            bytes += member.size;
            members.push(member);
        }
        eprintln!("backup: {folder}: {} file(s), {bytes} bytes", files.len());
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        cit_version: env!("CARGO_PKG_VERSION").into(),
        created_at: snapshot_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        database: "sqlite".into(),
        members,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Failure::Other(e.into()))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(snapshot_at.timestamp().max(0) as u64);
    header.set_cksum();
    let write_failed = io_failure(format!("cannot write the archive in {}", parent.display()));
    tar.append_data(&mut header, MANIFEST, json.as_slice()).map_err(&write_failed)?;
    let gz = tar.into_inner().map_err(io_failure("cannot finish the archive".into()))?;
    let mut buffered = gz.finish().map_err(io_failure("cannot finish the archive".into()))?;
    buffered.flush().map_err(io_failure("cannot finish the archive".into()))?;
    drop(buffered);
    partial.as_file().sync_all().map_err(io_failure("cannot finish the archive".into()))?;
    let size = partial.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    partial.persist_noclobber(&out).map_err(|e| {
        Failure::Other(anyhow::anyhow!("cannot rename the finished archive to {}: {}", out.display(), e.error))
    })?;
    eprintln!(
        "backup: wrote {} ({size} bytes, {} member(s), database as of {})",
        out.display(),
        manifest.members.len() + 1,
        manifest.created_at
    );
    println!("{}", out.display());
    Ok(())
}

/// Adds `file` to the archive as `name`, hashing it on the way.
fn append<W: Write>(tar: &mut tar::Builder<W>, file: &Path, name: &str) -> CliResult<Member> {
    let read_failed = io_failure(format!("cannot read {}", file.display()));
    let opened = File::open(file).map_err(&read_failed)?;
    let meta = opened.metadata().map_err(&read_failed)?;
    let size = meta.len();
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(if name == JWT_KEY { 0o600 } else { 0o644 });
    header.set_mtime(
        meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs()),
    );
    header.set_cksum();
    let mut reader = Hashing::new(BufReader::new(opened).take(size));
    tar.append_data(&mut header, name, &mut reader)
        .map_err(io_failure(format!("cannot add {} to the archive", file.display())))?;
    let (read, sha256) = reader.finish();
    if read != size {
        return Err(Failure::Other(anyhow::anyhow!("{} changed while it was copied", file.display())));
    }
    Ok(Member { path: name.into(), size, sha256 })
}

/// Every regular file below `dir`, sorted, without the files object_store is still writing
/// (`name#suffix`, renamed into place when complete).
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else if kind.is_file() && !entry.file_name().to_string_lossy().contains('#') {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// `media/lecce/x.png` for a relative path, `/`-separated; none when it is not plain UTF-8.
fn archive_name(relative: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// The file behind `sqlite://path?options`.
fn sqlite_file(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// What `cit backup` says on PostgreSQL: the documented recipe (README, "Backup and restore").
fn postgres_recipe(settings: &Settings) -> String {
    let data = settings.data_dir.display();
    format!(
        "cit backup copies the embedded SQLite database only; this instance uses PostgreSQL ({url}).\n\
         Back it up with PostgreSQL's own tools, plus the media and attachments folders:\n\
         \x20 pg_dump -Fc --no-owner -d \"$CIT_DATABASE_URL\" -f cit-$(date -u +%Y%m%d-%H%M%S).dump\n\
         \x20 tar -czf cit-files-$(date -u +%Y%m%d-%H%M%S).tar.gz -C {data} media attachments\n\
         (media kept in an S3 bucket are backed up with the bucket's tools). Restore into an empty database:\n\
         \x20 createdb cit_restored && pg_restore --no-owner -d postgres://…/cit_restored cit-….dump\n\
         \x20 mkdir -p NEW_DATA_DIR && tar -xzf cit-files-….tar.gz -C NEW_DATA_DIR\n\
         See the README, \"Backup and restore\".",
        url = settings.database_url_redacted(),
    )
}

// ---------------------------------------------------------------------------------------------
// restore

/// Why an archive is refused: nothing has been written when this is returned.
fn refused(file: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::Usage(format!("{}: {why}; nothing was restored", file.display()))
}

/// `cit restore FILE --data-dir DIR`.
pub fn restore(args: RestoreArgs) -> CliResult {
    let RestoreArgs { file, data_dir, force } = args;
    if !file.is_file() {
        return Err(Failure::NotFound(format!("no archive at {}", file.display())));
    }
    let occupied = match fs::read_dir(&data_dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(Failure::Usage(format!("{}: {e}", data_dir.display()))),
    };
    if occupied && !force {
        return Err(Failure::Conflict(format!(
            "{} is not empty: restore into a new or empty folder, or add --force to replace it \
             (the old folder is kept beside it); nothing was restored",
            data_dir.display()
        )));
    }

    // 1. Read the whole archive and check it against its manifest, writing nothing.
    eprintln!("restore: checking {}", file.display());
    let (manifest, found) = verify(&file)?;
    eprintln!(
        "restore: {} member(s) match the manifest (cit {}, {} database of {})",
        manifest.members.len(),
        manifest.cit_version,
        manifest.database,
        manifest.created_at
    );

    // 2. Unpack into a temporary folder beside the target, checking every byte again.
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_failure(format!("cannot create {}", parent.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".cit-restore-")
        .tempdir_in(&parent)
        .map_err(io_failure(format!("cannot create a temporary folder in {}", parent.display())))?;
    unpack(&file, staging.path(), &found)?;

    // 3. Put it in place.
    if occupied {
        let aside =
            PathBuf::from(format!("{}.replaced-{}", data_dir.display(), chrono::Utc::now().format("%Y%m%d-%H%M%S")));
        fs::rename(&data_dir, &aside).map_err(io_failure(format!("cannot move {} aside", data_dir.display())))?;
        eprintln!("restore: the previous {} is now {}", data_dir.display(), aside.display());
    } else if data_dir.exists() {
        fs::remove_dir(&data_dir).map_err(io_failure(format!("cannot replace {}", data_dir.display())))?;
    }
    let unpacked = staging.keep();
    fs::rename(&unpacked, &data_dir).map_err(|e| {
        Failure::Other(anyhow::anyhow!(
            "cannot rename {} to {}: {e} (the restored files are in {})",
            unpacked.display(),
            data_dir.display(),
            unpacked.display()
        ))
    })?;
    let bytes: u64 = found.values().map(|m| m.size).sum();
    eprintln!(
        "restore: restored {} file(s), {bytes} bytes, into {}; start it with CIT_DATA_DIR={} cit serve",
        found.len(),
        data_dir.display(),
        data_dir.display()
    );
    println!("{}", data_dir.display());
    Ok(())
}

/// Reads `file` to its end: every member hashed, the gzip checksum checked, the manifest parsed
/// and compared. Returns the manifest and its members by path.
fn verify(file: &Path) -> CliResult<(Manifest, BTreeMap<String, Member>)> {
    let damaged = |e: io::Error| refused(file, format!("the archive is damaged or truncated ({e})"));
    let opened = File::open(file).map_err(io_failure(format!("cannot read {}", file.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(opened)));
    let mut seen = BTreeMap::new();
    let mut manifest_bytes = None;
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let name = member_name(&entry).ok_or_else(|| refused(file, "the archive holds an unexpected member"))?;
        if name == MANIFEST {
            if entry.size() > MANIFEST_MAX {
                return Err(refused(file, "not an archive written by cit backup"));
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            manifest_bytes = Some(bytes);
            continue;
        }
        let mut hashing = Hashing::new(&mut entry);
        io::copy(&mut hashing, &mut io::sink()).map_err(damaged)?;
        let (size, sha256) = hashing.finish();
        if seen.insert(name.clone(), Member { path: name, size, sha256 }).is_some() {
            return Err(refused(file, "the archive holds a member twice"));
        }
    }
    // The tar end marker may come before the end of the gzip stream: read on to its checksum.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(damaged)?;

    let bytes = manifest_bytes.ok_or_else(|| refused(file, "the archive has no manifest (truncated?)"))?;
    let format: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| refused(file, "not an archive written by cit backup"))?;
    if format["format"] != FORMAT {
        return Err(refused(file, "not an archive written by cit backup"));
    }
    if format["format_version"] != FORMAT_VERSION {
        return Err(refused(
            file,
            format!(
                "archive format version {} (cit {}); this cit ({}) reads version {FORMAT_VERSION} only",
                format["format_version"],
                format["cit_version"].as_str().unwrap_or("?"),
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    let manifest: Manifest =
        serde_json::from_value(format).map_err(|_| refused(file, "the manifest does not parse"))?;
    if manifest.database != "sqlite" {
        return Err(refused(file, format!("a {} database cannot be restored by cit restore", manifest.database)));
    }
    let listed: BTreeMap<String, Member> = manifest.members.iter().map(|m| (m.path.clone(), m.clone())).collect();
    if listed.len() != manifest.members.len() || !listed.contains_key(DATABASE) {
        return Err(refused(file, "the manifest is not valid"));
    }
    for (path, member) in &listed {
        match seen.get(path) {
            None => return Err(refused(file, format!("{path} is missing (truncated?)"))),
            Some(got) if got != member => return Err(refused(file, format!("{path} does not match its checksum"))),
            Some(_) => {}
        }
    }
    if let Some(extra) = seen.keys().find(|p| !listed.contains_key(*p)) {
        return Err(refused(file, format!("{extra} is not in the manifest")));
    }
    Ok((manifest, listed))
}

/// The member's path when it is a regular file at a name restore may write: `cit.db`,
/// `jwt.key`, `manifest.json`, or below `media/` or `attachments/`, with no `..`.
fn member_name<R: Read>(entry: &tar::Entry<'_, R>) -> Option<String> {
    if entry.header().entry_type() != tar::EntryType::Regular {
        return None;
    }
    let path = entry.path().ok()?;
    let name = archive_name(&path)?;
    let top = name.split('/').next()?;
    let allowed = match top {
        DATABASE | JWT_KEY | MANIFEST => !name.contains('/'),
        _ => FOLDERS.contains(&top) && name.contains('/'),
    };
    allowed.then_some(name)
}

/// Writes every listed member below `into`, checking each against the manifest again.
fn unpack(file: &Path, into: &Path, listed: &BTreeMap<String, Member>) -> CliResult {
    let damaged = |e: io::Error| refused(file, format!("the archive changed while it was restored ({e})"));
    let opened = File::open(file).map_err(io_failure(format!("cannot read {}", file.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(opened)));
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let Some(name) = member_name(&entry) else { continue };
        let Some(member) = listed.get(&name) else { continue };
        let dest = into.join(&name);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(io_failure(format!("cannot create {}", dir.display())))?;
        }
        let write_failed = io_failure(format!("cannot write {}", dest.display()));
        let out = File::create(&dest).map_err(&write_failed)?;
        let mut writer = BufWriter::new(out);
        let mut hashing = Hashing::new(&mut entry);
        io::copy(&mut hashing, &mut writer).map_err(&write_failed)?;
        let (size, sha256) = hashing.finish();
        let out =
            writer.into_inner().map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {}: {e}", dest.display())))?;
        out.sync_all().map_err(&write_failed)?;
        if size != member.size || sha256 != member.sha256 {
            return Err(refused(file, format!("{name} changed while it was restored")));
        }
        #[cfg(unix)]
        if name == JWT_KEY {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dest, fs::Permissions::from_mode(0o600)).map_err(&write_failed)?;
        }
    }
    Ok(())
}
