//! A throw-away PostgreSQL cluster for tests and benches: `initdb` into a temporary folder,
//! `pg_ctl start` on a free port of 127.0.0.1, one fresh database per test, and
//! `pg_ctl stop -m immediate` plus the folder's removal when the last user drops it.
//!
//! The binaries are found without naming a version: `VOLTA_PG_BINDIR`, else `pg_config
//! --bindir`, else `initdb` on `PATH`, else the newest `/usr/lib/postgresql/<version>/bin`
//! (Debian's layout; `scripts/setup.sh` installs the package). When they are missing a test
//! is skipped with a message, except under `CI=true`, where it fails: CI must run the suite on
//! both stores.
//!
//! `initdb` refuses to run as root: as root, every server command runs as the `postgres`
//! user (`runuser -u postgres`, which Debian's package creates) on a folder given to it.
//!
//! One cluster per process is shared by the tests that run at the same time ([`shared`]);
//! nextest runs each test in its own process, so there it is one cluster per test (~1 s).

#![allow(
    dead_code,
    unreachable_pub,
    reason = "the tests and the benches use different parts of the helper"
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The superuser, who logs in over TCP without a password (`trust`: every connection of a
/// test would otherwise pay a SCRAM exchange in an unoptimised debug build).
const USER: &str = "volta";
/// A second role that must log in with a password (SCRAM-SHA-256), as on a production server:
/// see [`PgCluster::password_url`].
pub const PASSWORD_USER: &str = "volta_pw";
/// [`PASSWORD_USER`]'s password.
pub const PASSWORD: &str = "volta-test-secret";

/// A running throw-away cluster. Stopped and deleted on drop.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    port: u16,
    as_postgres: bool,
    next_db: AtomicU32,
}

/// Where the PostgreSQL server binaries are, if installed.
pub fn find_bindir() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("VOLTA_PG_BINDIR").map(PathBuf::from) {
        return has_tools(&d).then_some(d);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_tools(&d) {
            return Some(d);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_tools(&d) {
                return Some(d);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_tools(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// Whether this process runs as root (then the server runs as `postgres`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

impl PgCluster {
    /// Starts a new cluster, or `None` (after saying why) where PostgreSQL is not installed
    /// and `CI` is not `true`.
    ///
    /// # Panics
    /// Under `CI=true` without PostgreSQL; if `initdb` or `pg_ctl start` fails.
    pub fn start() -> Option<Self> {
        let Some(bindir) = find_bindir() else {
            let msg = "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's \
                       `postgresql` (scripts/setup.sh) or set VOLTA_PG_BINDIR";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{msg} (CI=true: the PostgreSQL store tests must run)"
            );
            eprintln!("SKIPPED (PostgreSQL): {msg}");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("volta-pg-")
            .tempdir()
            .expect("a temporary folder");
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path()));
        }
        let cluster = Self {
            bindir,
            port: 0,
            as_postgres,
            next_db: AtomicU32::new(0),
            dir,
        };
        cluster.server_command(
            "initdb",
            &[
                "-D",
                &cluster.data_dir(),
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        // The password role's rule first: pg_hba.conf applies the first line that matches.
        let hba = Path::new(&cluster.data_dir()).join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        std::fs::write(
            &hba,
            format!("host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n{rules}"),
        )
        .expect("write pg_hba.conf");
        let mut cluster = cluster;
        // A port found free may be taken before the server binds it: try a few.
        for attempt in 0..3 {
            cluster.port = free_port();
            if cluster.try_start() {
                return Some(cluster);
            }
            eprintln!(
                "pg_ctl start failed on port {} (attempt {attempt})",
                cluster.port
            );
        }
        panic!(
            "cannot start PostgreSQL: {}",
            std::fs::read_to_string(cluster.dir.path().join("server.log")).unwrap_or_default()
        );
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs one of the server's programs (as `postgres` when we are root).
    fn server_command(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bindir.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args);
        run(&mut cmd)
    }

    fn try_start(&self) -> bool {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off \
             -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let out = self.server_command(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
        out.status.success()
    }

    /// The URL of database `db` (the superuser, no password needed).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// The URL of database `db` as [`PASSWORD_USER`], who must give a password; `password`
    /// is put in the URL when given (else the client must find it, e.g. in `PGPASSWORD`).
    /// Creates the role on first use.
    pub fn password_url(&self, db: &str, password: Option<&str>) -> String {
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the cluster");
        // Names and password are constants of this file, not input.
        admin
            .batch_execute(&format!(
                "DO $$ BEGIN
                     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PASSWORD_USER}') THEN
                         CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}';
                     END IF;
                 END $$"
            ))
            .expect("create the password role");
        match password {
            Some(pw) => format!(
                "postgres://{PASSWORD_USER}:{pw}@127.0.0.1:{}/{db}",
                self.port
            ),
            None => format!("postgres://{PASSWORD_USER}@127.0.0.1:{}/{db}", self.port),
        }
    }

    /// The database name at the end of a URL from [`PgCluster::fresh_database`].
    pub fn database_of(url: &str) -> &str {
        url.rsplit('/').next().unwrap_or(url)
    }

    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{n}");
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the cluster");
        // The name is ours (a counter), not input: DDL takes no parameters.
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a database");
        self.url(&name)
    }

    /// Kills the server as a crash would (`pg_ctl stop -m immediate`: no checkpoint, open
    /// transactions lost, recovery at the next start).
    pub fn crash(&self) {
        let out = self.server_command(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "stop"],
        );
        assert!(out.status.success(), "pg_ctl stop: {out:?}");
    }

    /// Starts the server again on its port after [`PgCluster::crash`].
    pub fn restart(&self) {
        assert!(self.try_start(), "pg_ctl start after a crash");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.server_command(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "stop"],
        );
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// The cluster this process shares among the tests running now: started by the first, stopped
/// when the last drops its handle. `None` where PostgreSQL is not installed (see
/// [`PgCluster::start`]).
pub fn shared() -> Option<Arc<PgCluster>> {
    static SHARED: Mutex<Weak<PgCluster>> = Mutex::new(Weak::new());
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(c) = slot.upgrade() {
        return Some(c);
    }
    let c = Arc::new(PgCluster::start()?);
    *slot = Arc::downgrade(&c);
    Some(c)
}
