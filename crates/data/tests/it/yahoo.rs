//! The Yahoo source against a replay server on 127.0.0.1 serving recorded Yahoo replies
//! (`fixtures/yahoo/`): real HTTP over TCP, scripted failures, the cookie/crumb session.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::Value;
use volta_core::{Price, Underlying};
use volta_data::DataDir;
use volta_data::DataError;
use volta_data::source::yahoo::{RateLimit, RetryPolicy};
use volta_data::source::{ChainDate, ExpirySelection, MarketDataSource, YahooConfig, YahooSource};

use crate::support::{INVALID_CRUMB, ReplayServer, Reply, fixture};

const QQQ_CHART: &str = "/v8/finance/chart/QQQ";
const AAPL_CHART: &str = "/v8/finance/chart/AAPL";
const QQQ_OPTIONS: &str = "/v7/finance/options/QQQ";
const AAPL_OPTIONS: &str = "/v7/finance/options/AAPL";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn sym(s: &str) -> Underlying {
    s.parse().unwrap()
}

fn price(s: &str) -> Price {
    s.parse().unwrap()
}

/// `later − earlier` on the server's clock.
fn gap(later: Duration, earlier: Duration) -> Duration {
    later.checked_sub(earlier).expect("times logged in order")
}

fn source(config: YahooConfig) -> YahooSource {
    YahooSource::new(config).unwrap()
}

fn qqq_bars(yahoo: &YahooSource) -> volta_data::Result<Vec<volta_core::DailyBar>> {
    yahoo.daily_bars(&sym("QQQ"), day(2020, 1, 1), day(2020, 1, 3))
}

// ---------------------------------------------------------------------------------------------
// Replies → values

#[test]
fn qqq_daily_bar_of_2020_01_02() {
    let server = ReplayServer::start();
    server.require_session();
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let yahoo = source(server.config());
    let bars = qqq_bars(&yahoo).unwrap();
    let [bar] = bars.as_slice() else {
        panic!("{bars:?}")
    };
    assert_eq!(bar.date, day(2020, 1, 2));
    // The JSON's 214.39999389648438, 216.16000366210938, 213.97999572753906 are float32
    // renderings of these quoted prices.
    assert_eq!(bar.ohlcv.open(), price("214.4"));
    assert_eq!(bar.ohlcv.high(), price("216.16"));
    assert_eq!(bar.ohlcv.low(), price("213.98"));
    assert_eq!(bar.ohlcv.close(), price("216.16"));
    assert_eq!(bar.ohlcv.volume(), 30_969_400);

    // Session first, then the chart call with the crumb and the cookie.
    assert_eq!(
        server.paths(),
        ["/cookie", "/v1/test/getcrumb", "/v8/finance/chart/QQQ"]
    );
    let (crumb, cookie) = server.session();
    let call = &server.requests(QQQ_CHART)[0];
    let q = |k: &str| call.query.get(k).map(String::as_str);
    assert_eq!(q("interval"), Some("1d"));
    assert_eq!(q("events"), Some("div|split"));
    // 2019-12-31 and 2020-01-05, 00:00 UTC: a day's margin around the range.
    assert_eq!(q("period1"), Some("1577750400"));
    assert_eq!(q("period2"), Some("1578182400"));
    assert_eq!(q("crumb"), Some(crumb.as_str()));
    let sent_cookie = call.cookie.as_deref().unwrap();
    assert!(sent_cookie.contains(&cookie) && sent_cookie.contains("A1S=d=x&j=WORLD"));
    assert_eq!(call.user_agent.as_deref(), Some("volta-test"));
}

#[test]
fn qqq_bar_matches_the_alpha_vantage_file() {
    let Some(path) = DataDir::test_file("underlying/QQQ_daily_unadjusted.csv") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let row = text.lines().find(|l| l.starts_with("2020-01-02,")).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    let server = ReplayServer::start();
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let bar = qqq_bars(&source(server.config())).unwrap()[0];
    let o = bar.ohlcv;
    assert_eq!(
        [o.open(), o.high(), o.low(), o.close()],
        [
            price(cells[1]),
            price(cells[2]),
            price(cells[3]),
            price(cells[4])
        ],
        "Yahoo and Alpha Vantage agree on QQQ's 2020-01-02 prices"
    );
}

#[test]
fn aapl_49_daily_bars_from_the_split_day() {
    let server = ReplayServer::start();
    server.route(
        AAPL_CHART,
        Reply::Fixture("chart-AAPL-2020-08-31-to-2020-11-07.json"),
    );
    let yahoo = source(server.config());
    let fetch = yahoo
        .fetch_daily_bars(&sym("AAPL"), day(2020, 8, 31), day(2020, 11, 7))
        .unwrap();
    let bars = &fetch.bars;
    assert_eq!((bars.len(), fetch.skipped_empty_rows), (49, 0));
    assert!(bars.windows(2).all(|w| w[0].date < w[1].date));
    assert!(
        bars.iter()
            .all(|b| !matches!(b.date.weekday(), Weekday::Sat | Weekday::Sun))
    );
    // 2020-08-31, AAPL's first session after its 4:1 split (1598880600 = 13:30 UTC = 09:30 EDT,
    // dated with the reply's EST offset: the hour's error never crosses midnight).
    let first = bars[0];
    assert_eq!(first.date, day(2020, 8, 31));
    assert_eq!(
        [
            first.ohlcv.open(),
            first.ohlcv.high(),
            first.ohlcv.low(),
            first.ohlcv.close()
        ],
        [price("127.58"), price("131"), price("126"), price("129.04")]
    );
    assert_eq!(first.ohlcv.volume(), 225_702_700);
    let last = bars[48];
    assert_eq!(last.date, day(2020, 11, 6));
    assert_eq!(last.ohlcv.close(), price("118.69"));
    assert_eq!(last.ohlcv.volume(), 114_457_900);
    // No US session 2020-09-07 (Labor Day).
    assert!(bars.iter().all(|b| b.date != day(2020, 9, 7)));

    // The same reply, asked for a narrower range: only those dates.
    let sept = yahoo
        .daily_bars(&sym("AAPL"), day(2020, 9, 1), day(2020, 9, 30))
        .unwrap();
    assert_eq!(sept.len(), 21);
}

#[test]
fn qqq_expirations_and_nearest_chain() {
    let server = ReplayServer::start();
    server.require_session();
    server.route(QQQ_OPTIONS, Reply::Fixture("options-QQQ.json"));
    let yahoo = source(server.config());

    let expiries = yahoo.expirations(&sym("QQQ"), ChainDate::Latest).unwrap();
    assert_eq!(expiries.len(), 30);
    assert_eq!(expiries[0], day(2025, 2, 24));
    assert_eq!(expiries[29], day(2027, 1, 15));
    assert!(expiries.windows(2).all(|w| w[0] < w[1]));

    let nearest = day(2025, 2, 24);
    let chain = yahoo
        .chain(
            &sym("QQQ"),
            ChainDate::Latest,
            ExpirySelection::Only(nearest),
        )
        .unwrap();
    let calls = chain
        .iter()
        .filter(|q| q.key.right() == volta_core::OptionRight::Call);
    assert_eq!(calls.count(), 78);
    assert_eq!(chain.len(), 78 + 102);
    assert_eq!(chain.underlying_price(), price("526.12"));
    // quote.regularMarketTime 1740171600 at gmtOffSetMilliseconds −18 000 000.
    assert_eq!(
        chain.as_of(),
        day(2025, 2, 21).and_hms_opt(16, 0, 0).unwrap()
    );
    assert_eq!(chain.expiries().collect::<Vec<_>>(), [nearest]);
    // QQQ250224C00526000: lastPrice 2.67, volume 10268, openInterest 0, bid 0 / ask 0 (no
    // quote: recorded pre-market) and Yahoo's "no IV" 1e-5.
    let key = "QQQ250224C00526000".parse().unwrap();
    let q = chain.get(&key).unwrap();
    assert_eq!(q.last, Some(price("2.67")));
    assert_eq!((q.volume, q.open_interest), (10_268, 0));
    assert_eq!((q.bid, q.ask, q.vendor), (None, None, None));

    // The date-specific call carries date=<expiry at 00:00 UTC>.
    let dated = server.requests(QQQ_OPTIONS);
    assert_eq!(
        dated.last().unwrap().query.get("date").map(String::as_str),
        Some("1740355200")
    );
}

#[test]
fn spot_contract_bid_ask_and_vendor_iv() {
    let server = ReplayServer::start();
    server.route(
        "/v7/finance/options/SPOT",
        Reply::Fixture("options-SPOT.json"),
    );
    let yahoo = source(server.config());
    let chain = yahoo
        .chain(
            &sym("SPOT"),
            ChainDate::Latest,
            ExpirySelection::Only(day(2025, 2, 28)),
        )
        .unwrap();
    assert_eq!(chain.len(), 95 + 84);
    assert_eq!(chain.underlying_price(), price("607.38"));
    // {"contractSymbol": "SPOT250228C00460000", "bid": 169.1, "ask": 176.8, "lastPrice": 33.87,
    //  "volume": 1, "openInterest": 1, "impliedVolatility": 3.1732808753967285}
    let q = chain.get(&"SPOT250228C00460000".parse().unwrap()).unwrap();
    assert_eq!((q.bid, q.ask), (Some(price("169.1")), Some(price("176.8"))));
    assert_eq!(q.mid(), Some(price("172.95")));
    assert_eq!(q.last, Some(price("33.87")));
    assert_eq!((q.volume, q.open_interest), (1, 1));
    assert_eq!(q.vendor.unwrap().implied_vol, Some(3.1732808753967285));
}

/// options-AAPL.json with its nearest expiry's contracts moved to `epoch`: a stand-in for the
/// reply of `?date=<epoch>` (the recordings hold one expiry's chain per symbol).
fn aapl_page_for(epoch: i64) -> String {
    let mut json: Value = serde_json::from_str(&fixture("options-AAPL.json")).unwrap();
    let date = chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap()
        .date_naive();
    let yymmdd = date.format("%y%m%d").to_string();
    let page = &mut json["optionChain"]["result"][0]["options"][0];
    page["expirationDate"] = epoch.into();
    for side in ["calls", "puts"] {
        for c in page[side].as_array_mut().unwrap() {
            let symbol = c["contractSymbol"]
                .as_str()
                .unwrap()
                .replacen("250228", &yymmdd, 1);
            c["contractSymbol"] = symbol.into();
            c["expiration"] = epoch.into();
        }
    }
    json.to_string()
}

#[test]
fn all_expiries_fetch_one_page_each() {
    let server = ReplayServer::start();
    server.route(AAPL_OPTIONS, Reply::Fixture("options-AAPL.json"));
    let listed: Vec<i64> = serde_json::from_str::<Value>(&fixture("options-AAPL.json")).unwrap()
        ["optionChain"]["result"][0]["expirationDates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_i64().unwrap())
        .collect();
    assert_eq!(listed.len(), 20);
    for &epoch in &listed[1..] {
        let e = epoch.to_string();
        server.route_query(
            AAPL_OPTIONS,
            &[("date", &e)],
            Reply::json(aapl_page_for(epoch)),
        );
    }
    let yahoo = source(server.config());
    let chain = yahoo
        .chain(&sym("AAPL"), ChainDate::Latest, ExpirySelection::All)
        .unwrap();
    assert_eq!(chain.expiries().count(), 20);
    assert_eq!(chain.len(), 20 * (54 + 48));
    assert_eq!(chain.underlying_price(), price("245.55"));
    // One call for the nearest (no date), one per other expiry with its listed epoch.
    let calls = server.requests(AAPL_OPTIONS);
    assert_eq!(calls.len(), 20);
    assert!(!calls[0].query.contains_key("date"));
    let dates: Vec<i64> = calls[1..]
        .iter()
        .map(|c| c.query["date"].parse().unwrap())
        .collect();
    assert_eq!(dates, listed[1..]);
    // The deep ITM call with a real quote, in every expiry's copy.
    let q = chain.get(&"AAPL250228C00110000".parse().unwrap()).unwrap();
    assert_eq!(
        (q.bid, q.ask),
        (Some(price("135.9")), Some(price("136.65")))
    );
    assert_eq!(q.vendor.unwrap().implied_vol, Some(3.58593853515625));
}

#[test]
fn expired_or_empty_expiries_are_not_available() {
    let server = ReplayServer::start();
    // The recorded reply to ?date=1646092800 (2022-03-01): the expiry is long gone, so the
    // chain is empty and 2022-03-01 is not among the listed expiries.
    server.route(
        AAPL_OPTIONS,
        Reply::Fixture("options-AAPL-expire-2022-03-01.json"),
    );
    let yahoo = source(server.config());
    let err = yahoo
        .chain(
            &sym("AAPL"),
            ChainDate::Latest,
            ExpirySelection::Only(day(2022, 3, 1)),
        )
        .unwrap_err();
    let DataError::NotAvailable { source_name, what } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source_name, "yahoo");
    assert!(
        what.contains("expiring 2022-03-01") && what.contains("20 expiries"),
        "{what}"
    );
    assert_eq!(
        server.requests(AAPL_OPTIONS)[0]
            .query
            .get("date")
            .map(String::as_str),
        Some("1646092800")
    );
    // A listed expiry whose page comes back empty: nothing to serve either.
    let err = yahoo
        .chain(
            &sym("AAPL"),
            ChainDate::Latest,
            ExpirySelection::Only(day(2025, 2, 28)),
        )
        .unwrap_err();
    assert!(
        matches!(&err, DataError::NotAvailable { what, .. } if what.contains("is empty")),
        "{err}"
    );
}

#[test]
fn past_chains_are_not_available() {
    let server = ReplayServer::start();
    server.route(QQQ_OPTIONS, Reply::Fixture("options-QQQ.json"));
    let yahoo = source(server.config());
    let err = yahoo
        .chain(
            &sym("QQQ"),
            ChainDate::On(day(2025, 2, 20)),
            ExpirySelection::All,
        )
        .unwrap_err();
    assert!(
        matches!(&err, DataError::NotAvailable { what, .. }
            if what.contains("2025-02-20") && what.contains("no history")),
        "{err}"
    );
    // The session of Yahoo's latest quote is served.
    let expiries = yahoo
        .expirations(&sym("QQQ"), ChainDate::On(day(2025, 2, 21)))
        .unwrap();
    assert_eq!(expiries.len(), 30);
}

// ---------------------------------------------------------------------------------------------
// Malformed replies and Yahoo's errors

fn bad_reply(server: &ReplayServer, body: Reply) -> String {
    server.route(QQQ_CHART, body);
    let err = qqq_bars(&source(server.config())).unwrap_err();
    match err {
        DataError::BadReply { url, reason } => {
            assert!(url.starts_with(&server.url()) && url.contains("/v8/finance/chart/QQQ?"));
            assert!(!url.contains("crumb"), "{url}");
            reason
        }
        other => panic!("expected BadReply, got {other:?}"),
    }
}

#[test]
fn fake_chart_files_are_bad_replies() {
    let server = ReplayServer::start();
    for fake in [
        "chart-notimestamp-quotes-length.fake.json",
        "chart-notimestamp-weird-quote.fake.json",
    ] {
        // These fakes are AAPL's reply with the timestamps cut: the symbol check comes first.
        let body = fixture(fake).replace("\"symbol\": \"AAPL\"", "\"symbol\": \"QQQ\"");
        let reason = bad_reply(&server, Reply::json(body));
        assert_eq!(
            reason,
            "no timestamp array, but indicators.quote[0].open holds 1 values"
        );
    }
    let reason = bad_reply(
        &server,
        Reply::Fixture("chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json"),
    );
    assert_eq!(reason, "chart is for `TSLA`, asked for `QQQ`");

    // Quote arrays of different lengths: one volume too many.
    let mut json: Value =
        serde_json::from_str(&fixture("chart-QQQ-2020-01-01-to-2020-01-03.json")).unwrap();
    json["chart"]["result"][0]["indicators"]["quote"][0]["volume"] = serde_json::json!([1, 2]);
    let reason = bad_reply(&server, Reply::json(json.to_string()));
    assert_eq!(
        reason,
        "indicators.quote[0].volume holds 2 values for 1 timestamps"
    );

    // Not JSON at all.
    let reason = bad_reply(&server, Reply::json("<html>oops</html>"));
    assert!(reason.starts_with("chart JSON: "), "{reason}");

    // An intraday reply where daily bars were asked for.
    let body = fixture("chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json")
        .replace("\"symbol\": \"AAPL\"", "\"symbol\": \"QQQ\"");
    let reason = bad_reply(&server, Reply::json(body));
    assert_eq!(
        reason,
        "meta.dataGranularity is `1m`, asked for daily bars (`1d`)"
    );
}

#[test]
fn unknown_symbol_is_not_available_without_retry() {
    let server = ReplayServer::start();
    server.route(
        "/v8/finance/chart/XYZQ",
        Reply::status(
            404,
            r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#,
        ),
    );
    let yahoo = source(server.config());
    let err = yahoo
        .daily_bars(&sym("XYZQ"), day(2020, 1, 1), day(2020, 1, 3))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "yahoo: no daily bars of XYZQ (Yahoo: No data found, symbol may be delisted)"
    );
    assert_eq!(server.requests("/v8/").len(), 1);

    // An options reply with no result: Yahoo's answer for a symbol without options.
    server.route(
        "/v7/finance/options/XYZQ",
        Reply::json(r#"{"optionChain":{"result":[],"error":null}}"#),
    );
    let err = yahoo
        .expirations(&sym("XYZQ"), ChainDate::Latest)
        .unwrap_err();
    assert!(matches!(err, DataError::NotAvailable { .. }), "{err}");
}

#[test]
fn plain_404_is_an_http_error_without_retry() {
    let server = ReplayServer::start();
    server.route(QQQ_CHART, Reply::status(404, "<html>Not here</html>"));
    let err = qqq_bars(&source(server.config())).unwrap_err();
    match &err {
        DataError::Http {
            status,
            body_excerpt,
            ..
        } => assert_eq!(
            (*status, body_excerpt.as_str()),
            (404, "<html>Not here</html>")
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(QQQ_CHART).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Retries, timeouts, rate limit

#[test]
fn two_500s_then_success_takes_three_requests() {
    let server = ReplayServer::start();
    server.script(
        QQQ_CHART,
        vec![Reply::status(500, "boom"), Reply::status(503, "busy")],
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let bars = qqq_bars(&source(server.config())).unwrap();
    assert_eq!(bars.len(), 1);
    let calls = server.requests(QQQ_CHART);
    assert_eq!(calls.len(), 3);
    // Backoff: at least 5 ms, then at least 10 ms between attempts.
    assert!(gap(calls[1].at, calls[0].at) >= Duration::from_millis(5));
    assert!(gap(calls[2].at, calls[1].at) >= Duration::from_millis(10));
}

#[test]
fn persistent_500s_exhaust_the_retries() {
    let server = ReplayServer::start();
    server.script(
        QQQ_CHART,
        vec![Reply::status(500, "boom"); 4],
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let err = qqq_bars(&source(server.config())).unwrap_err();
    match &err {
        DataError::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, DataError::Http { status: 500, .. }),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(QQQ_CHART).len(), 3);
}

#[test]
fn retry_after_is_honoured() {
    let server = ReplayServer::start();
    let mut config = server.config();
    config.retry.max_delay = Duration::from_secs(2);
    server.script(
        QQQ_CHART,
        vec![Reply::too_many(1)],
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    assert_eq!(qqq_bars(&source(config)).unwrap().len(), 1);
    let calls = server.requests(QQQ_CHART);
    assert_eq!(calls.len(), 2);
    let gap = gap(calls[1].at, calls[0].at);
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
}

#[test]
fn persistent_429_is_rate_limited() {
    let server = ReplayServer::start();
    server.route(QQQ_CHART, Reply::status(429, "Too Many Requests"));
    let err = qqq_bars(&source(server.config())).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::RateLimited {
                attempts: 3,
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.requests(QQQ_CHART).len(), 3);

    // A Retry-After beyond the policy's longest wait is not waited out.
    server.route(QQQ_CHART, Reply::too_many(3600));
    let err = qqq_bars(&source(server.config())).unwrap_err();
    assert!(
        matches!(err, DataError::RateLimited { attempts: 1, retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert!(err.to_string().contains("retry after 3600 s"), "{err}");
}

#[test]
fn a_hung_server_times_out_within_the_bound() {
    let server = ReplayServer::start();
    server.route(QQQ_CHART, Reply::Hang(Duration::from_secs(5)));
    let mut config = server.config();
    config.read_timeout = Duration::from_millis(200);
    config.retry.max_attempts = 2;
    let yahoo = source(config);
    let start = server.now();
    let err = qqq_bars(&yahoo).unwrap_err();
    let took = gap(server.now(), start);
    match &err {
        DataError::RetriesExhausted {
            attempts: 2, last, ..
        } => assert!(
            matches!(
                **last,
                DataError::Network {
                    timed_out: true,
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("timed out"), "{err}");
    // Two reads of 200 ms and one backoff of at most 7.5 ms, plus the session calls.
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    assert_eq!(server.requests(QQQ_CHART).len(), 2);
}

#[test]
fn a_dropped_connection_is_retried() {
    let server = ReplayServer::start();
    server.script(
        QQQ_CHART,
        vec![Reply::Drop],
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    assert_eq!(qqq_bars(&source(server.config())).unwrap().len(), 1);
    assert_eq!(server.requests(QQQ_CHART).len(), 2);
}

#[test]
fn connection_refused_is_a_network_error() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let config = YahooConfig {
        base_url: url.clone(),
        cookie_url: format!("{url}/cookie"),
        ..ReplayServer::start().config()
    };
    let err = qqq_bars(&source(config)).unwrap_err();
    match &err {
        DataError::RetriesExhausted {
            url: u,
            attempts: 3,
            last,
        } => {
            assert_eq!(*u, format!("{url}/cookie"));
            assert!(
                matches!(
                    **last,
                    DataError::Network {
                        timed_out: false,
                        ..
                    }
                ),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_are_spaced_by_the_rate_limit() {
    // 20 requests per second with a burst of 2: the session (2 requests) and 10 chart calls
    // cannot end before (12 − 2) / 20 = 0.5 s after the source was made.
    let server = ReplayServer::start();
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let mut config = server.config();
    config.rate_limit = RateLimit {
        requests_per_second: 20.0,
        burst: 2,
    };
    let start = server.now();
    let yahoo = source(config);
    for _ in 0..10 {
        qqq_bars(&yahoo).unwrap();
    }
    let log = server.log();
    assert_eq!(log.len(), 12);
    let span = gap(log.last().unwrap().at, start);
    assert!(span >= Duration::from_millis(500), "{span:?}");
    assert!(span < Duration::from_secs(2), "{span:?}");
    // Past the burst, no two arrivals are much closer than 1/20 s (the bucket's reservations
    // keep them apart even when a request is quick). The bucket spaces departures; the server
    // stamps arrivals, and on a loaded machine the third request's arrival can be late by a
    // scheduling slice (seen: 442.7 ms against 445), so the margin is 20 ms: one missing reservation
    // would give 400 ms.
    let third_to_last = gap(log.last().unwrap().at, log[2].at);
    assert!(
        third_to_last >= Duration::from_millis(9 * 50 - 20),
        "{third_to_last:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The session: cookie and crumb

#[test]
fn crumb_is_refreshed_once_on_401() {
    let server = ReplayServer::start();
    server.require_session();
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let yahoo = source(server.config());
    qqq_bars(&yahoo).unwrap();
    qqq_bars(&yahoo).unwrap(); // the cached crumb serves the second call
    server.rotate_session(); // Yahoo expires the session: the next call gets 401
    qqq_bars(&yahoo).unwrap();
    let chart = "/v8/finance/chart/QQQ";
    assert_eq!(
        server.paths(),
        [
            "/cookie",
            "/v1/test/getcrumb",
            chart,
            chart,
            chart,
            "/cookie",
            "/v1/test/getcrumb",
            chart
        ]
    );
    let (crumb, _) = server.session();
    assert_eq!(crumb, "crumb/2.x");
    let calls = server.requests(chart);
    assert_eq!(calls[2].query["crumb"], "crumb/1.x");
    assert_eq!(calls[3].query["crumb"], "crumb/2.x");
}

#[test]
fn a_crumb_that_stays_invalid_is_an_http_error() {
    let server = ReplayServer::start();
    // Every call refused, as when Yahoo blocks the client.
    server.route(QQQ_CHART, Reply::status(401, INVALID_CRUMB));
    let err = qqq_bars(&source(server.config())).unwrap_err();
    assert!(
        matches!(&err, DataError::Http { status: 401, body_excerpt, .. } if body_excerpt.contains("Invalid Crumb")),
        "{err:?}"
    );
    let chart = "/v8/finance/chart/QQQ";
    assert_eq!(
        server.paths(),
        [
            "/cookie",
            "/v1/test/getcrumb",
            chart,
            "/cookie",
            "/v1/test/getcrumb",
            chart
        ]
    );
}

#[test]
fn errors_never_show_the_crumb_or_cookie() {
    let server = ReplayServer::start();
    server.require_session();
    let (crumb, cookie) = server.session();
    // A server that echoes the request (crumb and cookie included) into its error bodies.
    let echo = format!("bad request GET /v8/finance/chart/QQQ?crumb={crumb} Cookie: {cookie}");
    for reply in [
        Reply::status(400, echo.clone()),
        Reply::status(500, echo.clone()),
    ] {
        server.route(QQQ_CHART, reply);
        let err = qqq_bars(&source(server.config())).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("bad request GET"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(
            !shown.contains(&crumb) && !shown.contains("crumb%2F1.x"),
            "{shown}"
        );
        assert!(!shown.contains(&cookie), "{shown}");
    }
    // Nor does the source's Debug output.
    let yahoo = source(server.config());
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    qqq_bars(&yahoo).unwrap();
    let debug = format!("{yahoo:?}");
    assert!(
        !debug.contains(&crumb) && !debug.contains(&cookie),
        "{debug}"
    );
}

#[test]
fn bad_configs_and_ranges_are_rejected_before_any_request() {
    let server = ReplayServer::start();
    let yahoo = source(server.config());
    let err = yahoo
        .daily_bars(&sym("QQQ"), day(2020, 1, 3), day(2020, 1, 1))
        .unwrap_err();
    assert!(matches!(err, DataError::InvalidRequest { .. }), "{err}");
    let err = YahooSource::new(YahooConfig {
        retry: RetryPolicy {
            jitter: 2.0,
            ..RetryPolicy::default()
        },
        ..server.config()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "source setting `retry.jitter` = 2: must be in [0, 1]"
    );
    assert!(server.log().is_empty());
    // Object safe and Send + Sync: usable as a boxed source across threads.
    let boxed: Box<dyn MarketDataSource> = Box::new(yahoo);
    assert_eq!(boxed.name(), "yahoo");
}

#[test]
fn threads_share_one_session_and_one_rate_limit() {
    let server = ReplayServer::start();
    server.require_session();
    server.route(
        QQQ_CHART,
        Reply::Fixture("chart-QQQ-2020-01-01-to-2020-01-03.json"),
    );
    let mut config = server.config();
    config.rate_limit = RateLimit {
        requests_per_second: 50.0,
        burst: 1,
    };
    let yahoo = source(config);
    let start = server.now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..2 {
                    assert_eq!(qqq_bars(&yahoo).unwrap().len(), 1);
                }
            });
        }
    });
    // One cookie and one crumb for all four threads, then eight chart calls: ten requests
    // through one bucket of 50/s with a burst of 1 take at least 9/50 s.
    assert_eq!(server.requests("/cookie").len(), 1);
    assert_eq!(server.requests("/v1/test/getcrumb").len(), 1);
    assert_eq!(server.requests(QQQ_CHART).len(), 8);
    let span = gap(server.log().iter().map(|l| l.at).max().unwrap(), start);
    assert!(span >= Duration::from_millis(180), "{span:?}");
}
