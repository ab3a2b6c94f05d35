//! Tenant export and import as the admin API's background jobs, driven as a platform admin
//! would: queue an export on one instance, follow its `Location`, download the archive, upload
//! it to another instance and follow the import; bad uploads and conflicting archives refused
//! with nothing imported; and a job whose node stopped mid-run, run again after its lease.

use std::time::{Duration, Instant};

use cit_core::clock::Clock;
use cit_core::{Actor, PlatformAction, authorize_platform};
use cit_tests::{Res, TestApp, spawn_app_with};
use serde_json::{Value, json};

fn with_worker(s: &mut cit_api::Settings) {
    s.portability.poll_ms = 50;
}

async fn news(app: &TestApp, token: &str, title: &str, status: &str) -> String {
    let res = app
        .post(
            "/api/v1/t/lecce/entries/notizia",
            Some(token),
            json!({"status": status, "data": {"title": title, "summary": "Sommario.", "body": "Testo."}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_str().unwrap().to_owned()
}

/// Lecce with the CIT preset, a published news item edited once (two revisions), a draft, and
/// a media file.
async fn lecce(app: &TestApp) -> (String, Vec<u8>) {
    let root = app.admin_token().await;
    assert_eq!(app.create_tenant(&root, "lecce").await.status, 201);
    app.apply_preset(&root, "lecce").await;
    let id = news(app, &root, "Nuovo sportello digitale", "published").await;
    news(app, &root, "Bozza del bando", "draft").await;
    let res = app
        .patch(
            &format!("/api/v1/t/lecce/entries/notizia/{id}"),
            Some(&root),
            json!({"data": {"summary": "Aggiornato."}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let file = b"%PDF-1.4\n% il regolamento\n".to_vec();
    let part =
        reqwest::multipart::Part::bytes(file.clone()).file_name("regolamento.pdf").mime_str("application/pdf").unwrap();
    let form =
        reqwest::multipart::Form::new().part("file", part).text("title", "Regolamento").text("licence", "CC-BY-4.0");
    let res =
        app.client.post(app.url("/api/v1/t/lecce/media")).bearer_auth(&root).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    (root, file)
}

/// Follows a job's `Location` until it has finished.
async fn finished(app: &TestApp, token: &str, location: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let res = app.get(location, Some(token)).await;
        assert_eq!(res.status, 200, "{}", res.text);
        if ["succeeded", "failed"].contains(&res.body["status"].as_str().unwrap_or("")) {
            return res.body;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {}", res.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn location(res: &Res) -> String {
    assert_eq!(res.status, 202, "{}", res.text);
    let at = res.header("location").expect("a Location").to_owned();
    assert_eq!(at, format!("/api/v1/tenant-jobs/{}", res.body["id"].as_str().unwrap()));
    assert!(["queued", "running"].contains(&res.body["status"].as_str().unwrap()), "{}", res.body);
    at
}

async fn upload(app: &TestApp, token: &str, query: &str, archive: Vec<u8>) -> Res {
    app.post_raw(&format!("/api/v1/tenant-imports{query}"), Some(token), "application/gzip", archive).await
}

/// Every entry of the tenant's news and media catalogue, in every status, with the revisions.
async fn content(app: &TestApp, token: &str, tenant: &str) -> Value {
    let list =
        app.get(&format!("/api/v1/t/{tenant}/entries/notizia?status=any&sort=slug&limit=100"), Some(token)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let mut revisions = Vec::new();
    for e in list.body["data"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let r = app.get(&format!("/api/v1/t/{tenant}/entries/notizia/{id}/revisions"), Some(token)).await;
        revisions.push(r.body);
    }
    let media = app.get(&format!("/api/v1/t/{tenant}/media"), Some(token)).await;
    json!({"entries": list.body["data"], "revisions": revisions, "media": media.body["data"]})
}

fn jobs_files(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| d.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&app.db.data_dir().join("jobs"))
}

#[tokio::test]
async fn export_and_import_jobs_move_a_tenant_between_instances() {
    let from = spawn_app_with(with_worker).await;
    let (root, file) = lecce(&from).await;

    // Only platform admins move tenants.
    let staff = from.member(&root, "lecce", "admin@lecce.example", "admin").await;
    assert_eq!(from.post("/api/v1/tenants/lecce/exports", Some(&staff), json!(null)).await.status, 403);
    assert_eq!(from.post("/api/v1/tenants/lecce/exports", None, json!(null)).await.status, 401);
    assert_eq!(from.post("/api/v1/tenants/nessuno/exports", Some(&root), json!(null)).await.status, 404);
    assert_eq!(
        from.post("/api/v1/tenants/lecce/exports?with_credentials=forse", Some(&root), json!(null)).await.status,
        400
    );

    let queued = from.post("/api/v1/tenants/lecce/exports", Some(&root), json!(null)).await;
    let at = location(&queued);
    assert_eq!(queued.body["kind"], "export");
    assert_eq!(queued.body["tenant"], "lecce");
    assert_eq!(queued.body["options"]["with_credentials"], false);
    let done = finished(&from, &root, &at).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["entries"], 2, "{done}");
    assert_eq!(done["counts"]["entry_revisions"], 3, "{done}");
    assert_eq!(done["counts"]["media"], 1, "{done}");
    assert!(done["rows"].as_u64().unwrap() >= 6, "{done}");
    assert_eq!(done["attempts"], 1);
    assert!(done["requested_by"].as_str().unwrap().starts_with("user:"), "{done}");
    let href = done["archive"]["href"].as_str().unwrap().to_owned();
    let res = from.client.get(from.url(&href)).bearer_auth(&root).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/gzip");
    assert!(
        res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"cit-tenant-lecce-")
    );
    let archive = res.bytes().await.unwrap().to_vec();
    assert_eq!(archive.len() as u64, done["archive"]["size"].as_u64().unwrap());
    assert_eq!(&archive[..2], &[0x1f, 0x8b]);
    assert_eq!(from.client.get(from.url(&href)).bearer_auth(&staff).send().await.unwrap().status(), 403);
    let listed = from.get("/api/v1/tenant-jobs", Some(&root)).await;
    assert_eq!(listed.body["data"][0]["id"], done["id"], "{}", listed.text);

    // Another instance loads it: the same entries, revisions and media, byte for byte.
    let to = spawn_app_with(with_worker).await;
    let admin = to.admin_token().await;
    let queued = upload(&to, &admin, "", archive.clone()).await;
    let at = location(&queued);
    assert_eq!(queued.body["kind"], "import");
    let done = finished(&to, &admin, &at).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["entries"], 2, "{done}");
    assert_eq!(done["tenant"], "lecce", "the job names the tenant it created: {done}");
    assert!(done["archive"].is_null());
    assert_eq!(content(&to, &admin, "lecce").await, content(&from, &root, "lecce").await);
    let media = to.get("/api/v1/t/lecce/media", Some(&admin)).await;
    let url = media.body["data"][0]["url"].as_str().unwrap();
    assert_eq!(to.get_bytes(url, Some(&admin)).await, file);
    let public = to.get("/api/v1/t/lecce/entries/notizia", None).await;
    assert_eq!(public.body["data"].as_array().unwrap().len(), 1, "only the published one is public: {}", public.text);
    assert_eq!(jobs_files(&to), 0, "the upload is removed once imported");

    // The same archive again: the tenant exists, the job fails, nothing changes.
    let before = content(&to, &admin, "lecce").await;
    let again = finished(&to, &admin, &location(&upload(&to, &admin, "", archive.clone()).await)).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert_eq!(again["error"]["code"], "conflict", "{again}");
    assert!(again["error"]["detail"].as_str().unwrap().contains("lecce"), "{again}");
    assert_eq!(content(&to, &admin, "lecce").await, before);

    // A copy under another id: its own entries, isolated from the first.
    let copy = finished(&to, &admin, &location(&upload(&to, &admin, "?as=lecce-copia", archive.clone()).await)).await;
    assert_eq!(copy["status"], "succeeded", "{copy}");
    assert_eq!(copy["tenant"], "lecce-copia");
    let a = to.get("/api/v1/t/lecce/entries/notizia?status=any", Some(&admin)).await;
    let b = to.get("/api/v1/t/lecce-copia/entries/notizia?status=any", Some(&admin)).await;
    let ids = |r: &Res| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&b).len(), 2);
    assert!(ids(&a).iter().all(|id| !ids(&b).contains(id)), "a copy has ids of its own");
    assert_eq!(content(&to, &admin, "lecce").await, before);

    // Bad uploads are refused at once, and queue nothing.
    let jobs = to.get("/api/v1/tenant-jobs", Some(&admin)).await.body["data"].as_array().unwrap().len();
    let res = upload(&to, &admin, "", b"not an archive at all".to_vec()).await;
    assert_eq!((res.status, res.code()), (422, "archive_refused"), "{}", res.text);
    let res = upload(&to, &admin, "", Vec::new()).await;
    assert_eq!((res.status, res.code()), (422, "archive_refused"), "{}", res.text);
    let res = upload(&to, &admin, "?as=Non%20Valido", archive.clone()).await;
    assert_eq!(res.status, 422, "{}", res.text);
    let res = upload(&to, &admin, "?as=lecce", archive.clone()).await;
    assert_eq!((res.status, res.code()), (409, "tenant_exists"), "{}", res.text);
    let res = upload(&to, &admin, "?come=x", archive.clone()).await;
    assert_eq!(res.status, 400, "{}", res.text);
    let staff_to = to.member(&admin, "lecce", "altro@lecce.example", "admin").await;
    assert_eq!(upload(&to, &staff_to, "", archive.clone()).await.status, 403);
    assert_eq!(to.get("/api/v1/tenant-jobs", Some(&admin)).await.body["data"].as_array().unwrap().len(), jobs);
    assert_eq!(jobs_files(&to), 0);

    // A truncated archive is queued (its bytes look right) and refused by the job's check,
    // with nothing imported and nothing kept.
    let cut = archive[..archive.len() / 2].to_vec();
    let res = finished(&to, &admin, &location(&upload(&to, &admin, "?as=genova", cut).await)).await;
    assert_eq!(res["status"], "failed", "{res}");
    assert_eq!(res["error"]["code"], "archive_refused", "{res}");
    assert_eq!(to.get("/api/v1/tenants/genova", Some(&admin)).await.status, 404);
    assert_eq!(jobs_files(&to), 0);

    // A finished job goes with its archive; an import job has none to download.
    let import_job = format!("{at}/archive");
    assert_eq!(to.get(&import_job, Some(&admin)).await.status, 404);
    let export_job = href.trim_end_matches("/archive").to_owned();
    assert!(jobs_files(&from) > 0);
    assert_eq!(from.delete(&export_job, Some(&root)).await.status, 204);
    assert_eq!(from.get(&export_job, Some(&root)).await.status, 404);
    assert_eq!(from.client.get(from.url(&href)).bearer_auth(&root).send().await.unwrap().status(), 404);
    assert_eq!(jobs_files(&from), 0);
}

#[tokio::test]
async fn a_job_whose_node_stopped_runs_again_once_its_lease_runs_out() {
    // No worker at first: the jobs stay queued while a "node" claims them and dies.
    let mut app = spawn_app_with(|s| s.portability.lease_secs = 30).await;
    let (root, _) = lecce(&app).await;
    let system = authorize_platform(&Actor::System, PlatformAction::MoveTenants).unwrap();
    let lease = chrono::Duration::seconds(30);
    let claim = || app.store.claim_tenant_job(&system, "dead-node", app.clock.now(), lease, 3);
    // The first job: three nodes in turn claim it and stop.
    let first = location(&app.post("/api/v1/tenants/lecce/exports", Some(&root), json!(null)).await);
    for n in 1..=3 {
        let job = claim().await.unwrap().expect("the job is claimable");
        assert_eq!((job.id.to_string().as_str(), job.attempts), (first.rsplit('/').next().unwrap(), n));
        if n < 3 {
            app.clock.advance(chrono::Duration::seconds(31));
        }
    }
    // The second: one node claims it and stops.
    let second = location(&app.post("/api/v1/tenants/lecce/exports", Some(&root), json!(null)).await);
    let job = claim().await.unwrap().expect("the second job is claimable");
    assert_eq!((job.id.to_string().as_str(), job.attempts), (second.rsplit('/').next().unwrap(), 1));
    assert!(claim().await.unwrap().is_none(), "both are held while their leases last");
    let status = app.get(&second, Some(&root)).await;
    assert_eq!(status.body["status"], "running", "{}", status.text);

    // A node comes back with its worker; the clock passes the leases. The first job has
    // had its three attempts; the second runs again, from the start.
    app.settings.portability.poll_ms = 50;
    app.restart().await;
    app.clock.advance(chrono::Duration::seconds(31));
    let done = finished(&app, &root, &second).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    assert_eq!(done["counts"]["entries"], 2, "{done}");
    let res =
        app.client.get(app.url(done["archive"]["href"].as_str().unwrap())).bearer_auth(&root).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let failed = finished(&app, &root, &first).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "interrupted", "{failed}");
    assert_eq!(failed["attempts"], 3, "{failed}");

    // A week later the hourly retention job removes both, with the archive.
    assert!(jobs_files(&app) > 0);
    app.clock.advance(chrono::Duration::days(8));
    cit_api::requests::retention::run_once(&app.state).await.unwrap();
    assert_eq!(app.get(&first, Some(&root)).await.status, 404);
    assert_eq!(app.get(&second, Some(&root)).await.status, 404);
    assert_eq!(jobs_files(&app), 0);
}
