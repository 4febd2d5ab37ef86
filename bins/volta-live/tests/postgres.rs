//! sim-paper with its journal on PostgreSQL: the run, its orders and its equity on the server,
//! the password only in `PGPASSWORD` and never printed.

#[path = "../../../crates/data/tests/it/pg_cluster.rs"]
mod pg_cluster;

use std::process::Command;

use volta_data::store::JournalStore;

#[test]
fn sim_paper_journals_its_run_on_postgresql() {
    let Some(cluster) = pg_cluster::PgCluster::start() else {
        return;
    };
    let database = pg_cluster::PgCluster::database_of(&cluster.fresh_database()).to_owned();
    let url = cluster.password_url(&database, None);
    let out = Command::new(env!("CARGO_BIN_EXE_volta-live"))
        .env_remove("VOLTA_LIVE_TRADING")
        .env_remove("VOLTA_DASHBOARD_TOKEN")
        .env("PGPASSWORD", pg_cluster::PASSWORD)
        .args(["--dashboard", "127.0.0.1:0", "--session-seconds", "0"])
        .args([
            "--start",
            "2023-01-03",
            "--end",
            "2023-01-31",
            "--journal",
            &url,
        ])
        .output()
        .unwrap();
    let shown = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{shown}");
    assert!(!shown.contains(pg_cluster::PASSWORD), "{shown}");
    assert!(shown.contains("done: 20 sessions"), "{shown}");
    assert!(
        shown.contains(&format!(
            "journal: {url} (run sim-paper-synthetic-SPY-2023-01-03"
        )),
        "{shown}"
    );
    assert!(shown.contains("no file backup"), "{shown}");

    let journal = volta_data::store::open(&cluster.url(&database)).unwrap();
    let runs = journal.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].mode, "sim-paper");
    assert!(!journal.orders(&runs[0].run_id).unwrap().is_empty());
    assert_eq!(journal.equity_curve(&runs[0].run_id).unwrap().len(), 20);
}
