//! `deploy/`: the Prometheus alert rules and the Grafana dashboard use only metrics the
//! monitor exports, and `promtool` (Debian's `prometheus` package, installed by
//! `scripts/setup.sh`) accepts the rules and passes their unit tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use volta_monitor::metrics::names;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Every `volta_…` name in `expr`, a histogram's series named by the histogram.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("volta_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| *b == names::DECISION_LATENCY)
            .unwrap_or(name);
        out.push(base.to_owned());
        rest = &tail[end..];
    }
    out
}

fn check_exported(source: &str, exprs: &[String]) {
    assert!(!exprs.is_empty(), "{source}: no expression found");
    for expr in exprs {
        for name in metric_names(expr) {
            assert!(
                names::ALL.contains(&name.as_str()),
                "{source}: {name} (in `{expr}`) is not a metric the monitor exports"
            );
        }
    }
}

#[test]
fn the_rules_and_the_grafana_dashboard_use_exported_metrics() {
    let rules = std::fs::read_to_string(deploy().join("prometheus/rules.yml")).unwrap();
    let exprs: Vec<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_owned())
        .collect();
    assert_eq!(exprs.len(), rules.matches("- alert:").count());
    check_exported("rules.yml", &exprs);

    let grafana: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deploy().join("grafana/volta-dashboard.json")).unwrap(),
    )
    .unwrap();
    let exprs: Vec<String> = grafana["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    check_exported("volta-dashboard.json", &exprs);
    assert_eq!(grafana["uid"], "volta");
}

#[test]
fn promtool_accepts_the_rules_and_their_tests() {
    let Ok(version) = Command::new("promtool").arg("--version").output() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs promtool: scripts/setup.sh installs Debian's prometheus package"
        );
        eprintln!("skipped: promtool is not installed (scripts/setup.sh)");
        return;
    };
    assert!(version.status.success());
    let dir = deploy().join("prometheus");
    for args in [
        &["check", "rules", "rules.yml"][..],
        &["test", "rules", "rules.test.yml"],
        &["check", "config", "prometheus.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
