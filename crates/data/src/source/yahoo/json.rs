//! Serde models of Yahoo's chart (`/v8/finance/chart`) and options (`/v7/finance/options`)
//! replies, and their conversion into volta-core types.
//!
//! Only the fields Volta reads are modelled; serde ignores the rest, so Yahoo adding fields
//! breaks nothing. Every conversion checks what it relies on and says what is wrong
//! ([`Problem`]); the caller adds the URL.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta};
use serde::Deserialize;
use volta_core::{
    ContractKey, DailyBar, Ohlcv, OptionQuote, OptionRight, Price, Strike, Underlying,
    VendorAnalytics,
};

/// What is wrong with a reply, before the URL is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The reply does not have the shape or values the endpoint promises.
    Malformed(String),
    /// Yahoo says it has no such data (unknown or delisted symbol).
    NotFound(String),
}

fn malformed(reason: impl Into<String>) -> Problem {
    Problem::Malformed(reason.into())
}

/// Yahoo's `error` object: `{"code": "Not Found", "description": "No data found, symbol may be
/// delisted"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct VendorError {
    code: Option<String>,
    description: Option<String>,
}

impl VendorError {
    fn into_problem(self) -> Problem {
        let code = self.code.unwrap_or_default();
        let description = self.description.unwrap_or_default();
        if code.eq_ignore_ascii_case("Not Found") {
            Problem::NotFound(description)
        } else {
            malformed(format!("Yahoo error `{code}`: {description}"))
        }
    }
}

/// Yahoo's own error description in a reply body (chart or options), if it has one: used to
/// explain non-2xx statuses.
pub(crate) fn vendor_error(body: &str) -> Option<Problem> {
    #[derive(Deserialize)]
    struct Envelope {
        error: Option<VendorError>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Top {
        chart: Option<Envelope>,
        option_chain: Option<Envelope>,
        finance: Option<Envelope>,
    }
    let top: Top = serde_json::from_str(body).ok()?;
    top.chart
        .or(top.option_chain)
        .or(top.finance)?
        .error
        .map(VendorError::into_problem)
}

// ---------------------------------------------------------------------------------------------
// Chart

#[derive(Debug, Deserialize)]
struct ChartReply {
    chart: ChartEnvelope,
}

#[derive(Debug, Deserialize)]
struct ChartEnvelope {
    result: Option<Vec<ChartResult>>,
    error: Option<VendorError>,
}

#[derive(Debug, Deserialize)]
struct ChartResult {
    meta: ChartMeta,
    timestamp: Option<Vec<i64>>,
    indicators: Indicators,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChartMeta {
    symbol: Option<String>,
    /// Seconds east of UTC of the exchange, at the time of the reply.
    gmtoffset: Option<i64>,
    data_granularity: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Indicators {
    quote: Vec<QuoteArrays>,
}

/// One array per field, aligned with `timestamp`; `null` where Yahoo has no value.
#[derive(Debug, Default, Deserialize)]
struct QuoteArrays {
    open: Option<Vec<Option<f64>>>,
    high: Option<Vec<Option<f64>>>,
    low: Option<Vec<Option<f64>>>,
    close: Option<Vec<Option<f64>>>,
    volume: Option<Vec<Option<f64>>>,
}

impl QuoteArrays {
    fn fields(&self) -> [(&'static str, &[Option<f64>]); 5] {
        let empty: &[Option<f64>] = &[];
        [
            ("open", self.open.as_deref().unwrap_or(empty)),
            ("high", self.high.as_deref().unwrap_or(empty)),
            ("low", self.low.as_deref().unwrap_or(empty)),
            ("close", self.close.as_deref().unwrap_or(empty)),
            ("volume", self.volume.as_deref().unwrap_or(empty)),
        ]
    }
}

/// The daily bars of one chart reply within a date range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarsFetch {
    /// The bars, ascending by exchange date.
    pub bars: Vec<DailyBar>,
    /// Rows in the range whose open, high, low and close were all `null` (Yahoo writes such
    /// rows for holidays and halted sessions); they are left out of `bars`.
    pub skipped_empty_rows: usize,
}

/// The exchange date of a UTC timestamp at `gmtoffset` seconds east of UTC.
///
/// `gmtoffset` is the exchange's offset *when the reply was made*, so in the other half of the
/// year it is an hour off; daily bars are stamped at the session's open (09:30 in New York),
/// far enough from midnight that the hour never changes the date.
fn exchange_date(timestamp: i64, gmtoffset: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(timestamp.checked_add(gmtoffset)?, 0).map(|t| t.date_naive())
}

/// Parses a chart reply for `symbol` into its daily bars dated `from..=to` (exchange dates).
///
/// Uses the `quote` OHLC, which Yahoo adjusts for splits but not for dividends (the `adjclose`
/// array, adjusted for both, is ignored). A null volume is 0.
pub(crate) fn parse_chart(
    body: &str,
    symbol: &Underlying,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BarsFetch, Problem> {
    let reply: ChartReply =
        serde_json::from_str(body).map_err(|e| malformed(format!("chart JSON: {e}")))?;
    if let Some(error) = reply.chart.error {
        return Err(error.into_problem());
    }
    let mut results = reply.chart.result.unwrap_or_default();
    if results.len() != 1 {
        return Err(malformed(format!(
            "chart.result holds {} results, expected 1",
            results.len()
        )));
    }
    let result = results.remove(0);
    let meta = &result.meta;
    if let Some(s) = &meta.symbol
        && s != symbol.as_str()
    {
        return Err(malformed(format!(
            "chart is for `{s}`, asked for `{symbol}`"
        )));
    }
    if let Some(g) = &meta.data_granularity
        && g != "1d"
    {
        return Err(malformed(format!(
            "meta.dataGranularity is `{g}`, asked for daily bars (`1d`)"
        )));
    }
    let gmtoffset = meta
        .gmtoffset
        .ok_or_else(|| malformed("meta.gmtoffset is missing"))?;
    if result.indicators.quote.len() != 1 {
        return Err(malformed(format!(
            "indicators.quote holds {} series, expected 1",
            result.indicators.quote.len()
        )));
    }
    let quote = &result.indicators.quote[0];
    let Some(timestamps) = result.timestamp else {
        // Yahoo leaves out `timestamp` (and writes `quote: [{}]`) for a range with no session;
        // values without timestamps, though, cannot be dated.
        return match quote.fields().iter().find(|(_, v)| !v.is_empty()) {
            None => Ok(BarsFetch::default()),
            Some((field, values)) => Err(malformed(format!(
                "no timestamp array, but indicators.quote[0].{field} holds {} values",
                values.len()
            ))),
        };
    };
    let fields = quote.fields();
    for (field, values) in fields {
        if values.len() != timestamps.len() {
            return Err(malformed(format!(
                "indicators.quote[0].{field} holds {} values for {} timestamps",
                values.len(),
                timestamps.len()
            )));
        }
    }
    rows_to_bars(&timestamps, fields, gmtoffset, from, to)
}

/// The rows of aligned arrays (lengths already checked) dated `from..=to` as bars.
fn rows_to_bars(
    timestamps: &[i64],
    fields: [(&'static str, &[Option<f64>]); 5],
    gmtoffset: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BarsFetch, Problem> {
    let [(_, open), (_, high), (_, low), (_, close), (_, volume)] = fields;

    let mut fetch = BarsFetch::default();
    for (i, &ts) in timestamps.iter().enumerate() {
        let date = exchange_date(ts, gmtoffset)
            .ok_or_else(|| malformed(format!("timestamp[{i}] = {ts} is out of range")))?;
        if date < from || date > to {
            continue;
        }
        let prices = [open[i], high[i], low[i], close[i]];
        let (Some(o), Some(h), Some(l), Some(c)) = (prices[0], prices[1], prices[2], prices[3])
        else {
            if prices.iter().all(Option::is_none) {
                fetch.skipped_empty_rows += 1;
                continue;
            }
            let names = ["open", "high", "low", "close"];
            let missing: Vec<&str> = names
                .iter()
                .zip(prices)
                .filter(|(_, p)| p.is_none())
                .map(|(n, _)| *n)
                .collect();
            return Err(malformed(format!(
                "bar {date} (timestamp[{i}]) has null {} but not all of open/high/low/close",
                missing.join(", ")
            )));
        };
        let at = format!("bar {date} (timestamp[{i}])");
        let ohlcv = Ohlcv::try_new(
            &date,
            price("open", &at, o)?,
            price("high", &at, h)?,
            price("low", &at, l)?,
            price("close", &at, c)?,
            count("volume", &at, volume[i])?,
        )
        .map_err(|e| malformed(format!("{at}: {e}")))?;
        // During a session Yahoo may append a live row for a date it already has; the later
        // row is the fresher one.
        if fetch.bars.last().is_some_and(|b: &DailyBar| b.date == date) {
            fetch.bars.pop();
        }
        if fetch.bars.last().is_some_and(|b| b.date > date) {
            return Err(malformed(format!(
                "timestamp[{i}] ({date}) comes before the previous row's date"
            )));
        }
        fetch.bars.push(DailyBar { date, ohlcv });
    }
    Ok(fetch)
}

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsReply {
    option_chain: OptionsEnvelope,
}

#[derive(Debug, Deserialize)]
struct OptionsEnvelope {
    result: Option<Vec<OptionsResult>>,
    error: Option<VendorError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsResult {
    underlying_symbol: Option<String>,
    #[serde(default)]
    expiration_dates: Vec<i64>,
    quote: Option<UnderlyingQuote>,
    #[serde(default)]
    options: Vec<OptionsOfExpiry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnderlyingQuote {
    regular_market_price: Option<f64>,
    /// Epoch seconds (UTC) of the last regular-session price.
    regular_market_time: Option<i64>,
    /// The exchange's offset from UTC in milliseconds, at the time of the reply.
    gmt_off_set_milliseconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsOfExpiry {
    expiration_date: Option<i64>,
    #[serde(default)]
    calls: Vec<YahooContract>,
    #[serde(default)]
    puts: Vec<YahooContract>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct YahooContract {
    contract_symbol: String,
    strike: Option<f64>,
    last_price: Option<f64>,
    volume: Option<f64>,
    open_interest: Option<f64>,
    bid: Option<f64>,
    ask: Option<f64>,
    implied_volatility: Option<f64>,
    contract_size: Option<String>,
}

/// One options reply: the underlying's quote, the listed expiries and one expiry's contracts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OptionsPage {
    /// `quote.regularMarketTime` in exchange time.
    pub(crate) as_of: NaiveDateTime,
    /// `quote.regularMarketPrice`.
    pub(crate) underlying_price: Price,
    /// Listed expiries, ascending, with the epoch seconds Yahoo's `date=` parameter takes.
    pub(crate) expirations: Vec<(NaiveDate, i64)>,
    /// The expiry whose contracts this page holds (`None` if the page holds none).
    pub(crate) page_expiry: Option<NaiveDate>,
    /// That expiry's quotes (calls, then puts, as Yahoo lists them).
    pub(crate) quotes: Vec<OptionQuote>,
    /// Contracts left out because they are not standard 100-share contracts (`MINI`).
    pub(crate) skipped_nonstandard: usize,
}

/// Yahoo writes an implied volatility of 0.00001 (printed `1.0000000000000003e-05`) when it
/// has none, e.g. for every contract outside trading hours; anything at or below twice that is
/// treated as missing.
const NO_IV_BELOW: f64 = 2e-5;

/// The date of an expiry epoch: Yahoo stamps expiries at 00:00 UTC of the expiry date.
fn expiry_date(epoch: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(epoch, 0).map(|t| t.date_naive())
}

/// A non-negative whole count (volume, open interest) from a JSON number; missing is 0.
fn count(field: &str, context: &str, x: Option<f64>) -> Result<u64, Problem> {
    match x {
        None => Ok(0),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 => Ok(v as u64),
        Some(v) => Err(malformed(format!(
            "{context}: {field} = {v} is not a non-negative whole number"
        ))),
    }
}

/// A price from Yahoo's JSON. Yahoo keeps chart prices as 32-bit floats and prints them as
/// doubles (`214.39999389648438` for 214.40): a value that is exactly a `f32` is read as the
/// shortest decimal that rounds to that `f32` (214.4), which recovers the quoted price for
/// prices of up to seven significant digits. Other values (true doubles such as `526.12`) are
/// read as the shortest decimal of the `f64`. Either way the result converts back to the very
/// float Yahoo sent, at the precision Yahoo stored it.
fn price(field: &str, context: &str, x: f64) -> Result<Price, Problem> {
    let bad = |e: volta_core::CoreError| malformed(format!("{context}: {field} = {x}: {e}"));
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the narrowing is checked: only values that survive it exactly take this path"
    )]
    let narrow = x as f32;
    if x.is_finite() && f64::from(narrow) == x {
        narrow.to_string().parse::<Price>().map_err(bad)
    } else {
        Price::from_f64(x).map_err(bad)
    }
}

/// Converts one Yahoo contract. Yahoo writes 0 for both sides when it shows no quote (outside
/// hours): an ask of zero is never a real offer, so it is `None`, and a zero bid beside it is
/// `None` too; a zero bid beside a positive ask is a real quote (nobody bids) and stays.
/// `lastPrice` 0 means no trade. `updated_at` stays `None`: Yahoo's `lastTradeDate` is the last
/// trade, not the quote's time.
fn convert_contract(c: &YahooContract, right: OptionRight) -> Result<Option<OptionQuote>, Problem> {
    let sym = c.contract_symbol.as_str();
    if c.contract_size
        .as_deref()
        .is_some_and(|s| !s.eq_ignore_ascii_case("REGULAR"))
    {
        return Ok(None);
    }
    let key: ContractKey = sym
        .parse()
        .map_err(|e| malformed(format!("contractSymbol `{sym}`: {e}")))?;
    if key.right() != right {
        let list = if right == OptionRight::Call {
            "calls"
        } else {
            "puts"
        };
        return Err(malformed(format!(
            "contractSymbol `{sym}` is listed among the {list}"
        )));
    }
    if let Some(s) = c.strike {
        let strike =
            Strike::from_f64(s).map_err(|e| malformed(format!("{sym}: strike = {s}: {e}")))?;
        if strike != key.strike() {
            return Err(malformed(format!(
                "{sym}: strike = {s} but the symbol says {}",
                key.strike()
            )));
        }
    }
    let side = |field, x: Option<f64>| -> Result<Option<Price>, Problem> {
        x.map(|v| price(field, sym, v)).transpose()
    };
    let ask = side("ask", c.ask)?.filter(|a| *a != Price::ZERO);
    let bid = side("bid", c.bid)?.filter(|b| *b != Price::ZERO || ask.is_some());
    let last = side("lastPrice", c.last_price)?.filter(|p| *p != Price::ZERO);
    let implied_vol = c
        .implied_volatility
        .filter(|iv| iv.is_finite() && *iv > NO_IV_BELOW);
    Ok(Some(OptionQuote {
        key,
        bid,
        ask,
        last,
        volume: count("volume", sym, c.volume)?,
        open_interest: count("openInterest", sym, c.open_interest)?,
        updated_at: None,
        vendor: implied_vol.map(|iv| VendorAnalytics {
            implied_vol: Some(iv),
            ..VendorAnalytics::default()
        }),
    }))
}

/// Parses an options reply for `symbol`.
pub(crate) fn parse_options(body: &str, symbol: &Underlying) -> Result<OptionsPage, Problem> {
    let reply: OptionsReply =
        serde_json::from_str(body).map_err(|e| malformed(format!("options JSON: {e}")))?;
    if let Some(error) = reply.option_chain.error {
        return Err(error.into_problem());
    }
    let mut results = reply.option_chain.result.unwrap_or_default();
    let result = match results.len() {
        // What Yahoo answers for a symbol it does not know.
        0 => return Err(Problem::NotFound(format!("no options listed for {symbol}"))),
        1 => results.remove(0),
        n => {
            return Err(malformed(format!(
                "optionChain.result holds {n} results, expected 1"
            )));
        }
    };
    if let Some(s) = &result.underlying_symbol
        && s != symbol.as_str()
    {
        return Err(malformed(format!(
            "options are for `{s}`, asked for `{symbol}`"
        )));
    }
    let quote = result
        .quote
        .ok_or_else(|| malformed("optionChain.result[0].quote is missing"))?;
    let time = quote
        .regular_market_time
        .ok_or_else(|| malformed("quote.regularMarketTime is missing"))?;
    let offset_ms = quote
        .gmt_off_set_milliseconds
        .ok_or_else(|| malformed("quote.gmtOffSetMilliseconds is missing"))?;
    let as_of = DateTime::from_timestamp(time, 0)
        .zip(TimeDelta::try_milliseconds(offset_ms))
        .and_then(|(t, off)| t.naive_utc().checked_add_signed(off))
        .ok_or_else(|| {
            malformed(format!(
                "quote.regularMarketTime = {time} at offset {offset_ms} ms is out of range"
            ))
        })?;
    let spot = quote
        .regular_market_price
        .ok_or_else(|| malformed("quote.regularMarketPrice is missing"))?;
    let underlying_price = price("quote.regularMarketPrice", symbol.as_str(), spot)?;

    let mut expirations = result
        .expiration_dates
        .iter()
        .map(|&e| {
            expiry_date(e)
                .map(|d| (d, e))
                .ok_or_else(|| malformed(format!("expirationDates holds {e}, out of range")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    expirations.sort_unstable();
    expirations.dedup_by_key(|(d, _)| *d);

    let mut page = OptionsPage {
        as_of,
        underlying_price,
        expirations,
        page_expiry: None,
        quotes: Vec::new(),
        skipped_nonstandard: 0,
    };
    match result.options.as_slice() {
        [] => {}
        [one] => {
            page.page_expiry = one.expiration_date.and_then(expiry_date);
            let listed = one
                .calls
                .iter()
                .map(|c| (c, OptionRight::Call))
                .chain(one.puts.iter().map(|c| (c, OptionRight::Put)));
            for (c, right) in listed {
                match convert_contract(c, right)? {
                    Some(q) => page.quotes.push(q),
                    None => page.skipped_nonstandard += 1,
                }
            }
        }
        many => {
            return Err(malformed(format!(
                "optionChain.result[0].options holds {} expiries, expected 1",
                many.len()
            )));
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/yahoo")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn sym(s: &str) -> Underlying {
        s.parse().unwrap()
    }

    #[test]
    fn qqq_first_session_of_2020() {
        let body = fixture("chart-QQQ-2020-01-01-to-2020-01-03.json");
        let fetch = parse_chart(&body, &sym("QQQ"), day(2020, 1, 1), day(2020, 1, 3)).unwrap();
        assert_eq!(fetch.skipped_empty_rows, 0);
        let [bar] = fetch.bars.as_slice() else {
            panic!("{:?}", fetch.bars)
        };
        // 1577975400 = 2020-01-02 14:30 UTC = 09:30 EST.
        assert_eq!(bar.date, day(2020, 1, 2));
        // The JSON's float32 artefacts read back as the quoted prices, each the very f32 Yahoo
        // stored; the same prices as the Alpha Vantage file of the shared data
        // (QQQ_daily_unadjusted.csv: 214.4, 216.16, 213.98, 216.16).
        let o = bar.ohlcv;
        let json = [
            (o.open(), "214.4", 214.39999389648438),
            (o.high(), "216.16", 216.16000366210938),
            (o.low(), "213.98", 213.97999572753906),
            (o.close(), "216.16", 216.16000366210938),
        ];
        for (price, quoted, raw) in json {
            assert_eq!(price, quoted.parse().unwrap());
            assert_eq!(price.to_f64() as f32, raw as f32);
        }
        assert_eq!(o.volume(), 30_969_400);
        // The range filter is by exchange date.
        let none = parse_chart(&body, &sym("QQQ"), day(2020, 1, 3), day(2020, 1, 3)).unwrap();
        assert!(none.bars.is_empty());
    }

    #[test]
    fn null_rows_are_skipped_and_counted_and_partial_rows_rejected() {
        let body = fixture("chart-AAPL-2020-08-31-to-2020-11-07.json");
        let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let q = &mut json["chart"]["result"][0]["indicators"]["quote"][0];
        for field in ["open", "high", "low", "close", "volume"] {
            q[field][1] = serde_json::Value::Null;
        }
        let all_null = json.to_string();
        let fetch =
            parse_chart(&all_null, &sym("AAPL"), day(2020, 8, 1), day(2020, 12, 1)).unwrap();
        assert_eq!((fetch.bars.len(), fetch.skipped_empty_rows), (48, 1));
        assert!(fetch.bars.iter().all(|b| b.date != day(2020, 9, 1)));

        json["chart"]["result"][0]["indicators"]["quote"][0]["close"][1] = 134.0.into();
        let err = parse_chart(
            &json.to_string(),
            &sym("AAPL"),
            day(2020, 8, 1),
            day(2020, 12, 1),
        )
        .unwrap_err();
        assert_eq!(
            err,
            malformed(
                "bar 2020-09-01 (timestamp[1]) has null open, high, low but not all of open/high/low/close"
            )
        );
    }

    #[test]
    fn empty_range_without_timestamps_is_no_bars() {
        // Yahoo's reply for a range with no session: no `timestamp`, `quote: [{}]`.
        let body = fixture("chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json")
            .replace("\"dataGranularity\": \"1h\"", "\"dataGranularity\": \"1d\"");
        let fetch = parse_chart(&body, &sym("TSLA"), day(2025, 1, 1), day(2025, 1, 1)).unwrap();
        assert_eq!(fetch, BarsFetch::default());
    }

    #[test]
    fn wrong_symbol_or_granularity_is_malformed() {
        let body = fixture("chart-QQQ-2020-01-01-to-2020-01-03.json");
        let err = parse_chart(&body, &sym("SPY"), day(2020, 1, 1), day(2020, 1, 3)).unwrap_err();
        assert_eq!(err, malformed("chart is for `QQQ`, asked for `SPY`"));
        let body = fixture("chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json");
        let err = parse_chart(&body, &sym("TSLA"), day(2025, 1, 1), day(2025, 1, 1)).unwrap_err();
        assert_eq!(
            err,
            malformed("meta.dataGranularity is `1h`, asked for daily bars (`1d`)")
        );
    }

    #[test]
    fn vendor_not_found_is_recognised() {
        let body = r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#;
        assert_eq!(
            vendor_error(body),
            Some(Problem::NotFound(
                "No data found, symbol may be delisted".to_owned()
            ))
        );
        let err = parse_chart(body, &sym("XYZQ"), day(2020, 1, 1), day(2020, 1, 3)).unwrap_err();
        assert!(matches!(err, Problem::NotFound(_)));
        assert_eq!(vendor_error("<html>Too Many Requests</html>"), None);
    }

    #[test]
    fn spot_chain_sides_iv_and_placeholders() {
        let page = parse_options(&fixture("options-SPOT.json"), &sym("SPOT")).unwrap();
        assert_eq!(page.expirations.len(), 17);
        assert_eq!(page.page_expiry, Some(day(2025, 2, 28)));
        assert_eq!(page.quotes.len(), 95 + 84);
        assert_eq!(page.underlying_price, "607.38".parse().unwrap());
        // 1740171602 = 2025-02-21 21:00:02 UTC = 16:00:02 EST.
        assert_eq!(page.as_of, day(2025, 2, 21).and_hms_opt(16, 0, 2).unwrap());
        let find = |s: &str| {
            page.quotes
                .iter()
                .find(|q| q.key.compact() == s)
                .unwrap_or_else(|| panic!("{s} missing"))
        };
        let c460 = find("SPOT250228C00460000");
        assert_eq!(c460.bid, Some("169.1".parse().unwrap()));
        assert_eq!(c460.ask, Some("176.8".parse().unwrap()));
        assert_eq!(c460.last, Some("33.87".parse().unwrap()));
        assert_eq!((c460.volume, c460.open_interest), (1, 1));
        assert_eq!(c460.vendor.unwrap().implied_vol, Some(3.1732808753967285));
        // A zero bid under a real ask is a quote; zero/zero is no quote; 1e-5 IV is no IV.
        let p345 = find("SPOT250228P00345000");
        assert_eq!(
            (p345.bid, p345.ask),
            (Some(Price::ZERO), Some("1.5".parse().unwrap()))
        );
        let c600 = find("SPOT250228C00600000");
        assert_eq!((c600.bid, c600.ask, c600.vendor), (None, None, None));
    }

    #[test]
    fn mislisted_contract_is_malformed() {
        let body =
            fixture("options-QQQ.json").replacen("QQQ250224C00451000", "QQQ250224P00451000", 1);
        let err = parse_options(&body, &sym("QQQ")).unwrap_err();
        assert_eq!(
            err,
            malformed("contractSymbol `QQQ250224P00451000` is listed among the calls")
        );
        let body = fixture("options-QQQ.json").replacen("QQQ250224C00451000", "QQQ250224C0045", 1);
        assert!(matches!(
            parse_options(&body, &sym("QQQ")),
            Err(Problem::Malformed(r)) if r.starts_with("contractSymbol `QQQ250224C0045`")
        ));
    }

    #[test]
    fn unknown_symbol_has_no_result() {
        let body = r#"{"optionChain":{"result":[],"error":null}}"#;
        assert!(matches!(
            parse_options(body, &sym("XYZQ")),
            Err(Problem::NotFound(_))
        ));
    }
}
