"""The sweep spec (TOML): the base backtest configuration, the parameter axes, how cells are
drawn from them (a full grid or a seeded random sample of the grid), and the walk-forward
windows. Also the two pieces of TOML plumbing a cell needs: overrides applied by dotted key
path, and a writer for the cell's configuration file.

Everything here is pure (no processes, no Ray) so that it can be tested alone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import itertools
import json
import math
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SpecError(ValueError):
    """A bad sweep spec, naming the file and the key."""


# ---------------------------------------------------------------------------------------------
# Axes and cells


@dataclass(frozen=True)
class Axis:
    """One parameter axis: the dotted key paths it sets (one value each, or several at once,
    e.g. a days-to-expiry window `[dte_min, dte_max]`) and its values in order.

    An ordinal axis (numbers) has neighbours along it; a categorical axis (strings, lists,
    booleans, tables, or `categorical = true`) does not: a cell's neighbourhood keeps its value.
    """

    name: str
    keys: tuple[str, ...]
    values: tuple[Any, ...]
    categorical: bool

    def assignments(self, index: int) -> dict[str, Any]:
        """The key → value overrides of this axis's `index`-th value."""
        value = self.values[index]
        if len(self.keys) == 1:
            return {self.keys[0]: value}
        return dict(zip(self.keys, value, strict=True))

    def label(self, index: int) -> str:
        value = self.values[index]
        return _short(value)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Cell:
    """One point of the grid: an index per axis, and the overrides it applies."""

    index: tuple[int, ...]
    overrides: dict[str, Any] = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        """A stable name: the axis indices, e.g. `c1-0-2`."""
        return "c" + "-".join(str(i) for i in self.index)


@dataclass(frozen=True)
class Window:
    """A date range of one backtest run, both ends included (sessions inside it trade)."""

    start: dt.date
    end: dt.date

    @property
    def id(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


@dataclass(frozen=True)
class Fold:
    """One walk-forward step: parameters chosen on `train`, applied to `test` (after it)."""

    number: int
    train: Window
    test: Window


@dataclass
class Spec:
    """A parsed sweep spec."""

    path: Path
    name: str
    base: dict[str, Any]
    axes: list[Axis]
    mode: str  # "grid" or "random"
    samples: int | None
    sample_seed: int
    data: str  # "synthetic" or "store"
    store: str | None
    metric: str
    radius: int
    folds: list[Fold]
    raw: dict[str, Any]

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    def cells(self) -> list[Cell]:
        """The cells to run, in grid order: every cell of the grid, or a seeded random sample
        of `samples` distinct cells (the same seed gives the same sample)."""
        indices = list(itertools.product(*(range(n) for n in self.grid_shape)))
        if self.mode == "random" and self.samples is not None and self.samples < len(indices):
            rng = random.Random(self.sample_seed)
            indices = sorted(rng.sample(indices, self.samples))
        return [Cell(idx, self.overrides_of(idx)) for idx in indices]

    def overrides_of(self, index: tuple[int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for axis, i in zip(self.axes, index, strict=True):
            out.update(axis.assignments(i))
        return out

    def windows(self) -> list[Window]:
        """Every distinct window a run needs (training and test windows), in date order."""
        seen: dict[str, Window] = {}
        for f in self.folds:
            for w in (f.train, f.test):
                seen.setdefault(w.id, w)
        return sorted(seen.values(), key=lambda w: (w.start, w.end))

    def digest(self) -> str:
        """A short hash of the spec's content and of the base configuration it resolved (a
        changed base_config file is another sweep): results of another sweep are not mixed in."""
        text = json.dumps({"spec": self.raw, "base": self.base}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Dotted key paths


def apply_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `config` with each `dotted.key.path = value` set.

    A path walks tables by key, creating missing tables; where it meets an array of tables
    (`[[strategies]]`) the next segment picks the element whose `name` (else `kind`) equals it,
    or the element at that index when it is a number — `strategies.iv_rank_premium.exit.stop_loss`.
    A segment naming no element is an error: the base configuration must list the strategy.
    """
    out = _deep_copy(config)
    for path, value in overrides.items():
        set_path(out, path, value)
    return out


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if not path or any(p == "" for p in parts):
        raise SpecError(f"bad key path {path!r}")
    node: Any = config
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        if isinstance(node, dict):
            if part not in node:
                node[part] = {}
            node = node[part]
        elif isinstance(node, list):
            node = _element(node, part, here)
        else:
            raise SpecError(f"key path {path!r}: {here!r} is a value, not a table")
        if not isinstance(node, (dict, list)):
            raise SpecError(f"key path {path!r}: {here!r} is a value, not a table")
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = _deep_copy(value)
    elif isinstance(node, list):
        raise SpecError(f"key path {path!r}: cannot replace a whole element of {parts[-2]!r}")
    else:  # pragma: no cover - guarded above
        raise SpecError(f"key path {path!r}: not a table")


def _element(items: list[Any], part: str, here: str) -> Any:
    for item in items:
        if isinstance(item, dict) and item.get("name", item.get("kind")) == part:
            return item
    if part.isdigit() and int(part) < len(items):
        return items[int(part)]
    names = [str(i.get("name", i.get("kind"))) for i in items if isinstance(i, dict)]
    raise SpecError(f"{here!r}: no element named {part!r} (there are: {', '.join(names)})")


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# TOML writer (tomllib reads; the standard library has no writer)


def dumps_toml(config: dict[str, Any]) -> str:
    """TOML text for a configuration made of tables, arrays of tables, arrays and scalars
    (what `tomllib` gives back): `tomllib.loads(dumps_toml(c)) == c`."""
    lines: list[str] = []
    _write_table(lines, config, [])
    return "\n".join(lines).strip() + "\n"


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _write_table(lines: list[str], table: dict[str, Any], prefix: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_table_array(v)}
    for k, v in scalars.items():
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in table.items():
        if isinstance(v, dict):
            path = [*prefix, k]
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
            _write_table(lines, v, path)
    for k, v in table.items():
        if _is_table_array(v):
            path = [*prefix, k]
            for element in v:
                lines.append("")
                lines.append("[[" + ".".join(_key(p) for p in path) + "]]")
                _write_table(lines, element, path)


def _key(k: str) -> str:
    if k and all(c.isalnum() or c in "-_" for c in k):
        return k
    return json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise SpecError(f"cannot write {v!r} as TOML")


# ---------------------------------------------------------------------------------------------
# Walk-forward windows


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def walk_forward_folds(
    start: dt.date, end: dt.date, train_months: int, test_months: int, anchored: bool = False
) -> list[Fold]:
    """Rolling (or anchored) folds: train on `train_months`, test on the `test_months` after
    it, step by `test_months`, until the test window would start after `end` (the last test
    window is cut at `end`). Test windows tile [start + train, end] without overlap."""
    if train_months < 1 or test_months < 1:
        raise SpecError("train_months and test_months must be at least 1")
    if end <= start:
        raise SpecError(f"walk_forward: end {end} is not after start {start}")
    folds: list[Fold] = []
    k = 0
    while True:
        test_start = add_months(start, train_months + k * test_months)
        if test_start > end:
            break
        train_start = start if anchored else add_months(start, k * test_months)
        train_end = test_start - dt.timedelta(days=1)
        test_end = min(add_months(start, train_months + (k + 1) * test_months) - dt.timedelta(days=1), end)
        folds.append(Fold(k, Window(train_start, train_end), Window(test_start, test_end)))
        k += 1
    if not folds:
        raise SpecError(
            f"walk_forward: {start}..{end} is shorter than one training window and one test window"
        )
    return folds


# ---------------------------------------------------------------------------------------------
# Parsing


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SpecError(f"{path}: {e}") from e
    return parse_spec(raw, path)


def parse_spec(raw: dict[str, Any], path: Path) -> Spec:
    where = str(path)
    known = {"sweep", "base", "grid", "axis", "walk_forward", "selection"}
    unknown = set(raw) - known
    if unknown:
        raise SpecError(f"{where}: unknown top-level keys {sorted(unknown)} (known: {sorted(known)})")
    sweep = dict(raw.get("sweep", {}))
    _only(sweep, {"name", "base_config", "mode", "samples", "sample_seed", "data", "store"}, where, "sweep")

    base: dict[str, Any] = {}
    if "base_config" in sweep:
        base_path = (path.parent / sweep["base_config"]).resolve()
        try:
            base = tomllib.loads(base_path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise SpecError(f"{where}: sweep.base_config: {e}") from e
    # Inline [base] keys go on top of the file's.
    for k, v in raw.get("base", {}).items():
        base[k] = _deep_copy(v)

    axes: list[Axis] = []
    for key, values in raw.get("grid", {}).items():
        # Named by the key without the leading `strategies.`: shorter in tables and heatmaps.
        name = key.removeprefix("strategies.")
        axes.append(_axis(name, {"key": key, "values": values}, where))
    for i, table in enumerate(raw.get("axis", [])):
        axes.append(_axis(table.get("name", f"axis {i}"), table, where))
    if not axes:
        raise SpecError(f"{where}: no [grid] keys and no [[axis]]: nothing to sweep")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: axis names repeat: {names}")
    keys = [k for a in axes for k in a.keys]
    if len(set(keys)) != len(keys):
        raise SpecError(f"{where}: a key path is set by two axes: {keys}")
    # Every path must reach into the base configuration (a typo fails before any run).
    for a in axes:
        for i in range(len(a.values)):
            apply_overrides(base, a.assignments(i))

    mode = sweep.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise SpecError(f"{where}: sweep.mode must be \"grid\" or \"random\", not {mode!r}")
    samples = sweep.get("samples")
    if mode == "random" and (not isinstance(samples, int) or samples < 1):
        raise SpecError(f"{where}: sweep.mode = \"random\" needs sweep.samples >= 1")
    data = sweep.get("data", "synthetic")
    if data not in ("synthetic", "store"):
        raise SpecError(f"{where}: sweep.data must be \"synthetic\" or \"store\", not {data!r}")

    wf = dict(raw.get("walk_forward", {}))
    _only(wf, {"start", "end", "train_months", "test_months", "anchored"}, where, "walk_forward")
    for k in ("start", "end", "train_months", "test_months"):
        if k not in wf:
            raise SpecError(f"{where}: walk_forward.{k} is missing")
    folds = walk_forward_folds(
        _date(wf["start"], where, "walk_forward.start"),
        _date(wf["end"], where, "walk_forward.end"),
        int(wf["train_months"]),
        int(wf["test_months"]),
        bool(wf.get("anchored", False)),
    )

    sel = dict(raw.get("selection", {}))
    _only(sel, {"metric", "radius"}, where, "selection")
    metric = sel.get("metric", "sharpe")
    radius = sel.get("radius", 1)
    if not isinstance(radius, int) or radius < 0:
        raise SpecError(f"{where}: selection.radius must be a whole number >= 0")

    return Spec(
        path=path,
        name=sweep.get("name", path.stem),
        base=base,
        axes=axes,
        mode=mode,
        samples=samples,
        sample_seed=int(sweep.get("sample_seed", 0)),
        data=data,
        store=sweep.get("store"),
        metric=metric,
        radius=radius,
        folds=folds,
        raw=raw,
    )


def _axis(name: str, table: dict[str, Any], where: str) -> Axis:
    _only(table, {"name", "key", "keys", "values", "min", "max", "steps", "categorical"}, where, f"axis {name!r}")
    if "keys" in table:
        keys = tuple(table["keys"])
    else:
        keys = (table.get("key", name),)
    if "values" in table:
        values = tuple(table["values"])
    elif {"min", "max", "steps"} <= set(table):
        lo, hi, n = table["min"], table["max"], int(table["steps"])
        if n < 1:
            raise SpecError(f"{where}: axis {name!r}: steps must be >= 1")
        if n == 1:
            values = (lo,)
        elif isinstance(lo, int) and isinstance(hi, int) and (hi - lo) % (n - 1) == 0:
            values = tuple(lo + i * (hi - lo) // (n - 1) for i in range(n))
        else:
            values = tuple(round(lo + i * (hi - lo) / (n - 1), 10) for i in range(n))
    else:
        raise SpecError(f"{where}: axis {name!r} needs `values` or `min`, `max` and `steps`")
    if not values:
        raise SpecError(f"{where}: axis {name!r} has no values")
    if len(keys) > 1:
        for v in values:
            if not isinstance(v, list) or len(v) != len(keys):
                raise SpecError(f"{where}: axis {name!r}: each value must list {len(keys)} items (one per key)")
    ordinal = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) or (
        len(keys) > 1
        and all(all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) for v in values)
    )
    categorical = bool(table.get("categorical", not ordinal))
    return Axis(name=name, keys=keys, values=values, categorical=categorical)


def _only(table: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    extra = set(table) - allowed
    if extra:
        raise SpecError(f"{where}: [{what}] has unknown keys {sorted(extra)} (known: {sorted(allowed)})")


def _date(v: Any, where: str, key: str) -> dt.date:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError as e:
        raise SpecError(f"{where}: {key}: {e}") from e
