//! End-of-day option chains from vendor CSVs.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use volta_core::{
    ChainSnapshot, ContractKey, NyseCalendar, OptionQuote, OptionRight, Price, Strike, Underlying,
    VendorAnalytics,
};

use super::table::{Cell, Col, DateFmt, FlagKind, RowFlag, Table, read_file};
use crate::error::{DataError, Result};

/// The option-chain CSV layouts, recognised from the header. Parquet chains (Volta's own
/// layout) are read by [`crate::parquet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainFormat {
    /// CBOE delayed quotes as scraped by lambdaclass (`underlying,underlying_last,exchange,
    /// optionroot,type,…,net,bid,ask,…`), dates `MM/DD/YYYY`. Intraday snapshots at an
    /// unrecorded time.
    CboeDelayed,
    /// The lambdaclass SPY sample (`underlying,underlying_last,optionroot,type,…,theta,vega,
    /// optionalias`), dates `YYYY-MM-DD`.
    LambdaclassSample,
    /// historicaloptiondata.com full layout (`underlying,underlying_last, exchange,optionroot,
    /// optionext,…`; note the leading space the vendor writes before `exchange`), dates
    /// `MM/DD/YYYY`.
    HistoricalOptionData,
    /// historicaloptiondata.com free-sample layout (`UnderlyingSymbol,UnderlyingPrice,Flags,
    /// OptionSymbol,…,IVMean,…,AKA`), dates `MM/DD/YYYY`.
    HistoricalOptionDataSample,
    /// iVolatility (`symbol,exchange,company_name,date,stock_price_close,option_symbol,…`),
    /// dates `MM/DD/YYYY` or `M/D/YYYY`.
    IVolatility,
    /// `QuantConnect` Lean option universe (`#expiry,strike,right,open,high,low,close,…`): no
    /// underlying, quote date or underlying price in the file; the caller supplies the first
    /// two in [`ChainRequest`].
    QuantConnectUniverse,
}

/// Which column holds what, per format.
struct Spec {
    format: ChainFormat,
    name: &'static str,
    header: &'static [&'static str],
    underlying: Option<&'static str>,
    underlying_price: Option<&'static str>,
    symbol: Option<&'static str>,
    right: &'static str,
    expiry: &'static str,
    quote_date: Option<&'static str>,
    strike: &'static str,
    last: Option<&'static str>,
    bid: Option<&'static str>,
    ask: Option<&'static str>,
    volume: &'static str,
    open_interest: &'static str,
    iv: &'static str,
    delta: &'static str,
    gamma: &'static str,
    theta: Option<&'static str>,
    vega: Option<&'static str>,
    dates: &'static [DateFmt],
}

const SPECS: [Spec; 6] = [
    Spec {
        format: ChainFormat::CboeDelayed,
        name: "CBOE delayed quotes",
        header: &[
            "underlying",
            "underlying_last",
            "exchange",
            "optionroot",
            "type",
            "expiration",
            "quotedate",
            "strike",
            "last",
            "net",
            "bid",
            "ask",
            "volume",
            "openinterest",
            "impliedvol",
            "delta",
            "gamma",
        ],
        underlying: Some("underlying"),
        underlying_price: Some("underlying_last"),
        symbol: Some("optionroot"),
        right: "type",
        expiry: "expiration",
        quote_date: Some("quotedate"),
        strike: "strike",
        last: Some("last"),
        bid: Some("bid"),
        ask: Some("ask"),
        volume: "volume",
        open_interest: "openinterest",
        iv: "impliedvol",
        delta: "delta",
        gamma: "gamma",
        theta: None,
        vega: None,
        dates: &[DateFmt::Us],
    },
    Spec {
        format: ChainFormat::LambdaclassSample,
        name: "lambdaclass SPY sample",
        header: &[
            "underlying",
            "underlying_last",
            "optionroot",
            "type",
            "expiration",
            "quotedate",
            "strike",
            "last",
            "bid",
            "ask",
            "volume",
            "openinterest",
            "impliedvol",
            "delta",
            "gamma",
            "theta",
            "vega",
            "optionalias",
        ],
        underlying: Some("underlying"),
        underlying_price: Some("underlying_last"),
        symbol: Some("optionroot"),
        right: "type",
        expiry: "expiration",
        quote_date: Some("quotedate"),
        strike: "strike",
        last: Some("last"),
        bid: Some("bid"),
        ask: Some("ask"),
        volume: "volume",
        open_interest: "openinterest",
        iv: "impliedvol",
        delta: "delta",
        gamma: "gamma",
        theta: Some("theta"),
        vega: Some("vega"),
        dates: &[DateFmt::Iso],
    },
    Spec {
        format: ChainFormat::HistoricalOptionData,
        name: "historicaloptiondata",
        header: &[
            "underlying",
            "underlying_last",
            "exchange",
            "optionroot",
            "optionext",
            "type",
            "expiration",
            "quotedate",
            "strike",
            "last",
            "bid",
            "ask",
            "volume",
            "openinterest",
            "impliedvol",
            "delta",
            "gamma",
            "theta",
            "vega",
            "optionalias",
        ],
        underlying: Some("underlying"),
        underlying_price: Some("underlying_last"),
        symbol: Some("optionroot"),
        right: "type",
        expiry: "expiration",
        quote_date: Some("quotedate"),
        strike: "strike",
        last: Some("last"),
        bid: Some("bid"),
        ask: Some("ask"),
        volume: "volume",
        open_interest: "openinterest",
        iv: "impliedvol",
        delta: "delta",
        gamma: "gamma",
        theta: Some("theta"),
        vega: Some("vega"),
        dates: &[DateFmt::Us],
    },
    Spec {
        format: ChainFormat::HistoricalOptionDataSample,
        name: "historicaloptiondata sample",
        header: &[
            "UnderlyingSymbol",
            "UnderlyingPrice",
            "Flags",
            "OptionSymbol",
            "Type",
            "Expiration",
            "DataDate",
            "Strike",
            "Last",
            "Bid",
            "Ask",
            "Volume",
            "OpenInterest",
            "T1OpenInterest",
            "IVMean",
            "IVBid",
            "IVAsk",
            "Delta",
            "Gamma",
            "Theta",
            "Vega",
            "AKA",
        ],
        underlying: Some("UnderlyingSymbol"),
        underlying_price: Some("UnderlyingPrice"),
        symbol: Some("OptionSymbol"),
        right: "Type",
        expiry: "Expiration",
        quote_date: Some("DataDate"),
        strike: "Strike",
        last: Some("Last"),
        bid: Some("Bid"),
        ask: Some("Ask"),
        volume: "Volume",
        open_interest: "OpenInterest",
        iv: "IVMean",
        delta: "Delta",
        gamma: "Gamma",
        theta: Some("Theta"),
        vega: Some("Vega"),
        dates: &[DateFmt::Us],
    },
    Spec {
        format: ChainFormat::IVolatility,
        name: "iVolatility",
        header: &[
            "symbol",
            "exchange",
            "company_name",
            "date",
            "stock_price_close",
            "option_symbol",
            "option_expiration",
            "strike",
            "call/put",
            "style",
            "ask",
            "bid",
            "mean_price",
            "settlement",
            "iv",
            "volume",
            "open_interest",
            "stock_price_for_iv",
            "forward_price",
            "isinterpolated",
            "delta",
            "vega",
            "gamma",
            "theta",
            "rho",
        ],
        underlying: Some("symbol"),
        underlying_price: Some("stock_price_close"),
        symbol: Some("option_symbol"),
        right: "call/put",
        expiry: "option_expiration",
        quote_date: Some("date"),
        strike: "strike",
        last: None,
        bid: Some("bid"),
        ask: Some("ask"),
        volume: "volume",
        open_interest: "open_interest",
        iv: "iv",
        delta: "delta",
        gamma: "gamma",
        theta: Some("theta"),
        vega: Some("vega"),
        dates: &[DateFmt::Us],
    },
    Spec {
        format: ChainFormat::QuantConnectUniverse,
        name: "QuantConnect universe",
        header: &[
            "#expiry",
            "strike",
            "right",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "open_interest",
            "implied_volatility",
            "delta",
            "gamma",
            "vega",
            "theta",
            "rho",
        ],
        underlying: None,
        underlying_price: None,
        symbol: None,
        right: "right",
        expiry: "#expiry",
        quote_date: None,
        strike: "strike",
        // The universe row is a daily bar of the option, not a quote: its close is kept as
        // the last price; there is no bid or ask.
        last: Some("close"),
        bid: None,
        ask: None,
        volume: "volume",
        open_interest: "open_interest",
        iv: "implied_volatility",
        delta: "delta",
        gamma: "gamma",
        theta: Some("theta"),
        vega: Some("vega"),
        dates: &[DateFmt::Compact],
    },
];

/// What the caller expects of a chain file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainRequest {
    /// Force a format instead of detecting it from the header.
    pub format: Option<ChainFormat>,
    /// The underlyings allowed in the file; a row naming another is an error
    /// ([`DataError::UnknownSymbol`]). For [`ChainFormat::QuantConnectUniverse`] exactly one,
    /// which is the chain's underlying (and option root).
    pub allowed: Vec<Underlying>,
    /// The quote date, for formats that do not carry one (`QuantConnect`, whose file name holds
    /// it). Ignored otherwise.
    pub quote_date: Option<NaiveDate>,
    /// The underlying's price (US dollars, index points for an index), for formats that do not
    /// carry one (`QuantConnect`): without it such a day cannot become a [`ChainSnapshot`].
    /// Ignored for formats that carry a price.
    pub underlying_price: Option<Price>,
}

/// The quotes of one underlying on one date.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainDay {
    /// The underlying (`SPX` for both SPX and SPXW roots).
    pub underlying: Underlying,
    /// The quote date.
    pub quote_date: NaiveDate,
    /// The underlying's price as the file gives it; `None` if it does not (`QuantConnect`).
    pub underlying_price: Option<Price>,
    /// The quotes, in file order. Last price 0 (no trade) is `None`; blank open interest is 0.
    pub quotes: Vec<OptionQuote>,
}

impl ChainDay {
    /// The day as a [`ChainSnapshot`] stamped `as_of` (exchange time). The files are
    /// end-of-day except [`ChainFormat::CboeDelayed`], whose time of day was not recorded:
    /// the caller chooses the stamp.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`] if the file gave no underlying price;
    /// [`DataError::Core`] as [`ChainSnapshot::try_new`] (duplicates are rejected on import,
    /// so this does not happen for imported days).
    pub fn snapshot(&self, as_of: NaiveDateTime) -> Result<ChainSnapshot> {
        self.clone().into_snapshot(as_of)
    }

    /// As [`ChainDay::snapshot`], consuming the day: its quotes move into the snapshot
    /// instead of being copied (a bulk import of a million quotes saves a million clones).
    ///
    /// # Errors
    /// As [`ChainDay::snapshot`].
    pub fn into_snapshot(self, as_of: NaiveDateTime) -> Result<ChainSnapshot> {
        let price = self
            .underlying_price
            .ok_or_else(|| DataError::InvalidRequest {
                reason: format!(
                    "the {} chain of {} has no underlying price (the file gives none: set \
                     ChainRequest::underlying_price)",
                    self.underlying, self.quote_date
                ),
            })?;
        Ok(ChainSnapshot::try_new(
            as_of,
            self.underlying,
            price,
            self.quotes,
        )?)
    }
}

/// An imported chain file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedChains {
    /// The format read.
    pub format: ChainFormat,
    /// One entry per (underlying, quote date), ordered by underlying then date.
    pub days: Vec<ChainDay>,
    /// Quotes accepted as published but crossed (bid > ask): [`FlagKind::Crossed`].
    pub flags: Vec<RowFlag>,
}

/// Reads an option-chain file (plain or gzipped).
///
/// # Errors
/// As [`parse_chains`], and [`DataError::Io`].
pub fn import_chains(path: &Path, request: &ChainRequest) -> Result<ImportedChains> {
    parse_chains(path, &read_file(path)?, request)
}

/// One day's quotes while reading: the underlying price with its first line.
struct Day {
    price: Option<(Price, u64)>,
    quotes: Vec<OptionQuote>,
    /// (packed contract key, line, index in `quotes`) of every quote, for the duplicate check.
    keys: Vec<(u128, u64, usize)>,
}

/// Option roots that trade on an underlying under another name.
fn root_allowed(underlying: &str, root: &str) -> bool {
    root == underlying
        || matches!(
            (underlying, root),
            ("SPX", "SPXW" | "SPXPM") | ("NDX", "NDXP") | ("RUT", "RUTW") | ("VIX", "VIXW")
        )
}

fn right_of(cell: &Cell<'_>) -> Result<OptionRight> {
    match cell.trimmed().to_ascii_lowercase().as_str() {
        "c" | "call" => Ok(OptionRight::Call),
        "p" | "put" => Ok(OptionRight::Put),
        _ => Err(cell.bad("call or put (C/P)")),
    }
}

/// `key` with its date moved to the last session on or before it: OCC symbols of monthlies
/// before February 2015 carry the Saturday after the expiration day, and the Friday (Thursday
/// before a Good Friday) is the day the series settles.
fn on_a_session(key: ContractKey) -> volta_core::Result<ContractKey> {
    if NyseCalendar.is_session(key.expiry())? {
        return Ok(key);
    }
    let settles = NyseCalendar.previous_session(key.expiry())?;
    ContractKey::try_new(key.root(), settles, key.right(), key.strike())
}

/// Parses an option-chain file. All or nothing.
///
/// Quirks kept as published and flagged: bid > ask ([`FlagKind::Crossed`]; the SPY sample
/// has 17 such rows on expiry days, and a crossed quote is information about the market, not
/// damage). Kept without a flag: an expiration column one day before the symbol's date
/// (monthlies before 2015 carry the Saturday in the OCC symbol; the key takes the expiration
/// day, the session before that Saturday, as every later key does); vendor IVs of 0 or above 5 on deep ITM/OTM rows. iVolatility's IV of exactly −1 is
/// its "no IV" sentinel and reads as `None`.
///
/// # Errors
/// [`DataError::UnknownFormat`] for another header; [`DataError::InvalidRequest`] for a
/// `QuantConnect` file without one allowed underlying and a quote date;
/// [`DataError::UnknownSymbol`] for an underlying not in `request.allowed` or a root that
/// does not belong to the row's underlying; [`DataError::BadValue`] for bad dates, numbers,
/// NaN, negative prices, IV or counts, an unparsable option symbol, or a symbol whose right
/// or strike contradicts the row's columns, or an underlying price that differs within one
/// day; [`DataError::Duplicate`] for a contract quoted twice on one day; the damaged-file
/// errors of [`super::parse_bars`].
#[expect(
    clippy::too_many_lines,
    reason = "one linear pass over the row's columns"
)]
pub fn parse_chains(path: &Path, bytes: &[u8], request: &ChainRequest) -> Result<ImportedChains> {
    let table = Table::parse(path, bytes)?;
    let spec = match request.format {
        Some(f) => SPECS
            .iter()
            .find(|s| s.format == f && table.header_is(s.header)),
        None => SPECS.iter().find(|s| table.header_is(s.header)),
    }
    .ok_or_else(|| DataError::UnknownFormat {
        path: path.to_owned(),
        header: table.header_line(),
        expected: SPECS
            .iter()
            .filter(|s| request.format.is_none_or(|f| f == s.format))
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(" | "),
    })?;
    let col = |n: &'static str| table.col(n, spec.name);
    let opt = |n: Option<&'static str>| n.map(col).transpose();
    let c_under = opt(spec.underlying)?;
    let c_uprice = opt(spec.underlying_price)?;
    let c_symbol = opt(spec.symbol)?;
    let c_right = col(spec.right)?;
    let c_expiry = col(spec.expiry)?;
    let c_date = opt(spec.quote_date)?;
    let c_strike = col(spec.strike)?;
    let c_last = opt(spec.last)?;
    let c_bid = opt(spec.bid)?;
    let c_ask = opt(spec.ask)?;
    let c_volume = col(spec.volume)?;
    let c_oi = col(spec.open_interest)?;
    let c_iv = col(spec.iv)?;
    let c_delta = col(spec.delta)?;
    let c_gamma = col(spec.gamma)?;
    let c_theta = opt(spec.theta)?;
    let c_vega = opt(spec.vega)?;

    let fixed = if c_under.is_none() {
        match (request.allowed.as_slice(), request.quote_date) {
            ([u], Some(d)) => Some((u.clone(), d)),
            _ => {
                return Err(DataError::InvalidRequest {
                    reason: format!(
                        "{}: a {} file needs exactly one allowed underlying and a quote date",
                        path.display(),
                        spec.name
                    ),
                });
            }
        }
    } else {
        None
    };
    let allowed_text = || {
        request
            .allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown = |line, c: Col, symbol: &str, expected: String| DataError::UnknownSymbol {
        path: path.to_owned(),
        line,
        column: c.name.to_owned(),
        column_index: c.index,
        symbol: symbol.to_owned(),
        expected,
    };

    // Days in order of first appearance, with an index by (underlying, date); rows of one day
    // come together in every vendor file, so the last row's day answers almost every lookup
    // without hashing or allocating.
    let mut day_keys: Vec<(Underlying, NaiveDate)> = Vec::new();
    let mut day_data: Vec<Day> = Vec::new();
    let mut day_of: HashMap<(Underlying, NaiveDate), usize> = HashMap::new();
    let mut current: Option<usize> = None;
    // The last underlying price text read and its value: a day repeats it on every row.
    let mut last_price: Option<(&str, Price)> = None;
    let mut flags = Vec::new();
    for row in &table.rows {
        let cell = |c: Col| table.cell(row, c);
        let (text, date) = match (&fixed, c_under, c_date) {
            (Some((u, d)), _, _) => (u.as_str(), *d),
            (None, Some(cu), Some(cd)) => (cell(cu).text.trim(), cell(cd).date_any(spec.dates)?),
            _ => unreachable_columns(spec.name)?,
        };
        let index = match current {
            Some(i) if day_keys[i].1 == date && day_keys[i].0.as_str() == text => i,
            _ => {
                let u = Underlying::try_new(text)
                    .ok()
                    .filter(|u| fixed.is_some() || request.allowed.contains(u))
                    .ok_or_else(|| {
                        let cu = c_under.unwrap_or(c_strike);
                        unknown(row.line, cu, text, format!("one of [{}]", allowed_text()))
                    })?;
                *day_of.entry((u.clone(), date)).or_insert_with(|| {
                    day_keys.push((u, date));
                    day_data.push(Day {
                        price: None,
                        quotes: Vec::new(),
                        keys: Vec::new(),
                    });
                    day_keys.len() - 1
                })
            }
        };
        current = Some(index);
        let underlying = &day_keys[index].0;
        let right = right_of(&cell(c_right))?;
        let strike_cell = cell(c_strike);
        let strike = Strike::from_f64(strike_cell.positive_f64()?)
            .map_err(|_| strike_cell.bad("a strike > 0 below 100000 with at most 3 decimals"))?;
        let key = if let Some(cs) = c_symbol {
            let c = cell(cs);
            let key: ContractKey = c
                .trimmed()
                .parse()
                .map_err(|_| c.bad("an OCC option symbol"))?;
            if !root_allowed(underlying.as_str(), key.root()) {
                return Err(unknown(
                    row.line,
                    cs,
                    key.root(),
                    format!("an option root of {underlying}"),
                ));
            }
            if key.right() != right {
                return Err(cell(c_right).bad(format!("the right of the symbol {}", c.trimmed())));
            }
            if key.strike() != strike {
                return Err(strike_cell.bad(format!("the strike of the symbol {}", c.trimmed())));
            }
            // The expiration column is parsed (to catch damage); the symbol's date, moved off
            // a weekend, is the contract's identity (see the function docs).
            cell(c_expiry).date_any(spec.dates)?;
            on_a_session(key).map_err(|_| c.bad("an expiry in 1990-2099"))?
        } else {
            let expiry = cell(c_expiry).date_any(spec.dates)?;
            ContractKey::try_new(underlying.as_str(), expiry, right, strike)
                .and_then(on_a_session)
                .map_err(|_| cell(c_expiry).bad("an expiry in 2000-2099"))?
        };
        let slot = day_data[index].quotes.len();
        day_data[index].keys.push((packed(&key), row.line, slot));
        let bid = c_bid.map(|c| cell(c).opt_price()).transpose()?.flatten();
        let ask = c_ask.map(|c| cell(c).opt_price()).transpose()?.flatten();
        // A last of 0 is the vendors' "no trade", not a trade at zero.
        let last = c_last
            .map(|c| cell(c).opt_price())
            .transpose()?
            .flatten()
            .filter(|p| *p != Price::ZERO);
        let mut iv = cell(c_iv).opt_f64()?;
        if spec.format == ChainFormat::IVolatility && iv == Some(-1.0) {
            // iVolatility's "no IV" sentinel (168 SPXPM rows of the 2011 SPX file).
            iv = None;
        }
        if iv.is_some_and(|v| v < 0.0) {
            return Err(cell(c_iv).bad("an implied volatility ≥ 0"));
        }
        let of = |c: Option<Col>| {
            c.map(|c| cell(c).opt_f64())
                .transpose()
                .map(Option::flatten)
        };
        let mut quote = OptionQuote::new(key, bid, ask);
        quote.last = last;
        quote.volume = cell(c_volume).count_or_zero()?;
        quote.open_interest = cell(c_oi).count_or_zero()?;
        quote.vendor = Some(VendorAnalytics {
            implied_vol: iv,
            delta: cell(c_delta).opt_f64()?,
            gamma: cell(c_gamma).opt_f64()?,
            theta: of(c_theta)?,
            vega: of(c_vega)?,
        });
        if let (Some(b), Some(a)) = (bid, ask)
            && b > a
        {
            flags.push(RowFlag {
                line: row.line,
                date,
                kind: FlagKind::Crossed {
                    contract: quote.key.to_string(),
                },
            });
        }
        let price = match c_uprice {
            None => None,
            Some(c) => {
                let text = cell(c).text;
                match last_price {
                    Some((t, p)) if t == text => Some(p),
                    _ => {
                        let p = cell(c).positive_price()?;
                        last_price = Some((text, p));
                        Some(p)
                    }
                }
            }
        };
        let day = &mut day_data[index];
        if let (Some(p), Some(c)) = (price, c_uprice) {
            match day.price {
                None => day.price = Some((p, row.line)),
                Some((first, first_line)) if p != first => {
                    return Err(cell(c).bad(format!(
                        "the day's underlying price {first} (line {first_line})"
                    )));
                }
                Some(_) => {}
            }
        }
        day.quotes.push(quote);
    }
    duplicates(path, &day_keys, &mut day_data, c_symbol.unwrap_or(c_strike))?;
    let mut days: Vec<((Underlying, NaiveDate), Day)> =
        day_keys.into_iter().zip(day_data).collect();
    days.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ImportedChains {
        format: spec.format,
        days: days
            .into_iter()
            .map(|((underlying, quote_date), d)| ChainDay {
                underlying,
                quote_date,
                underlying_price: d
                    .price
                    .map(|(p, _)| p)
                    .or(c_uprice.map_or(request.underlying_price, |_| None)),
                quotes: d.quotes,
            })
            .collect(),
        flags,
    })
}

/// The duplicate check, after the rows are read: per day, the packed keys sorted, equal
/// neighbours are a contract quoted twice. Of all repeats, the one on the earliest line is
/// reported with the line of its first quote, as a scan in file order would (a sort is
/// cheaper than hashing every row of a million-row file).
fn duplicates(
    path: &Path,
    day_keys: &[(Underlying, NaiveDate)],
    day_data: &mut [Day],
    column: Col,
) -> Result<()> {
    let mut worst: Option<(u64, u64, usize, usize)> = None;
    for (d, day) in day_data.iter_mut().enumerate() {
        day.keys.sort_unstable();
        for w in day.keys.windows(2) {
            let ((a, first_line, _), (b, line, quote)) = (w[0], w[1]);
            if a == b && worst.is_none_or(|(l, ..)| line < l) {
                worst = Some((line, first_line, d, quote));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((line, first_line, d, quote)) => Err(DataError::Duplicate {
            path: path.to_owned(),
            line,
            column: column.name.to_owned(),
            column_index: column.index,
            key: format!("{} on {}", day_data[d].quotes[quote].key, day_keys[d].1),
            first_line,
        }),
    }
}

/// A contract key packed into 113 bits for the duplicate check: root (1-6 bytes of A-Z0-9,
/// never 0, so zero padding keeps it injective) 48 bits, expiry day number 32, strike in
/// thousandths 32, right 1.
fn packed(key: &ContractKey) -> u128 {
    let root = key
        .root()
        .bytes()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(b));
    let expiry = u128::from(key.expiry().num_days_from_ce().cast_unsigned());
    let right = match key.right() {
        OptionRight::Call => 0,
        OptionRight::Put => 1,
    };
    (root << 65) | (expiry << 33) | (u128::from(key.strike().thousandths()) << 1) | right
}

/// Every spec with an underlying column has a quote-date column; this is the error if a
/// future spec breaks that.
fn unreachable_columns<T>(format: &str) -> Result<T> {
    Err(DataError::InvalidRequest {
        reason: format!("format {format} has an underlying column but no quote date"),
    })
}
