"""The sweep's report: every fold's choice with its in-sample and out-of-sample numbers side by
side, the stitched out-of-sample curve, and heatmaps of the grid (SVG written by hand: no
plotting library). Files: `report.html`, `report.json`, `heatmap.svg`, `oos_equity.csv`,
and a plain-text table on stdout.
"""

from __future__ import annotations

import html
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .spec import Spec
from .walkforward import FoldOutcome, Index, curve_metrics, out_of_sample_curve, score_of

# ---------------------------------------------------------------------------------------------
# Data


def cell_label(spec: Spec, index: Index) -> str:
    return ", ".join(f"{a.name}={a.label(i)}" for a, i in zip(spec.axes, index, strict=True))


def build(
    spec: Spec,
    cells: Sequence[Index],
    results: dict[tuple[Index, str], dict[str, Any]],
    outcomes: Sequence[FoldOutcome],
    timing: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    starting = float(spec.base.get("starting_cash", 100_000.0))
    oos_curve = out_of_sample_curve(outcomes, starting)
    oos = curve_metrics(oos_curve)
    m = spec.metric
    folds = []
    for o in outcomes:
        test_scores = [s for s in o.test_scores.values() if s is not None]
        chosen_test = score_of(o.test, m)
        rank = 1 + sum(1 for s in test_scores if chosen_test is not None and s > chosen_test)
        folds.append(
            {
                "fold": o.fold.number,
                "train": [o.fold.train.start.isoformat(), o.fold.train.end.isoformat()],
                "test": [o.fold.test.start.isoformat(), o.fold.test.end.isoformat()],
                "chosen": list(o.choice.cell),
                "chosen_label": cell_label(spec, o.choice.cell),
                "neighbourhood_median": o.choice.robust_score,
                "neighbourhood_size": o.choice.neighbourhood_size,
                "best_single_cell": list(o.choice.best_single),
                "best_single_score": o.choice.best_single_score,
                "in_sample": _brief(o.train),
                "out_of_sample": _brief(o.test),
                "oos_rank": rank,
                "oos_cells": len(test_scores),
                "oos_median_of_all_cells": statistics.median(test_scores) if test_scores else None,
            }
        )
    in_sample_metric = [f["in_sample"][m] for f in folds if f["in_sample"]]
    failed = [
        {"cell": list(c), "window": w, "error": r.get("error", "")[:300]}
        for (c, w), r in sorted(results.items())
        if not r.get("ok")
    ]
    runs = len(results)
    seconds = [r.get("seconds", 0.0) for r in results.values()]
    throughput: dict[str, Any] = {"runs": runs, "cells": len(cells), "windows": len(spec.windows())}
    if timing and timing.get("runs_s"):
        per_min = runs / timing["runs_s"] * 60.0
        throughput.update(
            {
                **timing,
                "runs_per_minute": round(per_min, 2),
                # A cell is one parameter set over every window of the walk-forward.
                "cells_per_minute": round(per_min / max(1, len(spec.windows())), 3),
                "mean_run_s": round(sum(seconds) / max(1, len(seconds)), 2),
            }
        )
    return {
        "name": spec.name,
        "spec": str(spec.path),
        "digest": spec.digest(),
        "data": spec.data,
        "metric": m,
        "radius": spec.radius,
        "mode": spec.mode,
        "axes": [{"name": a.name, "keys": list(a.keys), "values": list(a.values), "categorical": a.categorical} for a in spec.axes],
        "folds": folds,
        "in_sample_mean": {m: statistics.fmean(in_sample_metric) if in_sample_metric else None},
        "out_of_sample": oos,
        "out_of_sample_curve": [(d, v) for d, v, *_ in oos_curve],
        "failed_runs": failed,
        "throughput": throughput,
        "heatmap": heatmap_data(spec, cells, results, outcomes),
    }


def _brief(r: dict[str, Any] | None) -> dict[str, Any] | None:
    if r is None or not r.get("ok"):
        return None
    keys = ("sharpe", "total_return", "annualised_return", "max_drawdown", "trades", "sessions")
    return {k: r["metrics"].get(k) for k in keys}


def heatmap_data(
    spec: Spec,
    cells: Sequence[Index],
    results: dict[tuple[Index, str], dict[str, Any]],
    outcomes: Sequence[FoldOutcome],
) -> dict[str, Any]:
    """The grid on its first two axes (one axis: a single row): each square is the mean over the
    folds of the metric (training windows for in-sample, test windows for out-of-sample), the
    median over the other axes; the squares the folds chose are marked."""
    ax_x = 0
    ax_y = 1 if len(spec.axes) > 1 else None
    nx = len(spec.axes[ax_x].values)
    ny = len(spec.axes[ax_y].values) if ax_y is not None else 1

    def grid(which: str) -> list[list[float | None]]:
        out: list[list[float | None]] = []
        for j in range(ny):
            row: list[float | None] = []
            for i in range(nx):
                members = [c for c in cells if c[ax_x] == i and (ax_y is None or c[ax_y] == j)]
                per_fold = []
                for o in outcomes:
                    w = o.fold.train if which == "train" else o.fold.test
                    vals = [s for c in members if (s := score_of(results.get((c, w.id)), spec.metric)) is not None]
                    if vals:
                        per_fold.append(statistics.median(vals))
                row.append(statistics.fmean(per_fold) if per_fold else None)
            out.append(row)
        return out

    marks: dict[str, list[int]] = {}
    for o in outcomes:
        c = o.choice.cell
        key = f"{c[ax_x]},{c[ax_y] if ax_y is not None else 0}"
        marks.setdefault(key, []).append(o.fold.number)
    return {
        "x": {"name": spec.axes[ax_x].name, "labels": [spec.axes[ax_x].label(i) for i in range(nx)]},
        "y": (
            {"name": spec.axes[ax_y].name, "labels": [spec.axes[ax_y].label(j) for j in range(ny)]}
            if ax_y is not None
            else {"name": "", "labels": [""]}
        ),
        "in_sample": grid("train"),
        "out_of_sample": grid("test"),
        "chosen": marks,
    }


# ---------------------------------------------------------------------------------------------
# SVG


def _colour(v: float | None, scale: float) -> str:
    if v is None:
        return "#d9d9d9"
    t = max(-1.0, min(1.0, v / scale)) if scale > 0 else 0.0
    # Red (negative) — white (0) — green (positive).
    if t < 0:
        r, g, b = 255, int(255 * (1 + t) + 90 * -t), int(255 * (1 + t) + 80 * -t)
    else:
        r, g, b = int(255 * (1 - t) + 30 * t), int(255 * (1 - t) + 150 * t), int(255 * (1 - t) + 70 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_svg(hm: dict[str, Any], metric: str) -> str:
    """Two heatmaps side by side (in-sample | out-of-sample) on one colour scale."""
    nx, ny = len(hm["x"]["labels"]), len(hm["y"]["labels"])
    cw, ch = 64, 34
    # Room for the axis names and titles (about 6.5 px a character at 11 px).
    left = max(70, 12 + int(6.5 * max((len(t) for t in hm["y"]["labels"]), default=0)))
    top, gap = 66, 50
    pw = max(nx * cw, int(6.5 * len(hm["x"]["name"])), 230)
    width = max(left + 2 * pw + gap + 20, 700)
    height = top + ny * ch + 64
    vals = [v for g in (hm["in_sample"], hm["out_of_sample"]) for row in g for v in row if v is not None]
    scale = max((abs(v) for v in vals), default=1.0) or 1.0
    e = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">'
    ]
    for p, (title, g) in enumerate((("in-sample (training windows)", hm["in_sample"]), ("out-of-sample (test windows)", hm["out_of_sample"]))):
        x0 = left + p * (pw + gap)
        parts.append(f'<text x="{x0}" y="18" font-size="13" font-weight="bold">{e(title)}</text>')
        parts.append(f'<text x="{x0}" y="34">{e(metric)}</text>')
        for j in range(ny):
            y = top + (ny - 1 - j) * ch
            if p == 0:
                parts.append(f'<text x="{left - 6}" y="{y + ch / 2 + 4}" text-anchor="end">{e(hm["y"]["labels"][j])}</text>')
            for i in range(nx):
                v = g[j][i]
                x = x0 + i * cw
                parts.append(f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="{_colour(v, scale)}"/>')
                text = "—" if v is None else f"{v:.2f}"
                parts.append(f'<text x="{x + cw / 2 - 1}" y="{y + ch / 2 + 4}" text-anchor="middle">{e(text)}</text>')
                if f"{i},{j}" in hm["chosen"]:
                    folds = ",".join(str(k) for k in hm["chosen"][f"{i},{j}"])
                    parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 4}" height="{ch - 4}" fill="none" stroke="#000" stroke-width="2"/>')
                    parts.append(f'<text x="{x + 4}" y="{y + 10}" font-size="8">f{e(folds)}</text>')
        for i in range(nx):
            parts.append(f'<text x="{x0 + i * cw + cw / 2}" y="{top + ny * ch + 14}" text-anchor="middle">{e(hm["x"]["labels"][i])}</text>')
        parts.append(f'<text x="{x0}" y="{top + ny * ch + 32}" font-style="italic">{e(hm["x"]["name"])} →</text>')
    parts.append(f'<text x="10" y="{top - 8}" font-style="italic">↑ {e(hm["y"]["name"])}</text>')
    parts.append(
        f'<text x="10" y="{height - 6}" font-size="10">Each square: the mean over the folds of the median over any other axes; '
        f'outlined: chosen (fN: by fold N); grey: no completed run.</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def equity_svg(curve: Sequence[Sequence[Any]], folds: Sequence[dict[str, Any]]) -> str:
    w, h, pad = 760, 240, 50
    ys = [float(p[1]) for p in curve]
    lo, hi = min(ys), max(ys)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    n = len(ys)

    def px(i: int) -> float:
        return pad + (w - 2 * pad) * (i / max(1, n - 1))

    def py(v: float) -> float:
        return h - pad + (v - lo) / (hi - lo) * -(h - 2 * pad)

    pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(ys))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="10">']
    dates = [p[0] for p in curve]
    for f in folds[1:]:
        # The first session of each later test window.
        i = next((k for k, d in enumerate(dates) if d >= f["test"][0]), None)
        if i is not None:
            parts.append(f'<line x1="{px(i):.1f}" y1="{pad}" x2="{px(i):.1f}" y2="{h - pad}" stroke="#bbb" stroke-dasharray="3,3"/>')
    parts.append(f'<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="{pts}"/>')
    for v in (lo, hi):
        parts.append(f'<text x="{pad - 4}" y="{py(v) + 3:.1f}" text-anchor="end">{v:,.0f}</text>')
    parts.append(f'<text x="{pad}" y="{h - pad + 14}">{html.escape(dates[0])}</text>')
    parts.append(f'<text x="{w - pad}" y="{h - pad + 14}" text-anchor="end">{html.escape(dates[-1])}</text>')
    parts.append(f'<text x="{pad}" y="16" font-size="12" font-weight="bold">Out-of-sample equity, stitched (dashed: fold boundaries)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Text and HTML


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v * 100:.2f} %"


def _num(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.2f}"


def text_table(rep: dict[str, Any]) -> str:
    m = rep["metric"]
    lines = [
        f"walk-forward: {len(rep['folds'])} folds, selection by the median {m} of each cell's "
        f"neighbourhood (radius {rep['radius']})",
        f"{'fold':>4}  {'test window':<23}  {'IS ' + m:>9}  {'OOS ' + m:>9}  {'IS ret':>8}  {'OOS ret':>8}  "
        f"{'OOS rank':>8}  chosen",
    ]
    for f in rep["folds"]:
        is_, oos = f["in_sample"] or {}, f["out_of_sample"] or {}
        lines.append(
            f"{f['fold']:>4}  {f['test'][0] + '..' + f['test'][1]:<23}  {_num(is_.get(m)):>9}  {_num(oos.get(m)):>9}  "
            f"{_pct(is_.get('total_return')):>8}  {_pct(oos.get('total_return')):>8}  "
            f"{str(f['oos_rank']) + '/' + str(f['oos_cells']):>8}  {f['chosen_label']}"
        )
    o = rep["out_of_sample"]
    lines.append(
        f"in-sample mean {m} of the chosen cells: {_num(rep['in_sample_mean'][m])}; "
        f"out-of-sample stitched: {m} {_num(o.get(m))}, return {_pct(o['total_return'])} "
        f"({_pct(o['annualised_return'])}/yr), max drawdown {_pct(o['max_drawdown'])}"
    )
    t = rep["throughput"]
    if "runs_per_minute" in t:
        lines.append(
            f"throughput: {t['runs']} runs ({t['cells']} cells × {t['windows']} windows) in {t['runs_s']} s "
            f"on {t.get('cluster_cpus')} CPUs = {t['runs_per_minute']} runs/min, "
            f"{t['cells_per_minute']} cells/min (Ray start-up {t.get('startup_s')} s)"
        )
    if rep["failed_runs"]:
        lines.append(f"failed runs: {len(rep['failed_runs'])} (see report.json)")
    return "\n".join(lines)


def write(out_dir: Path, rep: dict[str, Any]) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    hm_svg = heatmap_svg(rep["heatmap"], rep["metric"])
    eq_svg = equity_svg(rep["out_of_sample_curve"], rep["folds"])
    files = {
        "json": out_dir / "report.json",
        "html": out_dir / "report.html",
        "heatmap": out_dir / "heatmap.svg",
        "equity_csv": out_dir / "oos_equity.csv",
    }
    files["json"].write_text(json.dumps(rep, indent=1) + "\n")
    files["heatmap"].write_text(hm_svg)
    files["equity_csv"].write_text("date,equity\n" + "".join(f"{d},{v:.2f}\n" for d, v in rep["out_of_sample_curve"]))
    files["html"].write_text(_html(rep, hm_svg, eq_svg))
    return files


def _html(rep: dict[str, Any], hm_svg: str, eq_svg: str) -> str:
    e = html.escape
    m = rep["metric"]
    rows = []
    for f in rep["folds"]:
        is_, oos = f["in_sample"] or {}, f["out_of_sample"] or {}
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{e(str(x))}</td>"
                for x in (
                    f["fold"],
                    f"{f['train'][0]} … {f['train'][1]}",
                    f"{f['test'][0]} … {f['test'][1]}",
                    f["chosen_label"],
                    f"{_num(f['neighbourhood_median'])} ({f['neighbourhood_size']} cells)",
                    _num(is_.get(m)),
                    _num(oos.get(m)),
                    _pct(is_.get("total_return")),
                    _pct(oos.get("total_return")),
                    _pct(oos.get("max_drawdown")),
                    f"{f['oos_rank']}/{f['oos_cells']}",
                    _num(f["oos_median_of_all_cells"]),
                )
            )
            + "</tr>"
        )
    o = rep["out_of_sample"]
    t = rep["throughput"]
    axes = "".join(
        f"<li><b>{e(a['name'])}</b> ({'categorical' if a['categorical'] else 'ordinal'}): "
        f"{e(', '.join(a['keys']))} ∈ {e(json.dumps(a['values']))}</li>"
        for a in rep["axes"]
    )
    synthetic = (
        "<p class=warn>Synthetic market: none of these numbers come from real market data.</p>"
        if rep["data"] == "synthetic"
        else ""
    )
    failed = ""
    if rep["failed_runs"]:
        failed = f"<h2>Failed runs ({len(rep['failed_runs'])})</h2><ul>" + "".join(
            f"<li>cell {e(str(r['cell']))}, {e(r['window'])}: <code>{e(r['error'])}</code></li>" for r in rep["failed_runs"][:50]
        ) + "</ul>"
    through = (
        f"<p>{t['runs']} runs ({t['cells']} cells × {t['windows']} windows) in {t.get('runs_s')} s on "
        f"{t.get('cluster_cpus')} CPUs: {t.get('runs_per_minute')} runs/min, {t.get('cells_per_minute')} cells/min; "
        f"Ray start-up {t.get('startup_s')} s; mean run {t.get('mean_run_s')} s.</p>"
        if "runs_per_minute" in t
        else ""
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Sweep {e(rep['name'])}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}.warn{{background:#fff3cd;padding:6px}}</style></head>
<body><h1>Walk-forward sweep: {e(rep['name'])}</h1>
{synthetic}
<p>Spec <code>{e(rep['spec'])}</code> (digest {e(rep['digest'])}), data: {e(rep['data'])}, {e(rep['mode'])} over:</p><ul>{axes}</ul>
<p>On each training window the chosen cell is the one whose neighbourhood (itself and the cells within
{rep['radius']} step(s) on every ordinal axis, the same value on categorical ones) has the best median {e(m)};
it then runs on the next test window. Test results are never used to choose; they are shown beside the
choice (its rank among all cells, and the median of all cells) to judge the selection.</p>
<h2>In-sample and out-of-sample</h2>
<table><tr><th>fold</th><th>training</th><th>test</th><th>chosen</th><th>neighbourhood median {e(m)}</th>
<th>IS {e(m)}</th><th>OOS {e(m)}</th><th>IS return</th><th>OOS return</th><th>OOS max DD</th><th>OOS rank</th><th>all cells' median OOS {e(m)}</th></tr>
{''.join(rows)}</table>
<p><b>Stitched out-of-sample</b> ({o['sessions']} points): {e(m)} {_num(o.get(m))}, return {_pct(o['total_return'])}
({_pct(o['annualised_return'])}/yr), volatility {_pct(o['annualised_volatility'])}, Sortino {_num(o['sortino'])},
max drawdown {_pct(o['max_drawdown'])}. In-sample mean {e(m)} of the chosen cells: {_num(rep['in_sample_mean'][m])}.
Each test window starts flat with the starting cash (positions do not carry across windows); positions still
open at a window's end count at their marks.</p>
{eq_svg}
<h2>The grid</h2>
{hm_svg}
{through}
{failed}
</body></html>
"""
