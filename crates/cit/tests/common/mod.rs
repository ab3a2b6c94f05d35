//! What the tests of the `cit` binary share: the command with a test database, and a
//! `cit serve` process on a free port that a test can kill.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Lines, Read};
use std::process::{Child, Command, Stdio};

use cit_tests::TestDb;
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "root@cit.test";
pub const ADMIN_PASSWORD: &str = "root-password-1";

pub fn cit(db: &TestDb) -> Command {
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

/// Which output of a process the test reads.
pub enum Log {
    Stdout,
    Stderr,
}

/// Starts `cmd` listening on a free port, with no input; its `log` is read line by line through
/// the returned iterator, the other output is dropped.
pub fn spawn_on_free_port(mut cmd: Command, log: Log) -> (Child, Lines<BufReader<Box<dyn Read + Send>>>) {
    let (stdout, stderr) = match log {
        Log::Stdout => (Stdio::piped(), Stdio::null()),
        Log::Stderr => (Stdio::null(), Stdio::piped()),
    };
    let mut child =
        cmd.env("CIT_LISTEN", "127.0.0.1:0").stdin(Stdio::null()).stdout(stdout).stderr(stderr).spawn().unwrap();
    let read: Box<dyn Read + Send> = match log {
        Log::Stdout => Box::new(child.stdout.take().unwrap()),
        Log::Stderr => Box::new(child.stderr.take().unwrap()),
    };
    (child, BufReader::new(read).lines())
}

/// A `cit serve` process on a free port, with its address read from its own log.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(db: &TestDb) -> Self {
        Self::start_with(db, &[])
    }

    pub fn start_with(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let mut cmd = cit(db);
        cmd.arg("serve")
            .envs(env.iter().copied())
            .env("CIT_WORKERS", "2")
            .env("CIT_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CIT_JWT_SECRET", "cli-test-secret-cli-test-secret-0123456789");
        let (child, mut lines) = spawn_on_free_port(cmd, Log::Stderr);
        let base = loop {
            let line = lines.next().expect("the server logs its address before anything else ends").unwrap();
            assert!(!line.contains("panicked"), "{line}");
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base }
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET, with a bearer token or none, answered with JSON.
pub async fn get_json(client: &reqwest::Client, url: impl reqwest::IntoUrl, token: Option<&str>) -> Value {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// The platform admin's access token.
pub async fn login(client: &reqwest::Client, base: &str) -> String {
    login_as(client, base, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

/// Logs in over HTTP (which must succeed) and returns the access token.
pub async fn login_as(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}
