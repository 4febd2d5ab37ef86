//! `volta-backtest --data store` on PostgreSQL: the same market written to a SQLite file and
//! to a throw-away PostgreSQL database gives the same run, trade for trade, with the journal
//! on the server too and the password never shown.

#[path = "../../../crates/data/tests/it/pg_cluster.rs"]
mod pg_cluster;

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use volta_data::store::{JournalStore, MarketStore};
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket, store_market};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Synthetic SPY bars and its VIX-like index for 2021 to March 2022 (the warm-up), with the
/// chains of March 2022 stored: the run reads stored chains, not only modelled ones.
fn fill(store: &mut dyn MarketStore, market: &SyntheticMarket) -> usize {
    store_market(market, store, false, &mut |_, _| {}).unwrap();
    let first = market.index_of(date(2022, 3, 1)).unwrap();
    let mut quotes = 0;
    for i in first..market.days().len() {
        let chain = market.chain(i).unwrap();
        quotes += chain.len();
        store.upsert_chains(&[chain]).unwrap();
    }
    quotes
}

fn backtest(store: &str, journal: &str, config: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volta-backtest"))
        .args(["--data", "store", "--store", store, "--journal", journal])
        .args(["--start", "2022-02-01", "--end", "2022-03-31", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .env("PGPASSWORD", pg_cluster::PASSWORD)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_store_backtest_on_postgresql_matches_the_same_run_on_sqlite() {
    let Some(cluster) = pg_cluster::PgCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let market = SyntheticMarket::generate(&SyntheticConfig {
        start: date(2021, 1, 4),
        end: date(2022, 3, 31),
        ..SyntheticConfig::default()
    })
    .unwrap();
    let sqlite = dir.path().join("volta.db");
    let quotes = fill(
        &mut volta_data::store::SqliteStore::open(&sqlite).unwrap(),
        &market,
    );
    // The password role, its password only in PGPASSWORD: never in the URL given.
    let database = pg_cluster::PgCluster::database_of(&cluster.fresh_database()).to_owned();
    let url = cluster.password_url(&database, None);
    let mut pg = postgres_store(&cluster, &database);
    assert_eq!(fill(pg.as_mut(), &market), quotes);
    assert!(quotes > 50_000, "{quotes} stored quotes");

    let config = dir.path().join("spy.toml");
    std::fs::write(&config, "vix_index = \"SYNVIX\"\nwarmup_days = 370\n").unwrap();
    let on_sqlite = backtest(
        &sqlite.display().to_string(),
        &dir.path().join("journal.sqlite").display().to_string(),
        &config,
        &dir.path().join("sqlite"),
    );
    assert!(on_sqlite.status.success(), "{}", text(&on_sqlite));
    let on_pg = backtest(&url, &url, &config, &dir.path().join("pg"));
    let shown = text(&on_pg);
    assert!(on_pg.status.success(), "{shown}");
    assert!(!shown.contains(pg_cluster::PASSWORD), "{shown}");

    let summary = |folder: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(folder).join("summary.json")).unwrap(),
        )
        .unwrap()
    };
    let (a, b) = (summary("sqlite"), summary("pg"));
    assert_eq!(a["metrics"], b["metrics"]);
    assert!(
        a["metrics"]["trades"].as_u64().unwrap() > 0,
        "{}",
        a["metrics"]
    );
    let trades = |folder: &str| std::fs::read(dir.path().join(folder).join("trades.csv")).unwrap();
    assert_eq!(trades("sqlite"), trades("pg"));

    // The journal is on the server: the run, its orders and its equity.
    let journal = postgres_store(&cluster, &database);
    let runs = journal.runs().unwrap();
    assert_eq!(runs.len(), 1);
    // One equity row per session closed: 19 sessions in February 2022 (Presidents' Day off)
    // and 23 in March; the metrics count the close before the first as well.
    assert_eq!(b["metrics"]["sessions"], 19 + 23 + 1);
    assert_eq!(
        journal.equity_curve(&runs[0].run_id).unwrap().len(),
        19 + 23
    );
    assert!(!journal.orders(&runs[0].run_id).unwrap().is_empty());
}

/// The database as the superuser (no password), for the test's own reads and writes.
fn postgres_store(
    cluster: &pg_cluster::PgCluster,
    database: &str,
) -> Box<dyn volta_data::store::Store> {
    volta_data::store::open(&cluster.url(database)).unwrap()
}
