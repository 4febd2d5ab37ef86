//! Option chains from IB (the fake TWS): the expiries and strikes asked for, each option's
//! quote from its snapshot, the underlying at its last price.

use chrono::NaiveDate;
use volta_core::Price;
use volta_ib::fake_tws::{FakeTws, OptionChain, Quote};
use volta_ib::{ChainRequest, ChainWindow, IbConfig, IbEndpoint, IbError, IbMarketData};

#[test]
fn a_chain_snapshot_holds_the_wanted_expiries_and_strikes_at_ibs_quotes() {
    let tws = FakeTws::start().unwrap();
    tws.add_option_chain(OptionChain::new(
        "SPY",
        &["20250321", "20250328", "20250417"],
        &[540.0, 550.0, 560.0, 570.0, 580.0],
    ));
    let spy = tws.state().chains[0].underlying_con_id;
    tws.set_quote(
        spy,
        Quote {
            bid: 564.9,
            ask: 565.1,
            last: Some(565.0),
        },
    );
    for (strike, bid, ask) in [(550.0, 0.90, 1.00), (560.0, 3.00, 3.10)] {
        tws.set_quote(
            FakeTws::option_con_id("SPY", "20250321", "P", strike),
            Quote {
                bid,
                ask,
                last: None,
            },
        );
    }
    let now = NaiveDate::from_ymd_opt(2025, 3, 17)
        .and_then(|d| d.and_hms_opt(15, 45, 0))
        .unwrap();
    let market = IbMarketData::connect(
        IbConfig::new(IbEndpoint::TwsPaper).with_port(tws.port()),
        ChainWindow::default(),
    )
    .unwrap();
    let chain = market
        .chain_snapshot(
            &ChainRequest {
                underlying: "SPY".parse().unwrap(),
                expiries: vec![NaiveDate::from_ymd_opt(2025, 3, 21).unwrap()],
                min_strike: 545.0,
                max_strike: 565.0,
            },
            now,
        )
        .unwrap();
    assert_eq!(chain.as_of(), now);
    assert_eq!(chain.underlying_price(), "565".parse::<Price>().unwrap());
    // One expiry, strikes 550 and 560, calls and puts.
    assert_eq!(chain.len(), 4);
    assert_eq!(
        chain.expiries().collect::<Vec<_>>(),
        [NaiveDate::from_ymd_opt(2025, 3, 21).unwrap()]
    );
    let put = chain
        .get(&"SPY   250321P00560000".parse().unwrap())
        .unwrap();
    assert_eq!(put.mid(), Some("3.05".parse().unwrap()));
    let put = chain
        .get(&"SPY   250321P00550000".parse().unwrap())
        .unwrap();
    assert_eq!(put.mid(), Some("0.95".parse().unwrap()));
    // A call without a quote at the fake is kept without sides: the quality gate judges it.
    let call = chain
        .get(&"SPY   250321C00560000".parse().unwrap())
        .unwrap();
    assert_eq!(call.mid(), None);

    // An underlying IB does not know is a clear error.
    let err = market
        .chain_snapshot(
            &ChainRequest {
                underlying: "ZZZZ".parse().unwrap(),
                expiries: vec![],
                min_strike: 0.0,
                max_strike: 1.0,
            },
            now,
        )
        .unwrap_err();
    assert!(
        matches!(err, IbError::Request { .. } | IbError::Contract { .. }),
        "{err}"
    );
}
