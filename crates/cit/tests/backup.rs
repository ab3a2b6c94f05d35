//! The restore drill: `cit backup` taken while `cit serve` is busy with writes, restored with
//! `cit restore` into a new data directory and served again. Every write acknowledged before the
//! backup started is there, none sent after it finished is; damaged archives and occupied
//! folders are refused with nothing written. SQLite only: on PostgreSQL `cit backup` refuses and
//! prints the pg_dump recipe, which is what the test checks there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cit_tests::TestDb;
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "root@cit.test";
const ADMIN_PASSWORD: &str = "root-password-1";

/// `cit` on the data directory `data`, with the database inside it (the default layout).
fn cit(work: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cit"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CIT_DATA_DIR", data)
        .env("CIT_PASSWORD_HASHING__MEMORY_KIB", "256")
        .env("CIT_PASSWORD_HASHING__ITERATIONS", "1")
        .current_dir(work);
    cmd
}

fn run(work: &Path, data: &Path, args: &[&str]) -> Output {
    cit(work, data).args(args).stdin(Stdio::null()).output().expect("cit runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `cit serve` on a free port and the data directory `data`. No JWT secret is configured, so
/// the server generates `jwt.key` there (development mode) and the backup carries it.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(work: &Path, data: &Path) -> Self {
        let mut child = cit(work, data)
            .arg("serve")
            .env("CIT_LISTEN", "127.0.0.1:0")
            .env("CIT_WORKERS", "2")
            .env("CIT_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("the server logs its address before anything else ends").unwrap();
            assert!(!line.contains("panicked"), "{line}");
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// A small PDF, different for each `tag` (media are stored by content).
fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n%{tag}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

/// Uploads a media file; its id when the API acknowledged it.
async fn upload(client: &reqwest::Client, base: &str, token: &str, bytes: Vec<u8>) -> String {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("verbale.pdf").mime_str("application/pdf").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part).text("title", "Verbale").text("licence", "CC-BY-4.0");
    let res =
        client.post(format!("{base}/api/v1/t/lecce/media")).bearer_auth(token).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// One acknowledged entry: its id and slug, when its request left and when its 201 came back.
#[derive(Clone, Debug)]
struct Ack {
    id: String,
    slug: String,
    sent: Instant,
    acked: Instant,
}

/// Nothing but the archive's own leftovers may be in `dir`: no temporary folders or files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".cit-"))
        .collect()
}

/// A restore that must be refused: exit code, message, and nothing written.
fn assert_refused(work: &Path, archive: &Path, target: &Path, expected_code: i32, says: &str) {
    let out = run(work, target, &["restore", archive.to_str().unwrap(), "--data-dir", target.to_str().unwrap()]);
    assert_eq!(code(&out), expected_code, "{}", text(&out));
    assert!(text(&out).contains(says), "{}", text(&out));
    assert!(text(&out).contains("nothing was restored"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    assert!(leftovers(target.parent().unwrap()).is_empty(), "{:?}", leftovers(target.parent().unwrap()));
}

/// The same archive with its manifest's `format_version` set to `version`.
fn with_format_version(archive: &Path, out: &Path, version: u64) {
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap()));
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::fast());
    let mut output = tar::Builder::new(gz);
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if path == Path::new("manifest.json") {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            manifest["format_version"] = json!(version);
            bytes = serde_json::to_vec(&manifest).unwrap();
        }
        let mut header = entry.header().clone();
        header.set_size(bytes.len() as u64);
        header.set_cksum();
        output.append_data(&mut header, &path, bytes.as_slice()).unwrap();
    }
    output.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[tokio::test]
async fn backup_under_write_load_restores_every_acknowledged_write() {
    let db = TestDb::new().await;
    if db.is_postgres() {
        // PostgreSQL is backed up with pg_dump: the command says how and refuses.
        let out = Command::new(env!("CARGO_BIN_EXE_cit"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CIT_DATABASE_URL", &db.url)
            .env("CIT_DATA_DIR", db.data_dir())
            .current_dir(db.dir.path())
            .arg("backup")
            .output()
            .unwrap();
        assert_eq!(code(&out), 4, "{}", text(&out));
        assert!(text(&out).contains("pg_dump -Fc"), "{}", text(&out));
        assert!(text(&out).contains("media"), "{}", text(&out));
        assert!(std::fs::read_dir(db.dir.path()).unwrap().all(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            !name.starts_with("cit-backup") && !name.starts_with(".cit-")
        }));
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let data = work.join("data");

    assert_eq!(code(&run(work, &data, &["tenant", "create", "lecce", "--name", "CIT Lecce"])), 0);
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/presets/cit.toml");
    let applied = run(work, &data, &["schema", "apply", "--tenant", "lecce", preset]);
    assert_eq!(code(&applied), 0, "{}", text(&applied));

    let server = Server::start(work, &data);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let token = login(&client, &server.base).await;

    // Four writers publish news items until told to stop, recording every 201.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(std::sync::Mutex::new(Vec::<Ack>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base, token, stop, acks) =
            (client.clone(), server.base.clone(), token.clone(), stop.clone(), acks.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let body = json!({"status": "published", "data": {
                    "title": format!("Notizia {w}-{i}"), "summary": "Una notizia del CIT.",
                    "body": format!("Testo **{w}-{i}**.")}});
                let sent = Instant::now();
                let res = client
                    .post(format!("{base}/api/v1/t/lecce/entries/notizia"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let entry: Value = res.json().await.unwrap();
                assert_eq!(status, 201, "{entry}");
                let acked = Instant::now();
                acks.lock().unwrap().push(Ack {
                    id: entry["id"].as_str().unwrap().to_owned(),
                    slug: entry["slug"].as_str().unwrap().to_owned(),
                    sent,
                    acked,
                });
            }
        }));
    }
    let acked = |n: usize| {
        let acks = acks.clone();
        async move {
            while acks.lock().unwrap().len() < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };

    // Under load: one media upload, then the backup, then more writes and another upload.
    acked(40).await;
    let media_before = pdf("before");
    let media_before_id = upload(&client, &server.base, &token, media_before.clone()).await;
    acked(80).await;
    let archive = work.join("drill.tar.gz");
    let backup_started = Instant::now();
    let backup = {
        let mut cmd = cit(work, &data);
        cmd.args(["backup", "--out", archive.to_str().unwrap()]);
        tokio::task::spawn_blocking(move || cmd.stdin(Stdio::null()).output().unwrap()).await.unwrap()
    };
    let backup_finished = Instant::now();
    assert_eq!(code(&backup), 0, "{}", text(&backup));
    let stderr = String::from_utf8_lossy(&backup.stderr);
    assert!(stderr.contains("backup: database copied"), "{stderr}");
    assert!(stderr.contains("backup: media: 1 file(s)"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains(ADMIN_PASSWORD), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&backup.stdout).trim(), archive.to_str().unwrap());
    let during = acks.lock().unwrap().len();
    acked(during + 40).await;
    let media_after_id = upload(&client, &server.base, &token, pdf("after")).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    drop(server);
    assert!(leftovers(work).is_empty(), "{:?}", leftovers(work));

    let acks = acks.lock().unwrap().clone();
    let before: Vec<&Ack> = acks.iter().filter(|a| a.acked < backup_started).collect();
    let after: Vec<&Ack> = acks.iter().filter(|a| a.sent > backup_finished).collect();
    let between = acks.len() - before.len() - after.len();
    assert!(before.len() >= 80 && after.len() >= 30, "{} before, {} after", before.len(), after.len());

    // Restore into a new data directory and serve it.
    let restored = work.join("restored");
    let out = run(work, &restored, &["restore", archive.to_str().unwrap(), "--data-dir", restored.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("restore: restored"), "{}", text(&out));
    assert!(restored.join("cit.db").is_file() && restored.join("jwt.key").is_file());
    assert!(leftovers(work).is_empty(), "{:?}", leftovers(work));
    let server = Server::start(work, &restored);

    let mut found_before = 0;
    for a in &before {
        let res = client.get(format!("{}/api/v1/t/lecce/entries/notizia/{}", server.base, a.id)).send().await.unwrap();
        assert_eq!(res.status(), 200, "acknowledged before the backup, missing after restore: {a:?}");
        let by_slug: Value = client
            .get(format!("{}/api/v1/t/lecce/entries/notizia/{}", server.base, a.slug))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(by_slug["id"], a.id.as_str());
        found_before += 1;
    }
    let mut found_between = 0;
    for a in acks.iter().filter(|a| a.acked >= backup_started && a.sent <= backup_finished) {
        let res = client.get(format!("{}/api/v1/t/lecce/entries/notizia/{}", server.base, a.id)).send().await.unwrap();
        if res.status() == 200 {
            found_between += 1;
        }
    }
    let mut found_after = 0;
    for a in &after {
        let res = client.get(format!("{}/api/v1/t/lecce/entries/notizia/{}", server.base, a.id)).send().await.unwrap();
        if res.status() != 404 {
            found_after += 1;
        }
    }
    let file = client.get(format!("{}/api/v1/t/lecce/media/{media_before_id}/file", server.base)).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), media_before.as_slice(), "media bytes identical");
    let gone =
        client.get(format!("{}/api/v1/t/lecce/media/{media_after_id}", server.base)).send().await.unwrap().status();
    // The access token from before still works: jwt.key came back with the data.
    let me = client.get(format!("{}/api/v1/me", server.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    eprintln!(
        "drill: {} writes acknowledged ({} before the backup started, {between} during it, {} sent after it \
         finished); after restore: {found_before}/{} before found, {found_between}/{between} during found, \
         {found_after}/{} after found; media before: identical, media after: {gone}",
        acks.len(),
        before.len(),
        after.len(),
        before.len(),
        after.len()
    );
    assert_eq!(found_before, before.len());
    assert_eq!(found_after, 0, "writes sent after the backup finished are not in it");
    assert_eq!(gone, 404);
    drop(server);

    // Refusals, each with nothing written.
    let bytes = std::fs::read(&archive).unwrap();
    let truncated = work.join("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_refused(work, &truncated, &work.join("t1"), 2, "damaged or truncated");
    assert!(!work.join("t1").exists());
    let flipped = work.join("flipped.tar.gz");
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    std::fs::write(&flipped, &damaged).unwrap();
    assert_refused(work, &flipped, &work.join("t2"), 2, "");
    assert!(!work.join("t2").exists());
    let foreign = work.join("foreign.tar.gz");
    with_format_version(&archive, &foreign, 99);
    assert_refused(work, &foreign, &work.join("t3"), 2, "format version 99");
    assert!(!work.join("t3").exists());
    // A non-empty folder is refused and left as it was; an empty one is used.
    let occupied = work.join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "keep me").unwrap();
    assert_refused(work, &archive, &occupied, 4, "is not empty");
    assert_eq!(std::fs::read_dir(&occupied).unwrap().count(), 1);
    let empty = work.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run(work, &empty, &["restore", archive.to_str().unwrap(), "--data-dir", empty.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    // --force replaces a non-empty folder and keeps the old one beside it.
    let out = run(
        work,
        &occupied,
        &["restore", archive.to_str().unwrap(), "--data-dir", occupied.to_str().unwrap(), "--force"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(occupied.join("cit.db").is_file());
    let kept: Vec<PathBuf> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("occupied.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].join("notes.txt")).unwrap(), "keep me");
    // An archive that is there already is never overwritten.
    let again = run(work, &data, &["backup", "--out", archive.to_str().unwrap()]);
    assert_eq!(code(&again), 4, "{}", text(&again));
    // Without --out: cit-backup-YYYYMMDD-HHMMSS.tar.gz in the current folder.
    let default = run(work, &data, &["backup"]);
    assert_eq!(code(&default), 0, "{}", text(&default));
    let name = String::from_utf8_lossy(&default.stdout).trim().to_owned();
    assert!(name.starts_with("cit-backup-") && name.ends_with(".tar.gz") && name.len() == 33, "{name}");
    assert!(work.join(&name).is_file());
}
