//! `volta-live --mode ib-paper` / `ib-live` against a scripted fake TWS on 127.0.0.1: it
//! connects, reconciles the ledger with IB, runs the pre-open checks, opens its market-data
//! session and waits for the decision time; refusals (live consent, account kind, client id,
//! clock, missing history) are clear and send nothing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use volta_data::store::SqliteStore;
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket, store_market};

use volta_ib::fake_tws::FakeTws;

fn ib_run(tws: &FakeTws, args: &[&str], consent: bool) -> (Output, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_volta-live"));
    command
        .env_remove("VOLTA_LIVE_TRADING")
        .env_remove("VOLTA_DASHBOARD_TOKEN")
        .args([
            "--dashboard",
            "127.0.0.1:0",
            "--ib-port",
            &tws.port().to_string(),
        ])
        .args(args)
        .arg("--journal")
        .arg(dir.path().join("live.db"));
    if !args.contains(&"--store") {
        command.arg("--store").arg(history(dir.path()));
    }
    if consent {
        command.env("VOLTA_LIVE_TRADING", "I_ACCEPT_REAL_MONEY");
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// A store holding a synthetic SPY and its volatility index up to the last session before
/// today (in any US time zone), as `volta-data fetch` would leave it.
fn history(dir: &std::path::Path) -> std::path::PathBuf {
    let today = (chrono::Utc::now() - chrono::TimeDelta::hours(4)).date_naive();
    history_until(
        dir,
        volta_core::NyseCalendar.previous_session(today).unwrap(),
    )
}

/// As [`history`], up to session `last`.
fn history_until(dir: &std::path::Path, last: chrono::NaiveDate) -> std::path::PathBuf {
    let path = dir.join("volta.db");
    let market = SyntheticMarket::generate(&SyntheticConfig {
        start: last - chrono::Days::new(600),
        end: last,
        symbol: "SPY".to_owned(),
        ..SyntheticConfig::default()
    })
    .unwrap();
    let mut store = SqliteStore::open(&path).unwrap();
    store_market(&market, &mut store, false, &mut |_, _| {}).unwrap();
    path
}

#[test]
fn ib_paper_reconciles_checks_and_waits_for_the_decision_then_stops_cleanly_on_sigint() {
    let tws = FakeTws::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The first session a few days ahead, so that the trader waits for its open whatever the
    // time of day: started during a session it would ask this fake TWS (which quotes nothing
    // here) for the open at once, racing the SIGINT below. The history reaches the session
    // before it, as a trader's would by then.
    let today = (chrono::Utc::now() - chrono::TimeDelta::hours(4)).date_naive();
    let start = today + chrono::Days::new(3);
    let first = volta_core::NyseCalendar
        .sessions_between(start, start + chrono::Days::new(10))
        .unwrap()[0];
    let store = history_until(
        dir.path(),
        volta_core::NyseCalendar.previous_session(first).unwrap(),
    );
    let config = dir.path().join("live.toml");
    std::fs::write(&config, "vix_index = \"SYNVIX\"\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_volta-live"))
        .env_remove("VOLTA_LIVE_TRADING")
        .env_remove("VOLTA_DASHBOARD_TOKEN")
        .args(["--mode", "ib-paper", "--dashboard", "127.0.0.1:0"])
        .args(["--ib-port", &tws.port().to_string()])
        // The same start as the history's: a date taken from the UTC clock again would be a
        // day later between 00:00 and 04:00 UTC, past the history's end (refused, exit 2).
        .args(["--start", &start.to_string()])
        .arg("--store")
        .arg(&store)
        .arg("--config")
        .arg(&config)
        .arg("--journal")
        .arg(dir.path().join("live.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let waiting = line.contains("next decision");
        seen.push(line);
        if waiting {
            break;
        }
    }
    let stdout = seen.join("\n");
    assert!(
        stdout.contains("reconciled with IB by orderRef"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pre-open checks passed: account DU1234567 (paper)"),
        "{stdout}"
    );
    assert!(stdout.contains("0 working order(s), 0 position(s), openings allowed"));
    assert!(
        stdout.contains("trading SPY on IB (market data as client 18)"),
        "{stdout}"
    );
    assert!(stdout.contains(":45:00 New York"), "{stdout}");
    // Two API sessions: the orders' (17) and the market data's (18).
    assert_eq!(tws.connections(), 2);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(std::result::Result::ok).collect();
    assert_eq!(status.code(), Some(0), "{}", rest.join("\n"));
    assert!(
        rest.iter().any(|l| l.contains("nothing traded")),
        "{}",
        rest.join("\n")
    );
    assert!(tws.placed_orders().is_empty());
    // It asked for delayed data, which every paper account has.
    assert_eq!(tws.market_data_type(), Some(3));
}

#[test]
fn ib_paper_without_a_history_store_says_how_to_build_one_and_sends_nothing() {
    let tws = FakeTws::start().unwrap();
    let (out, _, stderr) = ib_run(
        &tws,
        &["--mode", "ib-paper", "--store", "/nonexistent/volta.db"],
        false,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("/nonexistent/volta.db"), "{stderr}");
    assert!(stderr.contains("just data-import"), "{stderr}");
    assert!(tws.placed_orders().is_empty());
}

#[test]
fn ib_live_refuses_a_paper_account_even_with_both_consents() {
    let tws = FakeTws::start().unwrap();
    let (out, _, stderr) = ib_run(
        &tws,
        &["--mode", "ib-live", "--i-accept-live-trading"],
        true,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("a live account for --mode ib-live (this one is paper)"),
        "{stderr}"
    );
    assert!(tws.placed_orders().is_empty());
}

#[test]
fn a_client_id_in_use_and_a_wrong_clock_are_refused_with_what_to_do() {
    let tws = FakeTws::start().unwrap();
    tws.set_client_id_in_use(17, true);
    let (out, _, stderr) = ib_run(&tws, &["--mode", "ib-paper"], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("client id 17 is already in use"),
        "{stderr}"
    );
    // Another client id connects; with no session left to trade in its range it stops there.
    let (out, _, stderr) = ib_run(
        &tws,
        &[
            "--mode",
            "ib-paper",
            "--ib-client-id",
            "18",
            "--end",
            "2020-01-03",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr.contains("already in use"), "{stderr}");
    assert!(
        stderr.contains("no NYSE session with its decision still to come"),
        "{stderr}"
    );

    let skewed = FakeTws::start().unwrap();
    skewed.set_clock(Some(chrono::Utc::now() - chrono::TimeDelta::hours(1)));
    let (out, _, stderr) = ib_run(&skewed, &["--mode", "ib-paper"], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("s off TWS's"), "{stderr}");
    assert!(stderr.contains("NTP"), "{stderr}");
}
