//! Moving a whole store to another: SQLite to PostgreSQL and back (`volta-data copy-store`).
//!
//! [`copy_store`] reads everything through the store traits and writes it through them, so it
//! works between any two stores, then verifies the copy: a [`Digest`] of each side — per kind of
//! row, a count and a checksum over every value in a fixed order — must be equal. The target
//! must be empty (no market data, no run): a copy never merges into or overwrites a store.
//!
//! Each piece (a symbol's bars, a day's snapshots, a run's journal) is written in its own
//! transaction; if the copy fails half-way the target holds whole pieces only, and the digest
//! check tells that it is incomplete.
//!
//! ```
//! use volta_core::{DailyBar, Underlying};
//! use volta_data::store::{MarketStore, SqliteStore, copy::{copy_store, digest}};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut from = SqliteStore::open(dir.path().join("a.db"))?;
//! let day = chrono::NaiveDate::from_ymd_opt(2021, 1, 4).unwrap();
//! let p = |s: &str| s.parse();
//! let bar = DailyBar::try_new(day, p("1")?, p("2")?, p("1")?, p("1.5")?, 10)?;
//! from.upsert_daily_bars(&Underlying::try_new("SPY")?, &[bar])?;
//! let mut to = SqliteStore::open(dir.path().join("b.db"))?;
//! let report = copy_store(&from, &mut to, &mut |_, _| {})?;
//! assert_eq!(report.digest, digest(&to)?);
//! assert_eq!(report.digest.count("bars"), 1);
//! # Ok(())
//! # }
//! ```

use std::fmt::{self, Debug};

use volta_core::ChainSnapshot;

use super::{DataKind, JournalStore, MarketStore, ModelRegistry};
use crate::import::RateSeries;
use crate::{DataError, Result};

/// The kinds of rows a [`Digest`] counts, in its order.
pub const KINDS: [&str; 12] = [
    "bars",
    "chain_snapshots",
    "option_quotes",
    "index_values",
    "rates",
    "runs",
    "signals",
    "orders",
    "fills",
    "positions",
    "equity_curve",
    "models",
];

/// Quotes written per transaction when copying chains (several snapshots per call).
const QUOTES_PER_BATCH: usize = 200_000;

/// Per kind of row: how many, and a checksum of their values in the stores' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// `(kind, rows, checksum)` for each of [`KINDS`], in that order.
    pub kinds: Vec<(&'static str, u64, u64)>,
}

impl Digest {
    /// The row count of `kind` (0 for a kind not in [`KINDS`]).
    #[must_use]
    pub fn count(&self, kind: &str) -> u64 {
        self.kinds.iter().find(|k| k.0 == kind).map_or(0, |k| k.1)
    }

    /// Whether the store holds nothing at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kinds.iter().all(|k| k.1 == 0)
    }
}

impl fmt::Display for Digest {
    /// One line per kind: `bars: 300 rows, checksum 0123456789abcdef`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, rows, sum) in &self.kinds {
            writeln!(f, "{kind}: {rows} rows, checksum {sum:016x}")?;
        }
        Ok(())
    }
}

/// What [`copy_store`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The source's digest, equal to the target's after the copy.
    pub digest: Digest,
    /// Rows the target's writes reported inserted.
    pub rows_written: u64,
}

/// A running count and FNV-1a checksum over the `Debug` forms of values (exact: decimals
/// as written, floats in their round-trip form), per kind.
struct Summer {
    sums: Vec<(&'static str, u64, u64)>,
}

impl Summer {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self {
            sums: KINDS.iter().map(|k| (*k, 0, Self::FNV_OFFSET)).collect(),
        }
    }

    fn add(&mut self, kind: &'static str, value: &impl Debug) {
        let slot = self
            .sums
            .iter_mut()
            .find(|s| s.0 == kind)
            .expect("kinds are KINDS");
        slot.1 += 1;
        for b in format!("{value:?}").bytes().chain([b'\n']) {
            slot.2 = (slot.2 ^ u64::from(b)).wrapping_mul(Self::FNV_PRIME);
        }
    }

    fn digest(self) -> Digest {
        Digest { kinds: self.sums }
    }
}

/// Every chain snapshot of the store, in (symbol, time) order, handed to `each`.
fn each_chain(
    store: &(impl MarketStore + ?Sized),
    mut each: impl FnMut(ChainSnapshot) -> Result<()>,
) -> Result<()> {
    for c in store.coverage()? {
        if c.kind != DataKind::Chains {
            continue;
        }
        let mut day = c.first;
        while day <= c.last {
            for t in store.snapshot_times(&c.symbol, day)? {
                if let Some(chain) = store.chain_at(&c.symbol, t)? {
                    each(chain)?;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
    }
    Ok(())
}

/// The series a coverage row of rates names.
fn series(name: &str) -> Result<RateSeries> {
    RateSeries::from_name(name).ok_or_else(|| DataError::InvalidRequest {
        reason: format!("the store holds rates of an unknown series `{name}`"),
    })
}

/// Reads the whole store in a fixed order (bars, index values and rates by coverage; chains by
/// symbol and time; runs by start), adds each piece to `summer` and hands it to `sink`.
fn walk<S: MarketStore + JournalStore + ModelRegistry + ?Sized>(
    store: &S,
    summer: &mut Summer,
    mut sink: Option<&mut dyn FnMut(Piece) -> Result<()>>,
) -> Result<()> {
    let mut emit = |piece: Piece, summer: &mut Summer| -> Result<()> {
        piece.sum(summer);
        match sink.as_mut() {
            Some(s) => s(piece),
            None => Ok(()),
        }
    };
    let coverage = store.coverage()?;
    for c in &coverage {
        match c.kind {
            DataKind::DailyBars => {
                let bars = store.daily_bars(&c.symbol, c.first, c.last)?;
                emit(Piece::Bars(c.symbol.clone(), bars), summer)?;
            }
            DataKind::IndexValues => {
                let values = store.index_values(&c.symbol, c.first, c.last)?;
                emit(Piece::Index(c.symbol.clone(), values), summer)?;
            }
            DataKind::Rates => {
                let s = series(c.symbol.as_str())?;
                emit(Piece::Rates(s, store.rates(s, c.first, c.last)?), summer)?;
            }
            DataKind::Chains => {}
        }
    }
    let mut batch: Vec<ChainSnapshot> = Vec::new();
    let mut quotes = 0;
    each_chain(store, |chain| {
        quotes += chain.len();
        batch.push(chain);
        if quotes >= QUOTES_PER_BATCH {
            quotes = 0;
            emit(Piece::Chains(std::mem::take(&mut batch)), summer)?;
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        emit(Piece::Chains(batch), summer)?;
    }
    for run in store.runs()? {
        let id = run.run_id.clone();
        emit(
            Piece::Run(Box::new(RunPiece {
                signals: store.signals(&id)?,
                orders: store.orders(&id)?,
                fills: store.fills(&id)?,
                positions: store.positions(&id)?,
                equity: store.equity_curve(&id)?,
                run,
            })),
            summer,
        )?;
    }
    let models = store.models()?;
    if !models.is_empty() {
        emit(Piece::Models(models), summer)?;
    }
    Ok(())
}

/// A run and everything the journal holds of it.
struct RunPiece {
    run: super::RunRecord,
    signals: Vec<super::SignalRecord>,
    orders: Vec<super::OrderRecord>,
    fills: Vec<super::FillRecord>,
    positions: Vec<super::PositionRecord>,
    equity: Vec<super::EquityPoint>,
}

/// One unit of a copy, written in one transaction (a run's in one per table).
enum Piece {
    Bars(volta_core::Underlying, Vec<volta_core::DailyBar>),
    Index(volta_core::Underlying, Vec<crate::import::IndexRecord>),
    Rates(RateSeries, Vec<crate::import::RateObservation>),
    Chains(Vec<ChainSnapshot>),
    Run(Box<RunPiece>),
    /// The model registry, the promoted model last.
    Models(Vec<super::ModelRecord>),
}

impl Piece {
    fn sum(&self, s: &mut Summer) {
        match self {
            Self::Bars(symbol, bars) => bars.iter().for_each(|b| s.add("bars", &(symbol, b))),
            Self::Index(symbol, values) => values
                .iter()
                .for_each(|v| s.add("index_values", &(symbol, v))),
            Self::Rates(series, obs) => obs.iter().for_each(|o| s.add("rates", &(series, o))),
            Self::Chains(chains) => {
                for c in chains {
                    s.add(
                        "chain_snapshots",
                        &(c.underlying(), c.as_of(), c.underlying_price()),
                    );
                    c.iter()
                        .for_each(|q| s.add("option_quotes", &(c.underlying(), c.as_of(), q)));
                }
            }
            Self::Run(r) => {
                s.add("runs", &r.run);
                r.signals.iter().for_each(|x| s.add("signals", x));
                r.orders.iter().for_each(|x| s.add("orders", x));
                r.fills.iter().for_each(|x| s.add("fills", x));
                r.positions.iter().for_each(|x| s.add("positions", x));
                r.equity.iter().for_each(|x| s.add("equity_curve", x));
            }
            Self::Models(models) => models.iter().for_each(|m| s.add("models", m)),
        }
    }

    fn write<T: MarketStore + JournalStore + ModelRegistry + ?Sized>(
        self,
        to: &mut T,
    ) -> Result<u64> {
        Ok(match self {
            Self::Bars(symbol, bars) => to.upsert_daily_bars(&symbol, &bars)?,
            Self::Index(symbol, values) => to.upsert_index_values(&symbol, &values)?,
            Self::Rates(series, obs) => to.upsert_rates(series, &obs)?,
            Self::Chains(chains) => to.upsert_chains(&chains)?,
            Self::Run(r) => {
                to.upsert_run(&r.run)?
                    + to.upsert_signals(&r.signals)?
                    + to.upsert_orders(&r.orders)?
                    + to.record_fills(&r.fills)?
                    + to.upsert_positions(&r.positions)?
                    + to.upsert_equity(&r.equity)?
            }
            Self::Models(models) => {
                for m in &models {
                    to.register_model(m)?;
                }
                // A model that was promoted and later demoted keeps its `promoted_at`: the
                // copy promotes each such model in order of that time, the promoted one
                // last, so every time and the one promoted model arrive as they were.
                let mut history: Vec<&super::ModelRecord> =
                    models.iter().filter(|m| m.promoted_at.is_some()).collect();
                history.sort_by_key(|m| (m.promoted, m.promoted_at));
                for m in history {
                    if let Some(at) = m.promoted_at {
                        to.promote_model(&m.id, at)?;
                    }
                }
                models.len() as u64
            }
        })
    }

    fn label(&self) -> String {
        match self {
            Self::Bars(symbol, _) => format!("bars {symbol}"),
            Self::Index(symbol, _) => format!("index {symbol}"),
            Self::Rates(series, _) => format!("rates {series}"),
            Self::Chains(chains) => chains.last().map_or_else(String::new, |c| {
                format!("chains {} {}", c.underlying(), c.as_of().date())
            }),
            Self::Run(r) => format!("run {}", r.run.run_id),
            Self::Models(models) => format!("{} models", models.len()),
        }
    }
}

/// The digest of everything `store` holds (see [`Digest`]).
///
/// # Errors
/// The store's read errors.
pub fn digest<S: MarketStore + JournalStore + ModelRegistry + ?Sized>(store: &S) -> Result<Digest> {
    let mut summer = Summer::new();
    walk(store, &mut summer, None)?;
    Ok(summer.digest())
}

/// Copies everything `from` holds into the empty store `to`, then verifies that both digests
/// agree. `progress(piece, rows)` is called after each piece is written.
///
/// # Errors
/// [`DataError::InvalidRequest`] if `to` is not empty; the stores' errors;
/// [`DataError::StoreCopyMismatch`] if the copy's digest differs from the source's.
pub fn copy_store<F, T>(
    from: &F,
    to: &mut T,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<CopyReport>
where
    F: MarketStore + JournalStore + ModelRegistry + ?Sized,
    T: MarketStore + JournalStore + ModelRegistry + ?Sized,
{
    let existing = digest(to)?;
    if !existing.is_empty() {
        return Err(DataError::InvalidRequest {
            reason: format!(
                "the target store is not empty ({}): copy-store writes only into an empty store",
                existing
                    .kinds
                    .iter()
                    .filter(|k| k.1 > 0)
                    .map(|k| format!("{} {}", k.1, k.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let mut summer = Summer::new();
    let mut written = 0;
    walk(
        from,
        &mut summer,
        Some(&mut |piece: Piece| {
            let label = piece.label();
            let n = piece.write(to)?;
            written += n;
            progress(&label, n);
            Ok(())
        }),
    )?;
    let source = summer.digest();
    let copied = digest(to)?;
    if let Some(((kind, rows, sum), (_, copied_rows, copied_sum))) =
        source.kinds.iter().zip(&copied.kinds).find(|(a, b)| a != b)
    {
        return Err(DataError::StoreCopyMismatch {
            kind,
            source_rows: *rows,
            copied_rows: *copied_rows,
            checksums_differ: sum != copied_sum,
        });
    }
    Ok(CopyReport {
        digest: source,
        rows_written: written,
    })
}
