//! `cit tenant export` and `cit tenant import`, driven as an operator moving a tenant: from a
//! SQLite instance to the test database (PostgreSQL when `CIT_TEST_DATABASE_URL` is set), then
//! compared over REST; a copy `--as` another id, isolated; and archives that must be refused
//! with nothing imported.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Output;

use cit_tests::TestDb;
use common::{Server, cit, get_json, login};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn run(db: &TestDb, args: &[&str]) -> Output {
    cit(db).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(out.status.success(), "cit {args:?}: {}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    text(&out)
}

async fn send(req: reqwest::RequestBuilder, expect: u16) -> Value {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expect, "{body}");
    body
}

/// Everything a reader and a staff member can see of `tenant`: its profile, content types,
/// every entry of every type and locale in every status with its revisions, and the media
/// catalogue with each file's SHA-256.
async fn snapshot(client: &reqwest::Client, base: &str, token: &str, tenant: &str) -> Value {
    let t = format!("{base}/api/v1/t/{tenant}");
    let types = get_json(client, format!("{t}/content-types"), Some(token)).await;
    let mut out = json!({"content_types": types.clone(), "entries": {}, "revisions": {}, "public": {}});
    for ty in types["data"].as_array().expect("a list of content types") {
        let api_id = ty["api_id"].as_str().unwrap();
        for locale in ["it", "en"] {
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut url = format!("{t}/entries/{api_id}?status=any&locale={locale}&limit=100&sort=slug");
                if let Some(c) = &cursor {
                    url.push_str(&format!("&cursor={c}"));
                }
                let page = get_json(client, url, Some(token)).await;
                all.extend(page["data"].as_array().unwrap_or_else(|| panic!("{page}")).iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            for e in &all {
                let id = e["id"].as_str().unwrap();
                let one = get_json(client, format!("{t}/entries/{api_id}/{id}"), Some(token)).await;
                let revs = get_json(client, format!("{t}/entries/{api_id}/{id}/revisions"), Some(token)).await;
                out["entries"][id] = one;
                out["revisions"][id] = revs;
            }
            let public =
                get_json(client, format!("{t}/entries/{api_id}?locale={locale}&limit=100&sort=slug"), None).await;
            out["public"][format!("{api_id}/{locale}")] = public;
        }
    }
    let media = get_json(client, format!("{t}/media?limit=100"), Some(token)).await;
    let mut files = serde_json::Map::new();
    for m in media["data"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        let res = client.get(format!("{t}/media/{id}/file")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap();
        files.insert(id.to_owned(), json!(format!("{:x}", Sha256::digest(&bytes))));
    }
    out["media"] = media;
    out["files"] = Value::Object(files);
    out
}

/// Where `a` and `b` first differ, as a JSON path with both values.
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (va, vb) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                if let Some(d) = difference(va, vb, &format!("{at}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| difference(va, vb, &format!("{at}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} != {b}")),
    }
}

/// The archive's members, in order.
fn members(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap()));
    input
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Writes `members` as an archive; with `reseal`, the manifest is made to match them again (so
/// only what the import itself checks can refuse it).
fn write_archive(out: &Path, mut members: Vec<(String, Vec<u8>)>, reseal: bool) {
    if reseal {
        let (last, rest) = members.split_last_mut().unwrap();
        let mut manifest: Value = serde_json::from_slice(&last.1).unwrap();
        manifest["members"] = rest
            .iter()
            .map(|(n, b)| json!({"name": n, "size": b.len(), "sha256": format!("{:x}", Sha256::digest(b))}))
            .collect();
        last.1 = serde_json::to_vec(&manifest).unwrap();
    }
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        tar.append_data(&mut header, &name, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

fn tenants(db: &TestDb) -> String {
    ok(db, &["tenant", "list"])
}

/// An import that must be refused: its exit code, what it says, and no tenant `id` after it.
fn assert_refused(db: &TestDb, args: &[&str], code: i32, says: &str, id: &str) {
    let out = run(db, args);
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    assert!(text(&out).contains(says), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    assert!(!tenants(db).lines().any(|l| l.split_whitespace().next() == Some(id)), "{}", tenants(db));
}

#[tokio::test]
async fn a_tenant_moves_from_sqlite_to_another_instance_whole_and_a_copy_stays_apart() {
    let client = reqwest::Client::new();

    // The instance it leaves: SQLite, the demo partners, and lecce's content with drafts,
    // a scheduled entry, several revisions, a translation and media.
    let source = TestDb::sqlite();
    let src = Server::start(&source);
    ok(&source, &["seed-bulk", "--tenants", "1", "--entries", "30", "--jobs", "2"]);
    let root = login(&client, &src.base).await;
    let api = format!("{}/api/v1/t/lecce", src.base);
    send(
        client
            .patch(format!("{}/api/v1/tenants/lecce", src.base))
            .bearer_auth(&root)
            .json(&json!({"locales": ["it", "en"]})),
        200,
    )
    .await;
    let news = |title: &str| json!({"data": {"title": title, "summary": "Una notizia del CIT.", "body": "Testo."}});
    let mut draft = news("Bozza del piano triennale");
    draft["status"] = json!("draft");
    send(client.post(format!("{api}/entries/notizia")).bearer_auth(&root).json(&draft), 201).await;
    let mut later = news("Webinar di gennaio");
    later["publish_at"] = json!("2031-01-15T09:00:00Z");
    send(client.post(format!("{api}/entries/notizia")).bearer_auth(&root).json(&later), 201).await;
    let mut first = news("Nuovo portale dei servizi");
    first["status"] = json!("published");
    let it = send(client.post(format!("{api}/entries/notizia")).bearer_auth(&root).json(&first), 201).await;
    let id = it["id"].as_str().unwrap().to_owned();
    for n in 2..=3 {
        send(
            client
                .patch(format!("{api}/entries/notizia/{id}"))
                .bearer_auth(&root)
                .json(&json!({"data": {"summary": format!("Versione {n}.")}})),
            200,
        )
        .await;
    }
    let mut en = news("New services portal");
    en["status"] = json!("published");
    en["locale"] = json!("en");
    en["translation_of"] = json!(id);
    send(client.post(format!("{api}/entries/notizia")).bearer_auth(&root).json(&en), 201).await;
    for tag in ["verbale", "delibera"] {
        let bytes =
            format!("%PDF-1.4\n%{tag}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
        let part = reqwest::multipart::Part::bytes(bytes.into_bytes())
            .file_name(format!("{tag}.pdf"))
            .mime_str("application/pdf")
            .unwrap();
        let form = reqwest::multipart::Form::new().part("file", part).text("title", tag.to_owned());
        send(client.post(format!("{api}/media")).bearer_auth(&root).multipart(form), 201).await;
    }
    let before = snapshot(&client, &src.base, &root, "lecce").await;
    assert!(before["entries"].as_object().unwrap().len() > 30, "the demo content and the test's entries");
    assert_eq!(before["revisions"][&id]["data"].as_array().map(Vec::len), Some(3), "{}", before["revisions"][&id]);
    assert_eq!(before["files"].as_object().unwrap().len(), 2);

    let archive = source.dir.path().join("lecce.tar.gz");
    let said = ok(&source, &["tenant", "export", "lecce", "--out", archive.to_str().unwrap()]);
    assert!(said.contains("exported tenant lecce"), "{said}");
    assert!(!said.contains("argon2"), "no password hash is printed");
    let all = members(&archive);
    assert_eq!(all.last().unwrap().0, "manifest.json");
    assert!(
        !all.iter().any(|(_, b)| String::from_utf8_lossy(b).contains("$argon2")),
        "no password hash travels without --with-credentials"
    );

    // The instance it arrives at: the test database, already running with its own admin.
    let target = TestDb::new().await;
    let dst = Server::start(&target);
    let root2 = login(&client, &dst.base).await;
    let said = ok(&target, &["tenant", "import", archive.to_str().unwrap()]);
    assert!(said.contains("imported tenant lecce"), "{said}");
    let after = snapshot(&client, &dst.base, &root2, "lecce").await;
    for part in ["content_types", "entries", "revisions", "public", "media", "files"] {
        let d = difference(&after[part], &before[part], part);
        assert!(d.is_none(), "{part} differ after the move: {}", d.unwrap_or_default());
    }
    let hits = get_json(&client, format!("{}/api/v1/t/lecce/search?q=portale", dst.base), None).await;
    assert!(hits.to_string().contains(&id), "the moved entries are found by search: {hits}");

    // The same archive again is a conflict; as another id it is a copy beside the original.
    assert_refused(&target, &["tenant", "import", archive.to_str().unwrap()], 4, "already exists", "no-such-tenant");
    ok(&target, &["tenant", "import", archive.to_str().unwrap(), "--as", "lecce-copia"]);
    let copy = snapshot(&client, &dst.base, &root2, "lecce-copia").await;
    let ids = |s: &Value| s["entries"].as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(ids(&copy).len(), ids(&after).len());
    assert!(ids(&copy).is_disjoint(&ids(&after)), "a copy has ids of its own");
    let titles = |s: &Value| {
        let mut t: Vec<String> =
            s["entries"].as_object().unwrap().values().map(|e| e["data"]["title"].to_string()).collect();
        t.sort();
        t
    };
    assert_eq!(titles(&copy), titles(&after));
    assert_eq!(copy["files"].as_object().unwrap().len(), 2);
    let mut copied_files: Vec<&Value> = copy["files"].as_object().unwrap().values().collect();
    let mut original_files: Vec<&Value> = after["files"].as_object().unwrap().values().collect();
    copied_files.sort_by_key(|v| v.to_string());
    original_files.sort_by_key(|v| v.to_string());
    assert_eq!(copied_files, original_files, "the copy's files are the same bytes");
    // Nothing of one is reachable from the other, and a change to the copy leaves lecce alone.
    let res = client
        .get(format!("{}/api/v1/t/lecce-copia/entries/notizia/{id}", dst.base))
        .bearer_auth(&root2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let copied_id = copy["entries"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, e)| e["data"]["title"] == "Nuovo portale dei servizi")
        .map(|(k, _)| k.clone())
        .unwrap();
    assert_eq!(copy["revisions"][&copied_id]["data"].as_array().map(Vec::len), Some(3));
    send(
        client
            .patch(format!("{}/api/v1/t/lecce-copia/entries/notizia/{copied_id}", dst.base))
            .bearer_auth(&root2)
            .json(&json!({"data": {"title": "Solo nella copia"}})),
        200,
    )
    .await;
    let lecce_now = snapshot(&client, &dst.base, &root2, "lecce").await;
    assert_eq!(lecce_now["entries"], after["entries"]);
    let hits = get_json(&client, format!("{}/api/v1/t/lecce/search?q=copia", dst.base), None).await;
    assert!(!hits.to_string().contains(&copied_id), "{hits}");

    // Archives that must be refused, with nothing imported.
    let dir = target.dir.path();
    let bytes = std::fs::read(&archive).unwrap();
    let cut = dir.join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let args = |f: &Path| {
        vec!["tenant".to_owned(), "import".into(), f.to_str().unwrap().into(), "--as".into(), "nuovo".into()]
    };
    let refuse = |f: &Path, code: i32, says: &str| {
        let a = args(f);
        assert_refused(&target, &a.iter().map(String::as_str).collect::<Vec<_>>(), code, says, "nuovo");
    };
    refuse(&cut, 2, "damaged or truncated");

    let mut tampered = members(&archive);
    let at = tampered.iter().position(|(n, _)| n.starts_with("tables/entries/")).unwrap();
    let text_of = String::from_utf8(tampered[at].1.clone()).unwrap().replacen("Nuovo portale", "Nuovo portalf", 1);
    tampered[at].1 = text_of.into_bytes();
    let file = dir.join("tampered.tar.gz");
    write_archive(&file, tampered, false);
    refuse(&file, 2, "does not match its checksum");

    let mut newer = members(&archive);
    let last = newer.len() - 1;
    let mut manifest: Value = serde_json::from_slice(&newer[last].1).unwrap();
    manifest["format_version"] = json!(99);
    newer[last].1 = serde_json::to_vec(&manifest).unwrap();
    let file = dir.join("newer.tar.gz");
    write_archive(&file, newer, false);
    refuse(&file, 2, "format version 99");

    let mut unsealed = members(&archive);
    unsealed.pop();
    let file = dir.join("no-manifest.tar.gz");
    write_archive(&file, unsealed, false);
    refuse(&file, 2, "no manifest");

    // A row that only the database refuses, late in the archive (after every entry was
    // inserted): the transaction is rolled back, so not even the entries stay.
    let mut broken = members(&archive);
    let at = broken.iter().rposition(|(n, _)| n.starts_with("tables/entry_revisions/")).unwrap();
    let mut rows = String::from_utf8(broken[at].1.clone()).unwrap();
    let mut row: Value = serde_json::from_str(rows.lines().next().unwrap()).unwrap();
    row["id"] = json!(uuid::Uuid::new_v4());
    row["entry_id"] = json!(uuid::Uuid::new_v4());
    rows.push_str(&format!("{row}\n"));
    broken[at].1 = rows.into_bytes();
    let file = dir.join("broken.tar.gz");
    write_archive(&file, broken, true);
    refuse(&file, 2, "refers to a missing row");
    let res = client
        .get(format!("{}/api/v1/t/nuovo/entries/notizia?status=any", dst.base))
        .bearer_auth(&root2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no half-imported tenant");
    drop(src);
}
