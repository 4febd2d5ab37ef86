"""End to end: the small sweep (sweeps/small.toml) on a local Ray head started here and stopped
afterwards, with the real `volta-backtest`; and one run through `--task-index`, without Ray.

Under CI (`CI=true`) a missing Ray or a missing binary fails these tests instead of skipping
them: CI must not go green without having run the sweep.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from volta_sweep import runner
from volta_sweep.spec import apply_overrides, dumps_toml, load_spec
from volta_sweep.walkforward import curve_metrics

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SMALL = REPO / "sweeps" / "small.toml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: the end-to-end sweep must run)")
    pytest.skip(what)


def backtest_binary() -> Path:
    if os.environ.get("VOLTA_BACKTEST"):
        candidates = [Path(os.environ["VOLTA_BACKTEST"])]
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        candidates = [target / "debug" / "volta-backtest", target / "release" / "volta-backtest"]
    for c in candidates:
        if c.exists():
            # A build of another branch in a shared CARGO_TARGET_DIR may have replaced it.
            usage = subprocess.run([str(c), "--help"], capture_output=True, text=True).stdout
            if "--json" not in usage:
                _missing(f"{c} has no --json flag: a stale build (cargo build -p volta-backtest)")
            return c.resolve()
    _missing(f"no volta-backtest binary at {', '.join(map(str, candidates))} (cargo build -p volta-backtest)")
    raise AssertionError  # unreachable


def sweep_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "volta_sweep", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(HERE.parent), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def ray_head():
    # Not imported here: Ray reads its settings from the environment at import time.
    if importlib.util.find_spec("ray") is None:
        _missing("ray is not installed (pip install ray; scripts/setup.sh does)")
    from volta_sweep.ray_driver import LocalHead

    head = LocalHead(num_cpus=os.cpu_count() or 2)
    with head:
        pid = head.proc.pid
        yield head
    # Stopped: nothing of the head's process group is left running, its temp dir is removed.
    assert live_processes_in_group(pid) == []
    assert not Path(head.temp_dir).exists()


def live_processes_in_group(pgid: int) -> list[str]:
    """The processes of group `pgid` that are not zombies (a zombie has exited; whether it is
    reaped at once depends on the machine's init)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp …; comm may hold spaces, so split after its ')'.
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(text[: text.rindex(")") + 1])
    return live


def test_the_small_sweep_runs_on_a_local_ray_head_and_reports(ray_head, tmp_path):
    binary = backtest_binary()
    out = tmp_path / "sweep"
    t0 = time.monotonic()
    run = sweep_cli("run", str(SMALL), "--out", str(out), "--backtest", str(binary), "--address", ray_head.address, env=ray_head.env)
    elapsed = time.monotonic() - t0
    assert run.returncode == 0, run.stdout + run.stderr
    spec = load_spec(SMALL)
    n_runs = len(spec.cells()) * len(spec.windows())
    results = runner.read_results(out, spec.digest())
    assert len(results) == n_runs
    assert all(r["ok"] for r in results), [r.get("error") for r in results if not r["ok"]]

    rep = json.loads((out / "report.json").read_text())
    assert len(rep["folds"]) == len(spec.folds) == 2
    for f, fold in zip(rep["folds"], spec.folds):
        assert f["train"] == [fold.train.start.isoformat(), fold.train.end.isoformat()]
        assert f["in_sample"] is not None and f["out_of_sample"] is not None
    # The stitched curve starts at the starting cash the day before the first test session
    # and ends on the last test window's last session.
    curve = rep["out_of_sample_curve"]
    assert curve[0][1] == 100_000.0 and curve[0][0] < spec.folds[0].test.start.isoformat()
    assert curve[-1][0] <= spec.folds[-1].test.end.isoformat()
    assert [d for d, _ in curve] == sorted({d for d, _ in curve})
    # One test window alone: Python's Sharpe of the engine's curve is the engine's Sharpe.
    r = results[0]
    assert curve_metrics(r["equity"])["sharpe"] == pytest.approx(r["metrics"]["sharpe"], abs=1e-9)
    assert rep["throughput"]["runs"] == n_runs and rep["throughput"]["runs_per_minute"] > 0
    for name in ("report.html", "heatmap.svg", "oos_equity.csv"):
        assert (out / name).stat().st_size > 0
    svg = (out / "heatmap.svg").read_text()
    assert svg.count("<rect") >= 2 * len(spec.cells())
    assert "out-of-sample" in (out / "report.html").read_text()
    assert "walk-forward: 2 folds" in run.stdout
    print(f"small sweep: {n_runs} runs in {elapsed:.1f} s (with the report)")


def test_one_task_runs_without_ray_through_task_index(tmp_path):
    binary = backtest_binary()
    out = tmp_path / "sweep"
    plan = sweep_cli("plan", str(SMALL), "--out", str(out))
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("16 runs: 4 cells × 4 windows (2 folds)")
    tasks = json.loads((out / "tasks.json").read_text())
    run = sweep_cli("task", str(SMALL), "--out", str(out), "--task-index", "3", "--backtest", str(binary), "--keep-runs")
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(runner.result_path(out, 3).read_text())
    assert result["ok"] and result["cell"] == tasks[3]["cell"] and result["start"] == tasks[3]["start"]
    kept = Path(runner.keep_dir_for(out, tasks[3]))
    assert (kept / "cell.toml").read_text() == tasks[3]["config_toml"]
    assert (kept / "report" / "summary.json").exists()
    bad = sweep_cli("task", str(SMALL), "--out", str(out), "--task-index", "16", "--backtest", str(binary))
    assert bad.returncode == 2 and "outside 0..15" in bad.stderr


def test_a_failing_run_is_a_result_not_a_crash(tmp_path):
    spec = load_spec(SMALL)
    task = runner.plan(spec)[0]
    bad = apply_overrides(spec.base, {"strategies.iv_rank_premium.short_delta": 0.9})
    result = runner.run_task({**task, "config_toml": dumps_toml(bad)}, str(backtest_binary()))
    assert not result["ok"]
    assert "short_delta" in result["error"]
