//! The trader as a person runs it: sim-paper trading and journaling, a clean stop on SIGINT,
//! and live trading refused without both consents.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use volta_data::store::{JournalStore, SqliteStore};

/// `volta-live` started with `args` and a journal in `dir`, and its output's lines.
fn spawn(
    args: &[&str],
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let mut child = live()
        .args(args)
        .arg("--journal")
        .arg(dir.join("live.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Sends SIGINT to `child`, as Ctrl-C does.
fn interrupt(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// sim-paper from 2023-01-03 to `end` as fast as it goes, journaled in `journal`.
fn unpaced(journal: &std::path::Path, end: &str) -> std::process::Output {
    live()
        .args([
            "--session-seconds",
            "0",
            "--start",
            "2023-01-03",
            "--end",
            end,
        ])
        .arg("--journal")
        .arg(journal)
        .output()
        .unwrap()
}

fn live() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_volta-live"));
    command
        .env_remove("VOLTA_LIVE_TRADING")
        .env_remove("VOLTA_DASHBOARD_TOKEN");
    // Each run's dashboard on a port of its own: the tests run side by side.
    command.args(["--dashboard", "127.0.0.1:0"]);
    command
}

#[test]
fn sim_paper_trades_journals_and_backs_up_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("live.db");
    let out = unpaced(&journal, "2023-02-28");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What a person watching sees: the orders with their reasons, the fills, each close.
    assert!(stdout.contains(" order   open    p1 "), "{stdout}");
    assert!(stdout.contains(" fill    p"), "{stdout}");
    // An order the fill model did not fill ends with the day, and says so.
    assert!(
        stdout.contains("2023-01-03 16:00 cancelled order ")
            && stdout.contains("/o1: unfilled at the day's end"),
        "{stdout}"
    );
    assert!(stdout.contains("2023-02-28 close   equity "), "{stdout}");
    assert!(stdout.contains("done: 39 sessions"), "{stdout}");
    let store = SqliteStore::open(&journal).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].mode, "sim-paper");
    assert!(
        runs[0]
            .run_id
            .starts_with("sim-paper-synthetic-SPY-2023-01-03")
    );
    assert!(!store.orders(&runs[0].run_id).unwrap().is_empty());
    // The checked backup beside the journal holds the same run.
    let backup = SqliteStore::open(dir.path().join("live.backup.db")).unwrap();
    assert_eq!(backup.runs().unwrap(), runs);
}

/// One code path: the backtester over the same sessions places the same orders, at the same
/// times and limits, gets the same fills and ends with the same equity as sim-paper did.
#[test]
fn the_backtester_replays_a_sim_paper_run_order_for_order() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("live.db");
    let out = unpaced(&journal, "2023-03-31");
    assert!(out.status.success());
    let backtest = volta_engine::Backtest {
        config: volta_engine::BacktestConfig::default(),
        config_text: None,
        start: chrono::NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
        end: chrono::NaiveDate::from_ymd_opt(2023, 3, 31).unwrap(),
        data: volta_engine::DataChoice::Synthetic,
        journal: journal.clone(),
    };
    let replay = backtest.run(&mut |_, _| {}).unwrap();
    let store = SqliteStore::open(&journal).unwrap();
    let runs = store.runs().unwrap();
    let mut modes: Vec<&str> = runs.iter().map(|r| r.mode.as_str()).collect();
    modes.sort_unstable();
    assert_eq!(modes, ["backtest", "sim-paper"]);
    let paper_run = runs.iter().find(|r| r.mode == "sim-paper").unwrap();
    let comparable = |run: &str| {
        let orders = store.orders(run).unwrap();
        let fills = store.fills(run).unwrap();
        let orders: Vec<_> = orders
            .into_iter()
            .map(|o| {
                (
                    o.created_at,
                    o.instrument,
                    o.side,
                    o.quantity,
                    o.limit_price,
                    o.status,
                )
            })
            .collect();
        let fills: Vec<_> = fills
            .into_iter()
            .map(|f| (f.at, f.quantity, f.price, f.fees))
            .collect();
        (
            orders,
            fills,
            store.equity_curve(run).unwrap().last().map(|e| e.equity),
        )
    };
    let paper = comparable(&paper_run.run_id);
    assert!(paper.0.len() > 5, "{} orders", paper.0.len());
    assert_eq!(paper, comparable(&replay.run_id));
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "measures how soon the process answers a signal: wall time is the point"
)]
fn sigint_stops_after_the_session_under_way() {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut lines) = spawn(&["--session-seconds", "0.3"], dir.path());
    // Wait for the second session's close, then interrupt.
    let closes = lines
        .by_ref()
        .map(Result::unwrap)
        .filter(|l| l.contains(" close   equity "))
        .take(2)
        .count();
    assert_eq!(closes, 2);
    let asked = Instant::now();
    interrupt(&child);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success(), "{rest:?}");
    // The session under way finishes at once instead of taking its 0.3 s.
    assert!(asked.elapsed() < Duration::from_secs(5));
    let summary = rest
        .iter()
        .find(|l| l.starts_with("stopped on request: "))
        .unwrap_or_else(|| panic!("{rest:?}"));
    let sessions: usize = summary["stopped on request: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2..=4).contains(&sessions), "{summary}");
}

#[test]
fn in_real_time_a_stop_ends_the_wait_for_the_next_event() {
    // Whatever the hour, the first event (today's open or a later one) is still ahead, or
    // the session runs at once: either way SIGINT ends the run cleanly.
    let dir = tempfile::tempdir().unwrap();
    let (child, mut lines) = spawn(&["--realtime"], dir.path());
    let header = lines.next().unwrap().unwrap();
    assert!(header.contains("in real time (New York)"), "{header}");
    assert!(header.contains("Ctrl-C stops at once"), "{header}");
    interrupt(&child);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} {rest:?} {stderr}", out.status);
    assert!(
        rest.iter().any(|l| l.starts_with("stopped on request")),
        "{rest:?}"
    );
}

#[test]
fn live_trading_needs_the_flag_and_the_variable() {
    let refused = |args: &[&str], consent: Option<&str>| {
        let mut command = live();
        command.args(args);
        if let Some(value) = consent {
            command.env("VOLTA_LIVE_TRADING", value);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for (args, consent) in [
        (&["--mode", "ib-live"][..], None),
        (&["--mode", "ib-live"][..], Some("I_ACCEPT_REAL_MONEY")),
        (&["--mode", "ib-live", "--i-accept-live-trading"][..], None),
        (
            &["--mode", "ib-live", "--i-accept-live-trading"][..],
            Some("yes"),
        ),
    ] {
        let err = refused(args, consent);
        assert!(
            err.contains(
                "needs both --i-accept-live-trading and VOLTA_LIVE_TRADING=I_ACCEPT_REAL_MONEY"
            ),
            "{args:?} {consent:?}: {err}"
        );
    }
    // Both consents: it goes on to connect (here to a port where nothing listens).
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("volta.db");
    std::fs::write(&store, b"").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let err = refused(
        &[
            "--mode",
            "ib-live",
            "--i-accept-live-trading",
            "--ib-port",
            &port,
            "--store",
            store.to_str().unwrap(),
        ],
        Some("I_ACCEPT_REAL_MONEY"),
    );
    assert!(
        err.contains(&format!(
            "cannot connect to TWS / IB Gateway at 127.0.0.1:{port}"
        )),
        "{err}"
    );
}

#[test]
fn a_dashboard_beyond_this_machine_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_volta-live"))
        .env_remove("VOLTA_DASHBOARD_TOKEN")
        .args(["--dashboard", "0.0.0.0:0", "--session-seconds", "0"])
        .arg("--journal")
        .arg(dir.path().join("live.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("0.0.0.0:0") && stderr.contains("VOLTA_DASHBOARD_TOKEN"),
        "{stderr}"
    );
    // Refused before anything traded: no journal was written.
    assert!(!dir.path().join("live.db").exists());
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a deadline for the run to get going"
)]
fn the_dashboard_serves_the_run_it_watches() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = spawn(
        &[
            "--session-seconds",
            "0.2",
            "--start",
            "2023-01-03",
            "--end",
            "2023-03-31",
        ],
        dir.path(),
    );
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("dashboard: ")
                .and_then(|r| r.split_whitespace().next().map(str::to_owned))
        })
        .expect("the dashboard's address is printed");
    // A few sessions later, the state names the run and its equity.
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        let text = ureq::get(&format!("{url}api/state"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        if body["sessions"].as_u64().unwrap_or(0) >= 3 || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(state["sessions"].as_u64().unwrap() >= 3, "{state}");
    assert!(
        state["run_id"].as_str().unwrap().starts_with("sim-paper-"),
        "{state}"
    );
    assert_eq!(state["connection"]["state"], "simulated");
    assert!(state["equity"].as_f64().unwrap() > 0.0);
    let metrics = ureq::get(&format!("{url}metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(metrics.contains("volta_equity_dollars "), "{metrics}");
    interrupt(&child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
}
