//! End-of-day option chains from vendor CSVs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{
    ChainSnapshot, ContractKey, OptionQuote, OptionRight, Price, Strike, Underlying,
    VendorAnalytics,
};

use super::table::{Cell, Col, DateFmt, FlagKind, RowFlag, Table, read_file};
use crate::error::{DataError, Result};

/// The option-chain layouts, recognised from the header. Parquet is not read (no Parquet
/// dependency in this crate).
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
        let price = self
            .underlying_price
            .ok_or_else(|| DataError::InvalidRequest {
                reason: format!(
                    "the {} chain of {} has no underlying price",
                    self.underlying, self.quote_date
                ),
            })?;
        Ok(ChainSnapshot::try_new(
            as_of,
            self.underlying.clone(),
            price,
            self.quotes.iter().cloned(),
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

/// Parses an option-chain file. All or nothing.
///
/// Quirks kept as published and flagged: bid > ask ([`FlagKind::Crossed`]; the SPY sample
/// has 17 such rows on expiry days, and a crossed quote is information about the market, not
/// damage). Kept without a flag: an expiration column one day before the symbol's date
/// (monthlies before 2015 carry the Saturday in the OCC symbol; the key keeps the symbol's
/// date); vendor IVs of 0 or above 5 on deep ITM/OTM rows. iVolatility's IV of exactly −1 is
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

    let mut days: BTreeMap<(Underlying, NaiveDate), Day> = BTreeMap::new();
    let mut seen: HashMap<(Underlying, NaiveDate, ContractKey), u64> = HashMap::new();
    let mut flags = Vec::new();
    for row in &table.rows {
        let cell = |c: Col| table.cell(row, c);
        let (underlying, date) = match (&fixed, c_under, c_date) {
            (Some((u, d)), _, _) => (u.clone(), *d),
            (None, Some(cu), Some(cd)) => {
                let c = cell(cu);
                let u = Underlying::try_new(c.trimmed())
                    .ok()
                    .filter(|u| request.allowed.contains(u))
                    .ok_or_else(|| {
                        unknown(
                            row.line,
                            cu,
                            c.trimmed(),
                            format!("one of [{}]", allowed_text()),
                        )
                    })?;
                (u, cell(cd).date_any(spec.dates)?)
            }
            _ => unreachable_columns(spec.name)?,
        };
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
            // The expiration column is parsed (to catch damage) but the symbol's date is the
            // contract's identity; see the function docs.
            cell(c_expiry).date_any(spec.dates)?;
            key
        } else {
            let expiry = cell(c_expiry).date_any(spec.dates)?;
            ContractKey::try_new(underlying.as_str(), expiry, right, strike)
                .map_err(|_| cell(c_expiry).bad("an expiry in 2000-2099"))?
        };
        if let Some(first_line) = seen.insert((underlying.clone(), date, key.clone()), row.line) {
            let c = c_symbol.unwrap_or(c_strike);
            return Err(DataError::Duplicate {
                path: path.to_owned(),
                line: row.line,
                column: c.name.to_owned(),
                column_index: c.index,
                key: format!("{key} on {date}"),
                first_line,
            });
        }
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
        let price = c_uprice.map(|c| cell(c).positive_price()).transpose()?;
        let day = days.entry((underlying, date)).or_insert(Day {
            price: price.map(|p| (p, row.line)),
            quotes: Vec::new(),
        });
        if let (Some(p), Some((first, first_line)), Some(c)) = (price, day.price, c_uprice)
            && p != first
        {
            return Err(cell(c).bad(format!(
                "the day's underlying price {first} (line {first_line})"
            )));
        }
        day.quotes.push(quote);
    }
    Ok(ImportedChains {
        format: spec.format,
        days: days
            .into_iter()
            .map(|((underlying, quote_date), d)| ChainDay {
                underlying,
                quote_date,
                underlying_price: d.price.map(|(p, _)| p),
                quotes: d.quotes,
            })
            .collect(),
        flags,
    })
}

/// Every spec with an underlying column has a quote-date column; this is the error if a
/// future spec breaks that.
fn unreachable_columns<T>(format: &str) -> Result<T> {
    Err(DataError::InvalidRequest {
        reason: format!("format {format} has an underlying column but no quote date"),
    })
}
