//! The `volta-backtest` command end to end: a synthetic quarter, its report files, and the
//! errors a user sees for a bad configuration or a missing store.

use std::process::Command;

fn backtest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_volta-backtest"))
}

#[test]
fn a_synthetic_quarter_writes_the_report_summary_trades_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = backtest()
        .args(["--start", "2022-01-03", "--end", "2022-03-31", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("62 sessions"), "{stdout}");
    assert!(stdout.contains("Synthetic market"), "{stdout}");
    for file in [
        "report.html",
        "summary.json",
        "trades.csv",
        "equity.svg",
        "drawdown.svg",
        "journal.sqlite",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // 62 sessions plus the starting point (the close before the first session).
    assert_eq!(summary["metrics"]["sessions"], 63);
    assert_eq!(summary["metrics"]["start"], "2021-12-31");
    assert_eq!(summary["metrics"]["starting_equity"], 100_000.0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("None of it is real market data"));
    // Same command again: the same summary, byte for byte.
    let first = std::fs::read(out.join("summary.json")).unwrap();
    let again = backtest()
        .args(["--start", "2022-01-03", "--end", "2022-03-31", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), first);
}

#[test]
fn a_bad_configuration_or_store_is_a_clear_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[strategies]]\nkind = \"iv_rank_premium\"\nwidth = { dollars = -5.0 }\n",
    )
    .unwrap();
    let run = backtest()
        .args(["--start", "2022-01-03", "--end", "2022-03-31", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("width"), "{stderr}");
    assert!(
        !dir.path().join("r").exists(),
        "nothing written for a bad configuration"
    );

    let run = backtest()
        .args([
            "--start",
            "2022-01-03",
            "--end",
            "2022-03-31",
            "--data",
            "store",
            "--store",
        ])
        .arg(dir.path().join("missing.sqlite"))
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&run.stderr)
            .contains("must be an existing store (build it with `just data-import`")
    );
}

#[test]
fn json_prints_the_summary_and_the_equity_curve_as_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = backtest()
        .args([
            "--start",
            "2022-03-01",
            "--end",
            "2022-03-31",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The whole of stdout is the document (tools/sweep parses it).
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let sessions = doc["summary"]["metrics"]["sessions"].as_u64().unwrap();
    let equity = doc["equity"].as_array().unwrap();
    assert_eq!(equity.len() as u64, sessions);
    assert_eq!(equity[0]["date"], "2022-02-28");
    assert_eq!(equity[0]["equity"], 100_000.0);
    assert_eq!(
        doc["summary"],
        serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(out.join("summary.json")).unwrap()
        )
        .unwrap()
    );
}
