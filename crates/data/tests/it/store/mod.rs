//! Integration tests of the stores: one suite, instantiated for SQLite (files in temporary
//! folders) and PostgreSQL (a throw-away cluster, one fresh database per test): every test of
//! `suite!` below runs as `store::sqlite::<name>` and `store::postgres::<name>`. What only
//! one store has is tested in `sqlite_only` and `postgres_only`.

mod backend;
#[cfg(feature = "postgres")]
mod postgres_only;
mod sqlite_only;

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, Money, OptionQuote, OptionRight, Price, Strike,
    Underlying, VendorAnalytics,
};
use volta_data::DataDir;
use volta_data::DataError;
use volta_data::store::{
    Coverage, DataKind, EquityPoint, FillRecord, ModelRecord, OrderRecord, PositionRecord,
    RunRecord, Side, SignalRecord, SqliteStore,
};

use backend::Backend;

/// Instantiates each generic test `name::<B>` for both stores.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name::<volta_data::store::SqliteStore>();
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name::<volta_data::store::PgStore>();
            })*
        }
    };
}

suite!(
    real_spy_bars_round_trip_and_reimport_changes_nothing,
    a_chain_round_trips_with_every_field,
    the_last_snapshot_of_a_day_is_its_chain_and_history_follows_a_contract,
    reupserting_a_chain_changes_nothing_and_a_changed_quote_changes_one_row,
    fifty_thousand_quotes_go_in_and_a_day_comes_back,
    a_bad_row_anywhere_rolls_the_whole_batch_back,
    injection_shaped_text_is_stored_literally,
    the_journal_round_trips_and_money_reconciles_to_the_cent,
    coverage_lists_bars_and_chains_per_symbol,
    the_real_spx_chain_of_2019_04_25_round_trips,
    index_values_round_trip_idempotently_and_atomically,
    rates_round_trip_with_missing_values_and_show_in_coverage,
    batches_are_all_or_nothing,
    packed_chains_say_what_their_rows_say,
    the_model_registry_keeps_records_and_promotes_one,
    migration_3_packs_the_chains_already_stored,
);

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap()
}

pub(super) fn p(s: &str) -> Price {
    s.parse().unwrap()
}

pub(super) fn sym(s: &str) -> Underlying {
    s.parse().unwrap()
}

/// A new SQLite store in a temporary folder.
pub(super) fn fresh_sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("volta.db")).unwrap();
    (dir, store)
}

/// The operation and key of a database's refusal, whichever the database
/// ([`DataError::Store`] for SQLite, `DataError::Postgres` for PostgreSQL).
fn refusal(e: &DataError) -> Option<(&'static str, &str)> {
    match e {
        DataError::Store { operation, key, .. } => Some((operation, key)),
        #[cfg(feature = "postgres")]
        DataError::Postgres { operation, key, .. } => Some((operation, key)),
        _ => None,
    }
}

/// A snapshot of SPX on 2019-04-26 with every optional field exercised.
pub(super) fn sample_chain(as_of: NaiveDateTime) -> ChainSnapshot {
    let key = |s: &str| s.parse::<ContractKey>().unwrap();
    let mut full = OptionQuote::new(
        key("SPXW  190517C02900000"),
        Some(p("52.3")),
        Some(p("53.1")),
    );
    full.last = Some(p("52.85"));
    full.volume = 1234;
    full.open_interest = 9_876_543;
    full.updated_at = Some(as_of - chrono::TimeDelta::milliseconds(1500));
    full.vendor = Some(VendorAnalytics {
        implied_vol: Some(0.1234),
        delta: Some(0.612_345_678_901_234_5),
        gamma: Some(1.5e-3),
        theta: None,
        vega: Some(-0.0),
    });
    let mut no_bid = OptionQuote::new(key("SPX   190517P02900000"), None, Some(p("0.05")));
    no_bid.vendor = Some(VendorAnalytics::default());
    let zero_bid = OptionQuote::new(key("SPXW  190426C02950000"), Some(Price::ZERO), None);
    let mut crossed = OptionQuote::new(key("SPXW  190517P02850000"), Some(p("7.1")), Some(p("7")));
    crossed.vendor = Some(VendorAnalytics {
        implied_vol: Some(f64::INFINITY),
        delta: Some(-0.25),
        ..VendorAnalytics::default()
    });
    ChainSnapshot::try_new(
        as_of,
        sym("SPX"),
        p("2939.88"),
        [full, no_bid, zero_bid, crossed],
    )
    .unwrap()
}

/// `n` synthetic quotes of one snapshot (calls and puts on a grid of strikes and expiries).
pub(super) fn synthetic_chain(
    underlying: &str,
    as_of: NaiveDateTime,
    n: usize,
    salt: u64,
) -> ChainSnapshot {
    let expiries: Vec<NaiveDate> = (0..25)
        .map(|w| date(2019, 5, 3) + chrono::Days::new(7 * w))
        .collect();
    let per_expiry = n.div_ceil(expiries.len() * 2);
    let mut quotes = Vec::with_capacity(n);
    'outer: for (e, expiry) in expiries.iter().enumerate() {
        for s in 0..per_expiry {
            for right in [OptionRight::Call, OptionRight::Put] {
                if quotes.len() == n {
                    break 'outer;
                }
                let strike = Strike::from_thousandths(1_000_000 + 5_000 * s as u32).unwrap();
                let key = ContractKey::try_new(underlying, *expiry, right, strike).unwrap();
                let cents = (s as u64 * 37 + e as u64 * 11 + salt) % 50_000;
                let bid =
                    Price::try_new(rust_decimal::Decimal::new(i64::try_from(cents).unwrap(), 2))
                        .unwrap();
                let ask = Price::try_new(rust_decimal::Decimal::new(
                    i64::try_from(cents).unwrap() + 10,
                    2,
                ))
                .unwrap();
                let mut q = OptionQuote::new(key, (s % 7 != 0).then_some(bid), Some(ask));
                q.volume = cents * 3;
                q.open_interest = cents * 17;
                q.vendor = (s % 3 != 0).then_some(VendorAnalytics {
                    implied_vol: Some(0.1 + (cents as f64) * 1e-5),
                    delta: Some(0.5),
                    gamma: None,
                    theta: Some(-0.01),
                    vega: Some(0.2),
                });
                quotes.push(q);
            }
        }
    }
    ChainSnapshot::try_new(as_of, sym(underlying), p("2900"), quotes).unwrap()
}

/// SPY's first 300 daily bars from the real Alpha Vantage file.
fn spy_bars() -> Option<Vec<DailyBar>> {
    let path = DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    let mut reader = csv::Reader::from_path(path).unwrap();
    let bars = reader
        .records()
        .take(300)
        .map(|r| {
            let r = r.unwrap();
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            let d = NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap();
            DailyBar {
                date: d,
                ohlcv: volta_core::Ohlcv::try_from_f64(&d, f(1), f(2), f(3), f(4), f(5)).unwrap(),
            }
        })
        .collect();
    Some(bars)
}

fn real_spy_bars_round_trip_and_reimport_changes_nothing<B: Backend>() {
    let Some(bars) = spy_bars() else { return };
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let spy = sym("SPY");
    assert_eq!(store.upsert_daily_bars(&spy, &bars).unwrap(), 300);
    let loaded = store
        .daily_bars(&spy, date(1990, 1, 1), date(2030, 1, 1))
        .unwrap();
    assert_eq!(loaded, bars);
    // The first row of the file, digit for digit.
    assert_eq!(loaded[0].date, date(1999, 11, 1));
    assert_eq!(loaded[0].ohlcv.low(), p("135.5625"));
    assert_eq!(loaded[0].ohlcv.volume(), 4_006_500);
    // Inclusive date range.
    let nov = store
        .daily_bars(&spy, date(1999, 11, 2), date(1999, 11, 30))
        .unwrap();
    assert_eq!(nov.first().unwrap().date, date(1999, 11, 2));
    assert_eq!(nov.last().unwrap().date, date(1999, 11, 30));
    assert_eq!(nov.len(), 20);
    assert!(
        store
            .daily_bars(&sym("QQQ"), date(1990, 1, 1), date(2030, 1, 1))
            .unwrap()
            .is_empty()
    );

    let before = B::dump(&home);
    let changes = B::changes(&home, &store);
    assert_eq!(store.upsert_daily_bars(&spy, &bars).unwrap(), 0);
    assert_eq!(B::changes(&home, &store), changes);
    assert_eq!(B::dump(&home), before);

    // A corrected bar is an update of one row.
    let mut fixed = bars[10];
    fixed.ohlcv = volta_core::Ohlcv::try_new(
        &fixed.date,
        fixed.ohlcv.open(),
        fixed.ohlcv.high(),
        fixed.ohlcv.low(),
        fixed.ohlcv.close(),
        1,
    )
    .unwrap();
    assert_eq!(store.upsert_daily_bars(&spy, &[fixed]).unwrap(), 1);
    assert_eq!(
        store.daily_bars(&spy, fixed.date, fixed.date).unwrap(),
        [fixed]
    );
}

fn a_chain_round_trips_with_every_field<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let t = at(2019, 4, 26, 15, 59);
    let chain = sample_chain(t);
    assert_eq!(
        store.upsert_chains(std::slice::from_ref(&chain)).unwrap(),
        5
    );
    assert_eq!(
        store.chain_at(&sym("SPX"), t).unwrap().as_ref(),
        Some(&chain)
    );
    assert_eq!(
        store
            .chain_on(&sym("SPX"), date(2019, 4, 26))
            .unwrap()
            .as_ref(),
        Some(&chain)
    );
    assert_eq!(
        store.chain_on(&sym("SPX"), date(2019, 4, 25)).unwrap(),
        None
    );
    assert_eq!(
        store
            .chain_at(&sym("SPX"), t + chrono::TimeDelta::seconds(1))
            .unwrap(),
        None
    );
    assert_eq!(
        store.chain_on(&sym("SPY"), date(2019, 4, 26)).unwrap(),
        None
    );
    let loaded = store.chain_at(&sym("SPX"), t).unwrap().unwrap();
    let q = loaded
        .get(&"SPX   190517P02900000".parse().unwrap())
        .unwrap();
    assert_eq!(q.bid, None);
    assert_eq!(q.vendor, Some(VendorAnalytics::default()));
    let full = loaded
        .get(&"SPXW  190517C02900000".parse().unwrap())
        .unwrap();
    assert_eq!(full.vendor.unwrap().delta, Some(0.612_345_678_901_234_5));
    // SQLite writes whole REALs as integers, so −0.0 comes back as 0.0 (equal under ==).
    assert_eq!(full.vendor.unwrap().vega, Some(0.0));
    // The rows hold every field as well: read without the packed value, the same chain.
    B::set_packed_quotes(&home, None);
    assert_eq!(
        store.chain_at(&sym("SPX"), t).unwrap().as_ref(),
        Some(&chain)
    );
}

fn the_last_snapshot_of_a_day_is_its_chain_and_history_follows_a_contract<B: Backend>() {
    let Some((_home, mut store)) = B::fresh() else {
        return;
    };
    let times = [
        at(2019, 4, 26, 10, 0),
        at(2019, 4, 26, 16, 0),
        at(2019, 4, 29, 16, 0),
    ];
    let chains: Vec<ChainSnapshot> = times.iter().map(|&t| sample_chain(t)).collect();
    store.upsert_chains(&chains).unwrap();
    assert_eq!(
        store
            .chain_on(&sym("SPX"), date(2019, 4, 26))
            .unwrap()
            .unwrap()
            .as_of(),
        times[1]
    );
    assert_eq!(
        store
            .snapshot_times(&sym("SPX"), date(2019, 4, 26))
            .unwrap(),
        times[..2]
    );
    let key: ContractKey = "SPXW  190517C02900000".parse().unwrap();
    let history = store
        .contract_history(&key, date(2019, 4, 1), date(2019, 4, 30))
        .unwrap();
    assert_eq!(history.iter().map(|o| o.as_of).collect::<Vec<_>>(), times);
    assert_eq!(history[0].quote, *chains[0].get(&key).unwrap());
    assert_eq!(history[0].underlying_price, p("2939.88"));
    // Inclusive date bounds.
    assert_eq!(
        store
            .contract_history(&key, date(2019, 4, 29), date(2019, 4, 29))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.coverage().unwrap(),
        [Coverage {
            kind: DataKind::Chains,
            symbol: sym("SPX"),
            first: date(2019, 4, 26),
            last: date(2019, 4, 29),
            rows: 3
        }]
    );
}

fn reupserting_a_chain_changes_nothing_and_a_changed_quote_changes_one_row<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let t = at(2019, 4, 26, 16, 0);
    let chain = synthetic_chain("SPXW", t, 500, 1);
    assert_eq!(
        store.upsert_chains(std::slice::from_ref(&chain)).unwrap(),
        501
    );
    let before = B::dump(&home);
    let changes = B::changes(&home, &store);
    assert_eq!(
        store.upsert_chains(std::slice::from_ref(&chain)).unwrap(),
        0
    );
    assert_eq!(B::changes(&home, &store), changes);
    assert_eq!(B::dump(&home), before);

    let mut quotes: Vec<OptionQuote> = chain.iter().cloned().collect();
    quotes[7].ask = Some(p("123.45"));
    let changed = ChainSnapshot::try_new(t, sym("SPXW"), p("2900"), quotes).unwrap();
    assert_eq!(
        store.upsert_chains(std::slice::from_ref(&changed)).unwrap(),
        1
    );
    assert_eq!(store.chain_at(&sym("SPXW"), t).unwrap().unwrap(), changed);
}

/// Each snapshot's packed quotes (what `chain_at` reads) say exactly what its rows say, however
/// the batches wrote them: a new snapshot, one in overlapping pieces of one batch, a stored one
/// partly updated, one whose price alone changed. Without a packed value a snapshot is read
/// from its rows; a damaged one is refused, naming the column.
fn packed_chains_say_what_their_rows_say<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let spxw = sym("SPXW");
    let times = [
        at(2019, 4, 24, 16, 0),
        at(2019, 4, 25, 16, 0),
        at(2019, 4, 26, 16, 0),
    ];
    // A whole chain, new.
    let whole = synthetic_chain("SPXW", times[0], 300, 1);
    // One snapshot in two pieces that share 50 contracts: the later piece's quotes win.
    let full = synthetic_chain("SPXW", times[1], 200, 2);
    let quotes: Vec<OptionQuote> = full.iter().cloned().collect();
    let first =
        ChainSnapshot::try_new(times[1], spxw.clone(), p("2900"), quotes[..120].to_vec()).unwrap();
    let mut later = quotes[70..].to_vec();
    for q in &mut later[..50] {
        q.ask = Some(p("99.5"));
    }
    let second = ChainSnapshot::try_new(times[1], spxw.clone(), p("2900"), later.clone()).unwrap();
    let mut pieces_expected = quotes[..70].to_vec();
    pieces_expected.extend(later);
    // A stored snapshot, then a batch that changes 10 of its quotes and adds 5 contracts.
    let stored = synthetic_chain("SPXW", times[2], 100, 3);
    store
        .upsert_chains(&[whole.clone(), first, second, stored.clone()])
        .unwrap();
    let mut update: Vec<OptionQuote> = stored.iter().take(10).cloned().collect();
    for q in &mut update {
        q.volume += 1;
    }
    let extra = synthetic_chain("SPXW", times[2], 300, 4);
    update.extend(
        extra
            .iter()
            .filter(|q| stored.get(&q.key).is_none())
            .take(5)
            .cloned(),
    );
    assert_eq!(update.len(), 15);
    let partial =
        ChainSnapshot::try_new(times[2], spxw.clone(), p("2901"), update.clone()).unwrap();
    store.upsert_chains(std::slice::from_ref(&partial)).unwrap();
    let mut updated: Vec<OptionQuote> = stored.iter().skip(10).cloned().collect();
    updated.extend(update);

    let expected = [
        whole,
        ChainSnapshot::try_new(times[1], spxw.clone(), p("2900"), pieces_expected).unwrap(),
        ChainSnapshot::try_new(times[2], spxw.clone(), p("2901"), updated).unwrap(),
    ];
    let read = |store: &B| -> Vec<ChainSnapshot> {
        times
            .iter()
            .map(|t| store.chain_at(&spxw, *t).unwrap().unwrap())
            .collect()
    };
    assert_eq!(B::unpacked_snapshots(&home), 0);
    assert_eq!(read(&store), expected, "from the packed quotes");
    B::set_packed_quotes(&home, None);
    assert_eq!(read(&store), expected, "from the rows");

    // Writing again packs again; damage is refused by name, not read as an empty chain.
    store.upsert_chains(&expected).unwrap();
    assert_eq!(read(&store), expected);
    B::set_packed_quotes(&home, Some(b"VQ\x01\x05"));
    let err = store.chain_on(&spxw, date(2019, 4, 25)).unwrap_err();
    assert!(
        matches!(
            &err,
            DataError::StoreCorrupt {
                table: "chain_snapshots",
                column: "packed_quotes",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("SPXW 2019-04-25 16:00:00"),
        "{err}"
    );
}

/// A database from before migration 0003 (chains as rows only) gets every snapshot's quotes
/// packed when a newer build opens it, and its chains read the same.
fn migration_3_packs_the_chains_already_stored<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let chains = [
        synthetic_chain("SPXW", at(2019, 4, 25, 16, 0), 400, 1),
        synthetic_chain("SPXW", at(2019, 4, 26, 16, 0), 0, 2),
    ];
    store.upsert_chains(&chains).unwrap();
    drop(store);
    // Back to schema 2, as an older build left it.
    B::execute_batch(
        &home,
        "ALTER TABLE chain_snapshots DROP COLUMN packed_quotes;
         DROP TABLE models;
         DELETE FROM schema_migrations WHERE version >= 3;",
    );
    let store = B::reopen(&home);
    assert_eq!(B::unpacked_snapshots(&home), 0);
    for chain in &chains {
        let back = store
            .chain_at(&sym("SPXW"), chain.as_of())
            .unwrap()
            .unwrap();
        assert_eq!(&back, chain);
    }
    assert_eq!(
        store.models().unwrap(),
        vec![],
        "the registry is back, empty"
    );
}

/// Models go in once each, come back exactly, and exactly one is promoted at a time; an
/// unknown id or a taken one changes nothing.
fn the_model_registry_keeps_records_and_promotes_one<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    assert_eq!(store.models().unwrap(), vec![]);
    assert_eq!(store.promoted_model().unwrap(), None);
    let mut gbm = ModelRecord::new(
        "gbm-2024-06",
        "gbm",
        "gbm-2024-06/model.txt",
        "1.0.0",
        date(2022, 1, 3),
        date(2024, 5, 31),
    );
    gbm.created_at = at(2024, 6, 1, 9, 0);
    gbm.metrics.insert("auc".into(), 0.571_234_567_890_123_4);
    gbm.metrics.insert("log_loss".into(), 0.68);
    gbm.regime_metrics
        .entry("high_vol".into())
        .or_default()
        .insert("auc".into(), 0.52);
    let mut lstm = ModelRecord::new(
        "lstm-2024-07",
        "lstm",
        "lstm-2024-07/weights.safetensors",
        "1.0.0",
        date(2022, 2, 1),
        date(2024, 6, 28),
    );
    lstm.created_at = at(2024, 7, 1, 9, 0);
    store.register_model(&lstm).unwrap();
    store.register_model(&gbm).unwrap();
    assert_eq!(
        store.models().unwrap(),
        vec![gbm.clone(), lstm.clone()],
        "oldest first"
    );
    assert_eq!(store.model("gbm-2024-06").unwrap(), Some(gbm.clone()));
    assert_eq!(store.model("nope").unwrap(), None);

    let before = B::dump(&home);
    assert!(matches!(
        store.register_model(&gbm),
        Err(DataError::ModelExists { id }) if id == "gbm-2024-06"
    ));
    assert!(matches!(
        store.promote_model("nope", at(2024, 7, 2, 9, 0)),
        Err(DataError::UnknownModel { id }) if id == "nope"
    ));
    let mut bad = gbm.clone();
    bad.id = "gbm'; DROP TABLE models; --".into();
    assert!(matches!(
        store.register_model(&bad),
        Err(DataError::StoreValue { field: "id", .. })
    ));
    assert_eq!(B::dump(&home), before, "refusals change nothing");

    store
        .promote_model("gbm-2024-06", at(2024, 7, 2, 9, 0))
        .unwrap();
    let promoted = store.promoted_model().unwrap().unwrap();
    assert_eq!(promoted.id, "gbm-2024-06");
    assert_eq!(promoted.promoted_at, Some(at(2024, 7, 2, 9, 0)));
    store
        .promote_model("lstm-2024-07", at(2024, 7, 3, 9, 0))
        .unwrap();
    let models = store.models().unwrap();
    assert_eq!(
        models
            .iter()
            .filter(|m| m.promoted)
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["lstm-2024-07"]
    );
    // The demoted model keeps when it was last promoted.
    assert_eq!(models[0].promoted_at, Some(at(2024, 7, 2, 9, 0)));
    assert!(!models[0].promoted);
}

fn fifty_thousand_quotes_go_in_and_a_day_comes_back<B: Backend>() {
    let Some((_home, mut store)) = B::fresh() else {
        return;
    };
    let chains: Vec<ChainSnapshot> = (0..10)
        .map(|d| synthetic_chain("SPXW", at(2019, 4, 1 + d, 16, 0), 5000, u64::from(d)))
        .collect();
    let n: usize = chains.iter().map(ChainSnapshot::len).sum();
    assert_eq!(n, 50_000);
    assert_eq!(store.upsert_chains(&chains).unwrap(), 50_010);
    for (d, chain) in chains.iter().enumerate() {
        let day = store
            .chain_on(&sym("SPXW"), date(2019, 4, 1 + d as u32))
            .unwrap()
            .unwrap();
        assert_eq!(day.len(), 5000);
        assert_eq!(&day, chain);
    }
    let key = chains[3].iter().nth(1234).unwrap().key.clone();
    let history = store
        .contract_history(&key, date(2019, 1, 1), date(2019, 12, 31))
        .unwrap();
    assert_eq!(history.len(), 10);
}

/// A bad row in the middle of a batch: the store is left exactly as it was.
fn a_bad_row_anywhere_rolls_the_whole_batch_back<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let spy = sym("SPY");
    let good =
        |d| DailyBar::try_new(date(2021, 1, d), p("1"), p("2"), p("1"), p("1.5"), 10).unwrap();
    store.upsert_daily_bars(&spy, &[good(4)]).unwrap();
    let t = at(2019, 4, 26, 16, 0);
    store.upsert_chains(&[sample_chain(t)]).unwrap();
    let before = B::dump(&home);

    // Bars: a volume SQLite cannot hold, between good rows.
    let huge =
        DailyBar::try_new(date(2021, 1, 6), p("1"), p("2"), p("1"), p("1.5"), u64::MAX).unwrap();
    let err = store
        .upsert_daily_bars(&spy, &[good(5), huge, good(7)])
        .unwrap_err();
    assert!(
        matches!(err, DataError::StoreValue { field: "volume", ref key, .. } if key == "SPY 2021-01-06"),
        "{err}"
    );
    assert_eq!(B::dump(&home), before);

    // Chains: a NaN greek in the second snapshot, after a whole good snapshot.
    let mut quotes: Vec<OptionQuote> = sample_chain(t).iter().cloned().collect();
    quotes[2].vendor = Some(VendorAnalytics {
        gamma: Some(f64::NAN),
        ..VendorAnalytics::default()
    });
    let bad =
        ChainSnapshot::try_new(at(2019, 4, 29, 16, 0), sym("SPX"), p("2943"), quotes).unwrap();
    let err = store
        .upsert_chains(&[synthetic_chain("SPXW", at(2019, 4, 29, 16, 0), 300, 2), bad])
        .unwrap_err();
    assert!(
        matches!(
            err,
            DataError::StoreValue {
                field: "vendor gamma",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(B::dump(&home), before);

    // A constraint SQLite itself enforces (here a trigger standing in for any constraint
    // violation): the error comes from the database mid-batch, and still nothing is left.
    B::reject_quotes_like(&home, "%01015000");
    let before = B::dump(&home);
    let err = store
        .upsert_chains(&[synthetic_chain("SPXW", at(2019, 4, 30, 16, 0), 300, 3)])
        .unwrap_err();
    assert_eq!(refusal(&err).map(|r| r.0), Some("upsert chains"), "{err}");
    assert_eq!(B::dump(&home), before);

    // Fills: an unknown order is a foreign-key violation.
    store.upsert_run(&run("r1")).unwrap();
    store.upsert_orders(&[order("o1", "r1")]).unwrap();
    let before = B::dump(&home);
    let err = store
        .record_fills(&[
            fill("f1", "o1"),
            fill("f2", "no such order"),
            fill("f3", "o1"),
        ])
        .unwrap_err();
    assert_eq!(refusal(&err).map(|r| r.1), Some("f2"), "{err}");
    assert_eq!(B::dump(&home), before);
}

pub(super) fn run(id: &str) -> RunRecord {
    RunRecord {
        run_id: id.to_owned(),
        mode: "backtest".to_owned(),
        started_at: at(2021, 1, 4, 9, 30),
        label: "test run".to_owned(),
        config: "{\"seed\": 42}".to_owned(),
    }
}

pub(super) fn order(id: &str, run_id: &str) -> OrderRecord {
    OrderRecord {
        order_id: id.to_owned(),
        run_id: run_id.to_owned(),
        created_at: at(2021, 1, 4, 10, 0),
        instrument: "SPY   210129P00345000".to_owned(),
        side: Side::Sell,
        quantity: 2,
        limit_price: Some("2.77".parse().unwrap()),
        status: "submitted".to_owned(),
    }
}

pub(super) fn fill(id: &str, order_id: &str) -> FillRecord {
    FillRecord {
        fill_id: id.to_owned(),
        order_id: order_id.to_owned(),
        at: at(2021, 1, 4, 10, 1),
        quantity: 1,
        price: "2.76".parse().unwrap(),
        fees: "0.65".parse().unwrap(),
    }
}

/// Random sequences of batches, each a random mix of good and bad snapshots: after every
/// batch the store holds either all of it (no bad snapshot) or exactly what it held before.
fn batches_are_all_or_nothing<B: Backend>() {
    let batch = prop::collection::vec((0u32..6, any::<bool>(), 0u64..5), 1..5);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: B::CASES,
        // A generic function has no source file for proptest to keep regressions beside.
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    // One store for every case, emptied before each: a fresh database per case is slow on a
    // server.
    let Some((home, store)) = B::fresh() else {
        return;
    };
    let store = std::cell::RefCell::new(store);
    runner
        .run(&prop::collection::vec(batch, 1..5), |batches| {
            B::clear_chains(&home);
            for batch in batches {
                let chains: Vec<ChainSnapshot> = batch
                    .iter()
                    .map(|&(day, bad, salt)| {
                        let chain = synthetic_chain("SPXW", at(2019, 5, 1 + day, 16, 0), 40, salt);
                        if !bad {
                            return chain;
                        }
                        let mut quotes: Vec<OptionQuote> = chain.iter().cloned().collect();
                        quotes[20].open_interest = u64::MAX;
                        ChainSnapshot::try_new(chain.as_of(), sym("SPXW"), p("2900"), quotes)
                            .unwrap()
                    })
                    .collect();
                let before = B::dump(&home);
                let mut store = store.borrow_mut();
                let result = store.upsert_chains(&chains);
                if batch.iter().any(|b| b.1) {
                    prop_assert!(result.is_err());
                    prop_assert_eq!(B::dump(&home), before);
                } else {
                    prop_assert!(result.is_ok());
                    // The last write of each snapshot wins, quote by quote.
                    for chain in &chains {
                        let stored = store
                            .chain_at(&sym("SPXW"), chain.as_of())
                            .unwrap()
                            .unwrap();
                        let last = chains
                            .iter()
                            .rev()
                            .find(|c| c.as_of() == chain.as_of())
                            .unwrap();
                        prop_assert_eq!(&stored, last);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

fn injection_shaped_text_is_stored_literally<B: Backend>() {
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let evil = "'; DROP TABLE bars;--";
    let spy = sym("SPY");
    let bar = DailyBar::try_new(date(2021, 1, 4), p("1"), p("2"), p("1"), p("1.5"), 10).unwrap();
    store.upsert_daily_bars(&spy, &[bar]).unwrap();
    // Tickers are validated by volta-core (`Underlying` refuses quotes and spaces), so the
    // free-text fields carry the attack here.
    assert!(Underlying::try_new(evil).is_err());
    let mut r = run(evil);
    "Robert'); DROP TABLE runs;--".clone_into(&mut r.label);
    "\" OR 1=1 --".clone_into(&mut r.config);
    store.upsert_run(&r).unwrap();
    let signal = SignalRecord {
        run_id: evil.to_owned(),
        at: at(2021, 1, 4, 16, 0),
        underlying: spy.clone(),
        strategy: "x' OR '1'='1".to_owned(),
        name: "iv_rank\"; DELETE FROM signals; --".to_owned(),
        value: 0.42,
    };
    store.upsert_signals(std::slice::from_ref(&signal)).unwrap();
    let mut o = order("o'1", evil);
    "'); DROP TABLE orders;--".clone_into(&mut o.status);
    store.upsert_orders(std::slice::from_ref(&o)).unwrap();

    assert_eq!(store.runs().unwrap(), [r]);
    assert_eq!(store.signals(evil).unwrap(), [signal]);
    assert_eq!(store.orders(evil).unwrap(), [o]);
    assert!(store.signals("x' OR '1'='1").unwrap().is_empty());
    assert_eq!(store.daily_bars(&spy, bar.date, bar.date).unwrap(), [bar]);
    assert!(B::tables_intact(&home));
    assert!(B::dump(&home).iter().any(|l| l.contains("DROP TABLE bars")));
}

fn the_journal_round_trips_and_money_reconciles_to_the_cent<B: Backend>() {
    let Some((_home, mut store)) = B::fresh() else {
        return;
    };
    store.upsert_run(&run("r1")).unwrap();
    store.upsert_run(&run("r2")).unwrap();
    let mut o = order("o1", "r1");
    store.upsert_orders(std::slice::from_ref(&o)).unwrap();
    "filled".clone_into(&mut o.status);
    o.limit_price = Some("-1.05".parse().unwrap()); // a credit spread's net price
    assert_eq!(store.upsert_orders(std::slice::from_ref(&o)).unwrap(), 1);
    assert_eq!(store.upsert_orders(std::slice::from_ref(&o)).unwrap(), 0);
    assert_eq!(store.orders("r1").unwrap(), [o]);
    assert!(store.orders("r2").unwrap().is_empty());

    // 1000 fills of 0.65 fees and 0.01 price: sums exact after the round trip.
    let fills: Vec<FillRecord> = (0..1000)
        .map(|i| FillRecord {
            fill_id: format!("f{i:04}"),
            price: "0.01".parse().unwrap(),
            ..fill("", "o1")
        })
        .collect();
    assert_eq!(store.record_fills(&fills).unwrap(), 1000);
    assert_eq!(store.record_fills(&fills).unwrap(), 0);
    let loaded = store.fills("r1").unwrap();
    assert_eq!(loaded, fills);
    let fees: Money = loaded.iter().map(|f| f.fees).sum();
    assert_eq!(fees, "650".parse().unwrap());
    let premium: rust_decimal::Decimal = loaded
        .iter()
        .map(|f| f.price.value() * rust_decimal::Decimal::from(100 * f.quantity))
        .sum();
    assert_eq!(premium, rust_decimal::Decimal::from(1000));
    // A different fill under a known id is refused, and nothing of its batch is kept.
    let mut conflicting = fill("f0001", "o1");
    conflicting.price = "0.02".parse().unwrap();
    assert!(matches!(
        store.record_fills(&[fill("f9999", "o1"), conflicting]),
        Err(DataError::StoreValue { field: "fill", .. })
    ));
    assert_eq!(store.fills("r1").unwrap().len(), 1000);

    let pos = PositionRecord {
        position_id: "p1".to_owned(),
        run_id: "r1".to_owned(),
        instrument: "SPY   210129P00345000".to_owned(),
        quantity: -2,
        average_price: "-2.76".parse().unwrap(),
        realized_pnl: "-0.01".parse().unwrap(),
        opened_at: at(2021, 1, 4, 10, 1),
        closed_at: None,
    };
    store.upsert_positions(std::slice::from_ref(&pos)).unwrap();
    let closed = PositionRecord {
        quantity: 0,
        closed_at: Some(at(2021, 1, 20, 15, 0)),
        realized_pnl: "412.70".parse().unwrap(),
        ..pos
    };
    assert_eq!(
        store
            .upsert_positions(std::slice::from_ref(&closed))
            .unwrap(),
        1
    );
    assert_eq!(store.positions("r1").unwrap(), [closed]);

    let curve: Vec<EquityPoint> = (4..8)
        .map(|d| EquityPoint {
            run_id: "r1".to_owned(),
            at: at(2021, 1, d, 16, 0),
            cash: format!("100000.{d:02}").parse().unwrap(),
            equity: format!("-0.{d}").parse().unwrap(),
        })
        .collect();
    assert_eq!(store.upsert_equity(&curve).unwrap(), 4);
    assert_eq!(store.equity_curve("r1").unwrap(), curve);
    assert_eq!(store.runs().unwrap().len(), 2);
    // Orphans are refused.
    assert!(
        store
            .upsert_equity(&[EquityPoint {
                run_id: "none".to_owned(),
                ..curve[0].clone()
            }])
            .is_err()
    );
}

fn coverage_lists_bars_and_chains_per_symbol<B: Backend>() {
    let Some((_home, mut store)) = B::fresh() else {
        return;
    };
    let bar = |d| DailyBar::try_new(d, p("1"), p("2"), p("1"), p("1.5"), 10).unwrap();
    store
        .upsert_daily_bars(&sym("SPY"), &[bar(date(2021, 1, 4)), bar(date(2021, 1, 6))])
        .unwrap();
    store
        .upsert_daily_bars(&sym("QQQ"), &[bar(date(2020, 3, 2))])
        .unwrap();
    store
        .upsert_chains(&[sample_chain(at(2019, 4, 26, 16, 0))])
        .unwrap();
    let c = coverage;
    assert_eq!(
        store.coverage().unwrap(),
        [
            c(
                DataKind::DailyBars,
                "QQQ",
                date(2020, 3, 2),
                date(2020, 3, 2),
                1
            ),
            c(
                DataKind::DailyBars,
                "SPY",
                date(2021, 1, 4),
                date(2021, 1, 6),
                2
            ),
            c(
                DataKind::Chains,
                "SPX",
                date(2019, 4, 26),
                date(2019, 4, 26),
                1
            ),
        ]
    );
}

/// The real Cboe SPX chain of 2019-04-25 (13 340 quotes, SPX and SPXW): stored, read back
/// equal, and re-imported without a change. The file's snapshot time was not recorded; the
/// test stamps it 16:00.
fn the_real_spx_chain_of_2019_04_25_round_trips<B: Backend>() {
    let Some(path) = DataDir::test_file("options/SPX_cboe_delayed_2019/SPX_20190425.csv") else {
        return;
    };
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut spot = None;
    let quotes: Vec<OptionQuote> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            spot = Some(p(&r[1]));
            let mut q = OptionQuote::new(r[3].parse().unwrap(), Some(p(&r[10])), Some(p(&r[11])));
            q.last = Some(p(&r[8]));
            q.volume = r[12].parse().unwrap();
            q.open_interest = r[13].parse().unwrap();
            q.vendor = Some(VendorAnalytics {
                implied_vol: Some(r[14].parse().unwrap()),
                delta: Some(r[15].parse().unwrap()),
                gamma: Some(r[16].parse().unwrap()),
                theta: None,
                vega: None,
            });
            q
        })
        .collect();
    let t = at(2019, 4, 25, 16, 0);
    let chain = ChainSnapshot::try_new(t, sym("SPX"), spot.unwrap(), quotes).unwrap();
    assert_eq!(chain.len(), 13_340);
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    assert_eq!(
        store.upsert_chains(std::slice::from_ref(&chain)).unwrap(),
        13_341
    );
    let loaded = store
        .chain_on(&sym("SPX"), date(2019, 4, 25))
        .unwrap()
        .unwrap();
    assert_eq!(loaded, chain);
    assert_eq!(loaded.underlying_price(), p("2919.04"));
    // The file's first row, value for value.
    let key: ContractKey = "SPXW190426C00800000".parse().unwrap();
    let q = loaded.get(&key).unwrap();
    assert_eq!((q.bid, q.ask), (Some(p("2109.9")), Some(p("2128.2"))));
    assert_eq!(q.open_interest, 2);
    assert_eq!(q.vendor.unwrap().implied_vol, Some(7.9432));
    assert_eq!(q.vendor.unwrap().delta, Some(0.9985));
    let changes = B::changes(&home, &store);
    assert_eq!(store.upsert_chains(&[chain]).unwrap(), 0);
    assert_eq!(B::changes(&home, &store), changes);
    let history = store
        .contract_history(&key, date(2019, 4, 25), date(2019, 4, 25))
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].quote, *q);
}

fn index_values_round_trip_idempotently_and_atomically<B: Backend>() {
    use volta_data::import::IndexRecord;
    let Some((home, mut store)) = B::fresh() else {
        return;
    };
    let vix = sym("VIX");
    let rec = |d, close| IndexRecord {
        date: d,
        open: Some(57.83),
        high: Some(83.56),
        low: Some(57.83),
        close,
    };
    let vvix = IndexRecord {
        date: date(2020, 3, 16),
        open: None,
        high: None,
        low: None,
        close: 207.59,
    };
    let days = [rec(date(2020, 3, 16), 82.69), rec(date(2020, 3, 17), 75.91)];
    assert_eq!(store.upsert_index_values(&vix, &days).unwrap(), 2);
    assert_eq!(store.upsert_index_values(&vix, &days).unwrap(), 0);
    assert_eq!(store.upsert_index_values(&sym("VVIX"), &[vvix]).unwrap(), 1);
    assert_eq!(
        store
            .index_values(&vix, date(2020, 3, 17), date(2020, 12, 31))
            .unwrap(),
        [days[1]]
    );
    assert_eq!(
        store
            .index_values(&sym("VVIX"), date(2020, 1, 1), date(2020, 12, 31))
            .unwrap(),
        [vvix]
    );
    // A batch with one bad row (NaN, or a close the CHECK refuses) writes nothing.
    let before = B::dump(&home);
    let nan = [
        rec(date(2020, 3, 18), 76.45),
        rec(date(2020, 3, 19), f64::NAN),
    ];
    assert!(matches!(
        store.upsert_index_values(&vix, &nan),
        Err(DataError::StoreValue { field: "close", .. })
    ));
    let zero = [rec(date(2020, 3, 18), 76.45), rec(date(2020, 3, 19), 0.0)];
    let err = store.upsert_index_values(&vix, &zero).unwrap_err();
    assert!(refusal(&err).is_some(), "{err}");
    assert_eq!(B::dump(&home), before);
}

fn rates_round_trip_with_missing_values_and_show_in_coverage<B: Backend>() {
    use volta_data::import::{IndexRecord, RateObservation, RateSeries};
    let Some((_home, mut store)) = B::fresh() else {
        return;
    };
    let vix = |d, close| IndexRecord {
        date: d,
        open: None,
        high: None,
        low: None,
        close,
    };
    let two = [vix(date(2020, 3, 16), 82.69), vix(date(2020, 3, 17), 75.91)];
    store.upsert_index_values(&sym("VIX"), &two).unwrap();
    store
        .upsert_index_values(&sym("VVIX"), &[vix(date(2020, 3, 16), 207.59)])
        .unwrap();
    let obs = [
        RateObservation {
            date: date(2023, 11, 7),
            published_percent: Some(5.27),
            continuous: Some(0.053_79),
        },
        // A FRED holiday row: kept, both values missing.
        RateObservation {
            date: date(2023, 11, 10),
            published_percent: None,
            continuous: None,
        },
    ];
    assert_eq!(store.upsert_rates(RateSeries::Dtb3, &obs).unwrap(), 2);
    assert_eq!(store.upsert_rates(RateSeries::Dtb3, &obs).unwrap(), 0);
    assert_eq!(
        store
            .rates(RateSeries::Dtb3, date(2023, 1, 1), date(2023, 12, 31))
            .unwrap(),
        obs
    );
    assert!(
        store
            .rates(RateSeries::Dff, date(2023, 1, 1), date(2023, 12, 31))
            .unwrap()
            .is_empty()
    );
    let c = coverage;
    assert_eq!(
        store.coverage().unwrap(),
        [
            c(
                DataKind::IndexValues,
                "VIX",
                date(2020, 3, 16),
                date(2020, 3, 17),
                2
            ),
            c(
                DataKind::IndexValues,
                "VVIX",
                date(2020, 3, 16),
                date(2020, 3, 16),
                1
            ),
            c(
                DataKind::Rates,
                "DTB3",
                date(2023, 11, 7),
                date(2023, 11, 10),
                2
            ),
        ]
    );
}

/// One row of [`MarketStore::coverage`]'s answer.
fn coverage(
    kind: DataKind,
    symbol: &str,
    first: NaiveDate,
    last: NaiveDate,
    rows: u64,
) -> Coverage {
    Coverage {
        kind,
        symbol: sym(symbol),
        first,
        last,
        rows,
    }
}
