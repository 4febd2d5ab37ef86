//! [`MarketStore`] on PostgreSQL: the SQLite store's behaviour, statement for statement, except
//! bulk chains, which go in by `COPY` (see [`MarketStore::upsert_chains`] below).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};
use postgres::Row;
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, OptionQuote, Price, Underlying, VendorAnalytics,
};

use super::codec::{
    Reader, copy_field, copy_float, fmt_date, not_nan, occ_text, opt_text, to_i64, ts_text,
};
use super::{PgStore, pg_err};
use crate::import::{IndexRecord, RateObservation, RateSeries};
use crate::store::{ContractObservation, Coverage, DataKind, MarketStore};
use crate::{DataError, Result};

/// COPY text is sent to the server in pieces of about this many bytes.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Reads the quote columns starting at `first` (contract, bid, ask, last, volume,
/// `open_interest`, `updated_at`, `has_vendor`, five vendor values; see [`sql`]).
fn read_quote(row: &Row, first: usize, label: &str) -> Result<OptionQuote> {
    let r = Reader::new("option_quotes", row, &label);
    let key: ContractKey = r.req(first, "contract")?;
    let r = r.keyed(&key);
    let vendor = if r.flag(first + 7, "has_vendor")? {
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

/// Appends one quote as a text `COPY` row of `quote_stage` (the columns of `option_quotes`).
fn copy_quote(out: &mut String, snapshot_id: i64, occ: &str, q: &OptionQuote) -> Result<()> {
    use std::fmt::Write as _;
    let key = &q.key;
    let v = q.vendor.unwrap_or_default();
    let volume = to_i64(q.volume, key, "volume")?;
    let open_interest = to_i64(q.open_interest, key, "open_interest")?;
    let floats = [
        not_nan(v.implied_vol, key, "vendor implied_vol")?,
        not_nan(v.delta, key, "vendor delta")?,
        not_nan(v.gamma, key, "vendor gamma")?,
        not_nan(v.theta, key, "vendor theta")?,
        not_nan(v.vega, key, "vendor vega")?,
    ];
    let updated_at = q
        .updated_at
        .map(|t| ts_text(t, key, "updated_at"))
        .transpose()?;
    let _ = write!(out, "{snapshot_id}\t");
    copy_field(out, Some(occ));
    for price in [q.bid, q.ask, q.last] {
        out.push('\t');
        copy_field(out, opt_text(price).as_deref());
    }
    let _ = write!(out, "\t{volume}\t{open_interest}\t");
    copy_field(out, updated_at.as_deref());
    out.push_str(if q.vendor.is_some() { "\tt" } else { "\tf" });
    for f in floats {
        out.push('\t');
        copy_float(out, f);
    }
    out.push('\n');
    Ok(())
}

/// Sends `rows` to the connection's `quote_stage` by one text `COPY … FROM STDIN`, in pieces
/// of about [`COPY_CHUNK_BYTES`].
fn copy_quotes(
    tx: &mut postgres::Transaction<'_>,
    shown: &str,
    rows: &[(i64, String, &OptionQuote)],
) -> Result<()> {
    let copy_err = |e: std::io::Error| DataError::Io {
        path: PathBuf::from(format!("{shown} (COPY quote_stage)")),
        source: e,
    };
    let mut writer = tx
        .copy_in(
            "COPY quote_stage (snapshot_id, contract, bid, ask, last, volume, open_interest,
                 updated_at, has_vendor, vendor_iv, vendor_delta, vendor_gamma, vendor_theta,
                 vendor_vega) FROM STDIN",
        )
        .map_err(pg_err(shown, "upsert chains", "COPY quote_stage"))?;
    let mut buf = String::with_capacity(COPY_CHUNK_BYTES + 512);
    for (id, occ, q) in rows {
        copy_quote(&mut buf, *id, occ, q)?;
        if buf.len() >= COPY_CHUNK_BYTES {
            writer.write_all(buf.as_bytes()).map_err(copy_err)?;
            buf.clear();
        }
    }
    writer.write_all(buf.as_bytes()).map_err(copy_err)?;
    writer
        .finish()
        .map_err(pg_err(shown, "upsert chains", "COPY quote_stage"))?;
    Ok(())
}

impl PgStore {
    /// Loads the quotes of one snapshot into a [`ChainSnapshot`].
    fn load_snapshot(
        &self,
        symbol: &Underlying,
        snapshot_id: i64,
        as_of: NaiveDateTime,
        underlying_price: Price,
    ) -> Result<ChainSnapshot> {
        let label = format!("{symbol} {as_of}");
        let quotes = self.select(
            "load chain",
            &label,
            sql::LOAD_SNAPSHOT,
            &[&snapshot_id],
            |row| read_quote(row, 0, &label),
        )?;
        ChainSnapshot::try_new(as_of, symbol.clone(), underlying_price, quotes).map_err(Into::into)
    }

    /// The first snapshot that `sql` finds (it selects id, time and underlying price, bound to
    /// `symbol` and `param`), loaded.
    fn find_snapshot(
        &self,
        symbol: &Underlying,
        sql: &'static str,
        param: &str,
    ) -> Result<Option<ChainSnapshot>> {
        let label = format!("{symbol} {param}");
        let found = self.select(
            "find snapshot",
            &label,
            sql,
            &[&symbol.as_str(), &param],
            |row| {
                let r = Reader::new("chain_snapshots", row, &label);
                Ok((
                    r.int(0, "snapshot_id")?,
                    r.req(1, "as_of")?,
                    r.req(2, "underlying_price")?,
                ))
            },
        )?;
        found
            .into_iter()
            .next()
            .map(|(id, at, price)| self.load_snapshot(symbol, id, at, price))
            .transpose()
    }
}

/// The chain statements: the queries that read quotes (in [`read_quote`]'s column order), and
/// the move of staged quotes into `option_quotes`.
mod sql {
    /// Staged quotes into `option_quotes`, skipping rows whose values are unchanged.
    pub(super) const MERGE_STAGE: &str = "INSERT INTO option_quotes SELECT * FROM quote_stage
        ON CONFLICT (snapshot_id, contract) DO UPDATE SET
            bid = EXCLUDED.bid, ask = EXCLUDED.ask, last = EXCLUDED.last,
            volume = EXCLUDED.volume, open_interest = EXCLUDED.open_interest,
            updated_at = EXCLUDED.updated_at, has_vendor = EXCLUDED.has_vendor,
            vendor_iv = EXCLUDED.vendor_iv, vendor_delta = EXCLUDED.vendor_delta,
            vendor_gamma = EXCLUDED.vendor_gamma,
            vendor_theta = EXCLUDED.vendor_theta, vendor_vega = EXCLUDED.vendor_vega
        WHERE (option_quotes.bid, option_quotes.ask, option_quotes.last,
               option_quotes.volume, option_quotes.open_interest,
               option_quotes.updated_at, option_quotes.has_vendor,
               option_quotes.vendor_iv, option_quotes.vendor_delta,
               option_quotes.vendor_gamma, option_quotes.vendor_theta,
               option_quotes.vendor_vega)
           IS DISTINCT FROM
              (EXCLUDED.bid, EXCLUDED.ask, EXCLUDED.last, EXCLUDED.volume,
               EXCLUDED.open_interest, EXCLUDED.updated_at, EXCLUDED.has_vendor,
               EXCLUDED.vendor_iv, EXCLUDED.vendor_delta, EXCLUDED.vendor_gamma,
               EXCLUDED.vendor_theta, EXCLUDED.vendor_vega)";

    /// The quotes of one snapshot.
    pub(super) const LOAD_SNAPSHOT: &str = "SELECT contract, bid::text, ask::text, last::text,
        volume, open_interest, updated_at::text, has_vendor, vendor_iv, vendor_delta,
        vendor_gamma, vendor_theta, vendor_vega
        FROM option_quotes WHERE snapshot_id = $1";
    /// A contract's quotes with their snapshots' times and prices.
    pub(super) const CONTRACT_HISTORY: &str = "SELECT q.contract, q.bid::text, q.ask::text,
        q.last::text, q.volume, q.open_interest, q.updated_at::text, q.has_vendor, q.vendor_iv,
        q.vendor_delta, q.vendor_gamma, q.vendor_theta, q.vendor_vega,
        s.as_of::text, s.underlying_price::text
        FROM option_quotes q JOIN chain_snapshots s USING (snapshot_id)
        WHERE q.contract = $1 AND s.as_of >= $2::text::date
          AND s.as_of < $3::text::date + 1
        ORDER BY s.as_of";
}

impl MarketStore for PgStore {
    fn upsert_daily_bars(&mut self, symbol: &Underlying, bars: &[DailyBar]) -> Result<u64> {
        // The WHERE clause skips rows whose values are unchanged, so re-importing a file
        // rewrites nothing (and the change count says so).
        let shown = self.shown.clone();
        self.write_each(
            "upsert bars",
            symbol,
            "INSERT INTO bars (symbol, date, open, high, low, close, volume)
             VALUES ($1, $2::text::date, $3::text::numeric, $4::text::numeric,
                     $5::text::numeric, $6::text::numeric, $7)
             ON CONFLICT (symbol, date) DO UPDATE SET
                 open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                 close = EXCLUDED.close, volume = EXCLUDED.volume
             WHERE (bars.open, bars.high, bars.low, bars.close, bars.volume)
                IS DISTINCT FROM
                   (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)",
            bars,
            |tx, stmt, bar| {
                let key = format!("{symbol} {}", bar.date);
                let o = bar.ohlcv;
                tx.execute(
                    stmt,
                    &[
                        &symbol.as_str(),
                        &fmt_date(bar.date),
                        &o.open().to_string(),
                        &o.high().to_string(),
                        &o.low().to_string(),
                        &o.close().to_string(),
                        &to_i64(o.volume(), &key, "volume")?,
                    ],
                )
                .map_err(pg_err(&shown, "upsert bars", &key))
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
            "SELECT date::text, open::text, high::text, low::text, close::text, volume FROM bars
              WHERE symbol = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&symbol.as_str(), &fmt_date(from), &fmt_date(to)],
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

    /// Snapshots are upserted row by row (one per snapshot); their quotes go to the
    /// connection's temporary `quote_stage` by one text `COPY … FROM STDIN`, then into
    /// `option_quotes` by one `INSERT … SELECT … ON CONFLICT` that skips unchanged rows — all in
    /// the batch's one transaction, so a bad row, a refused constraint or a connection lost
    /// mid-`COPY` leaves the store exactly as it was.
    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64> {
        let shown = self.shown.clone();
        self.in_transaction("upsert chains", |tx, _| {
            let snap = tx
                .prepare(
                    "INSERT INTO chain_snapshots (underlying, as_of, underlying_price)
                     VALUES ($1, $2::text::timestamp, $3::text::numeric)
                     ON CONFLICT (underlying, as_of) DO UPDATE SET
                         underlying_price = EXCLUDED.underlying_price
                     WHERE chain_snapshots.underlying_price
                           IS DISTINCT FROM EXCLUDED.underlying_price",
                )
                .map_err(pg_err(&shown, "upsert chains", "chain_snapshots"))?;
            let snap_id = tx
                .prepare(
                    "SELECT snapshot_id FROM chain_snapshots
                      WHERE underlying = $1 AND as_of = $2::text::timestamp",
                )
                .map_err(pg_err(&shown, "upsert chains", "chain_snapshots"))?;
            // Snapshot ids seen in this batch: a file often holds one snapshot in many pieces.
            let mut ids: HashMap<(String, String), i64> = HashMap::new();
            let mut changed = 0u64;
            let mut rows: Vec<(i64, String, &OptionQuote)> =
                Vec::with_capacity(chains.iter().map(ChainSnapshot::len).sum());
            let mut repeated = false;
            for chain in chains {
                let underlying = chain.underlying().as_str();
                let as_of = ts_text(chain.as_of(), &underlying, "as_of")?;
                let label = format!("{underlying} {as_of}");
                let id = if let Some(&id) = ids.get(&(underlying.to_owned(), as_of.clone())) {
                    repeated = true;
                    id
                } else {
                    changed += tx
                        .execute(
                            &snap,
                            &[&underlying, &as_of, &chain.underlying_price().to_string()],
                        )
                        .map_err(pg_err(&shown, "upsert chains", &label))?;
                    let id: i64 = tx
                        .query_one(&snap_id, &[&underlying, &as_of])
                        .map_err(pg_err(&shown, "upsert chains", &label))?
                        .get(0);
                    ids.insert((underlying.to_owned(), as_of), id);
                    id
                };
                rows.extend(chain.iter().map(|q| (id, occ_text(&q.key), q)));
            }
            if repeated {
                // The same snapshot in several pieces: the last write of a quote wins, as on
                // SQLite (one INSERT … ON CONFLICT cannot touch a row twice). Every row is
                // checked first, so a bad row that a later one overrides still fails the batch.
                let mut scratch = String::new();
                for (id, occ, q) in &rows {
                    scratch.clear();
                    copy_quote(&mut scratch, *id, occ, q)?;
                }
                rows.reverse();
                let mut seen = std::collections::HashSet::with_capacity(rows.len());
                rows.retain(|(id, occ, _)| seen.insert((*id, occ.clone())));
                rows.reverse();
            }
            // In key order: the primary key's index then grows at its end.
            rows.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            copy_quotes(tx, &shown, &rows)?;
            changed += tx.execute(sql::MERGE_STAGE, &[]).map_err(pg_err(
                &shown,
                "upsert chains",
                "option_quotes",
            ))?;
            Ok(changed)
        })
    }

    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>> {
        let t = ts_text(as_of, symbol, "as_of")?;
        self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of::text, underlying_price::text FROM chain_snapshots
              WHERE underlying = $1 AND as_of = $2::text::timestamp",
            &t,
        )
    }

    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>> {
        // The day is a half-open range on the (underlying, as_of) index.
        self.find_snapshot(
            symbol,
            "SELECT snapshot_id, as_of::text, underlying_price::text FROM chain_snapshots
              WHERE underlying = $1 AND as_of >= $2::text::date AND as_of < $2::text::date + 1
              ORDER BY as_of DESC LIMIT 1",
            &fmt_date(date),
        )
    }

    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>> {
        self.select(
            "list snapshots",
            symbol,
            "SELECT as_of::text FROM chain_snapshots
              WHERE underlying = $1 AND as_of >= $2::text::date AND as_of < $2::text::date + 1
              ORDER BY as_of",
            &[&symbol.as_str(), &fmt_date(date)],
            |row| Reader::new("chain_snapshots", row, symbol).req(0, "as_of"),
        )
    }

    fn contract_history(
        &self,
        key: &ContractKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ContractObservation>> {
        let label = occ_text(key);
        self.select(
            "contract history",
            &label,
            sql::CONTRACT_HISTORY,
            &[&label, &fmt_date(from), &fmt_date(to)],
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
        let shown = self.shown.clone();
        self.write_each(
            "upsert index values",
            symbol,
            "INSERT INTO index_values (symbol, date, open, high, low, close)
             VALUES ($1, $2::text::date, $3, $4, $5, $6)
             ON CONFLICT (symbol, date) DO UPDATE SET
                 open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                 close = EXCLUDED.close
             WHERE (index_values.open, index_values.high, index_values.low, index_values.close)
                IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close)",
            values,
            |tx, stmt, v| {
                let key = format!("{symbol} {}", v.date);
                tx.execute(
                    stmt,
                    &[
                        &symbol.as_str(),
                        &fmt_date(v.date),
                        &not_nan(v.open, &key, "open")?,
                        &not_nan(v.high, &key, "high")?,
                        &not_nan(v.low, &key, "low")?,
                        &not_nan(Some(v.close), &key, "close")?,
                    ],
                )
                .map_err(pg_err(&shown, "upsert index values", &key))
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
            "SELECT date::text, open, high, low, close FROM index_values
              WHERE symbol = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&symbol.as_str(), &fmt_date(from), &fmt_date(to)],
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
        let shown = self.shown.clone();
        self.write_each(
            "upsert rates",
            &series,
            "INSERT INTO rates (series, date, published_percent, continuous)
             VALUES ($1, $2::text::date, $3, $4)
             ON CONFLICT (series, date) DO UPDATE SET
                 published_percent = EXCLUDED.published_percent,
                 continuous = EXCLUDED.continuous
             WHERE (rates.published_percent, rates.continuous)
                IS DISTINCT FROM (EXCLUDED.published_percent, EXCLUDED.continuous)",
            observations,
            |tx, stmt, o| {
                let key = format!("{series} {}", o.date);
                tx.execute(
                    stmt,
                    &[
                        &series.as_str(),
                        &fmt_date(o.date),
                        &not_nan(o.published_percent, &key, "published_percent")?,
                        &not_nan(o.continuous, &key, "continuous")?,
                    ],
                )
                .map_err(pg_err(&shown, "upsert rates", &key))
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
            "SELECT date::text, published_percent, continuous FROM rates
              WHERE series = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&series.as_str(), &fmt_date(from), &fmt_date(to)],
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
                "SELECT symbol, MIN(date)::text, MAX(date)::text, COUNT(*) FROM bars
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Chains,
                "chain_snapshots",
                "SELECT underlying, MIN(as_of)::date::text, MAX(as_of)::date::text, COUNT(*)
                   FROM chain_snapshots GROUP BY underlying ORDER BY underlying",
            ),
            (
                DataKind::IndexValues,
                "index_values",
                "SELECT symbol, MIN(date)::text, MAX(date)::text, COUNT(*) FROM index_values
                  GROUP BY symbol ORDER BY symbol",
            ),
            (
                DataKind::Rates,
                "rates",
                "SELECT series, MIN(date)::text, MAX(date)::text, COUNT(*) FROM rates
                  GROUP BY series ORDER BY series",
            ),
        ] {
            out.extend(self.select("coverage", &table, sql, &[], |row| {
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
