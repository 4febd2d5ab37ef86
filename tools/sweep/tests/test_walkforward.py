"""Selection by neighbourhood median, no look-ahead, stitching and the curve's metrics."""

import datetime as dt
import itertools
import math

import pytest

from volta_sweep.spec import Axis, walk_forward_folds
from volta_sweep.walkforward import (
    choose,
    choose_for_fold,
    curve_metrics,
    neighbourhood_scores,
    neighbours,
    out_of_sample_curve,
    stitch,
    walk_forward,
)


def ordinal(n, name="x"):
    return Axis(name, (name,), tuple(range(n)), categorical=False)


def categorical(n, name="c"):
    return Axis(name, (name,), tuple(f"v{i}" for i in range(n)), categorical=True)


def ok(sharpe, equity=None):
    return {"ok": True, "metrics": {"sharpe": sharpe}, "equity": equity or []}


def test_neighbours_are_within_the_radius_on_ordinal_axes_and_equal_on_categorical_ones():
    axes = [ordinal(4), categorical(2)]
    grid = list(itertools.product(range(4), range(2)))
    assert neighbours((0, 0), grid, axes, 1) == [(0, 0), (1, 0)]
    assert neighbours((2, 1), grid, axes, 1) == [(1, 1), (2, 1), (3, 1)]
    assert neighbours((2, 1), grid, axes, 0) == [(2, 1)]
    assert len(neighbours((1, 1), list(itertools.product(range(4), range(4))), [ordinal(4), ordinal(4)], 1)) == 9


def test_a_plateau_beats_a_lone_peak():
    # One axis: a spike at 1 among losers, a broad good region at 4-6.
    scores = [-1.0, 3.0, -1.0, 0.0, 1.0, 1.2, 1.0, 0.0]
    cells = [(i,) for i in range(len(scores))]
    c = choose(cells, lambda cell: ok(scores[cell[0]]), [ordinal(len(scores))], "sharpe", 1)
    assert c.cell == (5,)
    assert c.robust_score == pytest.approx(1.0)  # median of 1.0, 1.2, 1.0
    assert c.neighbourhood_size == 3
    assert c.best_single == (1,) and c.best_single_score == 3.0
    # Radius 0 is the single best cell.
    assert choose(cells, lambda cell: ok(scores[cell[0]]), [ordinal(len(scores))], "sharpe", 0).cell == (1,)


def test_failed_runs_take_no_part_and_cannot_be_chosen():
    scores = {(0,): ok(1.0), (1,): {"ok": False, "error": "bad delta"}, (2,): ok(0.5), (3,): ok(0.9)}
    robust = neighbourhood_scores({c: (r["metrics"]["sharpe"] if r["ok"] else None) for c, r in scores.items()}, [ordinal(4)], 1)
    assert (1,) not in robust
    assert robust[(0,)] == 1.0 and robust[(2,)] == pytest.approx(0.7)
    c = choose(list(scores), scores.get, [ordinal(4)], "sharpe", 1)
    assert c.cell == (0,)
    with pytest.raises(ValueError, match="no cell completed"):
        choose([(0,)], lambda _: {"ok": False}, [ordinal(1)], "sharpe", 1)


def test_a_missing_metric_of_a_completed_run_scores_zero():
    cells = [(0,), (1,)]
    runs = {(0,): {"ok": True, "metrics": {"sharpe": None}}, (1,): ok(-0.5)}
    assert choose(cells, runs.get, [categorical(2)], "sharpe", 1).cell == (0,)


def test_ties_go_to_the_better_own_score_then_grid_order():
    cells = [(i,) for i in range(3)]
    runs = {(0,): ok(1.0), (1,): ok(1.0), (2,): ok(1.0)}
    assert choose(cells, runs.get, [categorical(3)], "sharpe", 1).cell == (0,)


def _results(folds, cells, train_score, test_score):
    results = {}
    for f in folds:
        for c in cells:
            results[(c, f.train.id)] = ok(train_score(f, c), _flat(f.train))
            results[(c, f.test.id)] = ok(test_score(f, c), _flat(f.test))
    return results


def _flat(w):
    return [[(w.start - dt.timedelta(days=1)).isoformat(), 100.0], [w.end.isoformat(), 101.0]]


def test_a_folds_choice_reads_only_its_training_window():
    folds = walk_forward_folds(dt.date(2018, 1, 1), dt.date(2019, 12, 31), 6, 3)
    cells = [(i, j) for i in range(3) for j in range(3)]
    axes = [ordinal(3, "a"), ordinal(3, "b")]
    results = _results(folds, cells, lambda f, c: c[0] - c[1] + f.number, lambda f, c: c[1] * 10.0)
    for fold in folds:
        seen = []

        def lookup(cell, window, fold=fold, seen=seen):
            # Nothing after the training window may be read.
            assert window == fold.train, f"fold {fold.number} read {window}"
            assert window.end < fold.test.start
            seen.append(cell)
            return results[(cell, window.id)]

        choose_for_fold(fold, cells, lookup, axes, "sharpe", 1)
        assert sorted(seen) == cells


def test_changing_the_test_results_never_changes_a_choice():
    folds = walk_forward_folds(dt.date(2018, 1, 1), dt.date(2019, 12, 31), 6, 3)
    cells = [(i,) for i in range(5)]
    axes = [ordinal(5)]
    a = _results(folds, cells, lambda f, c: math.sin(c[0] + f.number), lambda f, c: 0.0)
    b = _results(folds, cells, lambda f, c: math.sin(c[0] + f.number), lambda f, c: 100.0 * (c[0] == 4))
    choices_a = [o.choice.cell for o in walk_forward(folds, cells, a, axes, "sharpe", 1)]
    choices_b = [o.choice.cell for o in walk_forward(folds, cells, b, axes, "sharpe", 1)]
    assert choices_a == choices_b
    # And the choices do follow the training results (they are not constant).
    assert len(set(choices_a)) > 1


def test_stitching_compounds_each_segments_returns_onto_the_last_level():
    s1 = [["2020-01-31", 100_000.0], ["2020-02-03", 110_000.0], ["2020-02-28", 99_000.0]]
    s2 = [["2020-02-28", 100_000.0], ["2020-03-02", 102_000.0], ["2020-03-31", 95_000.0]]
    curve = stitch([s1, s2], 50_000.0)
    assert [d for d, _ in curve] == ["2020-01-31", "2020-02-03", "2020-02-28", "2020-03-02", "2020-03-31"]
    assert curve[1][1] == pytest.approx(55_000.0)
    assert curve[2][1] == pytest.approx(49_500.0)
    assert curve[3][1] == pytest.approx(49_500.0 * 1.02)
    assert curve[4][1] == pytest.approx(49_500.0 * 0.95)
    # Total growth is the product of the segments' growths.
    assert curve[-1][1] / curve[0][1] == pytest.approx(0.99 * 0.95)
    with pytest.raises(ValueError, match="before"):
        stitch([s2, s1], 1.0)


def test_the_out_of_sample_curve_is_the_chosen_cells_test_runs_in_order():
    folds = walk_forward_folds(dt.date(2018, 1, 1), dt.date(2018, 12, 31), 6, 3)
    cells = [(0,), (1,)]
    results = _results(folds, cells, lambda f, c: float(c[0] == f.number), lambda f, c: 0.0)
    # The cell chosen in fold k is k; give each (cell, test window) its own growth.
    for f in folds:
        for c in cells:
            g = 1.0 + 0.01 * (c[0] + 1) * (f.number + 1)
            results[(c, f.test.id)]["equity"] = [_flat(f.test)[0], [f.test.end.isoformat(), 100.0 * g]]
    outcomes = walk_forward(folds, cells, results, [ordinal(2)], "sharpe", 0)
    assert [o.choice.cell for o in outcomes] == [(0,), (1,)]
    curve = out_of_sample_curve(outcomes, 1000.0)
    assert curve[0] == ("2018-06-30", 1000.0)
    assert curve[-1][1] == pytest.approx(1000.0 * 1.01 * 1.04)
    results[((1,), folds[1].test.id)] = {"ok": False, "error": "x"}
    with pytest.raises(ValueError, match="fold 1"):
        out_of_sample_curve(walk_forward(folds, cells, results, [ordinal(2)], "sharpe", 0), 1000.0)


def test_curve_metrics_follow_the_engines_definitions():
    curve = [["d0", 100.0], ["d1", 101.0], ["d2", 99.99], ["d3", 102.0]]
    m = curve_metrics(curve)
    rets = [0.01, 99.99 / 101 - 1, 102 / 99.99 - 1]
    mean = sum(rets) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in rets) / 2)
    assert m["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert m["total_return"] == pytest.approx(0.02)
    assert m["max_drawdown"] == pytest.approx(1 - 99.99 / 101)
    assert m["annualised_return"] == pytest.approx(1.02 ** (252 / 3) - 1)
    flat = curve_metrics([["a", 5.0], ["b", 5.0]])
    assert (flat["sharpe"], flat["sortino"], flat["calmar"]) == (0.0, 0.0, 0.0)


def test_sharpe_and_sortino_are_over_each_points_risk_free_return():
    # The engine's Metrics::over_risk_free: each daily return less what cash earned that day.
    curve = [["d0", 100.0, 0.0], ["d1", 101.0, 0.001], ["d2", 99.99, 0.001], ["d3", 102.0, 0.003]]
    m = curve_metrics(curve)
    excess = [0.01 - 0.001, 99.99 / 101 - 1 - 0.001, 102 / 99.99 - 1 - 0.003]
    mean = sum(excess) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in excess) / 2)
    down = math.sqrt(sum(min(r, 0.0) ** 2 for r in excess) / 3)
    assert m["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert m["sortino"] == pytest.approx(mean / down * math.sqrt(252))
    # Volatility stays that of the returns themselves.
    assert m["annualised_volatility"] == pytest.approx(curve_metrics([p[:2] for p in curve])["annualised_volatility"])
    # A curve that earns exactly the risk-free return has no Sharpe.
    cash = [["a", 100.0, 0.0], ["b", 101.0, 0.01], ["c", 102.01, 0.01]]
    assert curve_metrics(cash)["sharpe"] == 0.0


def test_stitching_keeps_each_points_risk_free_return():
    curve = stitch([[["a", 10.0, 0.0], ["b", 11.0, 0.002]], [["b", 50.0, 0.0], ["c", 55.0, 0.003]]], 100.0)
    assert curve == [("a", 100.0, 0.0), ("b", pytest.approx(110.0), 0.002), ("c", pytest.approx(121.0), 0.003)]
