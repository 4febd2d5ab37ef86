"""One run of the sweep: a cell's configuration over one window, as one `volta-backtest`
command. The task is plain data (JSON), so the same task runs in a Ray worker, a Slurm array
element or a Kubernetes Indexed Job pod; the result is plain data too.

Only the standard library: Ray ships this module to its workers by value.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .spec import Spec, apply_overrides, dumps_toml

# The summary metrics a result keeps (the whole summary stays in the run's directory when
# runs are kept).
METRIC_KEYS = (
    "start",
    "end",
    "sessions",
    "starting_equity",
    "ending_equity",
    "total_return",
    "annualised_return",
    "annualised_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "trades",
    "win_rate",
    "profit_factor",
    "exposure",
    "fees_paid",
)


def plan(spec: Spec) -> list[dict[str, Any]]:
    """Every run of the sweep, numbered: windows in date order, cells in grid order within
    each. The numbering is what `--task-index` (a Slurm array index, a Kubernetes completion
    index) picks from; it depends only on the spec."""
    cells = spec.cells()
    tasks = []
    digest = spec.digest()
    for window in spec.windows():
        for cell in cells:
            config = apply_overrides(spec.base, cell.overrides)
            config.setdefault("label", f"{spec.name} {cell.id}")
            tasks.append(
                {
                    "index": len(tasks),
                    "spec": digest,
                    "cell": cell.id,
                    "cell_index": list(cell.index),
                    "overrides": cell.overrides,
                    "start": window.start.isoformat(),
                    "end": window.end.isoformat(),
                    "data": spec.data,
                    "store": spec.store,
                    "config_toml": dumps_toml(config),
                }
            )
    return tasks


def run_task(task: dict[str, Any], binary: str, keep_dir: str | None = None, timeout_s: float = 3600) -> dict[str, Any]:
    """Runs one task: writes the cell's config, runs `volta-backtest --json`, returns the
    result (metrics, equity curve, timing), or the error the command printed. Never raises
    for a failed run: a cell with an invalid combination of parameters is a result too."""
    t0 = time.monotonic()
    work = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="volta-sweep-run-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "index": task["index"],
        "spec": task["spec"],
        "cell": task["cell"],
        "cell_index": task["cell_index"],
        "start": task["start"],
        "end": task["end"],
        "ok": False,
        "host": os.uname().nodename,
    }
    try:
        config = work / "cell.toml"
        config.write_text(task["config_toml"])
        out = work / "report"
        cmd = [
            binary,
            "--config", str(config),
            "--start", task["start"],
            "--end", task["end"],
            "--data", task["data"],
            "--out", str(out),
            # Always the run's own journal: with --data store the default is the store itself,
            # which parallel runs must not write to.
            "--journal", str(out / "journal.sqlite"),
            "--json",
        ]  # fmt: skip
        if task.get("store"):
            cmd += ["--store", task["store"]]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired) as e:
            result["error"] = f"{type(e).__name__}: {e}"
            return result
        if proc.returncode != 0:
            result["error"] = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}")[-2000:]
            return result
        try:
            doc = json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            result["error"] = f"unreadable --json output: {e}: {proc.stdout[:200]!r}"
            return result
        metrics = doc["summary"]["metrics"]
        result["ok"] = True
        result["metrics"] = {k: metrics.get(k) for k in METRIC_KEYS}
        result["kill_switch"] = doc["summary"].get("kill_switch")
        # [date, equity, what idle cash earned since the previous close]: the engine measures
        # Sharpe and Sortino over that return, and so does curve_metrics.
        risk_free = [0.0] + list(doc.get("risk_free") or [0.0] * (len(doc["equity"]) - 1))
        result["equity"] = [[p["date"], p["equity"], rf] for p, rf in zip(doc["equity"], risk_free)]
        return result
    finally:
        result["seconds"] = round(time.monotonic() - t0, 3)
        if not keep_dir:
            shutil.rmtree(work, ignore_errors=True)


def result_path(out_dir: Path, index: int) -> Path:
    return out_dir / "results" / f"{index:05d}.json"


def write_result(out_dir: Path, result: dict[str, Any]) -> Path:
    path = result_path(out_dir, result["index"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a result
    return path


def read_results(out_dir: Path, digest: str) -> list[dict[str, Any]]:
    """Every result under `out_dir/results` written for the spec with this digest."""
    out = []
    for path in sorted((out_dir / "results").glob("*.json")):
        r = json.loads(path.read_text())
        if r.get("spec") == digest:
            out.append(r)
    return out


def keep_dir_for(out_dir: Path, task: dict[str, Any]) -> str:
    return str(out_dir / "runs" / task["cell"] / f"{task['start']}_{task['end']}")

