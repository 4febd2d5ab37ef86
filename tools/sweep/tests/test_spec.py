"""The spec: axes, cells (grid and random), dotted-key overrides, the TOML writer, windows."""

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from volta_sweep.runner import plan
from volta_sweep.spec import (
    SpecError,
    add_months,
    apply_overrides,
    dumps_toml,
    load_spec,
    parse_spec,
    walk_forward_folds,
)

REPO = Path(__file__).resolve().parents[3]

BASE = {
    "label": "base",
    "underlyings": ["SPY"],
    "strategies": [
        {"kind": "iv_rank_premium", "short_delta": 0.2, "width": {"strikes": 5}},
        {"kind": "zero_dte_iron_condor", "name": "zero", "dte_min": 0, "dte_max": 0},
    ],
    "adaptive": {"table": {"neutral": ["iv_rank_premium"]}},
}


def spec_of(text: str, tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return load_spec(path)


WF = """
[walk_forward]
start = 2020-01-01
end = 2020-12-31
train_months = 6
test_months = 3
"""


def test_a_grid_expands_to_every_combination_in_grid_order(tmp_path):
    spec = spec_of(
        """
[base]
underlyings = ["SPY"]
[[base.strategies]]
kind = "iv_rank_premium"
[grid]
"strategies.iv_rank_premium.short_delta" = [0.16, 0.20, 0.25]
"strategies.iv_rank_premium.exit.profit_target" = [0.5, 0.75]
"""
        + WF,
        tmp_path,
    )
    cells = spec.cells()
    assert spec.grid_shape == (3, 2)
    assert [c.index for c in cells] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert cells[3].overrides == {
        "strategies.iv_rank_premium.short_delta": 0.20,
        "strategies.iv_rank_premium.exit.profit_target": 0.75,
    }
    assert cells[3].id == "c1-1"
    assert not any(a.categorical for a in spec.axes)


def test_a_random_sample_is_a_seeded_subset_of_the_grid(tmp_path):
    text = """
[sweep]
mode = "random"
samples = 5
sample_seed = 3
[base]
[[base.strategies]]
kind = "iv_rank_premium"
[[axis]]
name = "delta"
key = "strategies.iv_rank_premium.short_delta"
min = 0.10
max = 0.30
steps = 5
[[axis]]
name = "dte window"
keys = ["strategies.iv_rank_premium.dte_min", "strategies.iv_rank_premium.dte_max"]
values = [[21, 35], [30, 45], [45, 60]]
[[axis]]
name = "when high"
key = "strategies.iv_rank_premium.when_high"
values = ["put_credit_spread", "iron_condor"]
""" + WF
    a, b = spec_of(text, tmp_path), spec_of(text, tmp_path)
    cells = a.cells()
    assert len(cells) == 5
    assert [c.index for c in cells] == [c.index for c in b.cells()]
    assert len({c.index for c in cells}) == 5
    assert all(0 <= c.index[0] < 5 and 0 <= c.index[1] < 3 and 0 <= c.index[2] < 2 for c in cells)
    assert a.axes[0].values == (0.1, 0.15, 0.2, 0.25, 0.3)
    # Two keys at once; numbers: ordinal. Strings: categorical.
    assert [x.categorical for x in a.axes] == [False, False, True]
    assert a.axes[1].assignments(2) == {
        "strategies.iv_rank_premium.dte_min": 45,
        "strategies.iv_rank_premium.dte_max": 60,
    }
    other = spec_of(text.replace("sample_seed = 3", "sample_seed = 4"), tmp_path)
    assert [c.index for c in other.cells()] != [c.index for c in cells]


def test_bad_specs_fail_before_any_run_naming_the_key(tmp_path):
    base = '[base]\n[[base.strategies]]\nkind = "iv_rank_premium"\n'
    with pytest.raises(SpecError, match="no element named 'iv_rank_premum'"):
        spec_of(base + '[grid]\n"strategies.iv_rank_premum.short_delta" = [0.1]\n' + WF, tmp_path)
    with pytest.raises(SpecError, match="unknown top-level keys"):
        spec_of(base + '[gird]\n"x" = [1]\n' + WF, tmp_path)
    with pytest.raises(SpecError, match="nothing to sweep"):
        spec_of(base + WF, tmp_path)
    with pytest.raises(SpecError, match="walk_forward.test_months is missing"):
        spec_of(base + '[grid]\nseed = [1, 2]\n[walk_forward]\nstart = 2020-01-01\nend = 2021-01-01\ntrain_months = 3\n', tmp_path)
    with pytest.raises(SpecError, match="one per key"):
        spec_of(base + '[[axis]]\nname = "w"\nkeys = ["a", "b"]\nvalues = [[1, 2], [3]]\n' + WF, tmp_path)


def test_overrides_follow_dotted_paths_into_tables_and_arrays_of_tables():
    out = apply_overrides(
        BASE,
        {
            "strategies.iv_rank_premium.short_delta": 0.3,  # by kind (no name)
            "strategies.zero.exit.profit_target": 0.25,  # by name; `exit` created
            "strategies.0.width": {"dollars": 5.0},  # by index
            "adaptive.table.high_vol": ["zero"],  # the regime table
            "risk.max_risk_per_trade": 0.01,  # a table the base lacks
            "seed": 7,
        },
    )
    assert out["strategies"][0]["short_delta"] == 0.3
    assert out["strategies"][0]["width"] == {"dollars": 5.0}
    assert out["strategies"][1]["exit"] == {"profit_target": 0.25}
    assert out["adaptive"]["table"] == {"neutral": ["iv_rank_premium"], "high_vol": ["zero"]}
    assert out["risk"] == {"max_risk_per_trade": 0.01}
    assert out["seed"] == 7
    # The base is untouched.
    assert BASE["strategies"][0]["short_delta"] == 0.2 and "exit" not in BASE["strategies"][1]
    with pytest.raises(SpecError, match="is a value, not a table"):
        apply_overrides(BASE, {"label.x": 1})
    with pytest.raises(SpecError, match="no element named 'nope'"):
        apply_overrides(BASE, {"strategies.nope.short_delta": 0.1})


def test_the_toml_writer_round_trips_through_tomllib():
    config = apply_overrides(BASE, {"strategies.zero.exit.exit_days_to_expiry": 3, "label": 'a "quoted" label'})
    config["rate"] = 0.02
    config["early_assignment"] = False
    config["adaptive"]["table"]["low_vol"] = []
    assert tomllib.loads(dumps_toml(config)) == config


def test_walk_forward_folds_train_before_test_and_tile_the_test_period():
    folds = walk_forward_folds(dt.date(2016, 1, 1), dt.date(2017, 12, 31), 12, 3)
    assert len(folds) == 4
    for f in folds:
        assert f.train.end < f.test.start
        assert f.test.start - f.train.end == dt.timedelta(days=1)
        assert add_months(f.train.start, 12) == f.test.start
    for a, b in zip(folds, folds[1:]):
        assert b.test.start - a.test.end == dt.timedelta(days=1)
    assert folds[0].test.start == dt.date(2017, 1, 1) and folds[-1].test.end == dt.date(2017, 12, 31)
    anchored = walk_forward_folds(dt.date(2016, 1, 1), dt.date(2017, 12, 31), 12, 3, anchored=True)
    assert all(f.train.start == dt.date(2016, 1, 1) for f in anchored)
    assert [f.test for f in anchored] == [f.test for f in folds]
    # The last test window is cut at the end.
    short = walk_forward_folds(dt.date(2016, 1, 1), dt.date(2017, 2, 15), 12, 3)
    assert short[-1].test.end == dt.date(2017, 2, 15)
    with pytest.raises(SpecError):
        walk_forward_folds(dt.date(2016, 1, 1), dt.date(2016, 6, 1), 12, 3)


def test_the_plan_numbers_every_cell_window_pair_with_its_config(tmp_path):
    spec = spec_of(
        '[base]\nunderlyings = ["SPY"]\n[[base.strategies]]\nkind = "iv_rank_premium"\n'
        '[grid]\n"strategies.iv_rank_premium.short_delta" = [0.16, 0.25]\n' + WF,
        tmp_path,
    )
    tasks = plan(spec)
    # Folds: train Jan-Jun/test Jul-Sep, train Apr-Sep/test Oct-Dec: 4 windows × 2 cells.
    assert len(spec.folds) == 2 and len(spec.windows()) == 4
    assert [t["index"] for t in tasks] == list(range(8))
    assert plan(spec) == tasks  # deterministic: a Slurm array element finds its task again
    t = tasks[1]
    assert (t["cell"], t["start"], t["end"]) == ("c1", "2020-01-01", "2020-06-30")
    config = tomllib.loads(t["config_toml"])
    assert config["strategies"][0]["short_delta"] == 0.25
    assert config["underlyings"] == ["SPY"]


@pytest.mark.parametrize(
    "name", ["small.toml", "default.toml", "spy-history.toml", "spy-short-put.toml"]
)
def test_the_shipped_specs_parse(name):
    spec = load_spec(REPO / "sweeps" / name)
    assert spec.cells() and spec.folds
    for t in plan(spec)[: len(spec.cells())]:
        tomllib.loads(t["config_toml"])


def test_a_base_config_file_is_read_relative_to_the_spec(tmp_path):
    (tmp_path / "base.toml").write_text('label = "b"\n[[strategies]]\nkind = "iv_rank_premium"\n')
    spec = parse_spec(
        tomllib.loads(
            '[sweep]\nbase_config = "base.toml"\n[base]\nseed = 9\n[grid]\n"strategies.iv_rank_premium.dte_min" = [21, 30]\n' + WF
        ),
        tmp_path / "s.toml",
    )
    assert spec.base["label"] == "b" and spec.base["seed"] == 9
    assert spec.base["strategies"] == [{"kind": "iv_rank_premium"}]


def test_the_digest_changes_with_the_base_config_file(tmp_path):
    (tmp_path / "base.toml").write_text('[[strategies]]\nkind = "iv_rank_premium"\n')
    text = '[sweep]\nbase_config = "base.toml"\n[grid]\n"strategies.iv_rank_premium.dte_min" = [21, 30]\n' + WF
    before = spec_of(text, tmp_path).digest()
    assert spec_of(text, tmp_path).digest() == before
    (tmp_path / "base.toml").write_text('seed = 7\n[[strategies]]\nkind = "iv_rank_premium"\n')
    assert spec_of(text, tmp_path).digest() != before
