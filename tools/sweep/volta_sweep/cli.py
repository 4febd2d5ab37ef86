"""`python3 -m volta_sweep` (with `tools/sweep` on `PYTHONPATH`; `just sweep SPEC` does it):

    run SPEC      every run on Ray (RAY_ADDRESS / --address, or a local head), then the report
    plan SPEC     how many runs the spec makes (the size of a Slurm array / Indexed Job)
    task SPEC --task-index N   run number N here, without Ray (one array element)
    report SPEC   the walk-forward report from the results already under --out
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import report, runner
from .spec import SpecError, load_spec
from .walkforward import walk_forward


def default_backtest() -> str:
    if os.environ.get("VOLTA_BACKTEST"):
        return os.environ["VOLTA_BACKTEST"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    for profile in ("release", "debug"):
        p = target / profile / "volta-backtest"
        if p.exists():
            return str(p)
    return str(target / "release" / "volta-backtest")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="volta_sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", type=Path, help="the sweep spec (TOML)")
        p.add_argument("--out", type=Path, help="output directory (default reports/sweep/<spec name>)")

    p_run = sub.add_parser("run", help="run every task on Ray, then write the report")
    common(p_run)
    p_run.add_argument("--backtest", default=None, help="the volta-backtest binary (default: $VOLTA_BACKTEST, else CARGO_TARGET_DIR's release or debug build)")
    p_run.add_argument("--address", default=None, help="a Ray cluster (default $RAY_ADDRESS; none: start a local head)")
    p_run.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local head (default: all)")
    p_run.add_argument("--keep-runs", action="store_true", help="keep every run's report under OUT/runs/ (a shared file system on a cluster)")

    p_plan = sub.add_parser("plan", help="print the number of runs (and write OUT/tasks.json)")
    common(p_plan)

    p_task = sub.add_parser("task", help="run one task without Ray (Slurm array / Kubernetes Indexed Job element)")
    common(p_task)
    p_task.add_argument("--task-index", type=int, required=True, help="0-based: $SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX")
    p_task.add_argument("--backtest", default=None)
    p_task.add_argument("--keep-runs", action="store_true")

    p_rep = sub.add_parser("report", help="the walk-forward report from the results under OUT")
    common(p_rep)

    args = ap.parse_args(argv)
    try:
        spec = load_spec(args.spec)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if spec.store:
        spec.store = str((Path.cwd() / spec.store).resolve())
    out = args.out or Path("reports/sweep") / spec.name
    out = out.resolve()
    tasks = runner.plan(spec)

    if args.command == "plan":
        out.mkdir(parents=True, exist_ok=True)
        (out / "tasks.json").write_text(json.dumps(tasks, indent=1) + "\n")
        print(f"{len(tasks)} runs: {len(spec.cells())} cells × {len(spec.windows())} windows ({len(spec.folds)} folds); tasks in {out / 'tasks.json'}")
        return 0

    if args.command == "task":
        if not 0 <= args.task_index < len(tasks):
            print(f"error: --task-index {args.task_index} is outside 0..{len(tasks) - 1}", file=sys.stderr)
            return 2
        task = tasks[args.task_index]
        binary = str(Path(args.backtest or default_backtest()).resolve())
        keep = runner.keep_dir_for(out, task) if args.keep_runs else None
        result = runner.run_task(task, binary, keep)
        path = runner.write_result(out, result)
        print(f"task {task['index']}: {task['cell']} {task['start']}..{task['end']}: {'ok' if result['ok'] else 'FAILED'} in {result['seconds']} s → {path}")
        return 0 if result["ok"] else 1

    timing: dict[str, Any] | None = None
    if args.command == "run":
        binary = Path(args.backtest or default_backtest()).resolve()
        if not binary.exists():
            print(f"error: no volta-backtest at {binary} (cargo build -p volta-backtest, or --backtest)", file=sys.stderr)
            return 2
        # Results of an earlier run of another spec in the same folder must not mix in.
        for stale in (out / "results").glob("*.json") if (out / "results").exists() else []:
            stale.unlink()
        print(f"sweep {spec.name}: {len(tasks)} runs ({len(spec.cells())} cells × {len(spec.windows())} windows, {len(spec.folds)} folds) with {binary}", flush=True)
        t0 = time.monotonic()

        def progress(done: int, total: int, r: dict[str, Any]) -> None:
            status = "ok" if r["ok"] else "FAILED"
            rate = done / (time.monotonic() - t0) * 60
            print(f"  [{done}/{total}] {r['cell']} {r['start']}..{r['end']} {status} {r['seconds']} s ({rate:.1f} runs/min)", flush=True)

        from .ray_driver import run_tasks

        timing = run_tasks(tasks, str(binary), out, address=args.address, num_cpus=args.num_cpus, keep_runs=args.keep_runs, progress=progress)
        (out / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    elif (out / "timing.json").exists():
        timing = json.loads((out / "timing.json").read_text())

    return write_report(spec, out, timing)


def write_report(spec: Any, out: Path, timing: dict[str, Any] | None) -> int:
    rows = runner.read_results(out, spec.digest())
    cells = [c.index for c in spec.cells()]
    results = {(tuple(r["cell_index"]), f"{r['start']}_{r['end']}"): r for r in rows}
    expected = len(cells) * len(spec.windows())
    if len(results) < expected:
        print(f"warning: {len(results)} of {expected} results under {out / 'results'}", file=sys.stderr)
    try:
        outcomes = walk_forward(spec.folds, cells, results, spec.axes, spec.metric, spec.radius)
        rep = report.build(spec, cells, results, outcomes, timing)
    except (ValueError, KeyError) as e:
        print(f"error: no walk-forward report: {e}", file=sys.stderr)
        for r in list(results.values())[:3]:
            if not r.get("ok"):
                print(f"  e.g. {r['cell']} {r['start']}..{r['end']}: {r.get('error', '')[:500]}", file=sys.stderr)
        return 1
    files = report.write(out, rep)
    print(report.text_table(rep))
    print(f"report: {files['html']}\n        {files['json']}, {files['heatmap']}, {files['equity_csv']}")
    return 0
