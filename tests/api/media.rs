//! The media library over HTTP: what is accepted, how it is served, what is refused and left
//! unstored, and tenants kept apart.

use std::io::Cursor;

use cit_tests::{Res, TestApp, read, spawn_app, spawn_app_with};
use serde_json::json;

use crate::content::with_types;

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 128]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG whose header claims 60000×60000 pixels: a decompression bomb in miniature.
fn bomb() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(idat);
    out.extend_from_slice(&crc32fast::hash(idat).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc32fast::hash(b"IEND").to_be_bytes());
    out
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn upload(
    app: &TestApp,
    token: &str,
    tenant: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
    alt: Option<&str>,
) -> Res {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap();
    let mut form =
        reqwest::multipart::Form::new().part("file", part).text("title", "Un file").text("licence", "CC-BY-4.0");
    if let Some(a) = alt {
        form = form.text("alt", a.to_owned());
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1/t/{tenant}/media")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    read(res).await
}

async fn count(app: &TestApp, tenant: &str) -> usize {
    app.get(&format!("/api/v1/t/{tenant}/media"), None).await.body["data"].as_array().unwrap().len()
}

fn stored_files(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| d.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&app.db.data_dir().join("media"))
}

#[tokio::test]
async fn upload_serve_range_variant_and_delete() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let original = png(64, 48);
    let up = upload(&app, &root, "lecce", "Logo CIT.png", "image/png", original.clone(), Some("Il logo del CIT")).await;
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.body["content_type"], "image/png");
    assert_eq!((up.body["width"].as_i64(), up.body["height"].as_i64()), (Some(64), Some(48)));
    let url = up.body["url"].as_str().unwrap().to_owned();

    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("inline"));
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap().to_vec(), original);

    let part = app.client.get(app.url(&url)).header("range", "bytes=0-9").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 0-9/{}", original.len()).as_str());
    assert_eq!(part.bytes().await.unwrap().to_vec(), original[..10].to_vec());
    let tail = app.client.get(app.url(&url)).header("range", "bytes=-4").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().to_vec(), original[original.len() - 4..].to_vec());
    let beyond = app.client.get(app.url(&url)).header("range", "bytes=100000-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);
    let cached = app.client.get(app.url(&url)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);

    let variant = app.client.get(app.url(&format!("{url}?w=32&format=webp"))).send().await.unwrap();
    assert_eq!(variant.status(), 200);
    assert_eq!(variant.headers()["content-type"], "image/webp");
    let webp = variant.bytes().await.unwrap();
    let decoded = image::load_from_memory(&webp).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 24), "contain keeps the proportions");
    let again =
        app.client.get(app.url(&format!("{url}?w=32&format=webp"))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(webp, again, "the variant is kept and served again");
    let cover = app
        .client
        .get(app.url(&format!("{url}?w=20&h=20&fit=cover&format=png")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let decoded = image::load_from_memory(&cover).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (20, 20));
    assert_eq!(app.get(&format!("{url}?w=99999"), None).await.status, 400);

    // A file in use cannot be deleted.
    let id = up.body["id"].as_str().unwrap().to_owned();
    let e = app
        .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": "Con immagine", "cover": id}}))
        .await;
    assert_eq!(e.status, 201, "{}", e.text);
    let refused = app.delete(&format!("/api/v1/t/lecce/media/{id}"), Some(&root)).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "in_use");
    app.patch(
        &format!("/api/v1/t/lecce/entries/prova/{}", e.body["id"].as_str().unwrap()),
        Some(&root),
        json!({"data": {"cover": null}}),
    )
    .await;
    assert_eq!(app.delete(&format!("/api/v1/t/lecce/media/{id}"), Some(&root)).await.status, 204);
    assert_eq!(app.get(&url, None).await.status, 404);
    assert_eq!(stored_files(&app), 0, "the original and its variants are gone");
}

#[tokio::test]
async fn documents_and_svg_are_never_served_as_pages() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let pdf = upload(&app, &root, "lecce", "delibera.pdf", "application/pdf", PDF.to_vec(), None).await;
    assert_eq!(pdf.status, 201, "{}", pdf.text);
    let csv =
        upload(&app, &root, "lecce", "enti.csv", "text/csv", b"comune;abitanti\nLecce;95000\n".to_vec(), None).await;
    assert_eq!(csv.status, 201, "{}", csv.text);
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>"#.to_vec();
    let logo = upload(&app, &root, "lecce", "logo.svg", "image/svg+xml", svg, Some("Logo")).await;
    assert_eq!(logo.status, 201, "{}", logo.text);

    for (res, disposition) in [(&pdf, "inline"), (&csv, "attachment"), (&logo, "attachment")] {
        let got = app.client.get(app.url(res.body["url"].as_str().unwrap())).send().await.unwrap();
        let h = got.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-disposition"].to_str().unwrap().starts_with(disposition), "{:?}", h["content-disposition"]);
    }
    let svg_res = app.client.get(app.url(logo.body["url"].as_str().unwrap())).send().await.unwrap();
    assert!(svg_res.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
}

#[tokio::test]
async fn lies_bombs_scripts_and_oversized_uploads_are_refused_and_nothing_is_stored() {
    let app = spawn_app_with(|s| s.media.max_bytes = 20_000).await;
    let root = with_types(&app).await;
    // (file name, declared type, bytes, alt, status, field, code)
    type Case = (&'static str, &'static str, Vec<u8>, Option<&'static str>, u16, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        ("foto.pdf", "application/pdf", png(8, 8), None, 422, "file", "type_mismatch"),
        ("foto.png", "image/png", PDF.to_vec(), Some("x"), 422, "file", "type_mismatch"),
        (
            "pagina.html",
            "text/html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            None,
            422,
            "file",
            "unsupported_type",
        ),
        ("note.txt", "text/plain", b"solo testo".to_vec(), None, 422, "file", "unsupported_type"),
        ("bomba.png", "image/png", bomb(), Some("x"), 422, "file", "image_too_large"),
        (
            "evil.svg",
            "image/svg+xml",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#.to_vec(),
            Some("x"),
            422,
            "file",
            "unsafe_svg",
        ),
        ("senza-alt.png", "image/png", png(8, 8), None, 422, "alt", "required"),
        ("vuoto.pdf", "application/pdf", Vec::new(), None, 422, "file", "empty_file"),
        ("enorme.png", "image/png", vec![0u8; 50_000], Some("x"), 413, "", "payload_too_large"),
    ];
    for (name, mime, bytes, alt, status, field, code) in cases {
        let res = upload(&app, &root, "lecce", name, mime, bytes, alt).await;
        assert_eq!(res.status, status, "{name}: {}", res.text);
        if status == 422 {
            assert_eq!(res.field(), field, "{name}");
            assert_eq!(res.body["errors"][0]["code"], code, "{name}");
        } else {
            assert_eq!(res.code(), code, "{name}");
        }
    }
    assert_eq!(count(&app, "lecce").await, 0);
    assert_eq!(stored_files(&app), 0, "nothing reached the storage");
    let (read_token, _) = app.api_token(&root, "lecce", &["read"]).await;
    assert_eq!(upload(&app, &read_token, "lecce", "a.pdf", "application/pdf", PDF.to_vec(), None).await.status, 403);
    assert_eq!(upload(&app, "", "lecce", "a.pdf", "application/pdf", PDF.to_vec(), None).await.status, 401);
}

#[tokio::test]
async fn the_quota_is_per_tenant_and_a_refused_file_leaves_nothing() {
    let app = spawn_app_with(|s| s.media.quota_bytes = 300).await;
    let root = with_types(&app).await;
    assert_eq!(upload(&app, &root, "lecce", "a.pdf", "application/pdf", PDF.to_vec(), None).await.status, 201);
    let over = upload(&app, &root, "lecce", "b.pdf", "application/pdf", [PDF, PDF, PDF].concat(), None).await;
    assert_eq!(over.status, 409, "{}", over.text);
    assert_eq!(over.code(), "quota_exceeded");
    assert_eq!(count(&app, "lecce").await, 1);
    assert_eq!(stored_files(&app), 1);
    app.create_tenant(&root, "genova").await;
    assert_eq!(
        upload(&app, &root, "genova", "a.pdf", "application/pdf", PDF.to_vec(), None).await.status,
        201,
        "genova has its own quota"
    );
}

#[tokio::test]
async fn another_tenants_media_is_unreachable() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    app.create_tenant(&root, "genova").await;
    let up = upload(&app, &root, "lecce", "a.pdf", "application/pdf", PDF.to_vec(), None).await;
    let id = up.body["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/t/lecce/media/{id}/file"), None).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/t/genova/media/{id}"), None).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/t/genova/media/{id}/file"), None).await.status, 404);
    assert_eq!(count(&app, "genova").await, 0);
    let admin = app.member(&root, "genova", "admin@genova.it", "admin").await;
    assert_eq!(app.delete(&format!("/api/v1/t/genova/media/{id}"), Some(&admin)).await.status, 404);
    assert_eq!(app.delete(&format!("/api/v1/t/lecce/media/{id}"), Some(&admin)).await.status, 403);
    app.put("/api/v1/t/genova/content-types/tema", Some(&root), crate::content::tema()).await;
    app.put("/api/v1/t/genova/content-types/prova", Some(&root), crate::content::prova()).await;
    let sneaky =
        app.post("/api/v1/t/genova/entries/prova", Some(&root), json!({"data": {"title": "x", "cover": id}})).await;
    assert_eq!(sneaky.status, 422);
    assert_eq!(sneaky.body["errors"][0]["code"], "media_not_found");
}

#[tokio::test]
async fn a_description_is_changed_and_the_uses_are_listed_within_the_tenant() {
    let app = spawn_app().await;
    let root = with_types(&app).await;
    let up = upload(&app, &root, "lecce", "foto.png", "image/png", png(8, 6), Some("Il porto")).await;
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/t/lecce/media/{id}");

    let changed = app
        .patch(&path, Some(&root), json!({"title": "Porto di Lecce", "alt": " Il porto al tramonto ", "credits": "Ufficio stampa", "licence": null}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["title"], "Porto di Lecce");
    assert_eq!(changed.body["alt"], "Il porto al tramonto", "trimmed");
    assert_eq!(changed.body["credits"], "Ufficio stampa");
    assert!(changed.body["licence"].is_null(), "null clears it");
    let read_back = app.get(&path, None).await;
    assert_eq!(read_back.body["alt"], "Il porto al tramonto");
    assert_eq!(read_back.body["size"], up.body["size"], "the bytes are the same");

    // An image keeps its alt text, a file keeps a title, unknown fields are refused: nothing changes.
    for bad in [
        json!({"alt": ""}),
        json!({"alt": null}),
        json!({"title": "  "}),
        json!({"url": "x"}),
        json!({"alt": "a".repeat(5000)}),
    ] {
        let refused = app.patch(&path, Some(&root), bad.clone()).await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.text);
    }
    let unchanged = app.get(&path, None).await;
    assert_eq!(unchanged.body["alt"], "Il porto al tramonto");
    assert_eq!(unchanged.body["title"], "Porto di Lecce");
    let audit = app.get("/api/v1/t/lecce/audit", Some(&root)).await;
    let updates = audit.body["data"].as_array().unwrap().iter().filter(|a| a["action"] == "media.update").count();
    assert_eq!(updates, 1, "only the change that was made is recorded: {}", audit.text);

    // A document's alt text may be cleared.
    let pdf = upload(&app, &root, "lecce", "bando.pdf", "application/pdf", PDF.to_vec(), None).await;
    let pdf_path = format!("/api/v1/t/lecce/media/{}", pdf.body["id"].as_str().unwrap());
    assert_eq!(app.patch(&pdf_path, Some(&root), json!({"alt": ""})).await.status, 200);

    // Where it is used: the entries that mention it, drafts too, for writers only.
    let uses = format!("{path}/uses");
    assert_eq!(app.get(&uses, Some(&root)).await.body["data"], json!([]));
    let e = app
        .post("/api/v1/t/lecce/entries/prova", Some(&root), json!({"data": {"title": "Con la foto", "cover": id}}))
        .await;
    assert_eq!(e.status, 201, "{}", e.text);
    let listed = app.get(&uses, Some(&root)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let list = listed.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], e.body["id"]);
    assert_eq!(list[0]["type"], "prova");
    assert_eq!(list[0]["title"], "Con la foto");
    assert_eq!(list[0]["status"], "draft");
    assert_eq!(app.get(&uses, None).await.status, 401, "drafts are not for anonymous readers");

    // Another tenant sees and changes nothing of it.
    app.create_tenant(&root, "genova").await;
    let other = app.member(&root, "genova", "redazione@genova.it", "admin").await;
    assert_eq!(app.get(&format!("/api/v1/t/genova/media/{id}/uses"), Some(&other)).await.status, 404);
    assert_eq!(
        app.patch(&format!("/api/v1/t/genova/media/{id}"), Some(&other), json!({"title": "x"})).await.status,
        404
    );
    assert_eq!(app.patch(&path, Some(&other), json!({"title": "x"})).await.status, 403);
    assert_eq!(app.get(&path, None).await.body["title"], "Porto di Lecce");
}
