//! `volta-live --mode ib-paper` / `ib-live` against a scripted fake TWS on 127.0.0.1: it
//! connects, reconciles the ledger with IB, runs the pre-open checks, and says plainly that
//! decisions on IB are not built yet, having sent nothing.

use std::process::{Command, Output};

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
    if consent {
        command.env("VOLTA_LIVE_TRADING", "I_ACCEPT_REAL_MONEY");
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn ib_paper_reconciles_and_passes_the_pre_open_checks_then_says_what_is_not_built() {
    let tws = FakeTws::start().unwrap();
    let (out, stdout, stderr) = ib_run(&tws, &["--mode", "ib-paper"], false);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reconciled with IB by orderRef"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pre-open checks passed: account DU1234567 (paper)"),
        "{stdout}"
    );
    assert!(stdout.contains("0 working order(s), 0 position(s), openings allowed"));
    assert!(stderr.contains("IB market-data source"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(tws.placed_orders().is_empty());
    // It asked for delayed data, which every paper account has.
    assert_eq!(tws.market_data_type(), Some(3));
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
    let (_, _, stderr) = ib_run(&tws, &["--mode", "ib-paper", "--ib-client-id", "18"], false);
    assert!(!stderr.contains("already in use"), "{stderr}");

    let skewed = FakeTws::start().unwrap();
    skewed.set_clock(Some(chrono::Utc::now() - chrono::TimeDelta::hours(1)));
    let (out, _, stderr) = ib_run(&skewed, &["--mode", "ib-paper"], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("s off TWS's"), "{stderr}");
    assert!(stderr.contains("NTP"), "{stderr}");
}
