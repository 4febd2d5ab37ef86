//! [`MarketStore`] on SQLite: underlying bars, option chain snapshots and their quotes, index
//! values, rate series, coverage. The schema is in `../migrations/` (and `docs/data.md`).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{Connection, OptionalExtension, Row, params};
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, OptionQuote, Price, Underlying, VendorAnalytics,
};

use super::codec::{
    Reader, day_after, fmt_date, fmt_datetime, not_nan, occ_text, opt_text, to_i64,
};
use super::{SqliteStore, sql_err};
use crate::import::{IndexRecord, RateObservation, RateSeries};
use crate::store::packed;
use crate::store::{ContractObservation, Coverage, DataKind, MarketStore};
use crate::{DataError, Result};

/// Reads the quote columns starting at `first` (contract, bid, ask, last, volume,
/// `open_interest`, `updated_at`, `has_vendor`, five vendor values).
fn read_quote(row: &Row<'_>, first: usize, label: &str) -> Result<OptionQuote> {
    let r = Reader::new("option_quotes", row, &label);
    let key: ContractKey = r.req(first, "contract")?;
    let r = r.keyed(&key);
    let vendor = if r.int(first + 7, "has_vendor")? != 0 {
        Some(VendorAnalytics {
            implied_vol: r.opt_real(first + 8, "vendor_iv")?,
            delta: r.opt_real(first + 9, "vendor_delta")?,
            gamma: r.opt_real(first + 10, "vendor_gamma")?,
            theta: r.opt_real(first + 11, "vendor_theta")?,
            vega: r.opt_real(first + 12, "vendor_vega")?,
        })
    } else {
        None
    };
    Ok(OptionQuote {
        bid: r.opt(first + 1, "bid")?,
        ask: r.opt(first + 2, "ask")?,
        last: r.opt(first + 3, "last")?,
        volume: r.count(first + 4, "volume")?,
        open_interest: r.count(first + 5, "open_interest")?,
        updated_at: r.opt(first + 6, "updated_at")?,
        vendor,
        key,
    })
}

/// The quotes of snapshot `snapshot_id`, read from their rows in `option_quotes`.
fn quote_rows(conn: &Connection, snapshot_id: i64, label: &str) -> Result<Vec<OptionQuote>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT contract, bid, ask, last, volume, open_interest, updated_at, has_vendor,
                    vendor_iv, vendor_delta, vendor_gamma, vendor_theta, vendor_vega
               FROM option_quotes WHERE snapshot_id = ?1",
        )
        .map_err(sql_err("load chain", label))?;
    let mut rows = stmt
        .query([snapshot_id])
        .map_err(sql_err("load chain", label))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err("load chain", label))? {
        out.push(read_quote(row, 0, label)?);
    }
    Ok(out)
}

/// Writes `packed` as snapshot `snapshot_id`'s packed quotes, unless it holds them already.
fn store_packed(conn: &Connection, snapshot_id: i64, packed: &[u8], label: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE chain_snapshots SET packed_quotes = ?2
          WHERE snapshot_id = ?1 AND packed_quotes IS NOT ?2",
    )
    .and_then(|mut stmt| stmt.execute(params![snapshot_id, packed]))
    .map_err(sql_err("pack chain", label))?;
    Ok(())
}

/// Writes what packing the batch `touched` describes still needs once its rows are written.
fn finish_packing(conn: &Connection, touched: &packed::Touched<'_>) -> Result<()> {
    let (merged, existing) = touched.rest();
    for (id, bytes) in merged {
        store_packed(conn, id, &bytes, &format!("snapshot {id}"))?;
    }
    repack_from_rows(conn, Some(&existing))
}

/// Packs the quotes of each snapshot in `ids` (every snapshot when `None`) again from their
/// rows: for snapshots that existed before an upsert changed some of their rows, and for the
/// migration that added the column.
pub(super) fn repack_from_rows(conn: &Connection, ids: Option<&[i64]>) -> Result<()> {
    let all: Vec<i64>;
    let ids = if let Some(ids) = ids {
        ids
    } else {
        let mut stmt = conn
            .prepare("SELECT snapshot_id FROM chain_snapshots ORDER BY snapshot_id")
            .map_err(sql_err("pack chains", "chain_snapshots"))?;
        all = stmt
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(sql_err("pack chains", "chain_snapshots"))?;
        &all
    };
    for &id in ids {
        let label = format!("snapshot {id}");
        let mut quotes = quote_rows(conn, id, &label)?;
        packed::sort_in_chain_order(&mut quotes);
        store_packed(conn, id, &packed::pack(&quotes), &label)?;
    }
    Ok(())
}

/// The statements of `upsert_chains`.
mod sql {
    /// A snapshot, inserted with its packed quotes, or its price updated.
    pub(super) const UPSERT_SNAPSHOT: &str =
        "INSERT INTO chain_snapshots (underlying, as_of, underlying_price,
                         packed_quotes)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (underlying, as_of) DO UPDATE SET
                         underlying_price = excluded.underlying_price
                     WHERE underlying_price IS NOT excluded.underlying_price";
    /// A snapshot's id.
    pub(super) const SNAPSHOT_ID: &str =
        "SELECT snapshot_id FROM chain_snapshots WHERE underlying = ?1 AND as_of = ?2";
    /// A quote, inserted or updated where it changed.
    pub(super) const UPSERT_QUOTE: &str =
        "INSERT INTO option_quotes (snapshot_id, contract, bid, ask, last, volume,
                         open_interest, updated_at, has_vendor, vendor_iv, vendor_delta,
                         vendor_gamma, vendor_theta, vendor_vega)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT (snapshot_id, contract) DO UPDATE SET
                         bid = excluded.bid, ask = excluded.ask, last = excluded.last,
                         volume = excluded.volume, open_interest = excluded.open_interest,
                         updated_at = excluded.updated_at, has_vendor = excluded.has_vendor,
                         vendor_iv = excluded.vendor_iv, vendor_delta = excluded.vendor_delta,
                         vendor_gamma = excluded.vendor_gamma,
                         vendor_theta = excluded.vendor_theta, vendor_vega = excluded.vendor_vega
                     WHERE bid IS NOT excluded.bid OR ask IS NOT excluded.ask
                        OR last IS NOT excluded.last OR volume IS NOT excluded.volume
                        OR open_interest IS NOT excluded.open_interest
                        OR updated_at IS NOT excluded.updated_at
                        OR has_vendor IS NOT excluded.has_vendor
                        OR vendor_iv IS NOT excluded.vendor_iv
                        OR vendor_delta IS NOT excluded.vendor_delta
                        OR vendor_gamma IS NOT excluded.vendor_gamma
                        OR vendor_theta IS NOT excluded.vendor_theta
                        OR vendor_vega IS NOT excluded.vendor_vega";
}

impl SqliteStore {
    /// The first snapshot that `sql` finds (it selects id, time, underlying price and packed
    /// quotes, bound to `symbol`, `from` and `to`), loaded: from its packed quotes, or from its
    /// rows where it has none.
    fn find_snapshot(
        &self,
        symbol: &Underlying,
        sql: &str,
        from: &str,
        to: &str,
    ) -> Result<Option<ChainSnapshot>> {
        let label = format!("{symbol} {from}");
        let found = self.select(
            "find snapshot",
            &label,
            sql,
            params![symbol.as_str(), from, to],
            |row| {
                let r = Reader::new("chain_snapshots", row, &label);
                let id = r.int(0, "snapshot_id")?;
                let as_of: NaiveDateTime = r.req(1, "as_of")?;
                let price: Price = r.req(2, "underlying_price")?;
                let label = format!("{symbol} {}", fmt_datetime(as_of));
                let quotes = match r.opt_blob(3, "packed_quotes")? {
                    Some(bytes) => {
                        packed::unpack(bytes).map_err(|problem| DataError::StoreCorrupt {
                            table: "chain_snapshots",
                            column: "packed_quotes",
                            key: label.clone(),
                            value: problem,
                            expected: packed::EXPECTED,
                        })?
                    }
                    None => quote_rows(&self.conn, id, &label)?,
                };
                Ok((as_of, price, quotes))
            },
        )?;
        found
            .into_iter()
            .next()
            .map(|(as_of, price, quotes)| {
                ChainSnapshot::try_new(as_of, symbol.clone(), price, quotes).map_err(Into::into)
            })
            .transpose()
    }
}

impl MarketStore for SqliteStore {
    fn upsert_daily_bars(&mut self, symbol: &Underlying, bars: &[DailyBar]) -> Result<u64> {
        // The WHERE clause skips rows whose values are unchanged, so re-importing a file
        // writes nothing (and the change count says so).
        self.write_each(
            "upsert bars",
            symbol,
            "INSERT INTO bars (symbol, date, open, high, low, close, volume)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (symbol, date) DO UPDATE SET
                 open = excluded.open, high = excluded.high, low = excluded.low,
                 close = excluded.close, volume = excluded.volume
             WHERE open IS NOT excluded.open OR high IS NOT excluded.high
                OR low IS NOT excluded.low OR close IS NOT excluded.close
                OR volume IS NOT excluded.volume",
            bars,
            |stmt, bar| {
                let key = format!("{symbol} {}", bar.date);
                let o = bar.ohlcv;
                stmt.execute(params![
                    symbol.as_str(),
                    fmt_date(bar.date),
                    o.open().to_string(),
                    o.high().to_string(),
                    o.low().to_string(),
                    o.close().to_string(),
                    to_i64(o.volume(), &key, "volume")?,
                ])
                .map_err(sql_err("upsert bars", &key))
            },
        )
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        self.select(
            "load bars",
            symbol,
            "SELECT date, open, high, low, close, volume FROM bars
              WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            params![symbol.as_str(), fmt_date(from), fmt_date(to)],
            |row| {
                let r = Reader::new("bars", row, symbol);
                let date = r.req(0, "date")?;
                let key = format!("{symbol} {date}");
                let r = r.keyed(&key);
                Ok(DailyBar::try_new(
                    date,
                    r.req(1, "open")?,
                    r.req(2, "high")?,
                    r.req(3, "low")?,
                    r.req(4, "close")?,
                    r.count(5, "volume")?,
                )?)
            },
        )
    }

    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64> {
        self.in_transaction("upsert chains", |tx| {
            let mut snap = tx
                .prepare_cached(sql::UPSERT_SNAPSHOT)
                .map_err(sql_err("upsert chains", "chain_snapshots"))?;
            let mut snap_id = tx
                .prepare_cached(sql::SNAPSHOT_ID)
                .map_err(sql_err("upsert chains", "chain_snapshots"))?;
            let mut quote = tx
                .prepare_cached(sql::UPSERT_QUOTE)
                .map_err(sql_err("upsert chains", "option_quotes"))?;
            // Snapshot ids seen in this batch: a file often holds one snapshot in many pieces.
            let mut ids: HashMap<(String, String), i64> = HashMap::new();
            let mut touched = packed::Touched::default();
            let mut changed = 0u64;
            for chain in chains {
                let underlying = chain.underlying().as_str();
                let as_of = fmt_datetime(chain.as_of());
                let label = format!("{underlying} {as_of}");
                let id = if let Some(&id) = ids.get(&(underlying.to_owned(), as_of.clone())) {
                    id
                } else {
                    let existing: Option<i64> = snap_id
                        .query_row(params![underlying, as_of], |r| r.get(0))
                        .optional()
                        .map_err(sql_err("upsert chains", &label))?;
                    // A new snapshot goes in with this piece's quotes packed (the whole chain,
                    // unless more pieces follow); a stored one keeps its value until repacked.
                    let packed = (existing.is_none()).then(|| packed::pack(chain.iter()));
                    changed +=
                        snap.execute(params![
                            underlying,
                            as_of,
                            chain.underlying_price().to_string(),
                            packed,
                        ])
                        .map_err(sql_err("upsert chains", &label))? as u64;
                    let id: i64 = match existing {
                        Some(id) => id,
                        None => snap_id
                            .query_row(params![underlying, as_of], |r| r.get(0))
                            .map_err(sql_err("upsert chains", &label))?,
                    };
                    ids.insert((underlying.to_owned(), as_of), id);
                    touched.snapshot(id, existing.is_some());
                    id
                };
                touched.piece(id, chain);
                // Inserted in key order: the primary key (snapshot, contract) then grows at its
                // end, SQLite's cheap append path, instead of splitting pages all over the
                // snapshot's range (the chain's own order is expiry, strike, right, root).
                let mut rows: Vec<(String, &OptionQuote)> =
                    chain.iter().map(|q| (occ_text(&q.key), q)).collect();
                rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                for (text, q) in &rows {
                    let key = &q.key;
                    let v = q.vendor.unwrap_or_default();
                    changed += quote
                        .execute(params![
                            id,
                            text,
                            opt_text(q.bid),
                            opt_text(q.ask),
                            opt_text(q.last),
                            to_i64(q.volume, key, "volume")?,
                            to_i64(q.open_interest, key, "open_interest")?,
                            q.updated_at.map(fmt_datetime),
                            q.vendor.is_some(),
                            not_nan(v.implied_vol, key, "vendor implied_vol")?,
                            not_nan(v.delta, key, "vendor delta")?,
                            not_nan(v.gamma, key, "vendor gamma")?,
                            not_nan(v.theta, key, "vendor theta")?,
                            not_nan(v.vega, key, "vendor vega")?,
                        ])
                        .map_err(sql_err("upsert chains", key))?
                        as u64;
                }
            }
            finish_packing(tx, &touched)?;
            Ok(changed)
        })
    }

    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>> {
        let t = fmt_datetime(as_of);
        self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of, underlying_price, packed_quotes FROM chain_snapshots
              WHERE underlying = ?1 AND as_of = ?2 AND as_of = ?3",
            &t,
            &t,
        )
    }

    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>> {
        // 'YYYY-MM-DD' sorts before every time of that day and the next day's date after all
        // of them, so the day is a half-open text range on the (underlying, as_of) index.
        self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of, underlying_price, packed_quotes FROM chain_snapshots
              WHERE underlying = ?1 AND as_of >= ?2 AND as_of < ?3
              ORDER BY as_of DESC LIMIT 1",
            &fmt_date(date),
            &day_after(date),
        )
    }

    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>> {
        self.select(
            "list snapshots",
            symbol,
            "SELECT as_of FROM chain_snapshots
              WHERE underlying = ?1 AND as_of >= ?2 AND as_of < ?3 ORDER BY as_of",
            params![symbol.as_str(), fmt_date(date), day_after(date)],
            |row| Reader::new("chain_snapshots", row, symbol).req(0, "as_of"),
        )
    }

    fn contract_history(
        &self,
        key: &ContractKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ContractObservation>> {
        let label = key.to_string();
        self.select(
            "contract history",
            &label,
            "SELECT q.contract, q.bid, q.ask, q.last, q.volume, q.open_interest, q.updated_at,
                    q.has_vendor, q.vendor_iv, q.vendor_delta, q.vendor_gamma,
                    q.vendor_theta, q.vendor_vega, s.as_of, s.underlying_price
               FROM option_quotes q JOIN chain_snapshots s USING (snapshot_id)
              WHERE q.contract = ?1 AND s.as_of >= ?2 AND s.as_of < ?3
              ORDER BY s.as_of",
            params![label, fmt_date(from), day_after(to)],
            |row| {
                let r = Reader::new("chain_snapshots", row, key);
                Ok(ContractObservation {
                    quote: read_quote(row, 0, &label)?,
                    as_of: r.req(13, "as_of")?,
                    underlying_price: r.req(14, "underlying_price")?,
                })
            },
        )
    }

    fn upsert_index_values(&mut self, symbol: &Underlying, values: &[IndexRecord]) -> Result<u64> {
        self.write_each(
            "upsert index values",
            symbol,
            "INSERT INTO index_values (symbol, date, open, high, low, close)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (symbol, date) DO UPDATE SET
                 open = excluded.open, high = excluded.high, low = excluded.low,
                 close = excluded.close
             WHERE open IS NOT excluded.open OR high IS NOT excluded.high
                OR low IS NOT excluded.low OR close IS NOT excluded.close",
            values,
            |stmt, v| {
                let key = format!("{symbol} {}", v.date);
                stmt.execute(params![
                    symbol.as_str(),
                    fmt_date(v.date),
                    not_nan(v.open, &key, "open")?,
                    not_nan(v.high, &key, "high")?,
                    not_nan(v.low, &key, "low")?,
                    not_nan(Some(v.close), &key, "close")?,
                ])
                .map_err(sql_err("upsert index values", &key))
            },
        )
    }

    fn index_values(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IndexRecord>> {
        self.select(
            "load index values",
            symbol,
            "SELECT date, open, high, low, close FROM index_values
              WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            params![symbol.as_str(), fmt_date(from), fmt_date(to)],
            |row| {
                let r = Reader::new("index_values", row, symbol);
                let date = r.req(0, "date")?;
                let key = format!("{symbol} {date}");
                let r = r.keyed(&key);
                Ok(IndexRecord {
                    date,
                    open: r.opt_real(1, "open")?,
                    high: r.opt_real(2, "high")?,
                    low: r.opt_real(3, "low")?,
                    close: r.real(4, "close")?,
                })
            },
        )
    }

    fn upsert_rates(
        &mut self,
        series: RateSeries,
        observations: &[RateObservation],
    ) -> Result<u64> {
        self.write_each(
            "upsert rates",
            &series,
            "INSERT INTO rates (series, date, published_percent, continuous)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (series, date) DO UPDATE SET
                 published_percent = excluded.published_percent,
                 continuous = excluded.continuous
             WHERE published_percent IS NOT excluded.published_percent
                OR continuous IS NOT excluded.continuous",
            observations,
            |stmt, o| {
                let key = format!("{series} {}", o.date);
                stmt.execute(params![
                    series.as_str(),
                    fmt_date(o.date),
                    not_nan(o.published_percent, &key, "published_percent")?,
                    not_nan(o.continuous, &key, "continuous")?,
                ])
                .map_err(sql_err("upsert rates", &key))
            },
        )
    }

    fn rates(
        &self,
        series: RateSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RateObservation>> {
        self.select(
            "load rates",
            &series,
            "SELECT date, published_percent, continuous FROM rates
              WHERE series = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date",
            params![series.as_str(), fmt_date(from), fmt_date(to)],
            |row| {
                let r = Reader::new("rates", row, &series);
                let date = r.req(0, "date")?;
                let key = format!("{series} {date}");
                let r = r.keyed(&key);
                Ok(RateObservation {
                    date,
                    published_percent: r.opt_real(1, "published_percent")?,
                    continuous: r.opt_real(2, "continuous")?,
                })
            },
        )
    }

    fn coverage(&self) -> Result<Vec<Coverage>> {
        let mut out = Vec::new();
        for (kind, table, sql) in [
            (
                DataKind::DailyBars,
                "bars",
                "SELECT symbol, MIN(date), MAX(date), COUNT(*) FROM bars
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Chains,
                "chain_snapshots",
                "SELECT underlying, substr(MIN(as_of), 1, 10), substr(MAX(as_of), 1, 10),
                        COUNT(*) FROM chain_snapshots GROUP BY underlying ORDER BY underlying",
            ),
            (
                DataKind::IndexValues,
                "index_values",
                "SELECT symbol, MIN(date), MAX(date), COUNT(*) FROM index_values
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Rates,
                "rates",
                "SELECT series, MIN(date), MAX(date), COUNT(*) FROM rates
                  GROUP BY series ORDER BY series",
            ),
        ] {
            out.extend(self.select("coverage", &table, sql, [], |row| {
                let r = Reader::new(table, row, &table);
                let symbol = r.req(0, "symbol")?;
                let r = r.keyed(&symbol);
                Ok(Coverage {
                    kind,
                    first: r.req(1, "date")?,
                    last: r.req(2, "date")?,
                    rows: r.count(3, "count")?,
                    symbol,
                })
            })?);
        }
        Ok(out)
    }
}
