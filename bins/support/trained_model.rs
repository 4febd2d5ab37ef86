//! Shared by the binaries' model tests (included with `#[path]`): a store of the real SPY
//! history in a temporary folder and a model trained on it, registered and promoted.

use std::path::PathBuf;

use chrono::NaiveDate;
use volta_data::DataDir;
use volta_data::store::StoreLocation;
use volta_engine::training::{
    DailyOrigin, DailySource, Promotion, TradingKind, TrainConfig, train_model,
};
use volta_engine::validation::{WalkForwardConfig, import_history};
use volta_engine::{Backtest, BacktestConfig, DataChoice};

/// A trained model's surroundings.
pub(crate) struct Trained {
    /// The history store, holding the registry.
    pub(crate) store: PathBuf,
    /// The models folder.
    pub(crate) models: PathBuf,
}

/// `kind` trained on SPY's labelled `start..=end` with walk-forward `train` / 63 / 63 / 2,
/// registered as `id` and promoted, in `dir`; `None` (skipped with a message, a failure when
/// `CI=true`) without the data folder.
pub(crate) fn trained(
    dir: &std::path::Path,
    kind: TradingKind,
    (start, end): (&str, &str),
    train: usize,
    id: &str,
) -> Option<Trained> {
    DataDir::test_file("underlying/SPY_daily_unadjusted.csv")?;
    let date = |s: &str| s.parse::<NaiveDate>().unwrap();
    let data = DataDir::from_env();
    let store = dir.join("history.db");
    let models = dir.join("models");
    import_history(&data, &store, "SPY").unwrap();
    let backtest = Backtest {
        config: BacktestConfig::default(),
        config_text: None,
        start: date(start),
        end: date(end),
        data: DataChoice::Store(store.clone()),
        journal: dir.join("labels.sqlite"),
    };
    let features = DailySource {
        origin: DailyOrigin::Store(StoreLocation::from_path(&store)),
        symbol: "SPY".into(),
        chains_from: None,
    };
    let now = date(end).and_hms_opt(16, 0, 0).unwrap();
    let config = TrainConfig {
        kind,
        walk_forward: WalkForwardConfig {
            train_sessions: train,
            test_sessions: 63,
            step_sessions: 63,
            embargo_sessions: 2,
        },
        promotion: Promotion::Always,
        ..TrainConfig::new(backtest, features, models.clone(), id, now).unwrap()
    };
    assert!(train_model(&config, &mut |_| {}).unwrap().record.promoted);
    Some(Trained { store, models })
}
