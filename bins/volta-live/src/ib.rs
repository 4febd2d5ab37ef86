//! `--mode ib-paper` / `ib-live`: connect to TWS or IB Gateway, reconcile the order ledger with
//! IB by orderRef, run the pre-open checks, then trade: each session's decision on IB's chains
//! 15 minutes before the close (a second API session carries the market data), orders through
//! the IB broker, the close reconciled with IB, the journal backed up.

use anyhow::Context;
use chrono::Utc;
use volta_core::{ChainSnapshot, Money, NyseCalendar};
use volta_data::store::{MarketStore, open_path};
use volta_engine::training::DayRows;
use volta_engine::{
    Backtest, DataChoice, LiveFeed, LiveOptions, Observer, Session, StopSignal, TextLog,
};
use volta_ib::{ChainWindow, IbBroker, IbConfig, IbEndpoint, IbMarketData};
use volta_monitor::ConnectionState;

use crate::Cli;
use crate::wall::{WallClock, new_york_now};

/// Where TWS / IB Gateway listens.
#[derive(Debug, clap::Args)]
pub(crate) struct IbArgs {
    /// ib-paper / ib-live: the host TWS or IB Gateway runs on.
    #[arg(long = "ib-host", default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// ib-paper / ib-live: the API port (default TWS 7497 paper / 7496 live; with
    /// `--ib-gateway` 4002 / 4001).
    #[arg(long = "ib-port")]
    pub(crate) port: Option<u16>,
    /// ib-paper / ib-live: IB Gateway's default ports rather than TWS's.
    #[arg(long = "ib-gateway")]
    pub(crate) gateway: bool,
    /// ib-paper / ib-live: the API client id (each connection to one TWS needs its own).
    #[arg(long = "ib-client-id", default_value_t = 17)]
    pub(crate) client_id: i32,
    /// ib-paper / ib-live: the account (e.g. DU1234567) when the login manages several.
    #[arg(long = "ib-account")]
    pub(crate) account: Option<String>,
    /// ib-paper / ib-live: the client id of the market-data session (default: the orders'
    /// client id + 1).
    #[arg(long = "ib-data-client-id")]
    pub(crate) data_client_id: Option<i32>,
    /// ib-paper / ib-live: the chains fetched reach this many calendar days out (the default
    /// strategies trade up to 45).
    #[arg(long = "ib-chain-days", default_value_t = 50)]
    pub(crate) chain_days: i64,
    /// ib-paper / ib-live: the chains fetched hold the strikes within this fraction of the
    /// underlying's price either side (plus every contract held).
    #[arg(long = "ib-strike-range", default_value_t = 0.15)]
    pub(crate) strike_range: f64,
    /// ib-paper / ib-live: management checks (exits only) every this many minutes from an
    /// hour after the open until the decision; 0: the decision only.
    #[arg(long = "check-every-minutes", default_value_t = 60)]
    pub(crate) check_every_minutes: i64,
}

/// The settings from the command line.
pub(crate) fn ib_config(args: &IbArgs, live: bool) -> IbConfig {
    let endpoint = match (args.gateway, live) {
        (false, false) => IbEndpoint::TwsPaper,
        (true, false) => IbEndpoint::GatewayPaper,
        (false, true) => IbEndpoint::TwsLive,
        (true, true) => IbEndpoint::GatewayLive,
    };
    let mut config = IbConfig::new(endpoint).with_client_id(args.client_id);
    config.host.clone_from(&args.host);
    config.port = args.port;
    config.account.clone_from(&args.account);
    config
}

/// Connects, reconciles and checks; then trades: the engine on IB's chains at each session's
/// decision time, orders through the IB broker, until `--end` or a stop.
#[expect(
    clippy::result_large_err,
    reason = "the closures return the engine's Result, whose error is the engine's own"
)]
pub(crate) fn ib_session(cli: &Cli, live: bool) -> anyhow::Result<()> {
    let mode = if live { "ib-live" } else { "ib-paper" };
    let (config, config_text) = crate::load_config(cli)?;
    let ib = ib_config(&cli.ib, live);
    if let Some(dir) = cli.journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // The history the signals come from is checked before anything connects.
    let data = DataChoice::from_flag("store", &cli.store)?;
    println!(
        "{mode}: connecting to {} at {} as client {}; order ledger in {}",
        if cli.ib.gateway { "IB Gateway" } else { "TWS" },
        ib.address(),
        ib.client_id,
        cli.journal.display()
    );
    let capital = Money::from_f64(config.starting_cash)?.round_to_cents();
    let now = new_york_now();
    let mut broker = IbBroker::connect(ib.clone(), &cli.journal, capital, now)?;
    println!("reconciled with IB by orderRef: the ledger and IB agree");
    let report = broker.pre_open(wall_unix_seconds(), live)?;
    println!("pre-open checks passed: {report}");

    let stop = StopSignal::new();
    let monitor = crate::start_monitor(cli, &stop, mode, ConnectionState::Connected)?;
    let handler = stop.clone();
    ctrlc::set_handler(move || handler.raise()).context("installing the SIGINT/SIGTERM handler")?;
    let watched = monitor.monitor.clone();
    broker.watch_link(move |status| {
        watched.set_connection(if status.connected {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected {
                reason: "TWS / IB Gateway connection lost; reconnecting".to_owned(),
            }
        });
        watched.circuit_breaker(status.openings_stopped.as_deref());
    });
    let data_client_id = cli.ib.data_client_id.unwrap_or(ib.client_id + 1);
    let market = IbMarketData::connect(
        ib.with_client_id(data_client_id),
        ChainWindow {
            max_days: cli.ib.chain_days,
            strike_fraction: cli.ib.strike_range,
        },
    )?;

    let start = cli.start.unwrap_or(now.date());
    let end = cli.end.unwrap_or(start + chrono::Days::new(365));
    let first = NyseCalendar
        .sessions_between(start, end)?
        .into_iter()
        .find(|d| LiveFeed::<WallClock, IbMarketData>::decision_time(*d).is_ok_and(|t| t > now))
        .with_context(|| {
            format!("no NYSE session with its decision still to come in {start}..{end}")
        })?;
    for line in &monitor.banner {
        println!("{line}");
    }
    println!(
        "trading {} on IB (market data as client {data_client_id}) from {first} to {end}: next \
         decision {} New York; chains recorded into {}. Ctrl-C stops it (at once while it waits).",
        config.underlyings.join(", "),
        LiveFeed::<WallClock, IbMarketData>::decision_time(first)?,
        cli.store.display()
    );
    let backtest = Backtest {
        config,
        config_text,
        start: first,
        end,
        data,
        journal: cli.journal.clone(),
    };
    let backup = cli.journal.with_extension("backup.db");
    // Live decisions compute their day rows at the decision (checked now up to the close
    // before the first session).
    let rows = DayRows::AtDecision(volta_core::NyseCalendar.previous_session(first)?);
    let model = cli.model.load(&backtest.config, &cli.store, rows)?;
    let mut observers: Vec<Box<dyn Observer + Send>> = vec![
        Box::new(TextLog::new(std::io::stdout())),
        Box::new(crate::DailyBackup {
            journal: cli.journal.clone(),
            backup: backup.clone(),
        }),
        Box::new(monitor.monitor.observer()),
    ];
    let (filter, retrainer) =
        crate::model::LoadedModel::wire(model, &mut observers, &monitor.monitor);
    let mut options = live_options(cli);
    options.filter = filter;
    let clock_stop = stop.clone();
    let outcome = backtest.run_live(
        mode,
        move |t| WallClock::new(t, clock_stop.clone()),
        |_| Ok(broker),
        market,
        options,
        &mut |_, _| {},
        observers,
        &stop,
    );
    retrainer.as_ref().map(crate::model::Retrainer::wait);
    crate::finish(&monitor, outcome, stop.is_raised(), &cli.journal, &backup)
}

/// The live feed's settings: management checks every `--check-every-minutes`, and every
/// chain fetched recorded into the store.
#[expect(
    clippy::result_large_err,
    reason = "the recorder returns the engine's Result, whose error is the engine's own"
)]
fn live_options(cli: &Cli) -> LiveOptions {
    let record_into = cli.store.clone();
    let recorder = Box::new(
        move |_: &Session, chains: &[ChainSnapshot]| -> volta_engine::Result<()> {
            // What the trader fetched is history too: a backtest over these days replays it.
            open_path(&record_into)?.upsert_chains(chains)?;
            Ok(())
        },
    );
    LiveOptions {
        recorder: Some(recorder),
        check_every: (cli.ib.check_every_minutes > 0)
            .then(|| chrono::TimeDelta::minutes(cli.ib.check_every_minutes)),
        filter: None,
    }
}

/// This machine's clock (the pre-open check compares it with TWS's).
fn wall_unix_seconds() -> i64 {
    Utc::now().timestamp()
}
