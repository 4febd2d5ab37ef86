//! Scorers backed by a model: the way a model reaches the adaptive strategy
//! ([`volta_strategy::Scorer`], [`crate::Backtest::run_scored`]).
//!
//! A proposal's row is the day's features known at the decision (the previous close's, as the
//! engine's signals) followed by the proposal's own ([`crate::labels::candidate_features`]) —
//! the row layout the labels were trained on. Two scorers:
//!
//! - [`ModelScorer`] computes that row at the decision and asks the model for its
//!   probability: for models that can be shared across threads (`Send + Sync`), such as the
//!   logistic regression;
//! - [`ScoreTable`] looks up probabilities a model computed ahead for the candidates of each
//!   session (keyed by [`crate::labels::candidate_key`]): what the walk-forward backtest uses,
//!   where each session is scored by the fold model trained before it, and what works for any
//!   model (LightGBM's booster is not `Send`; the LSTM reads each sample's history from the
//!   data set). A proposal the table does not hold scores 0 and is counted
//!   ([`ScoreTable::misses`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use volta_strategy::{MarketView, Proposal, Scorer};

use crate::labels::{candidate_features, candidate_key};

/// A model's probability of one row (the day's features, then the candidate's).
pub type RowModel = dyn Fn(&[f64]) -> f64 + Send + Sync;

/// Scores a proposal by a model's probability from the features at the view's date.
#[derive(Clone)]
pub struct ModelScorer {
    name: String,
    daily: Arc<BTreeMap<NaiveDate, Vec<f64>>>,
    model: Arc<RowModel>,
}

impl fmt::Debug for ModelScorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelScorer")
            .field("name", &self.name)
            .field("days", &self.daily.len())
            .finish_non_exhaustive()
    }
}

impl ModelScorer {
    /// A scorer named `name` over `daily` (decision date → the day's feature row known at
    /// that decision) and `model`.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        daily: BTreeMap<NaiveDate, Vec<f64>>,
        model: Arc<RowModel>,
    ) -> Self {
        Self {
            name: name.into(),
            daily: Arc::new(daily),
            model,
        }
    }

    /// The row the model sees for `proposal` at `view`, `None` when the day has no features.
    #[must_use]
    pub fn row(&self, view: &MarketView, proposal: &Proposal) -> Option<Vec<f64>> {
        let day = self.daily.get(&view.as_of().date())?;
        let mut row = day.clone();
        row.extend(candidate_features(view, proposal));
        Some(row)
    }
}

impl Scorer for ModelScorer {
    /// The model's probability; `NaN` (hence 0: not taken) on a day without features.
    fn score(&self, view: &MarketView, proposal: &Proposal) -> f64 {
        self.row(view, proposal)
            .map_or(f64::NAN, |row| (self.model)(&row))
    }
}

/// Probabilities computed ahead, by decision date and candidate key.
#[derive(Debug, Clone, Default)]
pub struct ScoreTable {
    scores: BTreeMap<(NaiveDate, String), f64>,
    misses: Arc<AtomicUsize>,
    asked: Arc<AtomicUsize>,
}

impl ScoreTable {
    /// A table of `scores` (decision date, candidate key, probability).
    #[must_use]
    pub fn new(scores: impl IntoIterator<Item = (NaiveDate, String, f64)>) -> Self {
        Self {
            scores: scores.into_iter().map(|(d, k, p)| ((d, k), p)).collect(),
            misses: Arc::new(AtomicUsize::new(0)),
            asked: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Proposals scored so far that the table did not hold (shared by clones).
    #[must_use]
    pub fn misses(&self) -> usize {
        self.misses.load(Ordering::Relaxed)
    }

    /// Proposals scored so far (shared by clones).
    #[must_use]
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::Relaxed)
    }

    /// Probabilities held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

impl Scorer for ScoreTable {
    /// The probability held for the proposal's decision date and key; 0 (not taken) when
    /// none is held, counted in [`ScoreTable::misses`].
    fn score(&self, view: &MarketView, proposal: &Proposal) -> f64 {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let key = (view.as_of().date(), candidate_key(proposal));
        if let Some(p) = self.scores.get(&key) {
            *p
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            0.0
        }
    }
}
