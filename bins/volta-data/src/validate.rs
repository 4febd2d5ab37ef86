//! `volta-data validate`: check the store (schema, integrity, coverage), the data folder, and
//! optionally that TWS / IB Gateway accepts connections. Prints `ok` or `FAIL` per check and
//! fails if any check failed.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use volta_data::DataDir;
use volta_data::store::{IntegrityReport, SCHEMA_VERSION, StoreLocation, checks::StoreHealth};

use crate::common::{existing_store, finish, open_sqlite, shown};

/// The store's health: SQLite's full check; on PostgreSQL the schema and coverage (the server
/// enforces the foreign keys and checks, so there are no orphans or damaged pages to look for).
fn health(path: &Path) -> Result<StoreHealth> {
    match StoreLocation::from_path(path) {
        StoreLocation::Sqlite(file) => {
            existing_store(&file)?;
            Ok(open_sqlite(&file)?.health()?)
        }
        StoreLocation::Postgres(_) => {
            let store = existing_store(path)?;
            Ok(StoreHealth {
                schema_version: store.schema_version()?,
                integrity: IntegrityReport::default(),
                coverage: store.coverage()?,
            })
        }
    }
}

/// Arguments of `volta-data validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Also check that TWS / IB Gateway accepts connections here (e.g. 127.0.0.1:7497).
    #[arg(long)]
    tws: Option<String>,
}

pub(crate) fn run(path: &Path, args: &Args) -> ExitCode {
    let mut failures = 0;
    let mut check = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures += 1;
        }
    };
    match health(path) {
        Ok(health) => {
            check(
                health.schema_is_current(),
                format!(
                    "store {}: schema version {} (this build: {SCHEMA_VERSION})",
                    shown(path),
                    health.schema_version
                ),
            );
            check(
                health.integrity.is_ok(),
                format!(
                    "integrity: {} problems, {} orphan rows",
                    health.integrity.problems.len(),
                    health.integrity.foreign_key_violations.len()
                ),
            );
            check(
                health.holds_data(),
                format!("coverage: {} series", health.coverage.len()),
            );
            for c in &health.coverage {
                println!("       {c}");
            }
        }
        Err(e) => check(false, format!("{e:#}")),
    }
    let default = DataDir::beside_checkout();
    match std::env::var_os(DataDir::ENV_VAR) {
        Some(dir) => {
            let data = DataDir::new(dir);
            check(
                data.is_present(),
                format!(
                    "{} {} holds the real data",
                    DataDir::ENV_VAR,
                    data.root().display()
                ),
            );
        }
        None => println!(
            "     {} not set: `import dir` reads {} ({})",
            DataDir::ENV_VAR,
            default.root().display(),
            if default.is_present() {
                "present"
            } else {
                "absent: imports take explicit file paths"
            }
        ),
    }
    if let Some(address) = &args.tws {
        let reachable = reachable(address);
        check(
            reachable.is_ok(),
            match reachable {
                Ok(addr) => format!("TWS / IB Gateway accepts connections at {addr}"),
                Err(e) => format!("TWS / IB Gateway at {address}: {e:#}"),
            },
        );
    }
    finish(failures)
}

/// Connects and disconnects: a TCP handshake only, no API message (no client id is taken).
fn reachable(address: &str) -> Result<SocketAddr> {
    let addr = address
        .to_socket_addrs()
        .with_context(|| format!("`{address}` is not host:port"))?
        .next()
        .with_context(|| format!("`{address}` resolves to no address"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("nothing accepts connections at {addr}"))?;
    Ok(addr)
}
