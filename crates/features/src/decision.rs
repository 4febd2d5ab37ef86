//! One feature path for training and for trading: the daily feature matrix of an underlying
//! from a market store (or the data folder), and the row a decision on a session reads.
//!
//! A decision is taken before the session's close (15:45 in a backtest), so it reads the
//! features of the **previous** session's close, as the engine's signals do. The live trader
//! calls [`features_at_decision`], which is [`daily_matrix`] over the history up to the
//! previous session — the very function the training matrix comes from — and a test checks
//! that the rows it gives day by day are the batch matrix's, bit for bit ([`decision_row`]).
//!
//! The inputs come from a market store ([`DailyOrigin::Store`]): the history imported from
//! the data folder, kept up to date by the fetchers and by what the live trader records —
//! the store training and trading both read. The data folder's files
//! ([`DailyOrigin::Folder`]) give the same matrix for the same history (tested).
//!
//! The option features come from the synthetic market rebuilt on the real bars and VIX
//! ([`crate::synthetic_chains`]): no real SPY chain history exists. Its chains are generated
//! from `chains_from`, which both paths must share (the synthetic paths are seeded from their
//! first session).

use chrono::{Days, NaiveDate};
use volta_core::NyseCalendar;
use volta_core::{DailyBar, Underlying};
use volta_data::DataDir;
use volta_data::import::{IndexRecord, import_index};
use volta_data::store::{MarketStore, StoreLocation, open_at};
use volta_data::synthetic::SyntheticConfig;

use crate::error::{FeatureError, Result};
use crate::library::{Family, compute_with};
use crate::matrix::FeatureMatrix;
use crate::panel::{
    DailyPanel, LoadOptions, Provenance, STORE_HISTORY_START, load_bars, load_from_dir,
    load_from_store,
};
use crate::synthetic_chains::synthetic_summaries;

/// Calendar days of synthetic chains before the first date wanted: the longest lookback of
/// a chain-based feature is 252 sessions (IV rank), which 400 calendar days cover.
pub const CHAIN_WARM_UP_DAYS: u64 = 400;

/// Where the daily inputs (bars, VIX family, rates, peers, put/call ratios) are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DailyOrigin {
    /// A market store, by location (a SQLite file, which must exist, or a PostgreSQL URL):
    /// what training and trading read.
    Store(StoreLocation),
    /// The market-data folder's files.
    Folder(DataDir),
}

/// Where an underlying's daily features come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySource {
    /// Where the inputs are read.
    pub origin: DailyOrigin,
    /// The underlying (SPY, QQQ or IWM).
    pub symbol: String,
    /// First session of the synthetic chain history (`None`: no chains, the chain-based
    /// option features are NaN).
    pub chains_from: Option<NaiveDate>,
}

/// What [`daily_matrix`] is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The files are read.
    Loaded,
    /// `done` of `total` synthetic chains summarised.
    Chains {
        /// Done so far.
        done: usize,
        /// All of them.
        total: usize,
    },
    /// A family's `count` features computed.
    Family(Family, usize),
}

/// The daily feature matrix of `source` over every session of its bars up to `end`
/// (inclusive): the batch path, and through [`features_at_decision`] the per-day one.
///
/// # Errors
/// The data folder's errors (a missing or malformed file), the feature library's.
pub fn daily_matrix(
    source: &DailySource,
    end: NaiveDate,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<FeatureMatrix> {
    let symbol = source.symbol.to_uppercase();
    let chains_from = source.chains_from.filter(|from| *from <= end);
    let (panel, chain_inputs) = match &source.origin {
        DailyOrigin::Folder(data) => folder_inputs(data, &symbol, end, chains_from)?,
        DailyOrigin::Store(location) => store_inputs(location, &symbol, end, chains_from)?,
    };
    progress(Step::Loaded);
    let panel = match chain_inputs {
        Some((bars, vix)) => {
            let config = SyntheticConfig {
                symbol: symbol.clone(),
                ..SyntheticConfig::default()
            };
            let total = bars.len();
            let done = std::sync::atomic::AtomicUsize::new(0);
            let summaries = synthetic_summaries(&config, &bars, &vix, &|| {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(Step::Chains { done: n, total });
            })?;
            panel.with_chains(&summaries, Provenance::Synthetic)?
        }
        None => panel,
    };
    compute_with(&panel, &mut |family, n| progress(Step::Family(family, n)))
}

/// The bars (from `chains_from`) and VIX closes the synthetic chains are built on.
type ChainInputs = (Vec<DailyBar>, Vec<(NaiveDate, f64)>);

fn folder_inputs(
    data: &DataDir,
    symbol: &str,
    end: NaiveDate,
    chains_from: Option<NaiveDate>,
) -> Result<(DailyPanel, Option<ChainInputs>)> {
    let panel = load_from_dir(data, symbol, end, &LoadOptions::full(symbol))?;
    let chains = match chains_from {
        Some(from) => {
            let (bars, _) = load_bars(data, symbol, end)?;
            let bars = bars.into_iter().filter(|b| b.date >= from).collect();
            let vix = closes(&import_index(&data.vix(), None)?.records);
            Some((bars, vix))
        }
        None => None,
    };
    Ok((panel, chains))
}

fn closes(records: &[IndexRecord]) -> Vec<(NaiveDate, f64)> {
    records.iter().map(|r| (r.date, r.close)).collect()
}

fn store_inputs(
    location: &StoreLocation,
    symbol: &str,
    end: NaiveDate,
    chains_from: Option<NaiveDate>,
) -> Result<(DailyPanel, Option<ChainInputs>)> {
    if let StoreLocation::Sqlite(path) = location
        && !path.is_file()
    {
        // Opening would create an empty store; say what is missing instead.
        return Err(FeatureError::BadInput {
            series: format!("{symbol} history"),
            reason: format!(
                "no store at {}: build it with volta-data import-dir",
                path.display()
            ),
        });
    }
    let store = open_at(location)?;
    let panel = load_from_store(&store, symbol, end, &LoadOptions::full(symbol))?;
    let chains = match chains_from {
        Some(from) => {
            let bars = store.daily_bars(&Underlying::try_new(symbol)?, from, end)?;
            let vix = closes(&store.index_values(
                &Underlying::try_new("VIX")?,
                STORE_HISTORY_START,
                end,
            )?);
            Some((bars, vix))
        }
        None => None,
    };
    Ok((panel, chains))
}

/// The session before `decision_date`: the close whose features a decision on it reads.
///
/// # Errors
/// [`FeatureError::Core`] outside the NYSE calendar's range.
pub fn feature_date(decision_date: NaiveDate) -> Result<NaiveDate> {
    Ok(NyseCalendar.previous_session(decision_date)?)
}

/// The row of `matrix` a decision on `decision_date` reads: the previous session's, if the
/// matrix holds it.
///
/// # Errors
/// As [`feature_date`].
pub fn decision_row(matrix: &FeatureMatrix, decision_date: NaiveDate) -> Result<Option<Vec<f64>>> {
    let date = feature_date(decision_date)?;
    let Ok(i) = matrix.dates().binary_search(&date) else {
        return Ok(None);
    };
    Ok(Some(
        matrix
            .names()
            .iter()
            .map(|n| matrix.column(n).map_or(f64::NAN, |c| c[i]))
            .collect(),
    ))
}

/// The features a decision on `decision_date` reads, computed as the live trader must at its
/// decision time: [`daily_matrix`] over the data up to the previous session only, its last
/// row.
///
/// # Errors
/// As [`daily_matrix`]; [`FeatureError::BadInput`] when the data has no bar on the previous
/// session.
pub fn features_at_decision(source: &DailySource, decision_date: NaiveDate) -> Result<Vec<f64>> {
    let date = feature_date(decision_date)?;
    let matrix = daily_matrix(source, date, &|_| {})?;
    decision_row(&matrix, decision_date)?.ok_or_else(|| FeatureError::BadInput {
        series: format!("{} bars", source.symbol),
        reason: format!("no bar on {date}, the session before the decision on {decision_date}"),
    })
}

/// The first session of the synthetic chain history that warms up the option features of a
/// matrix wanted from `start`.
#[must_use]
pub fn chains_from(start: NaiveDate) -> NaiveDate {
    start
        .checked_sub_days(Days::new(CHAIN_WARM_UP_DAYS))
        .unwrap_or(start)
}
