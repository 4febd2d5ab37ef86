//! A real MLflow tracking server for tests (included with `#[path]` by the monitor's MLflow
//! test and `volta-train`'s): `mlflow server` (the `mlflow` package from `PyPI`, installed by
//! `scripts/setup.sh`) on a free port of 127.0.0.1 with a SQLite backend and proxied artefacts
//! in a temporary folder. Skipped with a message where `mlflow` is missing, except under
//! `CI=true`, where it fails.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A tracking server in its own process group, stopped (group and all) on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        // gunicorn's workers are the server's children: signal the whole group (the server
        // leads its own). `--` first: without it `kill` reads `-PID` as an option.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &group])
            .status();
        let _ = self.child.wait();
    }
}

pub(crate) fn get(url: &str) -> Option<(u16, String)> {
    let mut reply = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .ok()?;
    let status = reply.status().as_u16();
    Some((
        status,
        reply.body_mut().read_to_string().unwrap_or_default(),
    ))
}

pub(crate) fn start() -> Option<Server> {
    if Command::new("mlflow").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`mlflow` not found: CI must run the MLflow test (scripts/setup.sh installs it)"
        );
        eprintln!("skipped: `mlflow` not found (pip install mlflow, or run scripts/setup.sh)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let backend = format!("sqlite:///{}", dir.path().join("mlflow.db").display());
    let artifacts = dir.path().join("artifacts");
    let child = Command::new("mlflow")
        .args([
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            "1",
        ])
        .args(["--backend-store-uri", &backend, "--serve-artifacts"])
        .arg("--artifacts-destination")
        .arg(&artifacts)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    // Up to 90 s (360 polls 250 ms apart): a cold start imports a lot of Python.
    for _ in 0..360 {
        if get(&format!("{}/health", server.url)).is_some_and(|(s, _)| s == 200) {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("mlflow server did not answer /health within 90 s");
}
