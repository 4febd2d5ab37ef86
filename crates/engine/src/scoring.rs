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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use chrono::NaiveDate;
use volta_strategy::{MarketView, Proposal, Scorer};

use crate::labels::{candidate_features, candidate_key};

/// A scorer for the adaptive strategy's openings and the minimum score they must reach.
pub type ModelFilter = (Box<dyn Scorer>, f64);

/// A model's probability of one row (the day's features, then the candidate's).
pub type RowModel = dyn Fn(&[f64]) -> f64 + Send + Sync;

/// The day's feature row a decision on a date reads (the previous close's): computed ahead
/// for a backtest (a map), or at the decision for the live trader.
pub trait DailyRows: Send + Sync {
    /// The row for a decision on `decision_date`; `None` when the day has none.
    fn row(&self, decision_date: NaiveDate) -> Option<Vec<f64>>;
}

impl DailyRows for BTreeMap<NaiveDate, Vec<f64>> {
    fn row(&self, decision_date: NaiveDate) -> Option<Vec<f64>> {
        self.get(&decision_date).cloned()
    }
}

/// Scores a proposal by a model's probability from the features at the view's date.
#[derive(Clone)]
pub struct ModelScorer {
    name: String,
    daily: Arc<dyn DailyRows>,
    model: Arc<RowModel>,
    without_features: Arc<AtomicUsize>,
}

impl fmt::Debug for ModelScorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelScorer")
            .field("name", &self.name)
            .field("without_features", &self.without_features())
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
        Self::over(name, Arc::new(daily), model)
    }

    /// A scorer named `name` whose day rows come from `daily`.
    #[must_use]
    pub fn over(name: impl Into<String>, daily: Arc<dyn DailyRows>, model: Arc<RowModel>) -> Self {
        Self {
            name: name.into(),
            daily,
            model,
            without_features: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Its name (the model's id).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Proposals scored so far on days without features (scored `NaN`: not taken), shared by
    /// clones.
    #[must_use]
    pub fn without_features(&self) -> usize {
        self.without_features.load(Ordering::Relaxed)
    }

    /// The row the model sees for `proposal` at `view`, `None` when the day has no features.
    #[must_use]
    pub fn row(&self, view: &MarketView, proposal: &Proposal) -> Option<Vec<f64>> {
        let mut row = self.daily.row(view.as_of().date())?;
        row.extend(candidate_features(view, proposal));
        Some(row)
    }
}

impl Scorer for ModelScorer {
    /// The model's probability; `NaN` (hence 0: not taken) on a day without features.
    fn score(&self, view: &MarketView, proposal: &Proposal) -> f64 {
        if let Some(row) = self.row(view, proposal) {
            (self.model)(&row)
        } else {
            self.without_features.fetch_add(1, Ordering::Relaxed);
            f64::NAN
        }
    }
}

/// A scorer that can be replaced while the strategy holding it trades: the live trader's
/// model, swapped for a retrained one between decisions. Clones share the slot.
#[derive(Clone)]
pub struct SharedScorer {
    slot: Arc<RwLock<Arc<dyn Scorer>>>,
}

impl fmt::Debug for SharedScorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedScorer").finish_non_exhaustive()
    }
}

impl SharedScorer {
    /// A slot holding `scorer`.
    #[must_use]
    pub fn new(scorer: Arc<dyn Scorer>) -> Self {
        Self {
            slot: Arc::new(RwLock::new(scorer)),
        }
    }

    /// Puts `scorer` in the slot: every later score is its.
    pub fn replace(&self, scorer: Arc<dyn Scorer>) {
        // A poisoned lock only means a scorer panicked mid-score; the slot is whole.
        *self.slot.write().unwrap_or_else(PoisonError::into_inner) = scorer;
    }
}

impl Scorer for SharedScorer {
    fn score(&self, view: &MarketView, proposal: &Proposal) -> f64 {
        let scorer = Arc::clone(&self.slot.read().unwrap_or_else(PoisonError::into_inner));
        scorer.score(view, proposal)
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use volta_core::{QualityPolicy, RatesAndYield, Regime};
    use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
    use volta_strategy::config::StrategyConfig;
    use volta_strategy::{Adaptive, AdaptiveConfig, Strategy, UnderlyingView};

    use super::*;
    use crate::labels::CANDIDATE_FEATURES;

    /// A view of one synthetic SPY chain and the IV-rank premium strategy's proposal on it.
    fn view_and_proposal() -> (MarketView, Proposal) {
        let market = SyntheticMarket::generate(&SyntheticConfig {
            start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2023, 3, 3).unwrap(),
            ..SyntheticConfig::default()
        })
        .unwrap();
        let chain = market.chain(0).unwrap();
        let rates = RatesAndYield::try_new(0.02, 0.015).unwrap();
        let spy = UnderlyingView::gated(&chain, &QualityPolicy::default(), 0.7, rates).unwrap();
        let view = MarketView::new(chain.as_of(), Some(Regime::Neutral), Some(19.0))
            .unwrap()
            .with_underlying(spy)
            .unwrap();
        let premium = StrategyConfig::defaults("iv_rank_premium")
            .unwrap()
            .build()
            .unwrap();
        let proposal = premium.propose(&view).unwrap().remove(0);
        (view, proposal)
    }

    #[test]
    fn the_model_sees_the_day_then_the_candidate() {
        let (view, proposal) = view_and_proposal();
        let day = view.as_of().date();
        // A "model" that reads the first feature of the day: the row's layout is checked.
        let model: Arc<RowModel> = Arc::new(|row: &[f64]| row[0]);
        let scorer = ModelScorer::new("first", BTreeMap::from([(day, vec![0.75, 2.0])]), model);
        let row = scorer.row(&view, &proposal).unwrap();
        assert_eq!(row.len(), 2 + CANDIDATE_FEATURES.len());
        // Bit for bit (a feature that does not apply is NaN, which equals nothing).
        let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&row[2..]), bits(&candidate_features(&view, &proposal)));
        assert_eq!(scorer.score(&view, &proposal), 0.75);
        // No features that day: NaN, which the adaptive strategy counts as 0.
        let empty = ModelScorer::new("none", BTreeMap::new(), Arc::new(|_: &[f64]| 1.0));
        assert!(empty.score(&view, &proposal).is_nan());
    }

    #[test]
    fn a_threshold_turns_the_candidates_into_the_filtered_ones() {
        let (view, proposal) = view_and_proposal();
        let key = (view.as_of().date(), candidate_key(&proposal));
        let config = AdaptiveConfig::everywhere("iv_rank_premium");
        let members = || {
            vec![
                StrategyConfig::defaults("iv_rank_premium")
                    .unwrap()
                    .build()
                    .unwrap(),
            ]
        };
        for (p, kept) in [(0.8, 1), (0.3, 0)] {
            let table = ScoreTable::new([(key.0, key.1.clone(), p)]);
            let adaptive = Adaptive::try_new(&config, members())
                .unwrap()
                .with_scorer(Box::new(table.clone()), 0.5)
                .unwrap();
            assert_eq!(adaptive.propose(&view).unwrap().len(), kept, "p = {p}");
            assert_eq!((table.asked(), table.misses()), (1, 0));
        }
        // A candidate the table does not hold scores 0 and is counted.
        let table = ScoreTable::new([]);
        assert_eq!(table.score(&view, &proposal), 0.0);
        assert_eq!(table.misses(), 1);
    }
}
