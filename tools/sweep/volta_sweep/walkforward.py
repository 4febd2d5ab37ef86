"""Walk-forward selection: on each training window, the cell whose *neighbourhood* scores best
(the median of the metric over the cell and its grid neighbours — a plateau, not a lone peak),
applied to the next test window; the test windows' equity stitched into one out-of-sample curve.

The selection for a fold reads only that fold's training-window results: `choose` is handed a
lookup restricted to the training window, so a test result cannot leak into a choice.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .spec import Axis, Fold, Window

SESSIONS_PER_YEAR = 252.0

Index = tuple[int, ...]


def score_of(result: dict[str, Any] | None, metric: str) -> float | None:
    """The metric of a run; `None` for a failed run (it takes no part in a median). A missing
    or non-finite value of a run that did complete scores 0 (e.g. no trades: no volatility)."""
    if result is None or not result.get("ok"):
        return None
    v = result["metrics"].get(metric)
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v):
        return 0.0
    return float(v)


def neighbours(index: Index, candidates: Iterable[Index], axes: Sequence[Axis], radius: int) -> list[Index]:
    """The candidates within `radius` grid steps of `index` on every ordinal axis and equal to
    it on every categorical one (the cell itself included, when it is a candidate)."""
    out = []
    for c in candidates:
        if all(
            (c[k] == index[k]) if axis.categorical else abs(c[k] - index[k]) <= radius
            for k, axis in enumerate(axes)
        ):
            out.append(c)
    return out


def neighbourhood_scores(
    scores: dict[Index, float | None], axes: Sequence[Axis], radius: int
) -> dict[Index, float]:
    """Cell → median score of its neighbourhood, for every cell whose own run succeeded."""
    ok = {c: s for c, s in scores.items() if s is not None}
    return {c: statistics.median(ok[n] for n in neighbours(c, ok, axes, radius)) for c in ok}


@dataclass(frozen=True)
class Choice:
    cell: Index
    robust_score: float  # the neighbourhood median
    own_score: float  # the cell's own training score
    neighbourhood_size: int
    best_single: Index  # the single best training cell (what the robust rule does not pick)
    best_single_score: float


def choose(
    cells: Sequence[Index],
    train_result: Callable[[Index], dict[str, Any] | None],
    axes: Sequence[Axis],
    metric: str,
    radius: int,
) -> Choice:
    """The cell with the best neighbourhood median on the training window (ties: the better
    own score, then the first cell in grid order). `train_result(cell)` gives the cell's
    training run — the only data the choice sees."""
    scores = {c: score_of(train_result(c), metric) for c in cells}
    robust = neighbourhood_scores(scores, axes, radius)
    if not robust:
        raise ValueError("no cell completed its training run: nothing to choose from")
    best = min(robust, key=lambda c: (-robust[c], -(scores[c] or 0.0), c))
    single = min(robust, key=lambda c: (-(scores[c] or 0.0), c))
    ok = [c for c in cells if scores[c] is not None]
    return Choice(
        cell=best,
        robust_score=robust[best],
        own_score=scores[best],  # type: ignore[arg-type]
        neighbourhood_size=len(neighbours(best, ok, axes, radius)),
        best_single=single,
        best_single_score=scores[single],  # type: ignore[arg-type]
    )


def choose_for_fold(
    fold: Fold,
    cells: Sequence[Index],
    lookup: Callable[[Index, Window], dict[str, Any] | None],
    axes: Sequence[Axis],
    metric: str,
    radius: int,
) -> Choice:
    """The choice of one fold, from its training window's results alone."""
    return choose(cells, lambda c: lookup(c, fold.train), axes, metric, radius)


# ---------------------------------------------------------------------------------------------
# Equity


def stitch(segments: Sequence[Sequence[Sequence[Any]]], starting_equity: float) -> list[tuple[Any, ...]]:
    """One curve from consecutive runs' equity curves (`[[date, equity], …]` or `[[date,
    equity, risk_free], …]`, each starting at the close before its first session): each
    segment's daily returns compounded onto the level the previous one ended at, each point's
    risk-free return kept. A segment's first point (its starting cash, dated the previous
    segment's last session) is dropped after the first segment."""
    out: list[tuple[Any, ...]] = []
    level = starting_equity
    for k, seg in enumerate(segments):
        if not seg:
            continue
        base = float(seg[0][1])
        if k == 0 or not out:
            out.append((seg[0][0], level, *seg[0][2:]))
        elif seg[0][0] < out[-1][0]:
            raise ValueError(f"segment {k} starts at {seg[0][0]}, before the curve's end {out[-1][0]}")
        for date, eq, *rest in seg[1:]:
            if out and date <= out[-1][0]:
                raise ValueError(f"segment {k}: {date} is not after {out[-1][0]}")
            out.append((date, level * float(eq) / base, *rest))
        level = out[-1][1]
    return out


def curve_metrics(curve: Sequence[Sequence[Any]]) -> dict[str, float]:
    """The engine's definitions (crates/engine/src/metrics.rs): daily simple returns, sample
    standard deviation × √252; Sharpe and Sortino over the risk-free return of each point (a
    point's optional third element: what idle cash earned since the previous close; zero when
    absent); Sortino's downside deviation as the root mean square of the negative excess returns
    over all days; maximum drawdown from the running peak."""
    eq = [float(p[1]) for p in curve]
    n = len(eq)
    if n == 0:
        raise ValueError("empty equity curve")
    growth = eq[-1] / eq[0]
    rets = [eq[i] / eq[i - 1] - 1.0 for i in range(1, n)]
    excess = [r - (float(curve[i + 1][2]) if len(curve[i + 1]) > 2 else 0.0) for i, r in enumerate(rets)]
    mean = sum(rets) / len(rets) if rets else 0.0
    std = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)) if len(rets) >= 2 else 0.0
    ex_mean = sum(excess) / len(excess) if excess else 0.0
    ex_std = (
        math.sqrt(sum((r - ex_mean) ** 2 for r in excess) / (len(excess) - 1)) if len(excess) >= 2 else 0.0
    )
    ann = math.sqrt(SESSIONS_PER_YEAR)
    down = math.sqrt(sum(min(r, 0.0) ** 2 for r in excess) / len(excess)) if excess else 0.0
    peak, mdd = eq[0], 0.0
    for v in eq:
        peak = max(peak, v)
        mdd = max(mdd, 1.0 - v / peak)
    annualised = growth ** (SESSIONS_PER_YEAR / (n - 1)) - 1.0 if n >= 2 else 0.0
    return {
        "sessions": n,
        "total_return": growth - 1.0,
        "annualised_return": annualised,
        "annualised_volatility": std * ann,
        "sharpe": ex_mean / ex_std * ann if ex_std > 0 else 0.0,
        "sortino": ex_mean / down * ann if down > 0 else 0.0,
        "max_drawdown": mdd,
        "calmar": annualised / mdd if mdd > 0 else 0.0,
    }


# ---------------------------------------------------------------------------------------------
# The whole walk-forward


@dataclass
class FoldOutcome:
    fold: Fold
    choice: Choice
    train: dict[str, Any]  # the chosen cell's training run
    test: dict[str, Any] | None  # the chosen cell's test run (None: it failed or is missing)
    test_scores: dict[Index, float | None]  # every cell's test score (shown, never used to choose)


def walk_forward(
    folds: Sequence[Fold],
    cells: Sequence[Index],
    results: dict[tuple[Index, str], dict[str, Any]],
    axes: Sequence[Axis],
    metric: str,
    radius: int,
) -> list[FoldOutcome]:
    """Every fold's choice (from its training window) and the chosen cell's test run.
    `results` maps (cell index, window id) → run result."""
    outcomes = []
    for fold in folds:
        choice = choose_for_fold(fold, cells, lambda c, w: results.get((c, w.id)), axes, metric, radius)
        outcomes.append(
            FoldOutcome(
                fold=fold,
                choice=choice,
                train=results[(choice.cell, fold.train.id)],
                test=results.get((choice.cell, fold.test.id)),
                test_scores={c: score_of(results.get((c, fold.test.id)), metric) for c in cells},
            )
        )
    return outcomes


def out_of_sample_curve(outcomes: Sequence[FoldOutcome], starting_equity: float) -> list[tuple[str, float]]:
    segments = []
    for o in outcomes:
        if o.test is None or not o.test.get("ok"):
            raise ValueError(
                f"fold {o.fold.number}: the chosen cell's test run {o.fold.test.id} failed or is missing"
            )
        segments.append(o.test["equity"])
    return stitch(segments, starting_equity)
