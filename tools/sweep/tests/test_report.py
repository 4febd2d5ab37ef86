"""The report from made-up results (no backtester, no Ray): the fold table, the heatmap's
numbers and marks, the files; and a task's command line, seen by a stand-in backtester."""

import datetime as dt
import json
import sys
import tomllib
from pathlib import Path

import pytest

from volta_sweep import report, runner
from volta_sweep.spec import load_spec, parse_spec
from volta_sweep.walkforward import curve_metrics, walk_forward

SMALL = Path(__file__).resolve().parents[3] / "sweeps" / "small.toml"


def curve(window, daily):
    """A run's curve: the starting point the day before, then `daily` growth each weekday."""
    day, eq = window.start - dt.timedelta(days=1), 100_000.0
    out = [[day.isoformat(), eq]]
    k = 0
    while day < window.end:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            k += 1
            eq *= 1 + daily + (0.001 if k % 2 else -0.001)
            out.append([day.isoformat(), eq])
    return out


def fake_results(spec):
    results = {}
    for w in spec.windows():
        for c in spec.cells():
            # Cell (1, 1) is best in training; on test windows cell (0, 0) is.
            is_train = any(f.train == w for f in spec.folds)
            daily = 0.0002 * (c.index == (1, 1)) if is_train else 0.0002 * (c.index == (0, 0))
            eq = curve(w, daily)
            results[(c.index, w.id)] = {"ok": True, "metrics": curve_metrics(eq), "equity": eq, "seconds": 0.5}
    return results


def test_the_report_shows_each_fold_in_and_out_of_sample_and_a_heatmap(tmp_path):
    spec = load_spec(SMALL)
    cells = [c.index for c in spec.cells()]
    results = fake_results(spec)
    outcomes = walk_forward(spec.folds, cells, results, spec.axes, spec.metric, spec.radius)
    timing = {"startup_s": 4.0, "runs_s": 8.0, "cluster_cpus": 2.0}
    rep = report.build(spec, cells, results, outcomes, timing)

    # Radius 1 on a 2 × 2 grid: every cell is every cell's neighbour, so the medians tie and the
    # best own training score wins.
    assert [f["chosen"] for f in rep["folds"]] == [[1, 1], [1, 1]]
    for f in rep["folds"]:
        assert f["in_sample"]["sharpe"] > f["out_of_sample"]["sharpe"]
        assert f["oos_rank"] >= 2  # the test windows favour another cell
        assert f["oos_cells"] == 4
    assert rep["throughput"]["runs_per_minute"] == pytest.approx(16 / 8 * 60)
    assert rep["throughput"]["cells_per_minute"] == pytest.approx(16 / 8 * 60 / 4)

    hm = rep["heatmap"]
    assert hm["x"]["labels"] == ["0.2", "0.25"] and hm["y"]["labels"] == ["0.5", "0.75"]
    # In-sample: the (1, 1) square is the best; out-of-sample: the (0, 0) one.
    ins, oos = hm["in_sample"], hm["out_of_sample"]
    assert ins[1][1] == max(v for row in ins for v in row)
    assert oos[0][0] == max(v for row in oos for v in row)
    assert hm["chosen"] == {"1,1": [0, 1]}

    files = report.write(tmp_path, rep)
    assert json.loads(files["json"].read_text())["folds"][0]["fold"] == 0
    svg = files["heatmap"].read_text()
    assert svg.startswith("<svg") and "f0,1" in svg
    csv = files["equity_csv"].read_text().splitlines()
    assert csv[0] == "date,equity" and csv[1].endswith(",100000.00")
    page = files["html"].read_text()
    assert "Synthetic market" in page and page.count("<svg") == 2
    text = report.text_table(rep)
    assert "walk-forward: 2 folds" in text and "cells/min" in text


def test_a_failed_run_is_listed_and_skipped(tmp_path):
    spec = load_spec(SMALL)
    cells = [c.index for c in spec.cells()]
    results = fake_results(spec)
    train0 = spec.folds[0].train.id
    results[((1, 1), train0)] = {"ok": False, "error": "strategy `iv_rank_premium` setting `short_delta` …"}
    outcomes = walk_forward(spec.folds, cells, results, spec.axes, spec.metric, spec.radius)
    assert outcomes[0].choice.cell != (1, 1)
    rep = report.build(spec, cells, results, outcomes, None)
    assert rep["failed_runs"] == [{"cell": [1, 1], "window": train0, "error": results[((1, 1), train0)]["error"]}]
    assert "runs_per_minute" not in rep["throughput"]
    assert "Failed runs (1)" in report.write(tmp_path, rep)["html"].read_text()


def test_a_store_run_passes_the_store_and_its_own_journal(tmp_path):
    """The command a task runs, seen by a stand-in for volta-backtest."""
    fake = tmp_path / "fake-backtest"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'argv.json')!r}).write_text(json.dumps(sys.argv[1:]))\n"
        "print(json.dumps({'summary': {'metrics': {'sharpe': 1.5}, 'kill_switch': None},"
        " 'equity': [{'date': '2022-01-03', 'equity': 1.0}]}))\n"
    )
    fake.chmod(0o755)
    raw = tomllib.loads(
        '[sweep]\ndata = "store"\nstore = "/data/v.db"\n[base]\nvix_index = "SYNVIX"\n[[base.strategies]]\nkind = "iv_rank_premium"\n'
        '[grid]\n"strategies.iv_rank_premium.short_delta" = [0.2, 0.25]\n'
        "[walk_forward]\nstart = 2022-01-03\nend = 2022-08-31\ntrain_months = 4\ntest_months = 2\n"
    )
    task = runner.plan(parse_spec(raw, tmp_path / "s.toml"))[1]
    keep = tmp_path / "run"
    result = runner.run_task(task, str(fake), str(keep))
    assert result["ok"] and result["metrics"]["sharpe"] == 1.5 and result["equity"] == [["2022-01-03", 1.0, 0.0]]
    argv = json.loads((tmp_path / "argv.json").read_text())
    opt = dict(zip(argv, argv[1:]))
    assert opt["--data"] == "store" and opt["--store"] == "/data/v.db"
    assert opt["--journal"] == str(keep / "report" / "journal.sqlite")
    assert (opt["--start"], opt["--end"]) == (task["start"], task["end"])
    assert "--json" in argv
    config = tomllib.loads((keep / "cell.toml").read_text())
    assert config["vix_index"] == "SYNVIX" and config["strategies"][0]["short_delta"] == 0.25
