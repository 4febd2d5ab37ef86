//! Option chains in Parquet: Volta's columnar layout for years of chains (written and read with
//! polars).
//!
//! One row per quote. Decimals (prices, strikes) are **UTF-8 strings of the decimal** as
//! `rust_decimal` writes it (`2.76`, `2900`): exact, so a chain read back equals the chain
//! written, and any tool reads them with a cast. Times are exchange time (New York) without a
//! zone, as everywhere in Volta.
//!
//! | column | type | null | meaning |
//! |---|---|---|---|
//! | `quote_date` | Date | no | the session date, = `as_of`'s date |
//! | `as_of` | Datetime(ns) | no | when the snapshot was taken, exchange time |
//! | `underlying` | String | no | the underlying's ticker (`SPX`) |
//! | `underlying_price` | String | no | the underlying's price at `as_of`, decimal, > 0 |
//! | `contract` | String | no | the 21-character OCC key (`SPXW  190517C02900000`) |
//! | `root` | String | no | the option root (`SPXW`), = the key's |
//! | `expiry` | Date | no | = the key's |
//! | `strike` | String | no | decimal, = the key's |
//! | `right` | String | no | `C` or `P`, = the key's |
//! | `bid`, `ask`, `last` | String | yes | decimal ≥ 0, US dollars per option share |
//! | `volume`, `open_interest` | `UInt64` | no | contracts |
//! | `updated_at` | Datetime(ns) | yes | when the quote was last updated, exchange time |
//! | `has_vendor` | Boolean | no | whether the vendor gave analytics at all |
//! | `vendor_iv`, `vendor_delta`, `vendor_gamma`, `vendor_theta`, `vendor_vega` | `Float64` | yes | vendor values as in [`VendorAnalytics`]; null when absent; never NaN |
//!
//! Reading checks every column's presence and type and every value; the first failure is an
//! error naming the file, the row (0-based) and the column. Datetime columns written in µs or
//! ms by another tool are read too.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::{
    BooleanChunked, Column, DataFrame, DataType, Float64Chunked, ParquetReader, ParquetWriter,
    SerReader, StringChunked, TimeUnit, UInt64Chunked,
};
use volta_core::{
    ChainSnapshot, ContractKey, OptionQuote, OptionRight, Price, Strike, Underlying,
    VendorAnalytics,
};

use crate::error::{DataError, Result};
pub use crate::ingest::{PARQUET_MAGIC, is_parquet};

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

fn days(d: NaiveDate) -> i32 {
    // Every NaiveDate is within ±2^18 years of 1970: the day count fits an i32.
    (d - EPOCH).num_days() as i32
}

fn nanos(t: NaiveDateTime, what: &str) -> Result<i64> {
    t.and_utc()
        .timestamp_nanos_opt()
        .ok_or_else(|| DataError::InvalidRequest {
            reason: format!("{what} {t} is outside 1677-2262, which Parquet nanoseconds hold"),
        })
}

fn polars_err(path: &Path) -> impl FnOnce(polars::error::PolarsError) -> DataError + '_ {
    move |source| DataError::Parquet {
        path: path.to_owned(),
        source,
    }
}

/// Writes `chains` to a new Parquet file at `path` (replacing any file there), one row per
/// quote, in the layout of the module docs. Returns the number of rows written.
///
/// # Errors
/// [`DataError::InvalidRequest`] for a NaN vendor value (it would not read back equal) or a
/// time outside 1677-2262; [`DataError::Io`] / [`DataError::Parquet`] if the file cannot be
/// written.
pub fn write_chains_parquet(path: &Path, chains: &[ChainSnapshot]) -> Result<u64> {
    let n: usize = chains.iter().map(ChainSnapshot::len).sum();
    let mut quote_date = Vec::with_capacity(n);
    let mut as_of = Vec::with_capacity(n);
    let mut underlying = Vec::with_capacity(n);
    let mut underlying_price = Vec::with_capacity(n);
    let mut contract = Vec::with_capacity(n);
    let mut root = Vec::with_capacity(n);
    let mut expiry = Vec::with_capacity(n);
    let mut strike = Vec::with_capacity(n);
    let mut right = Vec::with_capacity(n);
    let mut bid = Vec::with_capacity(n);
    let mut ask = Vec::with_capacity(n);
    let mut last = Vec::with_capacity(n);
    let mut volume = Vec::with_capacity(n);
    let mut open_interest = Vec::with_capacity(n);
    let mut updated_at = Vec::with_capacity(n);
    let mut has_vendor = Vec::with_capacity(n);
    let mut vendor: [Vec<Option<f64>>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    for chain in chains {
        let t = nanos(chain.as_of(), "snapshot time")?;
        let price = chain.underlying_price().to_string();
        for q in chain.iter() {
            quote_date.push(days(chain.as_of().date()));
            as_of.push(t);
            underlying.push(chain.underlying().as_str().to_owned());
            underlying_price.push(price.clone());
            contract.push(q.key.to_string());
            root.push(q.key.root().to_owned());
            expiry.push(days(q.key.expiry()));
            strike.push(q.key.strike().to_string());
            right.push(match q.key.right() {
                OptionRight::Call => "C",
                OptionRight::Put => "P",
            });
            bid.push(q.bid.map(|p| p.to_string()));
            ask.push(q.ask.map(|p| p.to_string()));
            last.push(q.last.map(|p| p.to_string()));
            volume.push(q.volume);
            open_interest.push(q.open_interest);
            updated_at.push(
                q.updated_at
                    .map(|u| nanos(u, "quote update time"))
                    .transpose()?,
            );
            has_vendor.push(q.vendor.is_some());
            let v = q.vendor.unwrap_or_default();
            let values = [v.implied_vol, v.delta, v.gamma, v.theta, v.vega];
            for ((column, value), name) in vendor.iter_mut().zip(values).zip(VENDOR_COLUMNS) {
                if value.is_some_and(f64::is_nan) {
                    return Err(DataError::InvalidRequest {
                        reason: format!(
                            "{}: {name} of {} is NaN: Parquet would keep it but it never reads \
                             back equal; use None for a missing value",
                            path.display(),
                            q.key
                        ),
                    });
                }
                column.push(value);
            }
        }
    }
    let err = polars_err(path);
    let date_col = |name: &str, v: Vec<i32>| Column::new(name.into(), v).cast(&DataType::Date);
    let time_col = |name: &str, v: Vec<Option<i64>>| {
        Column::new(name.into(), v).cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))
    };
    let [iv, delta, gamma, theta, vega] = vendor;
    let columns = vec![
        date_col("quote_date", quote_date).map_err(err)?,
        time_col("as_of", as_of.into_iter().map(Some).collect()).map_err(polars_err(path))?,
        Column::new("underlying".into(), underlying),
        Column::new("underlying_price".into(), underlying_price),
        Column::new("contract".into(), contract),
        Column::new("root".into(), root),
        date_col("expiry", expiry).map_err(polars_err(path))?,
        Column::new("strike".into(), strike),
        Column::new("right".into(), right),
        Column::new("bid".into(), bid),
        Column::new("ask".into(), ask),
        Column::new("last".into(), last),
        Column::new("volume".into(), volume),
        Column::new("open_interest".into(), open_interest),
        time_col("updated_at", updated_at).map_err(polars_err(path))?,
        Column::new("has_vendor".into(), has_vendor),
        Column::new("vendor_iv".into(), iv),
        Column::new("vendor_delta".into(), delta),
        Column::new("vendor_gamma".into(), gamma),
        Column::new("vendor_theta".into(), theta),
        Column::new("vendor_vega".into(), vega),
    ];
    let mut df = DataFrame::new(n, columns).map_err(polars_err(path))?;
    let file = File::create(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    ParquetWriter::new(file)
        .finish(&mut df)
        .map_err(polars_err(path))?;
    Ok(n as u64)
}

const VENDOR_COLUMNS: [&str; 5] = [
    "vendor_iv",
    "vendor_delta",
    "vendor_gamma",
    "vendor_theta",
    "vendor_vega",
];

/// Typed access to the columns of a chain file, with errors that name the file.
struct Columns<'a> {
    path: &'a Path,
    df: &'a DataFrame,
}

impl<'a> Columns<'a> {
    fn get(&self, name: &'static str) -> Result<&'a Column> {
        self.df
            .column(name)
            .map_err(|_| DataError::ParquetMissingColumn {
                path: self.path.to_owned(),
                column: name,
            })
    }

    fn wrong(&self, name: &'static str, c: &Column, expected: &'static str) -> DataError {
        DataError::ParquetType {
            path: self.path.to_owned(),
            column: name,
            found: c.dtype().to_string(),
            expected,
        }
    }

    fn str(&self, name: &'static str) -> Result<&'a StringChunked> {
        let c = self.get(name)?;
        c.str().map_err(|_| self.wrong(name, c, "String"))
    }

    fn u64(&self, name: &'static str) -> Result<&'a UInt64Chunked> {
        let c = self.get(name)?;
        c.u64().map_err(|_| self.wrong(name, c, "UInt64"))
    }

    fn f64(&self, name: &'static str) -> Result<&'a Float64Chunked> {
        let c = self.get(name)?;
        c.f64().map_err(|_| self.wrong(name, c, "Float64"))
    }

    fn bool(&self, name: &'static str) -> Result<&'a BooleanChunked> {
        let c = self.get(name)?;
        c.bool().map_err(|_| self.wrong(name, c, "Boolean"))
    }

    /// Dates as days since 1970-01-01.
    fn date(&self, name: &'static str) -> Result<Vec<Option<i32>>> {
        let c = self.get(name)?;
        let d = c.date().map_err(|_| self.wrong(name, c, "Date"))?;
        Ok(d.physical().iter().collect())
    }

    /// Datetimes as nanoseconds since 1970-01-01 00:00 (any unit read).
    fn datetime(&self, name: &'static str) -> Result<Vec<Option<i64>>> {
        let c = self.get(name)?;
        let d = c
            .datetime()
            .map_err(|_| self.wrong(name, c, "Datetime without time zone"))?;
        if d.time_zone().is_some() {
            return Err(self.wrong(name, c, "Datetime without time zone"));
        }
        let scale = match d.time_unit() {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
        };
        Ok(d.physical()
            .iter()
            .map(|v| v.and_then(|x| x.checked_mul(scale)))
            .collect())
    }
}

/// The value of a required cell, or the error naming it.
fn required<'s>(
    v: Option<&'s str>,
    path: &Path,
    row: usize,
    column: &'static str,
) -> Result<&'s str> {
    v.ok_or_else(|| {
        bad(
            path,
            row,
            column,
            "null",
            "a value (the column is required)",
        )
    })
}

/// A cell check failure at `row` of `column`.
fn bad(path: &Path, row: usize, column: &'static str, text: &str, expected: &str) -> DataError {
    DataError::ParquetValue {
        path: path.to_owned(),
        row,
        column,
        text: text.to_owned(),
        expected: expected.to_owned(),
    }
}

fn date_of(days: i32) -> Option<NaiveDate> {
    EPOCH.checked_add_signed(chrono::TimeDelta::days(i64::from(days)))
}

fn datetime_of(ns: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(ns).naive_utc()
}

/// One snapshot while reading: its first row, price and quotes.
struct Pending {
    price: Price,
    first_row: usize,
    quotes: Vec<OptionQuote>,
}

/// Reads a Parquet chain file written by [`write_chains_parquet`] (or any tool writing the
/// same layout) back into snapshots, one per (underlying, `as_of`), in the order they first
/// appear. All or nothing.
///
/// # Errors
/// [`DataError::Io`] / [`DataError::Parquet`] for a file polars cannot read;
/// [`DataError::ParquetMissingColumn`] for a missing column; [`DataError::ParquetType`] for a column
/// of another type; [`DataError::ParquetValue`] for a null in a required column, a bad ticker,
/// contract key, decimal or negative price, a NaN vendor value, vendor values without
/// `has_vendor`, a `quote_date`, root, expiry, strike or right that contradicts `as_of` or the
/// key, an underlying price that differs within a snapshot, or a contract twice in one snapshot.
#[expect(
    clippy::too_many_lines,
    reason = "one linear pass over the columns of a row"
)]
pub fn read_chains_parquet(path: &Path) -> Result<Vec<ChainSnapshot>> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(polars_err(path))?;
    let cols = Columns { path, df: &df };
    let quote_date = cols.date("quote_date")?;
    let as_of = cols.datetime("as_of")?;
    let underlying = cols.str("underlying")?;
    let underlying_price = cols.str("underlying_price")?;
    let contract = cols.str("contract")?;
    let root = cols.str("root")?;
    let expiry = cols.date("expiry")?;
    let strike = cols.str("strike")?;
    let right = cols.str("right")?;
    let bid = cols.str("bid")?;
    let ask = cols.str("ask")?;
    let last = cols.str("last")?;
    let volume = cols.u64("volume")?;
    let open_interest = cols.u64("open_interest")?;
    let updated_at = cols.datetime("updated_at")?;
    let has_vendor = cols.bool("has_vendor")?;
    let vendor: Vec<&Float64Chunked> = VENDOR_COLUMNS
        .iter()
        .map(|c| cols.f64(c))
        .collect::<Result<_>>()?;

    let mut index_of: HashMap<(Underlying, NaiveDateTime), usize> = HashMap::new();
    let mut snapshots: Vec<((Underlying, NaiveDateTime), Pending)> = Vec::new();
    let mut seen: HashMap<(usize, ContractKey), usize> = HashMap::new();
    let mut it_under = underlying.iter();
    let mut it_uprice = underlying_price.iter();
    let mut it_contract = contract.iter();
    let mut it_root = root.iter();
    let mut it_strike = strike.iter();
    let mut it_right = right.iter();
    let mut it_bid = bid.iter();
    let mut it_ask = ask.iter();
    let mut it_last = last.iter();
    let mut it_volume = volume.iter();
    let mut it_oi = open_interest.iter();
    let mut it_has_vendor = has_vendor.iter();
    let mut it_vendor: Vec<_> = vendor.iter().map(|c| c.iter()).collect();
    for row in 0..df.height() {
        let null = || bad(path, row, "?", "null", "a value");
        let t = as_of[row]
            .map(datetime_of)
            .ok_or_else(|| bad(path, row, "as_of", "null", "a time"))?;
        let qd = quote_date[row]
            .and_then(date_of)
            .ok_or_else(|| bad(path, row, "quote_date", "null", "a date"))?;
        if qd != t.date() {
            return Err(bad(
                path,
                row,
                "quote_date",
                &qd.to_string(),
                &format!("the date of as_of ({t})"),
            ));
        }
        let u_text = required(it_under.next().ok_or_else(null)?, path, row, "underlying")?;
        let u = Underlying::try_new(u_text)
            .map_err(|_| bad(path, row, "underlying", u_text, "a ticker"))?;
        let p_text = required(
            it_uprice.next().ok_or_else(null)?,
            path,
            row,
            "underlying_price",
        )?;
        let price: Price = p_text
            .parse()
            .ok()
            .filter(|p: &Price| *p > Price::ZERO)
            .ok_or_else(|| bad(path, row, "underlying_price", p_text, "a positive decimal"))?;
        let k_text = required(it_contract.next().ok_or_else(null)?, path, row, "contract")?;
        let key: ContractKey = k_text
            .parse()
            .map_err(|_| bad(path, row, "contract", k_text, "an OCC option symbol"))?;
        let r_text = required(it_root.next().ok_or_else(null)?, path, row, "root")?;
        if r_text != key.root() {
            return Err(bad(
                path,
                row,
                "root",
                r_text,
                &format!("the root of {key}"),
            ));
        }
        let e = expiry[row].and_then(date_of);
        if e != Some(key.expiry()) {
            let text = e.map_or_else(|| "null".to_owned(), |d| d.to_string());
            return Err(bad(
                path,
                row,
                "expiry",
                &text,
                &format!("the expiry of {key}"),
            ));
        }
        let s_text = required(it_strike.next().ok_or_else(null)?, path, row, "strike")?;
        if s_text.parse::<Strike>().ok() != Some(key.strike()) {
            return Err(bad(
                path,
                row,
                "strike",
                s_text,
                &format!("the strike of {key}"),
            ));
        }
        let right_text = required(it_right.next().ok_or_else(null)?, path, row, "right")?;
        let r = match right_text {
            "C" => OptionRight::Call,
            "P" => OptionRight::Put,
            other => return Err(bad(path, row, "right", other, "`C` or `P`")),
        };
        if r != key.right() {
            return Err(bad(
                path,
                row,
                "right",
                right_text,
                &format!("the right of {key}"),
            ));
        }
        let price_of = |v: Option<&str>, column: &'static str| -> Result<Option<Price>> {
            v.map(|s| {
                s.parse::<Price>()
                    .map_err(|_| bad(path, row, column, s, "a decimal price ≥ 0"))
            })
            .transpose()
        };
        let mut quote = OptionQuote::new(
            key,
            price_of(it_bid.next().ok_or_else(null)?, "bid")?,
            price_of(it_ask.next().ok_or_else(null)?, "ask")?,
        );
        quote.last = price_of(it_last.next().ok_or_else(null)?, "last")?;
        quote.volume = it_volume
            .next()
            .flatten()
            .ok_or_else(|| bad(path, row, "volume", "null", "a count"))?;
        quote.open_interest = it_oi
            .next()
            .flatten()
            .ok_or_else(|| bad(path, row, "open_interest", "null", "a count"))?;
        quote.updated_at = updated_at[row].map(datetime_of);
        let has = it_has_vendor
            .next()
            .flatten()
            .ok_or_else(|| bad(path, row, "has_vendor", "null", "true or false"))?;
        let mut values = [None; 5];
        for ((v, it), column) in values.iter_mut().zip(&mut it_vendor).zip(VENDOR_COLUMNS) {
            *v = it.next().flatten();
            if v.is_some_and(f64::is_nan) {
                return Err(bad(path, row, column, "NaN", "a number or null"));
            }
            if v.is_some() && !has {
                return Err(bad(
                    path,
                    row,
                    column,
                    &format!("{v:?}"),
                    "null when has_vendor is false",
                ));
            }
        }
        let [implied_vol, delta, gamma, theta, vega] = values;
        quote.vendor = has.then_some(VendorAnalytics {
            implied_vol,
            delta,
            gamma,
            theta,
            vega,
        });
        let index = *index_of.entry((u.clone(), t)).or_insert_with(|| {
            snapshots.push((
                (u, t),
                Pending {
                    price,
                    first_row: row,
                    quotes: Vec::new(),
                },
            ));
            snapshots.len() - 1
        });
        let entry = &mut snapshots[index].1;
        if entry.price != price {
            return Err(bad(
                path,
                row,
                "underlying_price",
                p_text,
                &format!(
                    "the snapshot's underlying price {} (row {})",
                    entry.price, entry.first_row
                ),
            ));
        }
        if let Some(first) = seen.insert((index, quote.key.clone()), row) {
            return Err(bad(
                path,
                row,
                "contract",
                k_text,
                &format!("a contract not already in the snapshot (row {first})"),
            ));
        }
        entry.quotes.push(quote);
    }
    snapshots
        .into_iter()
        .map(|((u, t), p)| Ok(ChainSnapshot::try_new(t, u, p.price, p.quotes)?))
        .collect()
}
