//! [`JournalStore`] on PostgreSQL: runs, signals, orders, fills, positions and equity curves,
//! as the SQLite store keeps them.

use super::codec::{Reader, not_nan, opt_text, side_text, to_i64, ts_text};
use super::{PgStore, pg_err};
use crate::store::{
    EquityPoint, FillRecord, JournalStore, OrderRecord, PositionRecord, RunRecord, SignalRecord,
};
use crate::{DataError, Result};

impl JournalStore for PgStore {
    fn upsert_run(&mut self, run: &RunRecord) -> Result<u64> {
        let shown = self.shown.clone();
        self.write_each(
            "upsert run",
            &run.run_id,
            "INSERT INTO runs (run_id, mode, started_at, label, config)
             VALUES ($1, $2, $3::text::timestamp, $4, $5)
             ON CONFLICT (run_id) DO UPDATE SET mode = EXCLUDED.mode,
                 started_at = EXCLUDED.started_at, label = EXCLUDED.label,
                 config = EXCLUDED.config
             WHERE (runs.mode, runs.started_at, runs.label, runs.config)
                IS DISTINCT FROM
                   (EXCLUDED.mode, EXCLUDED.started_at, EXCLUDED.label, EXCLUDED.config)",
            std::slice::from_ref(run),
            |tx, stmt, run| {
                tx.execute(
                    stmt,
                    &[
                        &run.run_id,
                        &run.mode,
                        &ts_text(run.started_at, &run.run_id, "started_at")?,
                        &run.label,
                        &run.config,
                    ],
                )
                .map_err(pg_err(&shown, "upsert run", &run.run_id))
            },
        )
    }

    fn runs(&self) -> Result<Vec<RunRecord>> {
        self.select(
            "list runs",
            &"runs",
            "SELECT run_id, mode, started_at, label, config FROM runs
              ORDER BY started_at, run_id",
            &[],
            |row| {
                let r = Reader::new("runs", row, &"runs");
                let run_id = r.req_text(0, "run_id")?.to_owned();
                let r = r.keyed(&run_id);
                Ok(RunRecord {
                    mode: r.req_text(1, "mode")?.to_owned(),
                    started_at: r.time(2, "started_at")?,
                    label: r.req_text(3, "label")?.to_owned(),
                    config: r.req_text(4, "config")?.to_owned(),
                    run_id,
                })
            },
        )
    }

    fn upsert_signals(&mut self, signals: &[SignalRecord]) -> Result<u64> {
        let shown = self.shown.clone();
        self.write_each(
            "upsert signals",
            &"signals",
            "INSERT INTO signals (run_id, at, underlying, strategy, name, value)
             VALUES ($1, $2::text::timestamp, $3, $4, $5, $6)
             ON CONFLICT (run_id, at, underlying, strategy, name)
             DO UPDATE SET value = EXCLUDED.value
             WHERE signals.value IS DISTINCT FROM EXCLUDED.value",
            signals,
            |tx, stmt, s| {
                let key = format!("{} {} {} {}", s.run_id, s.at, s.strategy, s.name);
                let value = not_nan(Some(s.value), &key, "value")?;
                tx.execute(
                    stmt,
                    &[
                        &s.run_id,
                        &ts_text(s.at, &key, "at")?,
                        &s.underlying.as_str(),
                        &s.strategy,
                        &s.name,
                        &value,
                    ],
                )
                .map_err(pg_err(&shown, "upsert signals", &key))
            },
        )
    }

    fn signals(&self, run_id: &str) -> Result<Vec<SignalRecord>> {
        self.select(
            "list signals",
            &run_id,
            "SELECT at, underlying, strategy, name, value FROM signals WHERE run_id = $1
              ORDER BY at, underlying, strategy, name",
            &[&run_id],
            |row| {
                let r = Reader::new("signals", row, &run_id);
                Ok(SignalRecord {
                    run_id: run_id.to_owned(),
                    at: r.time(0, "at")?,
                    underlying: r.req(1, "underlying")?,
                    strategy: r.req_text(2, "strategy")?.to_owned(),
                    name: r.req_text(3, "name")?.to_owned(),
                    value: r.real(4, "value")?,
                })
            },
        )
    }

    fn upsert_orders(&mut self, orders: &[OrderRecord]) -> Result<u64> {
        let shown = self.shown.clone();
        self.write_each(
            "upsert orders",
            &"orders",
            "INSERT INTO orders (order_id, run_id, created_at, instrument, side,
                 quantity, limit_price, status)
             VALUES ($1, $2, $3::text::timestamp, $4, $5, $6, $7::text::numeric, $8)
             ON CONFLICT (order_id) DO UPDATE SET run_id = EXCLUDED.run_id,
                 created_at = EXCLUDED.created_at, instrument = EXCLUDED.instrument,
                 side = EXCLUDED.side, quantity = EXCLUDED.quantity,
                 limit_price = EXCLUDED.limit_price, status = EXCLUDED.status
             WHERE (orders.run_id, orders.created_at, orders.instrument, orders.side,
                    orders.quantity, orders.limit_price, orders.status)
                IS DISTINCT FROM
                   (EXCLUDED.run_id, EXCLUDED.created_at, EXCLUDED.instrument, EXCLUDED.side,
                    EXCLUDED.quantity, EXCLUDED.limit_price, EXCLUDED.status)",
            orders,
            |tx, stmt, o| {
                let key = &o.order_id;
                tx.execute(
                    stmt,
                    &[
                        &o.order_id,
                        &o.run_id,
                        &ts_text(o.created_at, key, "created_at")?,
                        &o.instrument,
                        &side_text(o.side),
                        &to_i64(o.quantity, key, "quantity")?,
                        &opt_text(o.limit_price),
                        &o.status,
                    ],
                )
                .map_err(pg_err(&shown, "upsert orders", key))
            },
        )
    }

    fn orders(&self, run_id: &str) -> Result<Vec<OrderRecord>> {
        self.select(
            "list orders",
            &run_id,
            "SELECT order_id, created_at, instrument, side, quantity, limit_price,
                    status
               FROM orders WHERE run_id = $1 ORDER BY created_at, order_id",
            &[&run_id],
            |row| {
                let r = Reader::new("orders", row, &run_id);
                let order_id = r.req_text(0, "order_id")?.to_owned();
                let r = r.keyed(&order_id);
                Ok(OrderRecord {
                    run_id: run_id.to_owned(),
                    created_at: r.time(1, "created_at")?,
                    instrument: r.req_text(2, "instrument")?.to_owned(),
                    side: r.req(3, "side")?,
                    quantity: r.count(4, "quantity")?,
                    limit_price: r.opt_dec(5, "limit_price")?,
                    status: r.req_text(6, "status")?.to_owned(),
                    order_id,
                })
            },
        )
    }

    /// A fill is inserted if its id is new (`ON CONFLICT DO NOTHING`); if the id is known, the
    /// stored fill must be this very fill. Under concurrency the second of two writers of one
    /// id waits for the first to commit, then finds its row and compares: a fill is never
    /// rewritten and a different fill under a known id is refused.
    fn record_fills(&mut self, fills: &[FillRecord]) -> Result<u64> {
        let shown = self.shown.clone();
        self.in_transaction("record fills", |tx, _| {
            let insert = tx
                .prepare(
                    "INSERT INTO fills (fill_id, order_id, at, quantity, price, fees)
                     VALUES ($1, $2, $3::text::timestamp, $4, $5::text::numeric,
                             $6::text::numeric)
                     ON CONFLICT (fill_id) DO NOTHING",
                )
                .map_err(pg_err(&shown, "record fills", "fills"))?;
            let same = tx
                .prepare(
                    "SELECT 1 FROM fills WHERE fill_id = $1 AND order_id = $2
                        AND at = $3::text::timestamp AND quantity = $4
                        AND price = $5::text::numeric AND fees = $6::text::numeric",
                )
                .map_err(pg_err(&shown, "record fills", "fills"))?;
            let mut changed = 0;
            for f in fills {
                let key = &f.fill_id;
                let at = ts_text(f.at, key, "at")?;
                let quantity = to_i64(f.quantity, key, "quantity")?;
                let (price, fees) = (f.price.to_string(), f.fees.to_string());
                let values: [&(dyn postgres::types::ToSql + Sync); 6] =
                    [&f.fill_id, &f.order_id, &at, &quantity, &price, &fees];
                let n =
                    tx.execute(&insert, &values)
                        .map_err(pg_err(&shown, "record fills", key))?;
                if n == 0
                    && tx
                        .query_opt(&same, &values)
                        .map_err(pg_err(&shown, "record fills", key))?
                        .is_none()
                {
                    return Err(DataError::StoreValue {
                        key: key.clone(),
                        field: "fill",
                        value: format!("{f:?}"),
                        requirement: "identical to the fill already recorded under this id",
                    });
                }
                changed += n;
            }
            Ok(changed)
        })
    }

    fn fills(&self, run_id: &str) -> Result<Vec<FillRecord>> {
        self.select(
            "list fills",
            &run_id,
            "SELECT f.fill_id, f.order_id, f.at, f.quantity, f.price, f.fees
               FROM fills f JOIN orders o USING (order_id)
              WHERE o.run_id = $1 ORDER BY f.at, f.fill_id",
            &[&run_id],
            |row| {
                let r = Reader::new("fills", row, &run_id);
                let fill_id = r.req_text(0, "fill_id")?.to_owned();
                let r = r.keyed(&fill_id);
                Ok(FillRecord {
                    order_id: r.req_text(1, "order_id")?.to_owned(),
                    at: r.time(2, "at")?,
                    quantity: r.count(3, "quantity")?,
                    price: r.dec(4, "price")?,
                    fees: r.dec(5, "fees")?,
                    fill_id,
                })
            },
        )
    }

    fn upsert_positions(&mut self, positions: &[PositionRecord]) -> Result<u64> {
        let shown = self.shown.clone();
        self.write_each(
            "upsert positions",
            &"positions",
            "INSERT INTO positions (position_id, run_id, instrument, quantity,
                 average_price, realized_pnl, opened_at, closed_at)
             VALUES ($1, $2, $3, $4, $5::text::numeric, $6::text::numeric,
                     $7::text::timestamp, $8::text::timestamp)
             ON CONFLICT (position_id) DO UPDATE SET run_id = EXCLUDED.run_id,
                 instrument = EXCLUDED.instrument, quantity = EXCLUDED.quantity,
                 average_price = EXCLUDED.average_price,
                 realized_pnl = EXCLUDED.realized_pnl, opened_at = EXCLUDED.opened_at,
                 closed_at = EXCLUDED.closed_at
             WHERE (positions.run_id, positions.instrument, positions.quantity,
                    positions.average_price, positions.realized_pnl, positions.opened_at,
                    positions.closed_at)
                IS DISTINCT FROM
                   (EXCLUDED.run_id, EXCLUDED.instrument, EXCLUDED.quantity,
                    EXCLUDED.average_price, EXCLUDED.realized_pnl, EXCLUDED.opened_at,
                    EXCLUDED.closed_at)",
            positions,
            |tx, stmt, p| {
                let key = &p.position_id;
                tx.execute(
                    stmt,
                    &[
                        &p.position_id,
                        &p.run_id,
                        &p.instrument,
                        &p.quantity,
                        &p.average_price.to_string(),
                        &p.realized_pnl.to_string(),
                        &ts_text(p.opened_at, key, "opened_at")?,
                        &p.closed_at
                            .map(|t| ts_text(t, key, "closed_at"))
                            .transpose()?,
                    ],
                )
                .map_err(pg_err(&shown, "upsert positions", key))
            },
        )
    }

    fn positions(&self, run_id: &str) -> Result<Vec<PositionRecord>> {
        self.select(
            "list positions",
            &run_id,
            "SELECT position_id, instrument, quantity, average_price, realized_pnl,
                    opened_at, closed_at
               FROM positions WHERE run_id = $1 ORDER BY opened_at, position_id",
            &[&run_id],
            |row| {
                let r = Reader::new("positions", row, &run_id);
                let position_id = r.req_text(0, "position_id")?.to_owned();
                let r = r.keyed(&position_id);
                Ok(PositionRecord {
                    run_id: run_id.to_owned(),
                    instrument: r.req_text(1, "instrument")?.to_owned(),
                    quantity: r.int(2, "quantity")?,
                    average_price: r.dec(3, "average_price")?,
                    realized_pnl: r.dec(4, "realized_pnl")?,
                    opened_at: r.time(5, "opened_at")?,
                    closed_at: r.opt_time(6, "closed_at")?,
                    position_id,
                })
            },
        )
    }

    fn upsert_equity(&mut self, points: &[EquityPoint]) -> Result<u64> {
        let shown = self.shown.clone();
        self.write_each(
            "upsert equity",
            &"equity_curve",
            "INSERT INTO equity_curve (run_id, at, cash, equity)
             VALUES ($1, $2::text::timestamp, $3::text::numeric, $4::text::numeric)
             ON CONFLICT (run_id, at) DO UPDATE SET cash = EXCLUDED.cash,
                 equity = EXCLUDED.equity
             WHERE (equity_curve.cash, equity_curve.equity)
                IS DISTINCT FROM (EXCLUDED.cash, EXCLUDED.equity)",
            points,
            |tx, stmt, p| {
                let key = format!("{} {}", p.run_id, p.at);
                tx.execute(
                    stmt,
                    &[
                        &p.run_id,
                        &ts_text(p.at, &key, "at")?,
                        &p.cash.to_string(),
                        &p.equity.to_string(),
                    ],
                )
                .map_err(pg_err(&shown, "upsert equity", &key))
            },
        )
    }

    fn equity_curve(&self, run_id: &str) -> Result<Vec<EquityPoint>> {
        self.select(
            "equity curve",
            &run_id,
            "SELECT at, cash, equity FROM equity_curve WHERE run_id = $1
              ORDER BY at",
            &[&run_id],
            |row| {
                let r = Reader::new("equity_curve", row, &run_id);
                Ok(EquityPoint {
                    run_id: run_id.to_owned(),
                    at: r.time(0, "at")?,
                    cash: r.dec(1, "cash")?,
                    equity: r.dec(2, "equity")?,
                })
            },
        )
    }
}
