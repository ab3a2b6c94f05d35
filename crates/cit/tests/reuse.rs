//! The reuse kit from the command line, as an operator uses it: `cit schema export` (a live
//! content model back out as a schema file, and over to another tenant) and `cit partner new`
//! (a new partner's site online in one command). On SQLite, or on PostgreSQL with
//! CIT_TEST_DATABASE_URL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use cit_tests::TestDb;
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "root@cit.test";
const ADMIN_PASSWORD: &str = "root-password-1";
const PRESET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/presets/cit.toml");
const BASE_THEME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../themes/base");

fn cit(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cit"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CIT_DATABASE_URL", &db.url)
        .env("CIT_DATA_DIR", db.data_dir())
        .env("CIT_PASSWORD_HASHING__MEMORY_KIB", "256")
        .env("CIT_PASSWORD_HASHING__ITERATIONS", "1")
        .current_dir(db.dir.path());
    cmd
}

fn run_env(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    cit(db).args(args).envs(env.iter().copied()).stdin(Stdio::null()).output().expect("cit runs")
}

fn run(db: &TestDb, args: &[&str]) -> Output {
    run_env(db, args, &[])
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A `cit serve` or `cit site` process on a free port, with its address read from its own log.
struct Process {
    child: Child,
    base: String,
}

impl Process {
    fn start(mut command: Command) -> Self {
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("the process logs its address before anything else ends").unwrap();
            assert!(!line.contains("panicked"), "{line}");
            if let Some(at) = line.find("listening on http://") {
                // The address alone: the log line may go on with fields and colours.
                let rest = &line[at + "listening on ".len()..];
                let url = rest.split(|c: char| c.is_whitespace() || c == '\u{1b}').next().unwrap();
                break url.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining the log so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base }
    }

    fn serve(db: &TestDb) -> Self {
        let mut command = cit(db);
        command
            .arg("serve")
            .env("CIT_LISTEN", "127.0.0.1:0")
            .env("CIT_WORKERS", "2")
            .env("CIT_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CIT_JWT_SECRET", "reuse-test-secret-reuse-test-secret-0123");
        Self::start(command)
    }

    fn site(db: &TestDb, api: &str, themes: &Path) -> Self {
        let mut command = cit(db);
        command
            .arg("site")
            .env("CIT_SITE_LISTEN", "127.0.0.1:0")
            .env("CIT_SITE_API_URL", api)
            .env("CIT_THEMES_DIR", themes)
            .env("CIT_SITE_ASSETS_DIR", Path::new(BASE_THEME).join("node_modules/bootstrap-italia/dist"));
        Self::start(command)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login as {email}");
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// A tenant's content types over REST: api id → definition.
async fn content_types(client: &reqwest::Client, base: &str, tenant: &str) -> Vec<(String, Value)> {
    let list: Value =
        client.get(format!("{base}/api/v1/t/{tenant}/content-types")).send().await.unwrap().json().await.unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["api_id"].as_str().unwrap().to_owned(), t["definition"].clone()))
        .collect()
}

#[tokio::test]
async fn schema_export_writes_the_live_model_that_apply_reads_back_and_promotes() {
    let db = TestDb::new().await;
    for (id, name) in [("lecce", "CIT Lecce"), ("genova", "CST Genova")] {
        assert_eq!(code(&run(&db, &["tenant", "create", id, "--name", name])), 0);
        assert_eq!(code(&run(&db, &["schema", "apply", "--tenant", id, PRESET])), 0);
    }

    // Standard output by default, so that it pipes; the file reads back as the preset.
    let exported = run(&db, &["schema", "export", "--tenant", "lecce"]);
    assert_eq!(code(&exported), 0, "{}", text(&exported));
    let toml = stdout(&exported);
    assert!(toml.starts_with("# The content model of tenant `lecce` (CIT Lecce)"), "{toml}");
    assert!(toml.contains("[types.servizio]") && toml.contains("[forms.contatti]"), "{toml}");
    assert!(toml.contains("\nmax = 160\n"), "bounds as people write them: {toml}");
    let first = db.dir.path().join("lecce-1.toml");
    std::fs::write(&first, &toml).unwrap();
    let first = first.to_str().unwrap();
    let checked = run(&db, &["schema", "check", first]);
    assert_eq!(code(&checked), 0, "{}", text(&checked));
    assert!(stdout(&checked).contains("ok: 10 content type(s)"), "{}", text(&checked));
    assert!(stdout(&checked).contains("form(s)"), "{}", text(&checked));
    // Applied to the tenant it came from, it changes nothing: the plan is empty.
    let same = run(&db, &["schema", "apply", "--tenant", "lecce", "--dry-run", first]);
    assert_eq!(code(&same), 0, "{}", text(&same));
    assert!(stdout(&same).contains("lecce: up to date"), "{}", text(&same));
    assert!(!stdout(&same).contains("would"), "no change to types or forms: {}", text(&same));
    // And it is the same model as the preset's.
    let preset_plan = run(&db, &["schema", "apply", "--tenant", "lecce", "--dry-run", PRESET]);
    assert!(stdout(&preset_plan).contains("lecce: up to date"), "{}", text(&preset_plan));

    // An admin adds a field through the API.
    let server = Process::serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let notizia: Value = client
        .get(format!("{}/api/v1/t/lecce/content-types/notizia", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut definition = notizia["definition"].clone();
    definition["fields"].as_array_mut().unwrap().push(json!({
        "name": "sottotitolo", "kind": "string", "label": "Sottotitolo", "max": 120,
        "description": "Una riga sotto il titolo, \"tra virgolette\" se serve."
    }));
    let put = client
        .put(format!("{}/api/v1/t/lecce/content-types/notizia", server.base))
        .bearer_auth(&token)
        .json(&definition)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());

    // Exported again, to a file (atomically: nothing else is left in the folder).
    let out_dir = tempfile::tempdir().unwrap();
    let second = out_dir.path().join("lecce.toml");
    let wrote = run(&db, &["schema", "export", "--tenant", "lecce", "--out", second.to_str().unwrap()]);
    assert_eq!(code(&wrote), 0, "{}", text(&wrote));
    assert!(stdout(&wrote).is_empty(), "the model goes to the file: {}", text(&wrote));
    assert!(text(&wrote).contains("wrote 10 content type(s)"), "{}", text(&wrote));
    let names: Vec<String> =
        std::fs::read_dir(out_dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["lecce.toml"]);
    let written = std::fs::read_to_string(&second).unwrap();
    assert!(written.contains("name = \"sottotitolo\""), "{written}");
    let second = second.to_str().unwrap();
    let unchanged = run(&db, &["schema", "apply", "--tenant", "lecce", "--dry-run", second]);
    assert!(stdout(&unchanged).contains("lecce: up to date"), "{}", text(&unchanged));

    // Promoted to another tenant: the plan names the field, then it is applied.
    let plan = run(&db, &["schema", "apply", "--tenant", "genova", "--dry-run", second]);
    assert_eq!(code(&plan), 0, "{}", text(&plan));
    assert!(stdout(&plan).contains("genova: would change 1 thing(s):"), "{}", text(&plan));
    assert!(stdout(&plan).contains("+ notizia.sottotitolo"), "{}", text(&plan));
    let applied = run(&db, &["schema", "apply", "--tenant", "genova", second]);
    assert_eq!(code(&applied), 0, "{}", text(&applied));
    assert!(stdout(&applied).contains("genova: changed 1 thing(s):"), "{}", text(&applied));
    assert!(stdout(&applied).contains("+ notizia.sottotitolo"), "{}", text(&applied));
    let lecce = content_types(&client, &server.base, "lecce").await;
    let genova = content_types(&client, &server.base, "genova").await;
    assert_eq!(lecce.len(), 10);
    assert_eq!(lecce, genova, "both tenants now have the same content types");
    let field = genova.iter().find(|(id, _)| id == "notizia").unwrap().1["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "sottotitolo")
        .cloned()
        .unwrap();
    assert_eq!(field["description"], "Una riga sotto il titolo, \"tra virgolette\" se serve.");

    // An unknown tenant: a clear message, exit code 3, nothing on standard output.
    for tenant in ["nowhere", "Not An Id"] {
        let missing = run(&db, &["schema", "export", "--tenant", tenant]);
        assert_eq!(code(&missing), 3, "{}", text(&missing));
        assert!(stdout(&missing).is_empty());
        assert_eq!(String::from_utf8_lossy(&missing.stderr), format!("error: tenant {tenant} not found\n"));
    }
    let kept = std::fs::read_to_string(second).unwrap();
    let refused = run(&db, &["schema", "export", "--tenant", "nowhere", "--out", second]);
    assert_eq!(code(&refused), 3);
    assert_eq!(std::fs::read_to_string(second).unwrap(), kept, "a failed export leaves the old file");
}

/// A themes folder for one test: the repository's base bundle and the Lecce partner.
fn themes_copy() -> tempfile::TempDir {
    let themes = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(BASE_THEME, themes.path().join("base")).unwrap();
    let lecce = themes.path().join("lecce");
    std::fs::create_dir(&lecce).unwrap();
    for file in ["theme.toml", "logo.svg"] {
        std::fs::copy(Path::new(BASE_THEME).join("../lecce").join(file), lecce.join(file)).unwrap();
    }
    themes
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn partner_new_puts_a_partner_site_online_in_one_command() {
    let db = TestDb::new().await;
    let themes = themes_copy();
    let env = [("CIT_THEMES_DIR", themes.path().to_str().unwrap()), ("CIT_SITE_LISTEN", "127.0.0.1:8099")];
    let made = run_env(
        &db,
        &["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#3fa9f5", "--body", "Comune di Bari"],
        &env,
    );
    assert_eq!(code(&made), 0, "{}", text(&made));
    let printed = stdout(&made);
    assert!(printed.contains("tenant:   bari, on bari.cit.localhost"), "{printed}");
    assert!(printed.contains("the CIT preset, 10 content types"), "{printed}");
    assert!(printed.contains("site:     http://bari.cit.localhost:8099/"), "{printed}");
    assert!(printed.contains("http://127.0.0.1:8099/bari/"), "{printed}");
    let password = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin:    admin@bari.cit.localhost / "))
        .expect("the one-time password is printed")
        .to_owned();
    assert!(password.len() >= 10);
    assert_eq!(listing(&themes.path().join("bari")), ["logo.svg", "theme.toml"]);
    assert_eq!(listing(themes.path()), ["bari", "base", "lecce"], "no temporary folder left");
    let theme = std::fs::read_to_string(themes.path().join("bari/theme.toml")).unwrap();
    assert!(theme.contains("primary = \"#3fa9f5\"") && theme.contains("hosts = [\"bari.cit.localhost\"]"), "{theme}");

    // The API and the sites, started the way an operator does.
    let server = Process::serve(&db);
    let client = reqwest::Client::new();
    // The first admin logs in with the printed password and administers bari only.
    let token = login(&client, &server.base, "admin@bari.cit.localhost", &password).await;
    let me: Value = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["platform_admin"], false, "{me}");
    assert_eq!(me["memberships"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["memberships"][0]["tenant"], "bari", "{me}");
    assert_eq!(me["memberships"][0]["role"], "admin", "{me}");
    assert_eq!(content_types(&client, &server.base, "bari").await.len(), 10);

    let site = Process::site(&db, &server.base, themes.path());
    let port = site.base.rsplit_once(':').unwrap().1.parse::<u16>().unwrap();
    let by_host = reqwest::Client::builder()
        .resolve("bari.cit.localhost", std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let home = by_host.get(format!("http://bari.cit.localhost:{port}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let page = home.text().await.unwrap();
    assert!(page.contains("CIT Bari"), "{page}");
    // The primary colour, darkened until white text on it is readable (#3fa9f5 is too light).
    let primary = cit_site::colour::Palette::new(
        cit_site::colour::Rgb::parse("#3fa9f5").unwrap(),
        cit_site::colour::Rgb::parse("#000000").unwrap(),
    )
    .primary;
    assert_ne!(primary, "#3fa9f5");
    assert!(page.contains(&format!("content=\"{primary}\"")), "{primary} in {page}");
    let logo = by_host.get(format!("http://bari.cit.localhost:{port}/_assets/themes/bari/logo.svg")).send().await;
    assert_eq!(logo.unwrap().status(), 200);
    // The path form serves the same site.
    let by_path = client.get(format!("{}/bari/", site.base)).send().await.unwrap();
    assert_eq!(by_path.status(), 200);
    assert!(by_path.text().await.unwrap().contains("CIT Bari"));

    // Another partner while the API and the sites run: online without a restart, on its host
    // (the sites read the themes folder again for an unknown host, at most once a second).
    let made = run_env(&db, &["partner", "new", "taranto", "--name", "CIT Taranto", "--primary", "#1f6f8b"], &env);
    assert_eq!(code(&made), 0, "{}", text(&made));
    let by_host = reqwest::Client::builder()
        .resolve("taranto.cit.localhost", std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let mut page = String::new();
    for _ in 0..50 {
        let home = by_host.get(format!("http://taranto.cit.localhost:{port}/")).send().await.unwrap();
        page = home.text().await.unwrap();
        if page.contains("<title>CIT Taranto</title>") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(page.contains("<title>CIT Taranto</title>") && page.contains("#1f6f8b"), "{page}");
}

#[tokio::test]
async fn partner_new_refuses_clearly_and_changes_nothing() {
    let db = TestDb::new().await;
    let themes = themes_copy();
    let dir = themes.path().to_str().unwrap().to_owned();
    let env = [("CIT_THEMES_DIR", dir.as_str())];
    let logo = db.dir.path().join("stemma.png");
    std::fs::write(&logo, b"\x89PNG\r\n\x1a\n not really a picture").unwrap();
    let logo = logo.to_str().unwrap().to_owned();
    assert_eq!(code(&run(&db, &["tenant", "create", "taranto", "--name", "CIT Taranto"])), 0);
    std::fs::create_dir(themes.path().join("matera")).unwrap();
    let tenants = || stdout(&run(&db, &["tenant", "list"]));
    let before = (tenants(), listing(themes.path()));

    let cases: [(&[&str], i32, &str); 9] = [
        (&["partner", "new", "Bari!", "--name", "CIT Bari", "--primary", "#0066cc"], 2, "tenant id"),
        (&["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#06c"], 2, "#RRGGBB"),
        (&["partner", "new", "bari", "--name", "CIT Bari", "--primary", "0066cc"], 2, "#RRGGBB"),
        (&["partner", "new", "bari", "--name", "CIT Bari", "--primary", "blue"], 2, "#RRGGBB"),
        (
            &["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#0066cc", "--logo", "/nowhere/logo.svg"],
            2,
            "no such file",
        ),
        (
            &["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#0066cc", "--host", "not a host"],
            2,
            "--host",
        ),
        (
            &["partner", "new", "taranto", "--name", "CIT Taranto", "--primary", "#0066cc"],
            4,
            "tenant taranto already exists",
        ),
        (&["partner", "new", "matera", "--name", "CIT Matera", "--primary", "#0066cc"], 4, "matera already exists"),
        (
            &["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#0066cc", "--host", "lecce.cit.localhost"],
            4,
            "lecce already answers",
        ),
    ];
    for (args, expected, message) in cases {
        let out = run_env(&db, args, &env);
        assert_eq!(code(&out), expected, "{args:?}: {}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.starts_with("error: ") && said.contains(message), "{args:?}: {said}");
        assert!(said.contains("nothing was changed") || expected == 2, "{args:?}: {said}");
        assert!(!said.contains("panicked") && !said.contains("backtrace"), "{said}");
        assert_eq!((tenants(), listing(themes.path())), before, "{args:?} changed something");
    }
    // A password from the environment that is too short is refused before anything is written.
    let short = run_env(
        &db,
        &["partner", "new", "bari", "--name", "CIT Bari", "--primary", "#0066cc"],
        &[("CIT_THEMES_DIR", dir.as_str()), ("CIT_PARTNER_ADMIN_PASSWORD", "corta")],
    );
    assert_eq!(code(&short), 2, "{}", text(&short));
    assert_eq!((tenants(), listing(themes.path())), before);

    // With a logo of its own and the admin's password from the environment, which is never printed.
    let made = run_env(
        &db,
        &[
            "partner",
            "new",
            "bari",
            "--name",
            "CIT Bari",
            "--primary",
            "#0066cc",
            "--logo",
            &logo,
            "--host",
            "cit.bari.example",
            "--admin-email",
            "cit@bari.example",
        ],
        &[("CIT_THEMES_DIR", dir.as_str()), ("CIT_PARTNER_ADMIN_PASSWORD", "una-password-lunga")],
    );
    assert_eq!(code(&made), 0, "{}", text(&made));
    assert!(!text(&made).contains("una-password-lunga"), "{}", text(&made));
    assert!(
        stdout(&made).contains("admin:    cit@bari.example (password from CIT_PARTNER_ADMIN_PASSWORD)"),
        "{}",
        text(&made)
    );
    assert!(stdout(&made).contains("site:     http://cit.bari.example:8081/"), "{}", text(&made));
    assert_eq!(listing(&themes.path().join("bari")), ["logo.png", "theme.toml"]);
    assert_eq!(std::fs::read(themes.path().join("bari/logo.png")).unwrap(), std::fs::read(&logo).unwrap());
    assert!(std::fs::read_to_string(themes.path().join("bari/theme.toml")).unwrap().contains("logo = \"logo.png\""));
    assert!(tenants().contains("bari\tactive\tit\tCIT Bari"));

    // Run again: the tenant exists, so it stops before touching the folder.
    let theme = std::fs::read_to_string(themes.path().join("bari/theme.toml")).unwrap();
    let again = run_env(&db, &["partner", "new", "bari", "--name", "CIT Bari 2", "--primary", "#990000"], &env);
    assert_eq!(code(&again), 4, "{}", text(&again));
    assert!(text(&again).contains("tenant bari already exists"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(themes.path().join("bari/theme.toml")).unwrap(), theme);
    assert_eq!(listing(&themes.path().join("bari")), ["logo.png", "theme.toml"]);
}
