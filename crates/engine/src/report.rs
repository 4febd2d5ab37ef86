//! The report of a run: `summary.json`, a self-contained `report.html` with
//! inline SVG charts, the charts as `equity.svg` and `drawdown.svg`, and
//! `trades.csv`.
//!
//! Every output is deterministic: the same input gives the same bytes (no
//! timestamps, no wall clock, sorted attribution buckets).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde::Serialize;

use crate::metrics::{Attribution, Bucket, EquitySample, Metrics, TradeRecord, drawdown_series};
use crate::report_error::{ReportError, Result};
use crate::yardstick::{BuyingPower, CashInterestSummary, Excess, Yardstick};

/// Chart size in pixels (width, height).
pub const CHART_SIZE: (u32, u32) = (900, 360);

/// Everything the report says about a run besides the equity curve and the
/// trade list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Name of the run, shown in the title.
    pub label: String,
    /// Run mode, e.g. `"backtest"`.
    pub mode: String,
    /// Data description, e.g. `"synthetic (seed 42)"`.
    pub data: String,
    /// Random seed of the run, if any.
    pub seed: Option<u64>,
    /// Underlying symbols traded.
    pub underlyings: Vec<String>,
    /// Plain-language provenance notes telling which chains are real and
    /// which synthetic, shown prominently near the top of the HTML report.
    pub provenance: Vec<String>,
    /// Performance metrics.
    pub metrics: Metrics,
    /// P&L attribution.
    pub attribution: Attribution,
    /// Number of orders sent.
    pub orders: usize,
    /// Number of fills received.
    pub fills: usize,
    /// Risk rejection reason → count; shown in the order given (callers sort
    /// it).
    pub rejections: Vec<(String, usize)>,
    /// Description of the kill switch firing, `None` if it did not fire.
    pub kill_switch: Option<String>,
    /// Positions still open (and marked) at the end.
    pub open_at_end: usize,
    /// The chain quality gate over the run: quotes looked at, then those excluded by reason
    /// (`missing`, `zero_bid`, `crossed`, `stale`) and those kept, in that order.
    pub quality_gate: Vec<(String, u64)>,
    /// Interest on the strategies' idle cash.
    pub cash_interest: CashInterestSummary,
    /// The buying power the strategies used, and their trading P&L on it.
    pub buying_power: BuyingPower,
    /// The yardsticks, beside the strategies (empty when switched off, or for a live run).
    pub yardsticks: Vec<Yardstick>,
}

/// Paths of the files written by [`write_report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportFiles {
    /// `summary.json`.
    pub json: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// `equity.svg`.
    pub equity_svg: PathBuf,
    /// `drawdown.svg`.
    pub drawdown_svg: PathBuf,
    /// `trades.csv`.
    pub trades_csv: PathBuf,
}

/// The summary as pretty-printed JSON with a trailing newline. Dates are
/// ISO 8601 strings, fractions and dollars plain numbers; non-finite numbers
/// become `null`. Byte-identical for identical input.
///
/// # Errors
/// [`ReportError::Json`] if serialisation fails.
pub fn summary_json(summary: &Summary) -> Result<String> {
    let mut s = serde_json::to_string_pretty(summary)?;
    s.push('\n');
    Ok(s)
}

/// Maps a plotting error of the named chart to [`ReportError::Plot`].
fn plot_err<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> ReportError {
    move |e| ReportError::Plot {
        chart,
        message: e.to_string(),
    }
}

/// Date range of the x axis, widened by a day each side for a single sample.
fn date_range(equity: &[EquitySample]) -> Result<(NaiveDate, NaiveDate)> {
    let (Some(first), Some(last)) = (equity.first(), equity.last()) else {
        return Err(ReportError::EmptyEquity);
    };
    if first.date < last.date {
        Ok((first.date, last.date))
    } else {
        Ok((
            first.date.pred_opt().unwrap_or(first.date),
            last.date.succ_opt().unwrap_or(last.date),
        ))
    }
}

/// Checks that every equity value is finite, so the chart ranges are.
fn check_finite(equity: &[EquitySample]) -> Result<()> {
    match equity.iter().find(|s| !s.equity.is_finite()) {
        Some(s) => Err(ReportError::NonFiniteSample {
            date: s.date,
            field: "equity",
            value: s.equity,
        }),
        None => Ok(()),
    }
}

/// Line chart of equity (dollars) against date, [`CHART_SIZE`] pixels, as an
/// SVG document. A single sample or a flat curve gets a widened range.
///
/// # Errors
/// [`ReportError::EmptyEquity`] for no samples,
/// [`ReportError::NonFiniteSample`] for a non-finite equity and
/// [`ReportError::Plot`] if drawing fails.
pub fn equity_svg(equity: &[EquitySample]) -> Result<String> {
    check_finite(equity)?;
    let lo = equity
        .iter()
        .map(|s| s.equity)
        .fold(f64::INFINITY, f64::min);
    let hi = equity
        .iter()
        .map(|s| s.equity)
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        (hi.abs() * 0.01).max(1.0)
    };
    let axes = DatedAxes {
        chart: "equity",
        caption: "Equity (dollars)",
        dates: date_range(equity)?,
        values: (lo - pad)..(hi + pad),
        format_value: &|v| dollars_rounded(*v),
    };
    axes.draw(|chart| {
        chart
            .draw_series(LineSeries::new(
                equity.iter().map(|s| (s.date, s.equity)),
                BLUE.stroke_width(2),
            ))
            .map(|_| ())
    })
}

/// Drawdown below the running peak in percent (0 or negative) against date,
/// as a shaded area with a line, [`CHART_SIZE`] pixels, as an SVG document.
///
/// # Errors
/// As [`equity_svg`].
pub fn drawdown_svg(equity: &[EquitySample]) -> Result<String> {
    check_finite(equity)?;
    let points: Vec<(NaiveDate, f64)> = equity
        .iter()
        .zip(drawdown_series(equity))
        .map(|(s, dd)| (s.date, -100.0 * dd))
        .collect();
    let deepest = points.iter().map(|p| p.1).fold(0.0, f64::min);
    let lo = (deepest * 1.05).min(-1.0);
    let axes = DatedAxes {
        chart: "drawdown",
        caption: "Drawdown (% below running peak)",
        dates: date_range(equity)?,
        values: lo..(-lo * 0.02),
        format_value: &|v| format!("{v:.1} %"),
    };
    axes.draw(|chart| {
        let mut area = points.clone();
        if let (Some(first), Some(last)) = (points.first(), points.last()) {
            area.push((last.0, 0.0));
            area.push((first.0, 0.0));
        }
        chart.draw_series(std::iter::once(Polygon::new(area, RED.mix(0.25).filled())))?;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), RED.stroke_width(2)))
            .map(|_| ())
    })
}

/// The chart's frame shared by both charts: dates across, values up, a caption and a mesh.
struct DatedAxes<'a> {
    chart: &'static str,
    caption: &'a str,
    dates: (NaiveDate, NaiveDate),
    values: std::ops::Range<f64>,
    format_value: &'a dyn Fn(&f64) -> String,
}

type DatedChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedDate<NaiveDate>, RangedCoordf64>>;
type PlotResult = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

impl DatedAxes<'_> {
    /// Draws the frame into an SVG document, then the series `series` draws.
    fn draw(self, series: impl FnOnce(&mut DatedChart<'_, '_>) -> PlotResult) -> Result<String> {
        let chart_name = self.chart;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, CHART_SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err(chart_name))?;
            let mut chart = ChartBuilder::on(&root)
                .caption(self.caption, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(90)
                .build_cartesian_2d(self.dates.0..self.dates.1, self.values)
                .map_err(plot_err(chart_name))?;
            chart
                .configure_mesh()
                .x_labels(8)
                .y_labels(6)
                .x_label_formatter(&|d: &NaiveDate| d.to_string())
                .y_label_formatter(self.format_value)
                .draw()
                .map_err(plot_err(chart_name))?;
            series(&mut chart).map_err(plot_err(chart_name))?;
            root.present().map_err(plot_err(chart_name))?;
        }
        Ok(buf)
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Inserts thousands separators into a string of ASCII digits.
fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars with thousands separators and 2 decimals, e.g. `-$1,234.50`;
/// `n/a` if not finite.
pub(crate) fn dollars(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let abs = format!("{:.2}", x.abs());
    let (int, frac) = abs.split_once('.').unwrap_or((&abs, "00"));
    let sign = if x < 0.0 && abs != "0.00" { "-" } else { "" };
    format!("{sign}${}.{frac}", group_thousands(int))
}

/// Dollars rounded to whole dollars with thousands separators (axis labels).
fn dollars_rounded(x: f64) -> String {
    let abs = format!("{:.0}", x.abs());
    let sign = if x < 0.0 && abs != "0" { "-" } else { "" };
    format!("{sign}${}", group_thousands(&abs))
}

/// A fraction as a percentage with 2 decimals, e.g. `12.34 %`; `n/a` if not
/// finite.
fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2} %", x * 100.0)
    } else {
        "n/a".to_owned()
    }
}

/// A ratio with 2 decimals; `n/a` if not finite.
fn ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "n/a".to_owned()
    }
}

/// An optional date, `–` when absent.
fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "–".to_owned(), |d| d.to_string())
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
margin:2em auto;max-width:1000px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\
.provenance{border:2px solid #c77700;background:#fff6e5;padding:.6em 1em;margin:1em 0}\
.provenance h2{margin-top:0;border:0}.neg{color:#b00}.muted{color:#666}\
figure{margin:1em 0}svg{max-width:100%;height:auto}";

/// One attribution table.
fn attribution_table(html: &mut String, title: &str, buckets: &[Bucket]) -> std::fmt::Result {
    writeln!(html, "<h3>{}</h3>", escape(title))?;
    if buckets.is_empty() {
        return writeln!(html, "<p class=\"muted\">No trades.</p>");
    }
    writeln!(
        html,
        "<table><tr><th>{}</th><th>Trades</th><th>Wins</th><th>Win rate</th>\
         <th>P&amp;L</th><th>Fees</th></tr>",
        escape(title)
    )?;
    for b in buckets {
        let win_rate = if b.trades == 0 {
            0.0
        } else {
            b.wins as f64 / b.trades as f64
        };
        writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n{}\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&b.key),
            b.trades,
            b.wins,
            pct(win_rate),
            if b.pnl < 0.0 { " neg" } else { "" },
            dollars(b.pnl),
            dollars(b.fees)
        )?;
    }
    writeln!(html, "</table>")
}

/// The metrics table rows: label and formatted value.
fn metric_rows(s: &Summary) -> Vec<(&'static str, String)> {
    let m = &s.metrics;
    vec![
        ("Sessions", m.sessions.to_string()),
        ("Starting equity", dollars(m.starting_equity)),
        ("Ending equity", dollars(m.ending_equity)),
        ("Total return", pct(m.total_return)),
        ("Annualised return", pct(m.annualised_return)),
        ("Annualised volatility", pct(m.annualised_volatility)),
        (sharpe_label(m), ratio(m.sharpe)),
        (sortino_label(m), ratio(m.sortino)),
        ("Calmar", ratio(m.calmar)),
        ("Max drawdown", pct(m.max_drawdown)),
        ("Max drawdown peak", opt_date(m.max_drawdown_start)),
        ("Max drawdown trough", opt_date(m.max_drawdown_trough)),
        (
            "Worst month",
            format!(
                "{} ({})",
                pct(m.worst_month),
                m.worst_month_of.as_deref().unwrap_or("–")
            ),
        ),
        (
            "Longest drawdown (sessions)",
            m.max_drawdown_sessions.to_string(),
        ),
        ("Closed trades", m.trades.to_string()),
        ("Win rate", pct(m.win_rate)),
        (
            "Profit factor",
            m.profit_factor.map_or_else(|| "n/a".to_owned(), ratio),
        ),
        ("Average win", dollars(m.average_win)),
        ("Average loss", dollars(m.average_loss)),
        ("Exposure (sessions with positions)", pct(m.exposure)),
        ("Fees paid", dollars(m.fees_paid)),
        ("Interest on idle cash", dollars(s.cash_interest.earned)),
        ("Mean buying power used", dollars(s.buying_power.mean)),
        (
            "Return on buying power (annualised)",
            s.buying_power
                .annualised_return_on_mean
                .map_or_else(|| "n/a".to_owned(), pct),
        ),
        ("Orders", s.orders.to_string()),
        ("Fills", s.fills.to_string()),
        ("Open at end", s.open_at_end.to_string()),
    ]
}

/// The sentence on interest: which rate, on what, how much.
fn interest_note(s: &Summary) -> String {
    let i = &s.cash_interest;
    let Some(source) = &i.source else {
        return "Idle cash earned no interest in this run.".to_owned();
    };
    let mean = i
        .mean_rate
        .map_or_else(String::new, |r| format!(" (mean {})", pct(r)));
    let on = if i.collateral_earns_interest {
        "on all cash, the positions' collateral included"
    } else {
        "on cash above what the open positions hold as collateral (their worst loss plus the \
         premium taken in)"
    };
    format!(
        "Idle cash earns {source}{mean}, accrued daily ACT/360 {on}, in every account of the \
         run: {} for the strategies.",
        dollars(i.earned)
    )
}

/// The yardsticks beside the strategies: one column each, then the strategies' excess.
fn yardstick_section(h: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(h, "<h2>Yardsticks</h2>")?;
    writeln!(h, "<p>{}</p>", escape(&interest_note(s)))?;
    if s.yardsticks.is_empty() {
        return writeln!(h, "<p class=\"muted\">No yardstick ran.</p>");
    }
    writeln!(h, "<ul>")?;
    for y in &s.yardsticks {
        writeln!(
            h,
            "<li><strong>{}</strong>: {}</li>",
            escape(&y.name),
            escape(&y.description)
        )?;
    }
    write!(h, "</ul>\n<table><tr><th></th><th>strategies</th>")?;
    for y in &s.yardsticks {
        write!(h, "<th>{}</th>", escape(&y.name))?;
    }
    writeln!(h, "</tr>")?;
    let metric_rows: [Row<Metrics>; 7] = [
        ("Total return", |m| pct(m.total_return)),
        ("Annualised return", |m| pct(m.annualised_return)),
        ("Annualised volatility", |m| pct(m.annualised_volatility)),
        (sharpe_label(&s.metrics), |m| ratio(m.sharpe)),
        (sortino_label(&s.metrics), |m| ratio(m.sortino)),
        ("Max drawdown", |m| pct(m.max_drawdown)),
        ("Worst month", |m| pct(m.worst_month)),
    ];
    let ys = &s.yardsticks;
    for (label, cell) in metric_rows {
        let rest = ys.iter().map(|y| cell(&y.metrics));
        yardstick_row(h, label, cell(&s.metrics), rest)?;
    }
    let interest = ys.iter().map(|y| dollars(y.interest_earned));
    yardstick_row(
        h,
        "Interest on idle cash",
        dollars(s.cash_interest.earned),
        interest,
    )?;
    let used = ys.iter().map(|y| dollars(y.buying_power.mean));
    yardstick_row(
        h,
        "Mean buying power used",
        dollars(s.buying_power.mean),
        used,
    )?;
    let robp = |b: &BuyingPower| {
        b.annualised_return_on_mean
            .map_or_else(|| "n/a".to_owned(), pct)
    };
    let returns = ys.iter().map(|y| robp(&y.buying_power));
    yardstick_row(
        h,
        "Return on buying power (annualised)",
        robp(&s.buying_power),
        returns,
    )?;
    let excess_rows: [Row<Excess>; 3] = [
        ("Strategies' excess: annualised return", |e| {
            pct(e.annualised_return)
        }),
        ("Strategies' excess: Sharpe", |e| ratio(e.sharpe)),
        ("Strategies' excess: max drawdown", |e| pct(e.max_drawdown)),
    ];
    for (label, cell) in excess_rows {
        let rest = ys.iter().map(|y| cell(&y.strategies_excess));
        yardstick_row(h, label, "–".to_owned(), rest)?;
    }
    writeln!(h, "</table>")
}

/// The Sharpe ratio's label: over the short rate, or over zero.
fn sharpe_label(m: &Metrics) -> &'static str {
    if m.risk_free_rate == 0.0 {
        "Sharpe (risk-free 0)"
    } else {
        "Sharpe (over the short rate)"
    }
}

/// The Sortino ratio's label: its target, the short rate or zero.
fn sortino_label(m: &Metrics) -> &'static str {
    if m.risk_free_rate == 0.0 {
        "Sortino (target 0)"
    } else {
        "Sortino (target the short rate)"
    }
}

/// A row of the yardstick table: its label and how a cell reads its figure from a `T`.
type Row<T> = (&'static str, fn(&T) -> String);

/// One row of the yardstick table: the strategies' cell, then each yardstick's.
fn yardstick_row(
    h: &mut String,
    label: &str,
    strategies: String,
    yardsticks: impl Iterator<Item = String>,
) -> std::fmt::Result {
    write!(h, "<tr><th>{}</th>", escape(label))?;
    for value in std::iter::once(strategies).chain(yardsticks) {
        write!(h, "<td class=\"n\">{}</td>", escape(&value))?;
    }
    writeln!(h, "</tr>")
}

/// The list of all trades.
fn trade_table(h: &mut String, trades: &[TradeRecord]) -> std::fmt::Result {
    writeln!(h, "<h2>Trades ({})</h2>", trades.len())?;
    if trades.is_empty() {
        writeln!(h, "<p class=\"muted\">No trades.</p>")?;
    } else {
        writeln!(
            h,
            "<table><tr><th>Position</th><th>Strategy</th><th>Underlying</th>\
             <th>Regime</th><th>Structure</th><th>Opened</th><th>Closed</th>\
             <th>Qty</th><th>Entry</th><th>Exit</th><th>Reason</th><th>P&amp;L</th>\
             <th>Fees</th></tr>"
        )?;
        for t in trades {
            writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td>{}</td><td class=\"n{}\">{}</td>\
                 <td class=\"n\">{}</td></tr>",
                escape(&t.position_id),
                escape(&t.strategy),
                escape(&t.underlying),
                escape(&t.regime),
                escape(&t.structure),
                t.opened,
                opt_date(t.closed),
                t.quantity,
                dollars(t.entry_price),
                t.exit_price.map_or_else(|| "–".to_owned(), dollars),
                escape(&t.exit_reason),
                if t.pnl < 0.0 { " neg" } else { "" },
                dollars(t.pnl),
                dollars(t.fees)
            )?;
        }
        writeln!(h, "</table>")?;
    }
    Ok(())
}

/// Builds the HTML document given the two charts.
fn build_html(
    s: &Summary,
    equity_chart: &str,
    drawdown_chart: &str,
    trades: &[TradeRecord],
) -> std::result::Result<String, std::fmt::Error> {
    let m = &s.metrics;
    let mut h = String::new();
    let title = format!("{} — {} to {}", s.label, m.start, m.end);
    writeln!(h, "<!DOCTYPE html>")?;
    writeln!(h, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(h, "<title>{}</title>", escape(&title))?;
    writeln!(h, "<style>{CSS}</style>\n</head>\n<body>")?;
    writeln!(h, "<h1>{}</h1>", escape(&title))?;
    let seed = s.seed.map_or_else(String::new, |v| format!(", seed {v}"));
    writeln!(
        h,
        "<p>Mode: {} · Data: {}{} · Underlyings: {}</p>",
        escape(&s.mode),
        escape(&s.data),
        seed,
        escape(&s.underlyings.join(", "))
    )?;

    writeln!(
        h,
        "<section class=\"provenance\">\n<h2>Data provenance</h2>"
    )?;
    if s.provenance.is_empty() {
        writeln!(h, "<p>No provenance notes were given.</p>")?;
    } else {
        writeln!(h, "<ul>")?;
        for note in &s.provenance {
            writeln!(h, "<li>{}</li>", escape(note))?;
        }
        writeln!(h, "</ul>")?;
    }
    writeln!(h, "</section>")?;

    match &s.kill_switch {
        Some(k) => writeln!(
            h,
            "<p class=\"neg\"><strong>Kill switch fired:</strong> {}</p>",
            escape(k)
        )?,
        None => writeln!(h, "<p>Kill switch: did not fire.</p>")?,
    }

    writeln!(h, "<h2>Metrics</h2>\n<table>")?;
    for (label, value) in metric_rows(s) {
        writeln!(
            h,
            "<tr><th>{}</th><td class=\"n\">{}</td></tr>",
            escape(label),
            escape(&value)
        )?;
    }
    writeln!(h, "</table>")?;

    yardstick_section(&mut h, s)?;

    writeln!(h, "<h2>Equity</h2>\n<figure>\n{equity_chart}\n</figure>")?;
    writeln!(
        h,
        "<h2>Drawdown</h2>\n<figure>\n{drawdown_chart}\n</figure>"
    )?;

    writeln!(
        h,
        "<h2>Attribution</h2>\n<p class=\"muted\">All trades; those still open \
         at the end are included at their mark.</p>"
    )?;
    attribution_table(&mut h, "Strategy", &s.attribution.by_strategy)?;
    attribution_table(&mut h, "Regime at entry", &s.attribution.by_regime)?;
    attribution_table(&mut h, "Underlying", &s.attribution.by_underlying)?;

    writeln!(h, "<h2>Risk rejections</h2>")?;
    if s.rejections.is_empty() {
        writeln!(h, "<p class=\"muted\">No risk rejections.</p>")?;
    } else {
        writeln!(h, "<table><tr><th>Reason</th><th>Count</th></tr>")?;
        for (reason, count) in &s.rejections {
            writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{count}</td></tr>",
                escape(reason)
            )?;
        }
        writeln!(h, "</table>")?;
    }

    writeln!(h, "<h2>Chain quality gate</h2>")?;
    writeln!(h, "<table><tr><th>Quotes</th><th>Count</th></tr>")?;
    for (what, count) in &s.quality_gate {
        writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(what),
            group_thousands(&count.to_string())
        )?;
    }
    writeln!(h, "</table>")?;

    trade_table(&mut h, trades)?;
    writeln!(h, "</body>\n</html>")?;
    Ok(h)
}

/// The self-contained HTML report (inline CSS, both charts as inline SVG):
/// title with label and date range, provenance notes in a box near the top,
/// kill-switch line, metrics table, charts, attribution tables, risk
/// rejections and the list of all trades. Every string from the data is
/// HTML-escaped. Percentages and ratios have 2 decimals, dollars thousands
/// separators and 2 decimals. Same input, same bytes.
///
/// # Errors
/// As [`equity_svg`], or [`ReportError::Format`] if formatting fails.
pub fn render_html(
    summary: &Summary,
    equity: &[EquitySample],
    trades: &[TradeRecord],
) -> Result<String> {
    let eq = equity_svg(equity)?;
    let dd = drawdown_svg(equity)?;
    Ok(build_html(summary, &eq, &dd, trades)?)
}

/// Quotes a CSV field if it contains a comma, quote or line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `trades.csv`: a header and one row per trade. Dates ISO 8601, prices and
/// dollars as shortest round-trip decimals, empty `closed` / `exit_price`
/// when absent.
fn trades_csv(trades: &[TradeRecord]) -> String {
    let mut out = String::from(
        "position_id,strategy,underlying,regime,structure,opened,closed,quantity,\
         entry_price,exit_price,exit_reason,pnl,fees\n",
    );
    for t in trades {
        let row = [
            csv_field(&t.position_id),
            csv_field(&t.strategy),
            csv_field(&t.underlying),
            csv_field(&t.regime),
            csv_field(&t.structure),
            t.opened.to_string(),
            t.closed.map(|d| d.to_string()).unwrap_or_default(),
            t.quantity.to_string(),
            t.entry_price.to_string(),
            t.exit_price.map(|p| p.to_string()).unwrap_or_default(),
            csv_field(&t.exit_reason),
            t.pnl.to_string(),
            t.fees.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Creates `dir` (and parents) and writes `summary.json`, `report.html`,
/// `equity.svg`, `drawdown.svg` and `trades.csv` into it, replacing existing
/// files. Everything is rendered before anything is written.
///
/// # Errors
/// As [`summary_json`] and [`render_html`], or [`ReportError::Io`] naming
/// the directory or file that could not be written.
pub fn write_report(
    dir: &Path,
    summary: &Summary,
    equity: &[EquitySample],
    trades: &[TradeRecord],
) -> Result<ReportFiles> {
    let json = summary_json(summary)?;
    let eq = equity_svg(equity)?;
    let dd = drawdown_svg(equity)?;
    let html = build_html(summary, &eq, &dd, trades)?;
    let csv = trades_csv(trades);

    fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = ReportFiles {
        json: dir.join("summary.json"),
        html: dir.join("report.html"),
        equity_svg: dir.join("equity.svg"),
        drawdown_svg: dir.join("drawdown.svg"),
        trades_csv: dir.join("trades.csv"),
    };
    for (path, contents) in [
        (&files.json, &json),
        (&files.html, &html),
        (&files.equity_svg, &eq),
        (&files.drawdown_svg, &dd),
        (&files.trades_csv, &csv),
    ] {
        fs::write(path, contents).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::{curve, d, trade, trades};

    fn summary() -> Summary {
        let t = tagged_trades();
        Summary {
            label: "demo & test".to_owned(),
            mode: "backtest".to_owned(),
            data: "synthetic (seed 42)".to_owned(),
            seed: Some(42),
            underlyings: vec!["SPY".to_owned(), "QQQ".to_owned()],
            provenance: vec![
                "SPY chains are synthetic: priced with the synthetic smile model \
                 from the real SPY bars and VIX closes"
                    .to_owned(),
            ],
            metrics: Metrics::compute(&curve(), &t, 10.0).unwrap(),
            attribution: Attribution::from_trades(&t),
            orders: 12,
            fills: 10,
            rejections: vec![
                ("max_positions".to_owned(), 3),
                ("buying_power".to_owned(), 1),
            ],
            kill_switch: Some("daily loss 5.2 % > 5 % on 2024-03-06".to_owned()),
            open_at_end: 1,
            quality_gate: vec![("total".to_owned(), 12_000), ("kept".to_owned(), 11_500)],
            cash_interest: CashInterestSummary {
                source: Some("the synthetic market's rate".to_owned()),
                mean_rate: Some(0.02),
                collateral_earns_interest: false,
                earned: 123.45,
            },
            buying_power: BuyingPower::measure(&curve(), &[0.0, 50.0, 50.0, 0.0, 0.0], 0.0),
            yardsticks: vec![Yardstick {
                name: "buy_and_hold".to_owned(),
                description: "SPY <bought> at the first close".to_owned(),
                metrics: Metrics::compute(&curve(), &[], 0.0).unwrap(),
                interest_earned: 0.0,
                buying_power: BuyingPower::measure(&curve(), &[0.0; 5], 0.0),
                strategies_excess: crate::yardstick::Excess::of(
                    &Metrics::compute(&curve(), &t, 10.0).unwrap(),
                    &Metrics::compute(&curve(), &[], 0.0).unwrap(),
                ),
            }],
        }
    }

    fn tagged_trades() -> Vec<TradeRecord> {
        let mut t = trades();
        t[0].strategy = "<script>alert(1)</script>".to_owned();
        t
    }

    #[test]
    fn escape_html() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ü"), "plain ü");
    }

    #[test]
    fn number_formats() {
        assert_eq!(dollars(1_234_567.891), "$1,234,567.89");
        assert_eq!(dollars(-1234.5), "-$1,234.50");
        assert_eq!(dollars(999.999), "$1,000.00");
        assert_eq!(dollars(-0.001), "$0.00");
        assert_eq!(dollars(12.0), "$12.00");
        assert_eq!(dollars(f64::NAN), "n/a");
        assert_eq!(dollars_rounded(-1_500_000.0), "-$1,500,000");
        assert_eq!(pct(0.21), "21.00 %");
        assert_eq!(pct(-0.123_45), "-12.35 %");
        assert_eq!(ratio(7.764_632), "7.76");
        assert_eq!(group_thousands("100000"), "100,000");
        assert_eq!(group_thousands("1000000"), "1,000,000");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        let mut t = trade("p,1", "wheel", "calm", "SPY", false, -1.5);
        t.structure = "iron \"condor\"".to_owned();
        let csv = trades_csv(&[t]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            "\"p,1\",wheel,SPY,calm,\"iron \"\"condor\"\"\",2024-03-04,,1,-1.25,,open at end,-1.5,2"
        );
    }

    #[test]
    fn json_is_deterministic_and_parses() {
        let s = summary();
        let a = summary_json(&s).unwrap();
        let b = summary_json(&s.clone()).unwrap();
        assert_eq!(a, b);
        assert!(a.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&a).unwrap();
        let tr = v["metrics"]["total_return"].as_f64().unwrap();
        assert!((tr - 0.21).abs() < 1e-12, "{tr}");
        assert_eq!(v["metrics"]["start"], "2024-03-04");
        assert_eq!(v["metrics"]["max_drawdown_trough"], "2024-03-06");
        assert_eq!(v["metrics"]["profit_factor"], 3.0);
        assert_eq!(v["rejections"][0][1], 3);
        // The yardsticks, the interest and the buying power.
        assert_eq!(v["yardsticks"][0]["name"], "buy_and_hold");
        assert_eq!(v["yardsticks"][0]["metrics"]["total_return"], tr);
        assert_eq!(v["yardsticks"][0]["strategies_excess"]["total_return"], 0.0);
        assert_eq!(v["cash_interest"]["earned"], 123.45);
        assert_eq!(v["cash_interest"]["collateral_earns_interest"], false);
        assert_eq!(v["buying_power"]["peak"], 50.0);
        assert!(v["metrics"]["worst_month"].is_number());
        assert_eq!(
            v["attribution"]["by_strategy"][0]["key"],
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn html_escapes_and_is_deterministic() {
        let s = summary();
        let t = tagged_trades();
        let html = render_html(&s, &curve(), &t).unwrap();
        assert_eq!(html, render_html(&s, &curve(), &t).unwrap());
        assert!(html.contains(
            "SPY chains are synthetic: priced with the synthetic smile model from the real SPY bars"
        ));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("<title>demo &amp; test — 2024-03-04 to 2024-03-08</title>"));
        assert!(html.contains("<th>Profit factor</th><td class=\"n\">3.00</td>"));
        assert!(html.contains("<th>Total return</th><td class=\"n\">21.00 %</td>"));
        assert!(html.contains("Kill switch fired:"));
        assert!(html.contains("<td>max_positions</td><td class=\"n\">3</td>"));
        // Provenance box comes before the metrics table.
        assert!(html.find("Data provenance").unwrap() < html.find("<h2>Metrics").unwrap());
        // All five trades listed (open one included).
        assert!(html.contains("<h2>Trades (5)</h2>"));
        // The yardsticks beside the strategies, escaped, after the metrics.
        assert!(html.find("<h2>Yardsticks").unwrap() > html.find("<h2>Metrics").unwrap());
        assert!(html.contains("SPY &lt;bought&gt; at the first close"));
        assert!(html.contains("<th>strategies</th><th>buy_and_hold</th>"));
        assert!(html.contains("Idle cash earns the synthetic market&#39;s rate (mean 2.00 %)"));
        assert!(html.contains("open at end"));
    }

    #[test]
    fn profit_factor_na_in_html() {
        let mut s = summary();
        s.metrics.profit_factor = None;
        s.kill_switch = None;
        let html = render_html(&s, &curve(), &[]).unwrap();
        assert!(html.contains("<th>Profit factor</th><td class=\"n\">n/a</td>"));
        assert!(html.contains("Kill switch: did not fire."));
    }

    #[test]
    fn charts_handle_single_and_flat_curves() {
        let one = &curve()[..1];
        assert!(equity_svg(one).unwrap().starts_with("<svg"));
        assert!(drawdown_svg(one).unwrap().starts_with("<svg"));
        let mut flat = curve();
        for s in &mut flat {
            s.equity = 1000.0;
        }
        assert!(equity_svg(&flat).unwrap().contains("<polyline"));
        assert!(drawdown_svg(&flat).is_ok());
        assert!(matches!(equity_svg(&[]), Err(ReportError::EmptyEquity)));
        let mut bad = curve();
        bad[2].equity = f64::NAN;
        assert!(matches!(
            drawdown_svg(&bad),
            Err(ReportError::NonFiniteSample { date, .. }) if date == d(6)
        ));
    }

    #[test]
    fn write_report_writes_five_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run").join("report");
        let s = summary();
        let t = tagged_trades();
        let files = write_report(&out, &s, &curve(), &t).unwrap();
        assert_eq!(files.json, out.join("summary.json"));
        let mut names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "drawdown.svg",
                "equity.svg",
                "report.html",
                "summary.json",
                "trades.csv"
            ]
        );
        assert_eq!(
            fs::read_to_string(&files.json).unwrap(),
            summary_json(&s).unwrap()
        );
        assert_eq!(
            fs::read_to_string(&files.html).unwrap(),
            render_html(&s, &curve(), &t).unwrap()
        );
        let csv = fs::read_to_string(&files.trades_csv).unwrap();
        assert_eq!(csv.lines().count(), 6);
        assert!(csv.starts_with("position_id,strategy,"));
        assert!(csv.contains("\np1,<script>alert(1)</script>,SPY,calm,put credit spread,"));
    }
}
