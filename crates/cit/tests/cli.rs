//! The `cit` binary as an operator uses it: subcommands, exit codes, and a server process that
//! is killed in the middle of a burst of writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cit_tests::TestDb;
use serde_json::{Value, json};

mod common;

use common::{Log, Server, cit, get_json, login, login_as, spawn_on_free_port};

fn run(db: &TestDb, args: &[&str]) -> Output {
    cit(db).args(args).stdin(Stdio::null()).output().expect("cit runs")
}

fn run_with_stdin(db: &TestDb, args: &[&str], input: &str) -> Output {
    let mut child =
        cit(db).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn tenant_commands_and_their_exit_codes() {
    let db = TestDb::new().await;
    let created = run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce", "--domain", "cit.comune.lecce.it"]);
    assert_eq!(code(&created), 0, "{}", text(&created));
    assert!(text(&created).contains("created tenant lecce"));

    let again = run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]);
    assert_eq!(code(&again), 4, "{}", text(&again));
    assert!(text(&again).contains("already exists"));

    let bad = run(&db, &["tenant", "create", "Lecce!", "--name", "x"]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad).contains("tenant id"), "{}", text(&bad));

    let bad_locale = run(&db, &["tenant", "create", "genova", "--name", "CST Genova", "--locale", "italian"]);
    assert_eq!(code(&bad_locale), 2);

    let list = run(&db, &["tenant", "list"]);
    assert_eq!(code(&list), 0);
    assert_eq!(String::from_utf8_lossy(&list.stdout), "lecce\tactive\tit\tCIT Lecce\n");

    assert_eq!(code(&run(&db, &["tenant", "disable", "lecce"])), 0);
    assert!(String::from_utf8_lossy(&run(&db, &["tenant", "list"]).stdout).contains("lecce\tdisabled"));
    assert_eq!(code(&run(&db, &["tenant", "enable", "lecce"])), 0);
    assert_eq!(code(&run(&db, &["tenant", "disable", "nowhere"])), 3);

    let usage = run(&db, &["tenant", "frobnicate"]);
    assert_eq!(code(&usage), 2);
    let help = run(&db, &["--help"]);
    assert_eq!(code(&help), 0);
    for sub in ["serve", "demo", "migrate", "tenant", "user", "token", "openapi"] {
        assert!(String::from_utf8_lossy(&help.stdout).contains(sub), "{sub} in --help");
    }
}

#[tokio::test]
async fn user_commands_read_passwords_from_stdin_and_never_echo_them() {
    let db = TestDb::new().await;
    run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]);
    let made = run_with_stdin(
        &db,
        &["user", "create", "--email", "Editor@Lecce.it", "--name", "Redazione", "--password-stdin"],
        "una-password-lunga\n",
    );
    assert_eq!(code(&made), 0, "{}", text(&made));
    assert!(!text(&made).contains("una-password-lunga"));

    let dup = run_with_stdin(
        &db,
        &["user", "create", "--email", "editor@lecce.it", "--name", "X", "--password-stdin"],
        "una-password-lunga\n",
    );
    assert_eq!(code(&dup), 4);
    let short =
        run_with_stdin(&db, &["user", "create", "--email", "x@lecce.it", "--name", "X", "--password-stdin"], "corta\n");
    assert_eq!(code(&short), 2);
    assert!(text(&short).contains("at least 10"));
    let no_tty = run(&db, &["user", "create", "--email", "y@lecce.it", "--name", "Y"]);
    assert_eq!(code(&no_tty), 2);
    assert!(text(&no_tty).contains("--password-stdin"));

    assert_eq!(
        code(&run(&db, &["user", "grant", "--email", "editor@lecce.it", "--tenant", "lecce", "--role", "editor"])),
        0
    );
    assert_eq!(
        code(&run(&db, &["user", "grant", "--email", "ghost@lecce.it", "--tenant", "lecce", "--role", "editor"])),
        3
    );
    assert_eq!(
        code(&run(&db, &["user", "grant", "--email", "editor@lecce.it", "--tenant", "nowhere", "--role", "editor"])),
        3
    );
    assert_eq!(
        code(&run(&db, &["user", "grant", "--email", "editor@lecce.it", "--tenant", "lecce", "--role", "king"])),
        2
    );

    let passwd = run_with_stdin(
        &db,
        &["user", "passwd", "--email", "editor@lecce.it", "--password-stdin"],
        "un-altra-password\n",
    );
    assert_eq!(code(&passwd), 0, "{}", text(&passwd));
    assert_eq!(
        code(&run_with_stdin(
            &db,
            &["user", "passwd", "--email", "ghost@lecce.it", "--password-stdin"],
            "un-altra-password\n"
        )),
        3
    );

    // The new password works over HTTP, the role is there.
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let token = login_as(&client, &server.base, "editor@lecce.it", "un-altra-password").await;
    let me: Value = get_json(&client, format!("{}/api/v1/me", server.base), Some(&token)).await;
    assert_eq!(me["memberships"], json!([{"tenant": "lecce", "role": "editor"}]));
}

#[tokio::test]
async fn token_commands_print_the_secret_once_and_revoke_it() {
    let db = TestDb::new().await;
    run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]);
    run(&db, &["tenant", "create", "genova", "--name", "CST Genova"]);
    let made = run(&db, &["token", "create", "--tenant", "lecce", "--name", "sito", "--scopes", "read,preview"]);
    assert_eq!(code(&made), 0, "{}", text(&made));
    let secret = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert!(secret.starts_with("cit_"), "only the secret is on stdout: {secret}");
    let stderr = String::from_utf8_lossy(&made.stderr).to_string();
    let id = stderr.split_whitespace().nth(2).unwrap().to_owned();
    assert_eq!(code(&run(&db, &["token", "create", "--tenant", "lecce", "--name", "x", "--scopes", "root"])), 2);
    assert_eq!(code(&run(&db, &["token", "create", "--tenant", "nowhere", "--name", "x"])), 3);

    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.base)).bearer_auth(&secret).send();
    assert_eq!(get("/api/v1/t/lecce").await.unwrap().status(), 200);

    assert_eq!(
        code(&run(&db, &["token", "revoke", "--tenant", "genova", &id])),
        3,
        "a token is revoked only through its own tenant"
    );
    assert_eq!(get("/api/v1/t/lecce").await.unwrap().status(), 200);
    let revoked = run(&db, &["token", "revoke", "--tenant", "lecce", &id]);
    assert_eq!(code(&revoked), 0, "{}", text(&revoked));
    assert_eq!(get("/api/v1/t/lecce").await.unwrap().status(), 401);
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let db = TestDb::new().await;
    let first = run(&db, &["migrate"]);
    assert_eq!(code(&first), 0, "{}", text(&first));
    let all = format!("applied {} migration", cit_store::Store::known_migrations());
    assert!(text(&first).contains(&all), "{}", text(&first));
    let second = run(&db, &["migrate"]);
    assert!(text(&second).contains("applied 0 migration"));
    let broken = cit(&db).args(["migrate"]).env("CIT_DATABASE_URL", "mysql://nope").output().unwrap();
    assert_eq!(code(&broken), 1);
    assert!(!text(&broken).contains("panicked"));
}

/// glibc reads MALLOC_ARENA_MAX only at start: the server starts itself again with it (same
/// process), unless the operator chose a value, which it keeps.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn servers_run_with_two_malloc_arenas_unless_told_otherwise() {
    let db = TestDb::new().await;
    let arenas = |pid: u32| {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        environ
            .split(|b| *b == 0)
            .find_map(|kv| kv.strip_prefix(b"MALLOC_ARENA_MAX=").map(|v| String::from_utf8_lossy(v).into_owned()))
    };
    let server = Server::start(&db);
    assert_eq!(arenas(server.child.id()).as_deref(), Some("2"));
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{}/readyz", server.base)).send().await.unwrap().status(), 200);
    drop(server);

    let mut chosen = cit(&db);
    chosen.arg("site").env("MALLOC_ARENA_MAX", "4").env("CIT_SITE_LISTEN", "127.0.0.1:0");
    let mut site = chosen.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let kept = arenas(site.id());
    site.kill().unwrap();
    site.wait().unwrap();
    assert_eq!(kept.as_deref(), Some("4"));
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let db = TestDb::new().await;
    let mut server = Server::start(&db);
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{}/readyz", server.base)).send().await.unwrap().status(), 200);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || server.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "graceful exit: {status:?}");
}

/// Four writers send `write(writer, i)` one after another as fast as the server answers;
/// `write` gives the id of what the server acknowledged, or None when it was never acknowledged
/// (the server died under it). Once `at_least` writes are acknowledged the server is SIGKILLed;
/// the acknowledged ids come back.
async fn kill_during_a_burst<F, Fut>(server: &mut Server, at_least: usize, write: F) -> Vec<String>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Option<String>> + Send + 'static,
{
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (write, acknowledged, stop) = (write.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match write(w, i).await {
                    Some(id) => acknowledged.lock().unwrap().push(id),
                    None => break,
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < at_least {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= at_least);
    acknowledged
}

/// SIGKILL in the middle of a burst of writes: every write the server acknowledged is there
/// after a restart, and the database opens and passes its integrity check.
#[tokio::test]
async fn sigkill_during_a_burst_of_writes_loses_no_acknowledged_write() {
    let db = TestDb::new().await;
    let mut server = Server::start(&db);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let token = login(&client, &server.base).await;

    let (writer, base) = (client.clone(), server.base.clone());
    let write = move |w: usize, i: usize| {
        let (client, base, token) = (writer.clone(), base.clone(), token.clone());
        async move {
            let id = format!("t{w}-{i}");
            let sent = client
                .post(format!("{base}/api/v1/tenants"))
                .bearer_auth(&token)
                .json(&json!({"id": id, "name": "Burst"}))
                .send()
                .await;
            match sent {
                Ok(res) if res.status() == 201 => Some(id),
                Ok(res) => panic!("unexpected answer {}", res.status()),
                Err(_) => None, // the server died under us: this write was never acknowledged
            }
        }
    };
    let acknowledged = kill_during_a_burst(&mut server, 150, write).await;

    // The database opens, is consistent, and holds every acknowledged tenant.
    let store =
        cit_store::Store::connect(&db.url, &Default::default()).await.expect("the database opens after SIGKILL");
    assert_eq!(store.pending_migrations().await.unwrap(), 0);
    if !db.is_postgres() {
        let sqlite = rusqlite_free_integrity_check(&db.url).await;
        assert_eq!(sqlite, "ok");
    }
    store.close().await.unwrap();
    let server = Server::start(&db);
    let list: Value =
        get_json(&client, format!("{}/api/v1/tenants", server.base), Some(&login(&client, &server.base).await)).await;
    let stored: std::collections::HashSet<&str> =
        list["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// SIGKILL in the middle of a burst of public form submissions: every submission the API
/// acknowledged (201 with its id) is there after a restart, readable by the tenant's staff.
#[tokio::test]
async fn sigkill_during_a_burst_of_submissions_loses_no_acknowledged_one() {
    let db = TestDb::new().await;
    assert_eq!(code(&run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"])), 0);
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/presets/cit.toml");
    let applied = run(&db, &["schema", "apply", "--tenant", "lecce", preset]);
    assert_eq!(code(&applied), 0, "{}", text(&applied));
    // Bots are refused by fill time and rate limits; this burst is the test's own traffic.
    let env = [
        ("CIT_REQUESTS__MIN_FILL_SECS", "0"),
        ("CIT_REQUESTS__PER_ADDRESS", "1000000"),
        ("CIT_REQUESTS__PER_TENANT", "1000000"),
    ];
    let mut server = Server::start_with(&db, &env);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let form: Value = get_json(&client, format!("{}/api/v1/t/lecce/forms/contatti", server.base), None).await;
    let fill_token = form["fill_token"].as_str().expect("the form carries a fill token").to_owned();

    let (writer, base) = (client.clone(), server.base.clone());
    let write = move |w: usize, i: usize| {
        let (client, base, fill_token) = (writer.clone(), base.clone(), fill_token.clone());
        async move {
            let body = json!({
                "data": {"nome": "Maria Rossi", "email": "maria@comune.example",
                         "oggetto": format!("burst {w}-{i}"), "messaggio": "Una domanda per il CIT."},
                "consent": {"accepted": true, "version": "2026-01"},
                "fill_token": fill_token,
                "website": ""
            });
            let sent =
                client.post(format!("{base}/api/v1/t/lecce/forms/contatti/submissions")).json(&body).send().await;
            match sent {
                Ok(res) if res.status() == 201 => match res.json::<Value>().await {
                    Ok(b) => Some(b["id"].as_str().expect("a 201 with an id").to_owned()),
                    Err(_) => None, // the body never arrived: not acknowledged
                },
                Ok(res) => panic!("unexpected answer {}: {}", res.status(), res.text().await.unwrap_or_default()),
                Err(_) => None, // the server died under us: this one was never acknowledged
            }
        }
    };
    let acknowledged = kill_during_a_burst(&mut server, 100, write).await;

    // After a restart the staff read every acknowledged submission, page by page.
    let server = Server::start_with(&db, &env);
    let token = login(&client, &server.base).await;
    let mut stored = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/t/lecce/submissions?form=contatti&limit=100", server.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = client.get(url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        for s in page["data"].as_array().unwrap() {
            stored.insert(s["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// `PRAGMA integrity_check` through sea-orm, which the tests already link.
async fn rusqlite_free_integrity_check(url: &str) -> String {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(url).await.unwrap();
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), "PRAGMA integrity_check"))
        .await
        .unwrap()
        .unwrap();
    let result: String = row.try_get_by_index(0).unwrap();
    conn.close().await.unwrap();
    result
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_jwt_secret() {
    let db = TestDb::new().await;
    let out = cit(&db).args(["serve"]).env("CIT_MODE", "production").env("CIT_LISTEN", "127.0.0.1:0").output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("CIT_JWT_SECRET is required"));
    let short =
        cit(&db).args(["serve"]).env("CIT_JWT_SECRET", "short").env("CIT_LISTEN", "127.0.0.1:0").output().unwrap();
    assert_eq!(code(&short), 2);
    assert!(!text(&short).contains("short\""), "the secret is not echoed");
    let bad = cit(&db).args(["serve"]).env("CIT_LISTEN", "127.0.0.1:0").env("CIT_BODY_LIMIT", "lots").output().unwrap();
    assert_eq!(code(&bad), 2);
    assert!(text(&bad).contains("BODY_LIMIT"), "{}", text(&bad));
}

#[tokio::test]
async fn the_demo_provisions_the_five_partners_once() {
    let db = TestDb::new().await;
    let mut counts = Vec::new();
    for _ in 0..2 {
        let mut cmd = cit(&db);
        cmd.arg("demo");
        let (mut child, mut lines) = spawn_on_free_port(cmd, Log::Stdout);
        let mut printed = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        assert!(printed.contains("admin@cit.example / demo-cit-2026"), "{printed}");
        let base = printed
            .lines()
            .find_map(|l| l.trim().strip_prefix("API:"))
            .unwrap()
            .trim()
            .trim_end_matches("/api/v1/")
            .to_owned();
        let client = reqwest::Client::new();
        let token = login_as(&client, &base, "admin@cit.example", "demo-cit-2026").await;
        let list: Value = get_json(&client, format!("{base}/api/v1/tenants"), Some(&token)).await;
        let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["avellino", "brescia", "genova", "lecce", "potenza"]);
        // Demo content from the seed report, the same after a second run.
        let news: Value = get_json(&client, format!("{base}/api/v1/t/lecce/entries/notizia?limit=100"), None).await;
        let titles: Vec<&str> =
            news["data"].as_array().unwrap().iter().map(|e| e["data"]["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"Webinar CIT Lecce #1"), "{titles:?}");
        counts.push(news["data"].as_array().unwrap().len());
        let services: Value =
            get_json(&client, format!("{base}/api/v1/t/genova/entries/servizio?limit=100"), None).await;
        counts.push(services["data"].as_array().unwrap().len());
        // The API documentation page is served by cit itself.
        let docs = client.get(format!("{base}/api/v1/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        let page = docs.text().await.unwrap();
        assert!(!page.contains("https://") && !page.contains("http://"), "no third-party assets: {page}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(counts[0] >= 3 && counts[1] >= 3, "{counts:?}");
    assert_eq!(counts[0..2], counts[2..4], "nothing added twice");
}

#[tokio::test]
async fn schema_apply_prints_its_plan_is_idempotent_and_refuses_data_loss() {
    let db = TestDb::new().await;
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/presets/cit.toml");
    assert_eq!(code(&run(&db, &["schema", "check", preset])), 0);
    run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]);

    let dry = run(&db, &["schema", "apply", "--tenant", "lecce", "--dry-run", preset]);
    assert_eq!(code(&dry), 0, "{}", text(&dry));
    assert!(text(&dry).contains("would change 10 thing(s)") && text(&dry).contains("+ type notizia"), "{}", text(&dry));
    let first = run(&db, &["schema", "apply", "--tenant", "lecce", preset]);
    assert!(text(&first).contains("lecce: changed 10 thing(s)"), "{}", text(&first));
    let again = run(&db, &["schema", "apply", "--tenant", "lecce", preset]);
    assert_eq!(code(&again), 0);
    assert!(text(&again).contains("lecce: up to date"), "{}", text(&again));

    // A tenant's own file on top of the preset adds a field.
    let extra = lecce_extra(&db);
    let extra = extra.as_str();
    let added = run(&db, &["schema", "apply", "--tenant", "lecce", preset, extra]);
    assert!(text(&added).contains("+ notizia.sottotitolo"), "{}", text(&added));

    // Give the new field a value, then drop it: refused, nothing changes, unless forced.
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base).await;
    create_notizia(
        &client,
        &server.base,
        &token,
        json!({"data": {"title": "Con sottotitolo", "sottotitolo": "da tenere"}}),
    )
    .await;
    let refused = run(&db, &["schema", "apply", "--tenant", "lecce", preset]);
    assert_eq!(code(&refused), 4, "{}", text(&refused));
    assert!(
        text(&refused).contains("- notizia.sottotitolo") && text(&refused).contains("1 entries hold data"),
        "{}",
        text(&refused)
    );
    let kept: Value =
        get_json(&client, format!("{}/api/v1/t/lecce/entries/notizia?status=any", server.base), Some(&token)).await;
    assert_eq!(kept["data"][0]["data"]["sottotitolo"], "da tenere");
    let forced = run(&db, &["schema", "apply", "--tenant", "lecce", "--force", preset]);
    assert_eq!(code(&forced), 0, "{}", text(&forced));

    let broken = db.dir.path().join("broken.toml");
    std::fs::write(&broken, "[types.x]\nsingular = \"X\"\nplural = \"X\"\nfields = [ { name = \"title\", kind = \"colour\", label = \"T\" } ]\n").unwrap();
    let bad = run(&db, &["schema", "check", broken.to_str().unwrap()]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad).contains("colour"), "{}", text(&bad));
    assert_eq!(code(&run(&db, &["schema", "apply", "--tenant", "nowhere", preset])), 3);
}

/// Writes Lecce's own schema file, which adds `sottotitolo` to the preset's `notizia`, and
/// returns its path.
fn lecce_extra(db: &TestDb) -> String {
    let extra = db.dir.path().join("lecce.toml");
    std::fs::write(
        &extra,
        "[types.notizia]\nsingular = \"Notizia\"\nplural = \"Notizie\"\nfields = [ { name = \"sottotitolo\", kind = \"string\", label = \"Sottotitolo\" } ]\n",
    )
    .unwrap();
    extra.to_str().unwrap().to_owned()
}

/// Creates a `notizia` in Lecce over HTTP, which must succeed.
async fn create_notizia(client: &reqwest::Client, base: &str, token: &str, body: Value) {
    let created = client
        .post(format!("{base}/api/v1/t/lecce/entries/notizia"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

/// An anonymous GET until the server answers it from its read cache (a PostgreSQL node serves
/// from memory one lease after it starts).
async fn cached(client: &reqwest::Client, url: &str) -> Value {
    for _ in 0..100 {
        let res = client.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let hit = res.headers().get("x-cit-cache").is_some_and(|v| v == "hit");
        let body: Value = res.json().await.unwrap();
        if hit {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never came from the cache");
}

#[tokio::test]
async fn cli_writes_reach_a_running_servers_cached_reads_when_the_command_returns() {
    let db = TestDb::new().await;
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/presets/cit.toml");
    run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]);
    let extra = lecce_extra(&db);
    let extra = extra.as_str();
    assert_eq!(code(&run(&db, &["schema", "apply", "--tenant", "lecce", preset, extra])), 0);

    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base).await;
    let published = json!({"status": "published", "data": {
        "title": "Con sottotitolo", "summary": "S", "body": "B", "sottotitolo": "da togliere"
    }});
    create_notizia(&client, &server.base, &token, published).await;
    let url = format!("{}/api/v1/t/lecce/entries/notizia/con-sottotitolo", server.base);
    assert_eq!(cached(&client, &url).await["data"]["sottotitolo"], "da togliere");

    // The schema loses the field: the next read, right after the command, has lost it too.
    let forced = run(&db, &["schema", "apply", "--tenant", "lecce", "--force", preset]);
    assert_eq!(code(&forced), 0, "{}", text(&forced));
    let after: Value = get_json(&client, &url, None).await;
    assert!(after["data"].get("sottotitolo").is_none(), "{after}");

    // A disabled tenant answers nobody, from the first read after the command.
    cached(&client, &url).await;
    assert_eq!(code(&run(&db, &["tenant", "disable", "lecce"])), 0);
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 403, "a disabled tenant is refused, not failed");
    let content_type = refused.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/problem+json"), "{content_type}");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "tenant_disabled", "{problem}");
    assert_eq!(problem["status"], 403, "{problem}");
    assert!(problem.get("data").is_none(), "no entry data in the refusal: {problem}");
}
