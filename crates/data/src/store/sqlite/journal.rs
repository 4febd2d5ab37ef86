//! [`JournalStore`] on SQLite: runs, signals, orders, fills, positions and equity curves. The
//! schema is in `../migrations/` (and `docs/data.md`).

use rusqlite::params;

use super::codec::{Reader, fmt_datetime, not_nan, opt_text, side_text, to_i64};
use super::{SqliteStore, sql_err};
use crate::store::{
    EquityPoint, FillRecord, JournalStore, OrderRecord, PositionRecord, RunRecord, SignalRecord,
};
use crate::{DataError, Result};

impl JournalStore for SqliteStore {
    fn upsert_run(&mut self, run: &RunRecord) -> Result<u64> {
        self.write_each(
            "upsert run",
            &run.run_id,
            "INSERT INTO runs (run_id, mode, started_at, label, config)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (run_id) DO UPDATE SET mode = excluded.mode,
                 started_at = excluded.started_at, label = excluded.label,
                 config = excluded.config
             WHERE mode IS NOT excluded.mode OR started_at IS NOT excluded.started_at
                OR label IS NOT excluded.label OR config IS NOT excluded.config",
            std::slice::from_ref(run),
            |stmt, run| {
                stmt.execute(params![
                    run.run_id,
                    run.mode,
                    fmt_datetime(run.started_at),
                    run.label,
                    run.config
                ])
                .map_err(sql_err("upsert run", &run.run_id))
            },
        )
    }

    fn runs(&self) -> Result<Vec<RunRecord>> {
        self.select(
            "list runs",
            &"runs",
            "SELECT run_id, mode, started_at, label, config FROM runs
              ORDER BY started_at, run_id",
            [],
            |row| {
                let r = Reader::new("runs", row, &"runs");
                let run_id = r.req_text(0, "run_id")?.to_owned();
                let r = r.keyed(&run_id);
                Ok(RunRecord {
                    mode: r.req_text(1, "mode")?.to_owned(),
                    started_at: r.req(2, "started_at")?,
                    label: r.req_text(3, "label")?.to_owned(),
                    config: r.req_text(4, "config")?.to_owned(),
                    run_id,
                })
            },
        )
    }

    fn upsert_signals(&mut self, signals: &[SignalRecord]) -> Result<u64> {
        self.write_each(
            "upsert signals",
            &"signals",
            "INSERT INTO signals (run_id, at, underlying, strategy, name, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (run_id, at, underlying, strategy, name)
             DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
            signals,
            |stmt, s| {
                let key = format!("{} {} {} {}", s.run_id, s.at, s.strategy, s.name);
                let value = not_nan(Some(s.value), &key, "value")?;
                stmt.execute(params![
                    s.run_id,
                    fmt_datetime(s.at),
                    s.underlying.as_str(),
                    s.strategy,
                    s.name,
                    value
                ])
                .map_err(sql_err("upsert signals", &key))
            },
        )
    }

    fn signals(&self, run_id: &str) -> Result<Vec<SignalRecord>> {
        self.select(
            "list signals",
            &run_id,
            "SELECT at, underlying, strategy, name, value FROM signals WHERE run_id = ?1
              ORDER BY at, underlying, strategy, name",
            [run_id],
            |row| {
                let r = Reader::new("signals", row, &run_id);
                Ok(SignalRecord {
                    run_id: run_id.to_owned(),
                    at: r.req(0, "at")?,
                    underlying: r.req(1, "underlying")?,
                    strategy: r.req_text(2, "strategy")?.to_owned(),
                    name: r.req_text(3, "name")?.to_owned(),
                    value: r.real(4, "value")?,
                })
            },
        )
    }

    fn upsert_orders(&mut self, orders: &[OrderRecord]) -> Result<u64> {
        self.write_each(
            "upsert orders",
            &"orders",
            "INSERT INTO orders (order_id, run_id, created_at, instrument, side,
                 quantity, limit_price, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (order_id) DO UPDATE SET run_id = excluded.run_id,
                 created_at = excluded.created_at, instrument = excluded.instrument,
                 side = excluded.side, quantity = excluded.quantity,
                 limit_price = excluded.limit_price, status = excluded.status
             WHERE run_id IS NOT excluded.run_id
                OR created_at IS NOT excluded.created_at
                OR instrument IS NOT excluded.instrument OR side IS NOT excluded.side
                OR quantity IS NOT excluded.quantity
                OR limit_price IS NOT excluded.limit_price
                OR status IS NOT excluded.status",
            orders,
            |stmt, o| {
                let key = &o.order_id;
                stmt.execute(params![
                    o.order_id,
                    o.run_id,
                    fmt_datetime(o.created_at),
                    o.instrument,
                    side_text(o.side),
                    to_i64(o.quantity, key, "quantity")?,
                    opt_text(o.limit_price),
                    o.status,
                ])
                .map_err(sql_err("upsert orders", key))
            },
        )
    }

    fn orders(&self, run_id: &str) -> Result<Vec<OrderRecord>> {
        self.select(
            "list orders",
            &run_id,
            "SELECT order_id, created_at, instrument, side, quantity, limit_price, status
               FROM orders WHERE run_id = ?1 ORDER BY created_at, order_id",
            [run_id],
            |row| {
                let r = Reader::new("orders", row, &run_id);
                let order_id = r.req_text(0, "order_id")?.to_owned();
                let r = r.keyed(&order_id);
                Ok(OrderRecord {
                    run_id: run_id.to_owned(),
                    created_at: r.req(1, "created_at")?,
                    instrument: r.req_text(2, "instrument")?.to_owned(),
                    side: r.req(3, "side")?,
                    quantity: r.count(4, "quantity")?,
                    limit_price: r.opt(5, "limit_price")?,
                    status: r.req_text(6, "status")?.to_owned(),
                    order_id,
                })
            },
        )
    }

    fn record_fills(&mut self, fills: &[FillRecord]) -> Result<u64> {
        self.in_transaction("record fills", |tx| {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO fills (fill_id, order_id, at, quantity, price, fees)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (fill_id) DO NOTHING",
                )
                .map_err(sql_err("record fills", "fills"))?;
            // A fill already recorded must be this very fill: executions are facts, and a
            // second, different fill under the same id means the caller mixed up ids.
            let mut same = tx
                .prepare_cached(
                    "SELECT 1 FROM fills WHERE fill_id = ?1 AND order_id = ?2 AND at = ?3
                        AND quantity = ?4 AND price = ?5 AND fees = ?6",
                )
                .map_err(sql_err("record fills", "fills"))?;
            let mut changed = 0;
            for f in fills {
                let key = &f.fill_id;
                let values = params![
                    f.fill_id,
                    f.order_id,
                    fmt_datetime(f.at),
                    to_i64(f.quantity, key, "quantity")?,
                    f.price.to_string(),
                    f.fees.to_string(),
                ];
                let n = insert
                    .execute(values)
                    .map_err(sql_err("record fills", key))?;
                if n == 0 && !same.exists(values).map_err(sql_err("record fills", key))? {
                    return Err(DataError::StoreValue {
                        key: key.clone(),
                        field: "fill",
                        value: format!("{f:?}"),
                        requirement: "identical to the fill already recorded under this id",
                    });
                }
                changed += n as u64;
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
              WHERE o.run_id = ?1 ORDER BY f.at, f.fill_id",
            [run_id],
            |row| {
                let r = Reader::new("fills", row, &run_id);
                let fill_id = r.req_text(0, "fill_id")?.to_owned();
                let r = r.keyed(&fill_id);
                Ok(FillRecord {
                    order_id: r.req_text(1, "order_id")?.to_owned(),
                    at: r.req(2, "at")?,
                    quantity: r.count(3, "quantity")?,
                    price: r.req(4, "price")?,
                    fees: r.req(5, "fees")?,
                    fill_id,
                })
            },
        )
    }

    fn upsert_positions(&mut self, positions: &[PositionRecord]) -> Result<u64> {
        self.write_each(
            "upsert positions",
            &"positions",
            "INSERT INTO positions (position_id, run_id, instrument, quantity,
                 average_price, realized_pnl, opened_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (position_id) DO UPDATE SET run_id = excluded.run_id,
                 instrument = excluded.instrument, quantity = excluded.quantity,
                 average_price = excluded.average_price,
                 realized_pnl = excluded.realized_pnl, opened_at = excluded.opened_at,
                 closed_at = excluded.closed_at
             WHERE run_id IS NOT excluded.run_id
                OR instrument IS NOT excluded.instrument
                OR quantity IS NOT excluded.quantity
                OR average_price IS NOT excluded.average_price
                OR realized_pnl IS NOT excluded.realized_pnl
                OR opened_at IS NOT excluded.opened_at
                OR closed_at IS NOT excluded.closed_at",
            positions,
            |stmt, p| {
                stmt.execute(params![
                    p.position_id,
                    p.run_id,
                    p.instrument,
                    p.quantity,
                    p.average_price.to_string(),
                    p.realized_pnl.to_string(),
                    fmt_datetime(p.opened_at),
                    p.closed_at.map(fmt_datetime),
                ])
                .map_err(sql_err("upsert positions", &p.position_id))
            },
        )
    }

    fn positions(&self, run_id: &str) -> Result<Vec<PositionRecord>> {
        self.select(
            "list positions",
            &run_id,
            "SELECT position_id, instrument, quantity, average_price, realized_pnl,
                    opened_at, closed_at
               FROM positions WHERE run_id = ?1 ORDER BY opened_at, position_id",
            [run_id],
            |row| {
                let r = Reader::new("positions", row, &run_id);
                let position_id = r.req_text(0, "position_id")?.to_owned();
                let r = r.keyed(&position_id);
                Ok(PositionRecord {
                    run_id: run_id.to_owned(),
                    instrument: r.req_text(1, "instrument")?.to_owned(),
                    quantity: r.int(2, "quantity")?,
                    average_price: r.req(3, "average_price")?,
                    realized_pnl: r.req(4, "realized_pnl")?,
                    opened_at: r.req(5, "opened_at")?,
                    closed_at: r.opt(6, "closed_at")?,
                    position_id,
                })
            },
        )
    }

    fn upsert_equity(&mut self, points: &[EquityPoint]) -> Result<u64> {
        self.write_each(
            "upsert equity",
            &"equity_curve",
            "INSERT INTO equity_curve (run_id, at, cash, equity) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (run_id, at) DO UPDATE SET cash = excluded.cash,
                 equity = excluded.equity
             WHERE cash IS NOT excluded.cash OR equity IS NOT excluded.equity",
            points,
            |stmt, p| {
                let key = format!("{} {}", p.run_id, p.at);
                stmt.execute(params![
                    p.run_id,
                    fmt_datetime(p.at),
                    p.cash.to_string(),
                    p.equity.to_string()
                ])
                .map_err(sql_err("upsert equity", &key))
            },
        )
    }

    fn equity_curve(&self, run_id: &str) -> Result<Vec<EquityPoint>> {
        self.select(
            "equity curve",
            &run_id,
            "SELECT at, cash, equity FROM equity_curve WHERE run_id = ?1 ORDER BY at",
            [run_id],
            |row| {
                let r = Reader::new("equity_curve", row, &run_id);
                Ok(EquityPoint {
                    run_id: run_id.to_owned(),
                    at: r.req(0, "at")?,
                    cash: r.req(1, "cash")?,
                    equity: r.req(2, "equity")?,
                })
            },
        )
    }
}
