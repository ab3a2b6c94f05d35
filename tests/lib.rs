//! Shared helpers for cit's black-box tests: a fresh database per test (a SQLite file in a temp
//! folder, or a uniquely named PostgreSQL database when `CIT_TEST_DATABASE_URL` is set, dropped
//! at the end), and the API started on port 0 and driven over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;

use cit_api::clock::ManualClock;
use cit_api::settings::{CacheSettings, LoginLimit, PasswordHashing, Secret};
use cit_api::state::AppState;
use cit_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "root@cit.test";
pub const ADMIN_PASSWORD: &str = "root-password-1";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("CIT_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let name = format!("cit_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to CIT_TEST_DATABASE_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).expect("URL with a database name");
                Self { url: format!("{base}/{name}"), dir, postgres: Some((admin_url, name)) }
            }
            None => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("cit.db").display());
                Self { url, dir, postgres: None }
            }
        }
    }

    /// A SQLite database whatever `CIT_TEST_DATABASE_URL` says: the other end of a test that
    /// moves data between the two kinds.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("cit.db").display());
        Self { url, dir, postgres: None }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async; a small runtime on its own thread does the clean-up.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

/// Settings for a test server: port 0, cheap password hashing, a known JWT key, one worker.
pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: db.data_dir(),
        database_url: Some(Secret::new(db.url.clone())),
        db_max_connections: 4,
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        admin_email: Some(ADMIN_EMAIL.into()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        password_hashing: PasswordHashing { memory_kib: 256, iterations: 1, parallelism: 1 },
        login_limit: LoginLimit { per_account: 1000, per_address: 1000, window_secs: 60 },
        workers: 1,
        scheduler_interval_secs: 0,
        // Background work runs only in the tests that ask for it: the outbox worker and the
        // retention job would otherwise add statements to the counts that prove no N+1.
        mail: cit_api::mail::MailSettings { poll_ms: 0, ..Settings::default().mail },
        webhooks: cit_api::webhooks::WebhookSettings { poll_ms: 0, ..Settings::default().webhooks },
        portability: cit_api::portable::PortabilitySettings { poll_ms: 0, ..Settings::default().portability },
        requests: cit_api::requests::RequestSettings { retention_interval_secs: 0, ..Settings::default().requests },
        // Short leases: a PostgreSQL node writes at full speed a moment after it starts.
        cache: CacheSettings { lease_ms: 300, ..Settings::default().cache },
        ..Settings::default()
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: cit_store::Store,
    pub handle: cit_api::startup::ServerHandle,
    pub state: Arc<AppState>,
    pub settings: Settings,
    /// The server's clock: tests move it instead of sleeping (the scheduler reads it).
    pub clock: Arc<ManualClock>,
    // Last: the database is dropped after the server handle.
    pub db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `CIT_TEST_LOG=debug cargo test …` shows the server's logs (internal errors included).
fn init_logging() {
    if let Ok(filter) = std::env::var("CIT_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let db = TestDb::new().await;
    let mut settings = test_settings(&db);
    tweak(&mut settings);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let (address, store, handle, state) = start(&settings, clock.clone()).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { address, client, store, handle, state, settings, clock, db }
}

async fn start(
    settings: &Settings,
    clock: Arc<ManualClock>,
) -> (String, cit_store::Store, cit_api::startup::ServerHandle, Arc<AppState>) {
    let store = cit_api::open_store(settings).await.expect("the database opens");
    let app = Application::build_with(settings.clone(), store, clock).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let handle = app.handle();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    (address, store, handle, state)
}

/// A second API node: see [`TestApp::another_node`].
pub struct Node {
    pub address: String,
    pub handle: cit_api::startup::ServerHandle,
    pub state: Arc<AppState>,
}

/// A response read whole: status, headers and JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `code` of a problem+json body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    /// The field named by the first field error.
    pub fn field(&self) -> &str {
        self.body["errors"][0]["field"].as_str().unwrap_or("")
    }
}

pub async fn read(res: reqwest::Response) -> Res {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Res { status, headers, body, text }
}

impl TestApp {
    /// Stops the server and starts a new one on the same database and clock, as after a
    /// restart of the process.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, store, handle, state) = start(&self.settings, self.clock.clone()).await;
        self.address = address;
        self.store = store;
        self.handle = handle;
        self.state = state;
    }

    /// Another API node on the same database and clock, as a second process behind a load
    /// balancer would be. Stop it with `node.handle.stop(true)`.
    pub async fn another_node(&self) -> Node {
        let (address, _, handle, state) = start(&self.settings, self.clock.clone()).await;
        Node { address, handle, state }
    }

    /// A GET to `node` instead of the first server.
    pub async fn get_at(&self, node: &Node, path: &str, token: Option<&str>) -> Res {
        let mut req = self.client.get(format!("{}{}", node.address, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.expect("request sent")).await
    }

    /// One scheduler step at the clock's time.
    pub async fn tick(&self) -> cit_store::ScheduleReport {
        self.state.run_scheduler_once().await.expect("scheduler step")
    }

    /// Gives a tenant the CIT preset (schema/presets/cit.toml) through the admin API.
    pub async fn apply_preset(&self, admin: &str, tenant: &str) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/presets/cit.toml"))
            .expect("preset");
        let file = cit_core::content::SchemaFile::parse_toml(&text).expect("preset parses");
        // Referenced types first, so every PUT leaves a consistent model.
        let mut pending: Vec<(String, cit_core::content::ContentTypeDef)> = file.types.into_iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for (id, def) in pending {
                let res = self
                    .put(
                        &format!("/api/v1/t/{tenant}/content-types/{id}"),
                        Some(admin),
                        serde_json::to_value(&def).unwrap(),
                    )
                    .await;
                if res.status != 200 {
                    rest.push((id, def));
                }
            }
            assert!(
                rest.len() < before,
                "the preset does not apply: {:?}",
                rest.iter().map(|r| &r.0).collect::<Vec<_>>()
            );
            pending = rest;
        }
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.request(reqwest::Method::PUT, path, token, Some(body)).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.request(reqwest::Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.request(reqwest::Method::POST, path, token, Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.request(reqwest::Method::PATCH, path, token, Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Res {
        self.request(reqwest::Method::DELETE, path, token, None).await
    }

    /// The body of a GET as bytes (a download), after checking it answered 200.
    pub async fn get_bytes(&self, path: &str, token: Option<&str>) -> Vec<u8> {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request sent");
        assert_eq!(res.status().as_u16(), 200, "GET {path}");
        res.bytes().await.expect("body read").to_vec()
    }

    /// Sends raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Res {
        let mut req = self.client.post(self.url(path)).header("content-type", content_type).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Res {
        self.post("/api/v1/auth/login", None, json!({"email": email, "password": password})).await
    }

    /// Logs in and returns the access token, panicking on failure.
    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let res = self.login(email, password).await;
        assert_eq!(res.status, 200, "login of {email}: {}", res.text);
        res.body["access_token"].as_str().expect("access_token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a tenant as the platform admin.
    pub async fn create_tenant(&self, admin: &str, id: &str) -> Res {
        let res = self.post("/api/v1/tenants", Some(admin), json!({"id": id, "name": format!("CIT {id}")})).await;
        assert_eq!(res.status, 201, "create tenant {id}: {}", res.text);
        res
    }

    /// Adds a new user to a tenant with a role and returns their access token.
    pub async fn member(&self, admin: &str, tenant: &str, email: &str, role: &str) -> String {
        let password = "member-password-1";
        let res = self
            .post(
                &format!("/api/v1/t/{tenant}/members"),
                Some(admin),
                json!({"email": email, "role": role, "name": email, "password": password}),
            )
            .await;
        assert_eq!(res.status, 201, "add member {email}: {}", res.text);
        self.token_for(email, password).await
    }

    /// Creates an API token with scopes and returns (secret, id).
    pub async fn api_token(&self, admin: &str, tenant: &str, scopes: &[&str]) -> (String, String) {
        let res = self
            .post(&format!("/api/v1/t/{tenant}/tokens"), Some(admin), json!({"name": "test", "scopes": scopes}))
            .await;
        assert_eq!(res.status, 201, "create token: {}", res.text);
        (res.body["token"].as_str().expect("token").to_owned(), res.body["id"].as_str().expect("id").to_owned())
    }
}
