//! `volta-monitor` over a past backtest's journal, as a person runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use chrono::NaiveDate;
use volta_engine::{Backtest, BacktestConfig, DataChoice};

fn monitor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_volta-monitor"));
    command.env_remove("VOLTA_DASHBOARD_TOKEN");
    command
}

/// `volta-monitor` run to its end with `args` over `journal`: its status and stderr.
fn refused(args: &[&str], journal: &std::path::Path) -> (Option<i32>, String) {
    let out = monitor()
        .args(args)
        .arg("--journal")
        .arg(journal)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn browses_a_past_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.sqlite");
    let result = Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start: NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
        end: NaiveDate::from_ymd_opt(2023, 2, 28).unwrap(),
        data: DataChoice::Synthetic,
        journal: journal.clone(),
    }
    .run(&mut |_, _| {})
    .unwrap();
    let mut child = monitor()
        .args(["--dashboard", "127.0.0.1:0", "--refresh-seconds", "0.2"])
        .arg("--journal")
        .arg(&journal)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("dashboard: ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let second = lines.next().unwrap().unwrap();
    assert!(
        second.starts_with(&format!("run {} (backtest): 39 sessions", result.run_id)),
        "{second}"
    );
    let text = ureq::get(&format!("{url}api/state"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        state["equity"].as_f64().unwrap(),
        result.summary.metrics.ending_equity
    );
    assert_eq!(state["connection"]["state"], "replay");
    assert_eq!(state["finished"], true);
    assert_eq!(
        state["fills_total"].as_u64().unwrap(),
        result.summary.fills as u64
    );
    let svg = ureq::get(&format!("{url}chart/equity.svg"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(svg.contains("<svg"));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn refuses_a_bind_beyond_this_machine_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr) = refused(
        &["--dashboard", "0.0.0.0:0"],
        &dir.path().join("none.sqlite"),
    );
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("VOLTA_DASHBOARD_TOKEN"), "{stderr}");
}

#[test]
fn says_which_journal_or_run_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--dashboard", "127.0.0.1:0", "--run", "nope"];
    let missing = dir.path().join("missing.sqlite");
    let (status, stderr) = refused(&args, &missing);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("missing.sqlite: no such journal"),
        "{stderr}"
    );
    assert!(!missing.exists());
    // An empty journal (a store without runs) names what it has: nothing.
    let empty = dir.path().join("empty.sqlite");
    volta_data::store::SqliteStore::open(&empty).unwrap();
    let (status, stderr) = refused(&args, &empty);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("no run nope; runs there: none"), "{stderr}");
}
