//! A real SMTP server for the tests: Python's aiosmtpd (Debian's python3-aiosmtpd), on
//! loopback, keeping every message it receives as a file of a Maildir.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// An SMTP server on loopback that keeps every message as a file under `<dir>/new`.
pub struct Smtp {
    child: Child,
    dir: PathBuf,
}

impl Smtp {
    pub fn start(port: u16, dir: &Path) -> Self {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // Debian's python3-aiosmtpd installs for the system interpreter, which may not be the
        // first `python3` on PATH (pyenv); CIT_TEST_PYTHON names another one.
        let python = std::env::var("CIT_TEST_PYTHON").unwrap_or_else(|_| {
            if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3".into() } else { "python3".into() }
        });
        let mut child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (Debian python3-aiosmtpd, or pip install aiosmtpd)");
        // Ready when it accepts connections. Python starts slowly on a machine busy with the
        // rest of the suite (PostgreSQL, other servers): give it 20 s, unless it has exited.
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, dir: dir.to_owned() };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the SMTP server on port {port} exited at start ({status}): is the port taken?");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP server did not start on port {port}");
    }

    /// Every message received, soft line breaks of quoted-printable undone.
    pub fn received(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else { return Vec::new() };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|t| t.replace("=\r\n", "").replace("=\n", ""))
            .collect()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
