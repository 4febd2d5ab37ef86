//! The `volta-data` binary end to end: real processes on real SQLite files.

use std::path::Path;
use std::process::{Command, Output};

fn volta_data(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volta-data"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("VOLTA_STORE")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_synth_validate_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("nested/volta.db");

    let out = volta_data(&store, &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("schema version"), "{}", stdout(&out));

    // Two weeks of SPY in January 2023: 9 sessions (MLK day closed), a chain each.
    let synth = [
        "synth",
        "--start",
        "2023-01-09",
        "--end",
        "2023-01-20",
        "--seed",
        "7",
    ];
    let out = volta_data(&store, &synth);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("9 sessions (9 bar rows written), 9 chains"),
        "{text}"
    );
    // Again: the same seed writes nothing new.
    let out = volta_data(&store, &synth);
    assert!(
        stdout(&out).contains("(0 bar rows written)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("(0 rows written)"),
        "{}",
        stdout(&out)
    );

    // A TWS stand-in that accepts connections on 127.0.0.1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tws = listener.local_addr().unwrap().to_string();
    let out = volta_data(&store, &["validate", "--tws", &tws]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("DailyBars SPY: 2023-01-09..2023-01-20 (9 rows)"),
        "{text}"
    );
    assert!(
        text.contains("Chains SPY: 2023-01-09..2023-01-20 (9 rows)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("accepts connections at {tws}")),
        "{text}"
    );
    drop(listener);
    let out = volta_data(&store, &["validate", "--tws", &tws]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("FAIL TWS"), "{}", stdout(&out));

    let backup = dir.path().join("backup.db");
    let out = volta_data(&store, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("integrity ok"));
    let out = volta_data(&backup, &["validate"]);
    assert!(out.status.success(), "{}", stdout(&out));
    // A backup never overwrites.
    let out = volta_data(&store, &["backup", backup.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn commands_that_read_the_store_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("absent.db");
    let out = volta_data(&store, &["validate"]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("no store at"), "{}", stdout(&out));
    let out = volta_data(&store, &["backup", "elsewhere.db"]);
    assert!(
        stderr(&out).contains("run `volta-data init`"),
        "{}",
        stderr(&out)
    );
    assert!(!store.exists(), "reading commands must not create a store");
    // Bad arguments are named.
    let out = volta_data(&store, &["synth", "--start", "2023-13-01"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--start"), "{}", stderr(&out));
    let out = volta_data(
        &store,
        &["synth", "--start", "2023-02-01", "--end", "2023-01-01"],
    );
    assert!(
        stderr(&out).contains("on or after start"),
        "{}",
        stderr(&out)
    );
}
