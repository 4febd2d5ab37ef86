//! [`MarketStore`] on PostgreSQL: the SQLite store's behaviour, statement for statement, except
//! bulk chains, which go in by `COPY` (see [`MarketStore::upsert_chains`] below).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};
use postgres::Row;
use postgres::types::ToSql;
use volta_core::{
    ChainSnapshot, ContractKey, DailyBar, OptionQuote, Price, Underlying, VendorAnalytics,
};

use super::codec::{
    COPY_BINARY_HEADER, COPY_BINARY_TRAILER, CopyRow, Reader, fmt_date, fmt_datetime, not_nan,
    occ_text, to_i64, ts_micros, ts_text,
};
use super::{PgStore, pg_err};
use crate::import::{IndexRecord, RateObservation, RateSeries};
use crate::store::{ContractObservation, Coverage, DataKind, MarketStore, packed};
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
        bid: r.opt_dec(first + 1, "bid")?,
        ask: r.opt_dec(first + 2, "ask")?,
        last: r.opt_dec(first + 3, "last")?,
        volume: r.count(first + 4, "volume")?,
        open_interest: r.count(first + 5, "open_interest")?,
        updated_at: r.opt_time(first + 6, "updated_at")?,
        vendor,
        key,
    })
}

/// Appends one quote as a binary `COPY` row of `option_quotes` (or `quote_stage`, its copy),
/// refusing what the SQLite store refuses (NaN, counts beyond 2⁶³ − 1) and times finer than
/// TIMESTAMP's microseconds.
fn copy_quote(out: &mut Vec<u8>, snapshot_id: i64, occ: &str, q: &OptionQuote) -> Result<()> {
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
        .map(|t| ts_micros(t, key, "updated_at"))
        .transpose()?;
    let mut row = CopyRow::new(out, 14);
    row.bigint(snapshot_id);
    row.text(occ);
    for price in [q.bid, q.ask, q.last] {
        row.numeric(price.map(Price::value));
    }
    row.bigint(volume);
    row.bigint(open_interest);
    row.timestamp(updated_at);
    row.boolean(q.vendor.is_some());
    for f in floats {
        row.float(f);
    }
    Ok(())
}

/// Where [`copy_quotes`] sends quotes.
#[derive(Clone, Copy)]
enum Copy {
    /// Straight into `option_quotes`: quotes of snapshots this batch created.
    Direct,
    /// Into the connection's `quote_stage`, for an upsert ([`sql::MERGE_STAGE`]).
    Staged,
}

/// Sends `rows` by one binary `COPY … FROM STDIN`, in pieces of about [`COPY_CHUNK_BYTES`];
/// returns the rows copied.
fn copy_quotes(
    tx: &mut postgres::Transaction<'_>,
    shown: &str,
    rows: &[(i64, String, &OptionQuote)],
    target: Copy,
) -> Result<u64> {
    let copy_err = |e: std::io::Error| DataError::Io {
        path: PathBuf::from(format!("{shown} (COPY option_quotes)")),
        source: e,
    };
    let statement = match target {
        Copy::Direct => sql::COPY_DIRECT,
        Copy::Staged => sql::COPY_STAGED,
    };
    let mut writer =
        tx.copy_in(statement)
            .map_err(pg_err(shown, "upsert chains", "COPY option_quotes"))?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES + 512);
    buf.extend_from_slice(COPY_BINARY_HEADER);
    for (id, occ, q) in rows {
        copy_quote(&mut buf, *id, occ, q)?;
        if buf.len() >= COPY_CHUNK_BYTES {
            writer.write_all(&buf).map_err(copy_err)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(COPY_BINARY_TRAILER);
    writer.write_all(&buf).map_err(copy_err)?;
    writer
        .finish()
        .map_err(pg_err(shown, "upsert chains", "COPY option_quotes"))
}

/// The quotes of snapshot `snapshot_id`, read from their rows in `option_quotes`.
fn quote_rows(
    client: &mut impl postgres::GenericClient,
    shown: &str,
    snapshot_id: i64,
    label: &str,
) -> Result<Vec<OptionQuote>> {
    client
        .query(sql::QUOTES_OF_SNAPSHOT, &[&snapshot_id])
        .map_err(pg_err(shown, "load chain", label))?
        .iter()
        .map(|row| read_quote(row, 0, label))
        .collect()
}

/// Writes `packed` as snapshot `snapshot_id`'s packed quotes, unless it holds them already.
fn store_packed(
    client: &mut impl postgres::GenericClient,
    shown: &str,
    snapshot_id: i64,
    packed: &[u8],
) -> Result<()> {
    client
        .execute(
            "UPDATE chain_snapshots SET packed_quotes = $2
              WHERE snapshot_id = $1 AND packed_quotes IS DISTINCT FROM $2",
            &[&snapshot_id, &packed],
        )
        .map_err(pg_err(
            shown,
            "pack chain",
            format!("snapshot {snapshot_id}"),
        ))?;
    Ok(())
}

/// Packs the quotes of each snapshot in `ids` (every snapshot when `None`) again from their
/// rows: for snapshots that existed before an upsert changed some of their rows, and for the
/// migration that added the column.
pub(super) fn repack_from_rows(
    client: &mut impl postgres::GenericClient,
    shown: &str,
    ids: Option<&[i64]>,
) -> Result<()> {
    let all: Vec<i64>;
    let ids = if let Some(ids) = ids {
        ids
    } else {
        all = client
            .query(
                "SELECT snapshot_id FROM chain_snapshots ORDER BY snapshot_id",
                &[],
            )
            .map_err(pg_err(shown, "pack chains", "chain_snapshots"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        &all
    };
    for &id in ids {
        let mut quotes = quote_rows(client, shown, id, &format!("snapshot {id}"))?;
        packed::sort_in_chain_order(&mut quotes);
        store_packed(client, shown, id, &packed::pack(&quotes))?;
    }
    Ok(())
}

impl PgStore {
    /// The snapshot that `sql` finds (see [`sql::SNAPSHOT_AT`]: its id, time, price and
    /// packed quotes, in one round trip), loaded; its quotes are read from their rows only
    /// where it has no packed value. `None` if there is none.
    fn find_snapshot(
        &self,
        symbol: &Underlying,
        sql: &'static str,
        param: &str,
    ) -> Result<Option<ChainSnapshot>> {
        let label = format!("{symbol} {param}");
        let found = self.select(
            "load chain",
            &label,
            sql,
            &[&symbol.as_str(), &param],
            |row| {
                let r = Reader::new("chain_snapshots", row, &label);
                let id = r.int(0, "snapshot_id")?;
                let as_of = r.time(1, "as_of")?;
                let price: Price = r.dec(2, "underlying_price")?;
                let label = format!("{symbol} {}", fmt_datetime(as_of));
                let quotes =
                    match r.opt_bytes(3, "packed_quotes")? {
                        Some(bytes) => Some(packed::unpack(bytes).map_err(|problem| {
                            DataError::StoreCorrupt {
                                table: "chain_snapshots",
                                column: "packed_quotes",
                                key: label.clone(),
                                value: problem,
                                expected: packed::EXPECTED,
                            }
                        })?),
                        None => None,
                    };
                Ok((id, as_of, price, quotes, label))
            },
        )?;
        let Some((id, as_of, price, quotes, label)) = found.into_iter().next() else {
            return Ok(None);
        };
        let quotes = match quotes {
            Some(q) => q,
            None => quote_rows(&mut self.lock().client, &self.shown, id, &label)?,
        };
        ChainSnapshot::try_new(as_of, symbol.clone(), price, quotes)
            .map(Some)
            .map_err(Into::into)
    }
}

/// The chain statements: the queries that read quotes (in [`read_quote`]'s column order), and
/// the move of staged quotes into `option_quotes`.
mod sql {
    /// A new snapshot with its packed quotes; nothing if it exists.
    pub(super) const INSERT_SNAPSHOT: &str =
        "INSERT INTO chain_snapshots (underlying, as_of, underlying_price,
                         packed_quotes)
                     VALUES ($1, $2::text::timestamp, $3::text::numeric, $4)
                     ON CONFLICT (underlying, as_of) DO NOTHING
                     RETURNING snapshot_id";
    /// An existing snapshot's price, where it changed.
    pub(super) const UPDATE_SNAPSHOT_PRICE: &str =
        "UPDATE chain_snapshots SET underlying_price = $3::text::numeric
                      WHERE underlying = $1 AND as_of = $2::text::timestamp
                        AND underlying_price IS DISTINCT FROM $3::text::numeric";
    /// A snapshot's id.
    pub(super) const SNAPSHOT_ID: &str = "SELECT snapshot_id FROM chain_snapshots
                      WHERE underlying = $1 AND as_of = $2::text::timestamp";
    /// Quotes of new snapshots, straight into the table.
    pub(super) const COPY_DIRECT: &str = "COPY option_quotes (snapshot_id, contract, bid, ask,
        last, volume, open_interest, updated_at, has_vendor, vendor_iv, vendor_delta,
        vendor_gamma, vendor_theta, vendor_vega) FROM STDIN (FORMAT binary)";
    /// Quotes of existing snapshots, into the staging table.
    pub(super) const COPY_STAGED: &str = "COPY quote_stage (snapshot_id, contract, bid, ask,
        last, volume, open_interest, updated_at, has_vendor, vendor_iv, vendor_delta,
        vendor_gamma, vendor_theta, vendor_vega) FROM STDIN (FORMAT binary)";
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

    /// The snapshot at a time with its packed quotes (`find_snapshot`'s columns).
    pub(super) const SNAPSHOT_AT: &str = "SELECT snapshot_id, as_of, underlying_price,
        packed_quotes FROM chain_snapshots
         WHERE underlying = $1 AND as_of = $2::text::timestamp";
    /// The last snapshot of a day with its packed quotes (the day is a half-open range on the
    /// (underlying, `as_of`) index).
    pub(super) const SNAPSHOT_ON: &str = "SELECT snapshot_id, as_of, underlying_price,
        packed_quotes FROM chain_snapshots
         WHERE underlying = $1 AND as_of >= $2::text::date AND as_of < $2::text::date + 1
         ORDER BY as_of DESC LIMIT 1";
    /// One snapshot's quotes, from their rows (`read_quote`'s columns).
    pub(super) const QUOTES_OF_SNAPSHOT: &str = "SELECT contract, bid, ask, last, volume,
        open_interest, updated_at, has_vendor, vendor_iv, vendor_delta, vendor_gamma,
        vendor_theta, vendor_vega
        FROM option_quotes WHERE snapshot_id = $1";
    /// A contract's quotes with their snapshots' times and prices.
    pub(super) const CONTRACT_HISTORY: &str = "SELECT q.contract, q.bid, q.ask,
        q.last, q.volume, q.open_interest, q.updated_at, q.has_vendor, q.vendor_iv,
        q.vendor_delta, q.vendor_gamma, q.vendor_theta, q.vendor_vega,
        s.as_of, s.underlying_price
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
            "SELECT date, open, high, low, close, volume FROM bars
              WHERE symbol = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&symbol.as_str(), &fmt_date(from), &fmt_date(to)],
            |row| {
                let r = Reader::new("bars", row, symbol);
                let date = r.date(0, "date")?;
                let key = format!("{symbol} {date}");
                let r = r.keyed(&key);
                Ok(DailyBar::try_new(
                    date,
                    r.dec(1, "open")?,
                    r.dec(2, "high")?,
                    r.dec(3, "low")?,
                    r.dec(4, "close")?,
                    r.count(5, "volume")?,
                )?)
            },
        )
    }

    /// Snapshots are upserted row by row (one per snapshot). The quotes of a snapshot this
    /// batch creates go straight into `option_quotes` by one text `COPY … FROM STDIN`; those of
    /// a snapshot already stored go to the connection's temporary `quote_stage` by `COPY`, then
    /// into `option_quotes` by one `INSERT … SELECT … ON CONFLICT` that skips unchanged rows —
    /// all in the batch's one transaction, so a bad row, a refused constraint or a connection
    /// lost mid-`COPY` leaves the store exactly as it was.
    fn upsert_chains(&mut self, chains: &[ChainSnapshot]) -> Result<u64> {
        let shown = self.shown.clone();
        self.in_transaction("upsert chains", |tx, _| {
            let insert_snap = tx.prepare(sql::INSERT_SNAPSHOT).map_err(pg_err(
                &shown,
                "upsert chains",
                "chain_snapshots",
            ))?;
            let update_snap = tx.prepare(sql::UPDATE_SNAPSHOT_PRICE).map_err(pg_err(
                &shown,
                "upsert chains",
                "chain_snapshots",
            ))?;
            let snap_id = tx.prepare(sql::SNAPSHOT_ID).map_err(pg_err(
                &shown,
                "upsert chains",
                "chain_snapshots",
            ))?;
            // Snapshot ids seen in this batch (a file often holds one snapshot in many pieces),
            // and whether this batch created the snapshot: a new snapshot has no quotes yet,
            // so its quotes are copied straight into `option_quotes`; an existing one's go
            // through the staging table and an upsert.
            let mut ids: HashMap<(String, String), (i64, bool)> = HashMap::new();
            let mut touched = packed::Touched::default();
            let mut changed = 0u64;
            let mut rows: Vec<(i64, String, &OptionQuote)> =
                Vec::with_capacity(chains.iter().map(ChainSnapshot::len).sum());
            let mut repeated = false;
            for chain in chains {
                let underlying = chain.underlying().as_str();
                let as_of = ts_text(chain.as_of(), &underlying, "as_of")?;
                let label = format!("{underlying} {as_of}");
                let id = if let Some(&(id, _)) = ids.get(&(underlying.to_owned(), as_of.clone())) {
                    repeated = true;
                    id
                } else {
                    let price = chain.underlying_price().to_string();
                    // A new snapshot goes in with this piece's quotes packed (the whole chain,
                    // unless more pieces follow); a stored one keeps its value until repacked.
                    let packed = packed::pack(chain.iter());
                    let params: [&(dyn ToSql + Sync); 3] = [&underlying, &as_of, &price];
                    let insert: [&(dyn ToSql + Sync); 4] = [&underlying, &as_of, &price, &packed];
                    let err = || pg_err(&shown, "upsert chains", &label);
                    let (id, new) =
                        if let Some(row) = tx.query_opt(&insert_snap, &insert).map_err(err())? {
                            changed += 1;
                            (row.get(0), true)
                        } else {
                            changed += tx.execute(&update_snap, &params).map_err(err())?;
                            let row = tx
                                .query_one(&snap_id, &[&underlying, &as_of])
                                .map_err(err())?;
                            (row.get(0), false)
                        };
                    ids.insert((underlying.to_owned(), as_of), (id, new));
                    touched.snapshot(id, !new);
                    id
                };
                touched.piece(id, chain);
                rows.extend(chain.iter().map(|q| (id, occ_text(&q.key), q)));
            }
            if repeated {
                // The same snapshot in several pieces: the last write of a quote wins, as on
                // SQLite (a row can be written once per statement). Every row is checked
                // first, so a bad row that a later one overrides still fails the batch.
                let mut scratch = Vec::new();
                for (id, occ, q) in &rows {
                    scratch.clear();
                    copy_quote(&mut scratch, *id, occ, q)?;
                }
                rows.reverse();
                let mut seen = std::collections::HashSet::with_capacity(rows.len());
                rows.retain(|(id, occ, _)| seen.insert((*id, occ.clone())));
                rows.reverse();
            }
            let new_ids: std::collections::HashSet<i64> = ids
                .values()
                .filter(|(_, new)| *new)
                .map(|(id, _)| *id)
                .collect();
            let (fresh, existing): (Vec<_>, Vec<_>) = rows
                .into_iter()
                .partition(|(id, _, _)| new_ids.contains(id));
            for (mut part, target) in [(fresh, Copy::Direct), (existing, Copy::Staged)] {
                if part.is_empty() {
                    continue;
                }
                // In key order: the primary key's index then grows at its end.
                part.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
                let copied = copy_quotes(tx, &shown, &part, target)?;
                changed += match target {
                    Copy::Direct => copied,
                    Copy::Staged => tx.execute(sql::MERGE_STAGE, &[]).map_err(pg_err(
                        &shown,
                        "upsert chains",
                        "option_quotes",
                    ))?,
                };
            }
            let (merged, existing) = touched.rest();
            for (id, bytes) in merged {
                store_packed(tx, &shown, id, &bytes)?;
            }
            repack_from_rows(tx, &shown, Some(&existing))?;
            Ok(changed)
        })
    }

    fn chain_at(&self, symbol: &Underlying, as_of: NaiveDateTime) -> Result<Option<ChainSnapshot>> {
        let t = ts_text(as_of, symbol, "as_of")?;
        self.find_snapshot(symbol, sql::SNAPSHOT_AT, &t)
    }

    fn chain_on(&self, symbol: &Underlying, date: NaiveDate) -> Result<Option<ChainSnapshot>> {
        self.find_snapshot(symbol, sql::SNAPSHOT_ON, &fmt_date(date))
    }

    fn snapshot_times(&self, symbol: &Underlying, date: NaiveDate) -> Result<Vec<NaiveDateTime>> {
        self.select(
            "list snapshots",
            symbol,
            "SELECT as_of FROM chain_snapshots
              WHERE underlying = $1 AND as_of >= $2::text::date AND as_of < $2::text::date + 1
              ORDER BY as_of",
            &[&symbol.as_str(), &fmt_date(date)],
            |row| Reader::new("chain_snapshots", row, symbol).time(0, "as_of"),
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
                    as_of: r.time(13, "as_of")?,
                    underlying_price: r.dec(14, "underlying_price")?,
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
            "SELECT date, open, high, low, close FROM index_values
              WHERE symbol = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&symbol.as_str(), &fmt_date(from), &fmt_date(to)],
            |row| {
                let r = Reader::new("index_values", row, symbol);
                let date = r.date(0, "date")?;
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
            "SELECT date, published_percent, continuous FROM rates
              WHERE series = $1 AND date >= $2::text::date AND date <= $3::text::date
              ORDER BY date",
            &[&series.as_str(), &fmt_date(from), &fmt_date(to)],
            |row| {
                let r = Reader::new("rates", row, &series);
                let date = r.date(0, "date")?;
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
