//! The `volta-data` binary end to end: real processes on real SQLite files.

#[path = "../../../crates/data/tests/it/pg_cluster.rs"]
mod pg_cluster;
#[path = "../../../crates/data/tests/it/support.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{ReplayServer, Reply};
use volta_data::DataDir;

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
        text.contains("9 sessions (9 bar rows, 9 SYNVIX rows written), 9 chains"),
        "{text}"
    );
    // Again: the same seed writes nothing new.
    let out = volta_data(&store, &synth);
    assert!(
        stdout(&out).contains("(0 bar rows, 0 SYNVIX rows written)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("(0 rows written)"),
        "{}",
        stdout(&out)
    );

    // Another seed would replace the stored bars: refused, and the store is untouched.
    let other_seed = [
        "synth",
        "--start",
        "2023-01-09",
        "--end",
        "2023-01-20",
        "--seed",
        "8",
    ];
    let out = volta_data(&store, &other_seed);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already holds other SPY bars"),
        "{}",
        stderr(&out)
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

/// The shared data folder's real files through `import`: each kind, re-imports that change
/// nothing, and a bad file that fails without touching the store.
#[test]
fn import_real_files() {
    let (Some(spy), Some(vix), Some(dff), Some(spx)) = (
        DataDir::test_file("underlying/SPY_daily_unadjusted.csv"),
        DataDir::test_file("vol/VIX_History.csv"),
        DataDir::test_file("rates/DFF.csv"),
        DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv.gz"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("real.db");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let import = |args: &[&str]| {
        let out = volta_data(&store, args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    let text = import(&["import", "bars", &path(&spy)]);
    assert!(text.contains("1 of 1 files imported"), "{text}");
    // Every session from 1999-11-01 to 2023-11-08.
    assert_eq!(rows_changed(&text), 6045, "{text}");
    let text = import(&["import", "bars", &path(&spy)]);
    assert!(
        text.contains("0 rows inserted or changed"),
        "re-import: {text}"
    );
    let text = import(&["import", "vix", &path(&vix)]);
    // One row per line of CBOE's file (1990-01-02 to 2023-11-08).
    assert_eq!(rows_changed(&text), 8538, "{text}");
    let text = import(&["import", "rates", &path(&dff)]);
    // FRED's daily federal funds rate, 1954-07-01 to 2023-11-08.
    assert_eq!(rows_changed(&text), 25_333, "{text}");
    let text = import(&["import", "chains", &path(&spx)]);
    assert!(text.contains("1 of 1 files imported"), "{text}");

    let before = stdout(&volta_data(&store, &["validate"]));
    assert!(before.contains("DailyBars SPY: 1999-"), "{before}");
    assert!(
        before.contains("Chains SPX: 2019-04-25..2019-04-25 (1 rows)"),
        "{before}"
    );

    // A bar file whose third data row has a negative close: the whole file is refused, named
    // by line and column, and the store is exactly as before.
    let bad = dir.path().join("SPY_bad.csv");
    std::fs::write(
        &bad,
        "date,1. open,2. high,3. low,4. close,5. volume\n\
         2030-01-02,100,101,99,100.5,1000\n\
         2030-01-03,100,101,99,100.5,1000\n\
         2030-01-04,100,101,99,-1,1000\n",
    )
    .unwrap();
    let out = volta_data(&store, &["import", "bars", &path(&bad), &path(&spy)]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("SPY_bad.csv:4: column 4 `4. close`: `-1` is not a non-negative price"),
        "{text}"
    );
    assert!(
        text.contains("1 of 2 files imported"),
        "the good file still goes in: {text}"
    );
    let after = stdout(&volta_data(&store, &["validate"]));
    assert_eq!(before, after, "a failed file leaves the store as it was");
}

fn rows_changed(summary: &str) -> u64 {
    let line = summary.lines().last().unwrap();
    let (_, rest) = line.split_once("imported, ").unwrap();
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

/// `fetch` against Yahoo's recorded replies on a local server: bars and one expiry of the
/// chain go into the store, and a second fetch of closed sessions is served from it.
#[test]
fn fetch_from_recorded_yahoo_replies() {
    let server = ReplayServer::start();
    server.require_session();
    server.route(
        "/v8/finance/chart/QQQ",
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    server.route(
        "/v7/finance/options/QQQ",
        Reply::Fixture("options-QQQ.json"),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("fetched.db");
    let fetch = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_volta-data"))
            .arg("--store")
            .arg(&store)
            .args(["fetch", "--symbol", "qqq"])
            .args(args)
            .env("VOLTA_YAHOO_URL", server.url())
            .env("VOLTA_YAHOO_COOKIE_URL", format!("{}/cookie", server.url()))
            .output()
            .unwrap()
    };
    let out = fetch(&[
        "--start",
        "2020-01-01",
        "--end",
        "2020-01-03",
        "--chains",
        "--expiry",
        "2025-02-24",
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("bars  QQQ: 1 sessions 2020-01-02..2020-01-02, last close 216.16"),
        "{text}"
    );
    assert!(
        text.contains(
            "chain QQQ at 2025-02-21 16:00:00: 180 quotes in 1 expiries, underlying 526.12"
        ),
        "{text}"
    );
    assert_eq!(server.requests("/v8/finance/chart/QQQ").len(), 1);

    // The recorded reply holds 2020-01-02 only: that session is now answered by the store.
    let out = fetch(&["--start", "2020-01-02", "--end", "2020-01-02"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(1 answered from the store, 0 fetched)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        server.requests("/v8/finance/chart/QQQ").len(),
        1,
        "served from the store"
    );

    let text = stdout(&volta_data(&store, &["validate"]));
    assert!(
        text.contains("DailyBars QQQ: 2020-01-02..2020-01-02 (1 rows)"),
        "{text}"
    );
    assert!(
        text.contains("Chains QQQ: 2025-02-21..2025-02-21 (1 rows)"),
        "{text}"
    );
}

/// The same commands on PostgreSQL: `--store postgres://…` with the password from PGPASSWORD
/// (never printed), synth, validate, and `copy-store` to a SQLite file and back into another
/// database, each copy verified.
#[test]
fn postgres_store_init_synth_validate_and_copy_both_ways() {
    let Some(cluster) = pg_cluster::PgCluster::start() else {
        return;
    };
    let first = cluster.fresh_database();
    let db = pg_cluster::PgCluster::database_of(&first).to_owned();
    let url = cluster.password_url(&db, None);
    let run = |store: &str, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_volta-data"))
            .arg("--store")
            .arg(store)
            .args(args)
            .env_remove("VOLTA_STORE")
            .env("PGPASSWORD", pg_cluster::PASSWORD)
            .output()
            .expect("the binary runs");
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(!o.contains(pg_cluster::PASSWORD) && !e.contains(pg_cluster::PASSWORD));
        (out.status.success(), o, e)
    };
    let (ok, o, e) = run(&url, &["init"]);
    assert!(ok, "{e}");
    assert!(
        o.contains(&format!("store {url} ready: schema version 4")),
        "{o}"
    );
    let synth = [
        "synth",
        "--start",
        "2023-01-09",
        "--end",
        "2023-01-20",
        "--seed",
        "7",
    ];
    let (ok, o, e) = run(&url, &synth);
    assert!(ok, "{e}");
    assert!(
        o.contains("9 sessions (9 bar rows, 9 SYNVIX rows written), 9 chains"),
        "{o}"
    );
    let (ok, o, _) = run(&url, &synth);
    assert!(
        ok && o.contains("(0 bar rows, 0 SYNVIX rows written)"),
        "{o}"
    );
    let (ok, o, e) = run(&url, &["validate"]);
    assert!(ok, "{o}{e}");
    assert!(
        o.contains("DailyBars SPY: 2023-01-09..2023-01-20 (9 rows)"),
        "{o}"
    );

    // With the password in the URL it is shown as ***.
    let with_pw = cluster.password_url(&db, Some(pg_cluster::PASSWORD));
    let (ok, o, e) = run(&with_pw, &["init"]);
    assert!(ok, "{e}");
    assert!(o.contains(":***@127.0.0.1"), "{o}");

    // PostgreSQL → SQLite → another PostgreSQL database.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    let file_text = file.display().to_string();
    let (ok, o, e) = run(
        &url,
        &["copy-store", "--from", &with_pw, "--to", &file_text],
    );
    assert!(ok, "{e}");
    assert!(
        o.contains("verified") && o.contains("option_quotes: "),
        "{o}"
    );
    let quotes_line = o
        .lines()
        .find(|l| l.starts_with("option_quotes: "))
        .unwrap()
        .to_owned();
    assert!(!quotes_line.starts_with("option_quotes: 0 rows"), "{o}");
    let (ok, o, e) = run(&file_text, &["validate"]);
    assert!(ok, "{o}{e}");
    let second = cluster.fresh_database();
    let (ok, o, e) = run(&url, &["copy-store", "--from", &file_text, "--to", &second]);
    assert!(ok, "{e}");
    assert!(o.contains(&quotes_line), "{o}");
    // Into a store that is not empty: refused.
    let (ok, _, e) = run(&url, &["copy-store", "--from", &file_text, "--to", &second]);
    assert!(!ok);
    assert!(e.contains("not empty"), "{e}");
    // backup is SQLite's: on PostgreSQL it says what to do instead.
    let (ok, _, e) = run(
        &url,
        &["backup", &dir.path().join("b.db").display().to_string()],
    );
    assert!(!ok && e.contains("copy-store"), "{e}");
}
