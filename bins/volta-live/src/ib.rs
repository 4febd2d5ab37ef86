//! `--mode ib-paper` / `ib-live`: connect to TWS or IB Gateway, reconcile the order ledger with
//! IB by orderRef, and run the pre-open checks. Decisions on IB need IB's option chains, which
//! the IB market-data source will provide; until it is built the trader stops after the checks
//! with a message that says so, having sent nothing.

use anyhow::{Context, bail};
use chrono::Utc;
use volta_core::Money;
use volta_engine::BacktestConfig;
use volta_ib::{IbBroker, IbConfig, IbEndpoint};

use crate::Cli;
use crate::wall::new_york_now;

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

/// Connects, reconciles and checks; then says what is not built.
pub(crate) fn ib_session(cli: &Cli, config: &BacktestConfig, live: bool) -> anyhow::Result<()> {
    let ib = ib_config(&cli.ib, live);
    if let Some(dir) = cli.journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    println!(
        "{}: connecting to {} at {} as client {}; order ledger in {}",
        if live { "ib-live" } else { "ib-paper" },
        if cli.ib.gateway { "IB Gateway" } else { "TWS" },
        ib.address(),
        ib.client_id,
        cli.journal.display()
    );
    let capital = Money::from_f64(config.starting_cash)?.round_to_cents();
    let broker = IbBroker::connect(ib, &cli.journal, capital, new_york_now())?;
    println!("reconciled with IB by orderRef: the ledger and IB agree");
    let report = broker.pre_open(wall_unix_seconds(), live)?;
    println!("pre-open checks passed: {report}");
    bail!(
        "trading on IB needs the IB market-data source (a live feed of IB's option chains and \
         the underlyings' history at each decision), which this build does not have yet: the \
         checks passed and nothing was sent; use --mode sim-paper to trade the simulated broker"
    )
}

/// This machine's clock (the pre-open check compares it with TWS's).
fn wall_unix_seconds() -> i64 {
    Utc::now().timestamp()
}
