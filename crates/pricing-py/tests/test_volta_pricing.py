"""Tests of the installed Python package `volta_pricing` (`pip install ./crates/pricing-py`).

- published reference values (Hull, Haug, Black 1976);
- agreement with the Rust API: the crate's own CSV pricer (`examples/price_csv.rs`, the scalar
  API) on the same random book, run through cargo when the package is tested from a checkout;
- agreement with vollib (`py_vollib` / `vollib` from PyPI, an independent implementation of
  Black-Scholes-Merton and of Let's Be Rational) on shared cases;
- broadcasting, the three error modes, parallel = serial, the extreme domain of issue 18 §3.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import volta_pricing as vp

REPO = Path(__file__).resolve().parents[3]


def random_book(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Options over the ordinary domain: S 50-150, K 40-180, 1 day-3 years, r -1 %-10 %,
    q -1 %-6 %, σ 5 %-150 %."""
    g = np.random.default_rng(seed)
    return {
        "right": np.where(g.random(n) < 0.5, "call", "put"),
        "spot": g.uniform(50, 150, n),
        "strike": g.uniform(40, 180, n),
        "years": g.uniform(1 / 365, 3, n),
        "rate": g.uniform(-0.01, 0.10, n),
        "dividend_yield": g.uniform(-0.01, 0.06, n),
        "vol": g.uniform(0.05, 1.5, n),
    }


# --------------------------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------------------------


def test_published_european_values():
    # Hull, "Options, Futures and Other Derivatives", Example 15.6: 4.76.
    assert vp.bsm_price("call", 42, 40, 0.5, 0.10, 0.0, 0.20) == pytest.approx(4.7594, abs=1e-4)
    # Haug (2007) §1.1.6: put S = 100, K = 95, T = 0.5, r = 10 %, q = 5 %, σ = 20 %: 2.4648.
    assert vp.bsm_price("p", 100, 95, 0.5, 0.10, 0.05, 0.20) == pytest.approx(2.4648, abs=5e-5)
    # Haug (2007) §1.1.5, Black-76: F = K = 19, T = 0.75, r = 10 %, σ = 28 %: 1.7011.
    assert vp.black76_price("call", 19, 19, 0.75, 0.10, 0.28) == pytest.approx(1.7011, abs=5e-5)
    # QuantLib's europeanoption.cpp testGreekValues, first row (call, S = 105, K = 100,
    # q = 10 %, r = 10 %, T = 0.5, σ = 36 %): delta 0.5946.
    g = vp.bsm_greeks("call", 105, 100, 0.5, 0.10, 0.10, 0.36)
    assert g.delta == pytest.approx(0.5946, abs=1e-4)


def test_published_american_values():
    # Haug (2007), Barone-Adesi-Whaley table: put S = K = 100, T = 0.5, r = q = 10 %,
    # σ = 25 %: 6.8014 (QuantLib asserts these to 3e-3).
    baw = vp.american_price("put", 100, 100, 0.5, 0.10, 0.10, 0.25, model="baw")
    assert baw == pytest.approx(6.8014, abs=1e-3)
    lattice = vp.american_price("put", 100, 100, 0.5, 0.10, 0.10, 0.25, steps=1001)
    # The lattice is the accurate value; BAW, an approximation, is a few cents above it here.
    assert lattice == pytest.approx(6.8014, abs=3e-2)
    assert lattice > vp.bsm_price("put", 100, 100, 0.5, 0.10, 0.10, 0.25)
    # Implied volatility of the lattice's own price gives the volatility back.
    vol = vp.american_implied_vol("put", 100, 100, 0.5, 0.10, 0.10, lattice, steps=1001)
    assert vol == pytest.approx(0.25, abs=1e-8)


def test_issue_18_extreme_american_cases():
    # A put on a spot of 0 is worth its strike (exercise now), a call nothing.
    assert vp.american_price("put", 0.0, 80, 1, 0.05, 0.02, 0.3) == 80.0
    assert vp.american_price("call", 0.0, 80, 1, 0.05, 0.02, 0.3) == 0.0
    # σ = 100: finite, between the European value and the spot.
    for model in ("baw", "bjs2002", "lattice"):
        v = vp.american_price("call", 100, 100, 1, 0.05, 0.02, 100.0, model=model)
        assert math.isfinite(v) and 99.9 < v <= 100.0
    # q = 10: the at-the-money call is worth the perpetual call (Merton 1973).
    b, v2, r = 0.01 - 10.0, 0.04, 0.01
    beta = 0.5 - b / v2 + math.sqrt((b / v2 - 0.5) ** 2 + 2 * r / v2)
    boundary = beta * 100 / (beta - 1)
    perpetual = (boundary - 100) * (100 / boundary) ** beta
    for model in ("baw", "bjs2002"):
        v = vp.american_price("call", 100, 100, 1, r, 10.0, 0.2, model=model)
        assert v == pytest.approx(perpetual, rel=2e-3)
    # A result beyond f64 is a row error (code Overflow), never inf.
    price, code = vp.bsm_price("put", 100, 100, 100, -10.0, 0.02, 0.3, errors="codes")
    assert math.isnan(price) and vp.ERROR_CODES[int(code)][0] == "Overflow"


def test_every_output_over_the_extreme_domain_is_finite_or_flagged():
    g = np.random.default_rng(3)
    n = 4000
    spot = np.where(g.random(n) < 0.1, 0.0, 10 ** g.uniform(-2, 4, n))
    strike = np.where(g.random(n) < 0.1, 0.0, 10 ** g.uniform(-2, 4, n))
    years = np.where(g.random(n) < 0.1, 0.0, 10 ** g.uniform(-4, 2, n))
    rate, q = g.uniform(-10, 10, n), g.uniform(-10, 10, n)
    vol = np.where(g.random(n) < 0.1, 100.0, 10 ** g.uniform(-3, 2, n))
    right = np.where(g.random(n) < 0.5, "c", "p")
    for result, codes in (
        vp.bsm_greeks(right, spot, strike, years, rate, q, vol, errors="codes"),
        vp.bsm_second_order_greeks(right, spot, strike, years, rate, q, vol, errors="codes"),
        vp.american_greeks(right, spot, strike, years, rate, q, vol, model="baw", errors="codes"),
    ):
        for column in result:
            assert np.array_equal(np.isfinite(column), codes == 0)
    for model in ("bjs2002", "lattice"):
        price, codes = vp.american_price(
            right, spot, strike, years, rate, q, vol, model=model, steps=51, errors="codes"
        )
        assert np.array_equal(np.isfinite(price), codes == 0)


# --------------------------------------------------------------------------------------------
# The Python API
# --------------------------------------------------------------------------------------------


def test_broadcasting_and_scalars():
    strikes = np.array([[90.0], [100.0], [110.0]])
    vols = np.array([0.1, 0.2, 0.3, 0.4])
    grid = vp.bsm_price("call", 100, strikes, 1.0, 0.05, 0.01, vols)
    assert grid.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = vp.bsm_price("call", 100, strikes[i, 0], 1.0, 0.05, 0.01, vols[j])
            assert np.isscalar(one) or np.ndim(one) == 0
            assert grid[i, j] == one
    g = vp.bsm_greeks(["c", "P"], 100, 100, 1.0, 0.05, 0.01, 0.2)
    assert g.delta.shape == (2,) and g.delta[0] > 0 > g.delta[1]
    assert vp.bsm_price(np.array([1, -1]), 100, 100, 1, 0.05, 0, 0.2).shape == (2,)


def test_error_modes():
    strikes = [100.0, np.nan, -1.0]
    nan = vp.bsm_price("call", 100, strikes, 1, 0.05, 0, 0.2)
    assert math.isfinite(nan[0]) and np.isnan(nan[1:]).all()
    price, codes = vp.bsm_price("call", 100, strikes, 1, 0.05, 0, 0.2, errors="codes")
    assert codes.dtype == np.uint8 and list(codes) == [0, 2, 2]
    assert vp.ERROR_CODES[2][0] == "InvalidStrike"
    with pytest.raises(vp.PricingError, match=r"row \(1,\): InvalidStrike") as info:
        vp.bsm_price("call", 100, strikes, 1, 0.05, 0, 0.2, errors="raise")
    assert info.value.index == (1,) and info.value.code == 2
    # A price below the lower bound: its own code.
    _, code = vp.bsm_implied_vol("call", 100, 50, 1, 0.05, 0, 1.0, errors="codes")
    assert vp.ERROR_CODES[int(code)][0] == "PriceBelowLowerBound"
    with pytest.raises(ValueError, match="invalid right 'straddle'"):
        vp.bsm_price("straddle", 100, 100, 1, 0.05, 0, 0.2)
    with pytest.raises(ValueError, match="errors must be one of"):
        vp.bsm_price("call", 100, 100, 1, 0.05, 0, 0.2, errors="ignore")
    with pytest.raises(ValueError, match="model must be one of"):
        vp.american_price("call", 100, 100, 1, 0.05, 0, 0.2, model="crr")
    with pytest.raises(ValueError):
        vp.bsm_price("call", [1.0, 2.0], [1.0, 2.0, 3.0], 1, 0.05, 0, 0.2)


def test_parallel_gives_the_serial_results_bit_for_bit():
    b = random_book(50_000)
    args = [b[k] for k in ("right", "spot", "strike", "years", "rate", "dividend_yield", "vol")]
    for f in (vp.bsm_greeks, vp.bsm_second_order_greeks):
        serial, parallel = f(*args), f(*args, parallel=True)
        for a, c in zip(serial, parallel):
            assert np.array_equal(a, c, equal_nan=True)
    prices = vp.bsm_price(*args)
    iv = vp.bsm_implied_vol(*args[:6], prices)
    assert np.array_equal(iv, vp.bsm_implied_vol(*args[:6], prices, parallel=True), equal_nan=True)
    small = [a[:2000] for a in args]
    assert np.array_equal(
        vp.american_price(*small, model="baw"), vp.american_price(*small, model="baw", parallel=True)
    )


def test_implied_vol_round_trips():
    b = random_book(100_000)
    args = [b[k] for k in ("right", "spot", "strike", "years", "rate", "dividend_yield")]
    price = vp.bsm_price(*args, b["vol"])
    g = vp.bsm_greeks(*args, b["vol"])
    iv = vp.bsm_implied_vol(*args, price, errors="raise")
    # Where the price is sensitive enough to the volatility to identify it.
    ok = g.vega * b["vol"] > 1e-6 * np.maximum(b["spot"], b["strike"])
    assert ok.mean() > 0.9
    assert np.abs(iv[ok] / b["vol"][ok] - 1).max() < 1e-9
    repriced = vp.bsm_price(*args, iv)
    assert np.abs(repriced - price).max() <= 1e-12 * np.maximum(b["spot"], b["strike"]).max()
    # Black-76 likewise.
    f76 = vp.black76_price(b["right"], b["spot"], b["strike"], b["years"], b["rate"], b["vol"])
    iv76 = vp.black76_implied_vol(b["right"], b["spot"], b["strike"], b["years"], b["rate"], f76)
    g76 = vp.black76_greeks(b["right"], b["spot"], b["strike"], b["years"], b["rate"], b["vol"])
    ok76 = g76.vega * b["vol"] > 1e-6 * np.maximum(b["spot"], b["strike"])
    assert np.abs(iv76[ok76] / b["vol"][ok76] - 1).max() < 1e-9


# --------------------------------------------------------------------------------------------
# Agreement with the Rust API (the crate's CSV pricer: the scalar API, row by row)
# --------------------------------------------------------------------------------------------


def rust_price_csv(rows: list[dict], *flags: str) -> list[dict]:
    cargo = shutil.which("cargo")
    if cargo is None or not (REPO / "crates" / "pricing" / "Cargo.toml").exists():
        pytest.skip("the Rust API check needs cargo and the source checkout")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    out = subprocess.run(
        [cargo, "run", "--quiet", "-p", "volta-pricing", "--example", "price_csv", "--", *flags],
        input=text.getvalue(),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ,
        check=True,
    )
    return list(csv.DictReader(io.StringIO(out.stdout)))


def test_agreement_with_the_rust_api():
    b = random_book(600, seed=11)
    models = ["bsm", "black76", "baw", "bjs2002", "lattice"]
    rows = [
        {
            "model": models[i % 5],
            "right": b["right"][i],
            **{k: repr(float(b[k][i])) for k in ("spot", "strike", "years", "rate", "dividend_yield", "vol")},
        }
        for i in range(600)
    ]
    rust = rust_price_csv(rows, "--steps", "101")
    names = ("price", "delta", "gamma", "vega", "theta", "rho")
    for i, (row, out) in enumerate(zip(rows, rust)):
        args = [row["right"]] + [float(row[k]) for k in ("spot", "strike", "years", "rate", "dividend_yield", "vol")]
        model = row["model"]
        if model == "bsm":
            g = vp.bsm_greeks(*args)
        elif model == "black76":
            g = vp.black76_greeks(args[0], args[1], args[2], args[3], args[4], args[6])
        else:
            g = vp.american_greeks(*args, model=model, steps=101)
        scale = max(args[1], args[2])
        for name in names:
            want = float(out[name])
            got = float(getattr(g, name))
            # SIMD batch kernel against the scalar kernel: 1e-13 of the option's scale (the
            # crate's own batch test); the American rows take the very same path.
            tol = 1e-12 * max(scale, abs(want)) if model in ("bsm", "black76") else 0.0
            assert abs(got - want) <= tol, (i, model, name, got, want)
    # Implied volatility: the batch solver (Let's Be Rational on SIMD lanes) against the scalar
    # one, which the crate's own test holds to 1e-12 of the price; here σ itself.
    quotes = [
        {**{k: row[k] for k in ("model", "right", "spot", "strike", "years", "rate", "dividend_yield")}, "price": out["price"]}
        for row, out in zip(rows, rust)
        if row["model"] == "bsm"
    ]
    solved = rust_price_csv(quotes, "--implied")
    for q, out in zip(quotes, solved):
        args = [q["right"]] + [float(q[k]) for k in ("spot", "strike", "years", "rate", "dividend_yield", "price")]
        got = vp.bsm_implied_vol(*args)
        if out["error"]:
            assert math.isnan(got)
        else:
            assert math.isclose(got, float(out["vol"]), rel_tol=1e-12), (q, got, out["vol"])


# --------------------------------------------------------------------------------------------
# Agreement with vollib (PyPI `py_vollib`, an independent implementation)
# --------------------------------------------------------------------------------------------


def vollib():
    pytest.importorskip("py_vollib", reason="py_vollib (pip install py_vollib) is not installed")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from py_vollib.black_scholes_merton import black_scholes_merton
        from py_vollib.black_scholes_merton.greeks import analytical
        from py_vollib.black_scholes_merton.implied_volatility import implied_volatility
    return black_scholes_merton, analytical, implied_volatility


def test_agreement_with_vollib():
    bsm, analytical, implied_volatility = vollib()
    b = random_book(300, seed=5)
    for i in range(300):
        flag = b["right"][i][0]
        s, k, t, r, q, v = (float(b[x][i]) for x in ("spot", "strike", "years", "rate", "dividend_yield", "vol"))
        ours = vp.bsm_greeks(flag, s, k, t, r, q, v)
        scale = max(s, k)
        assert ours.price == pytest.approx(bsm(flag, s, k, t, r, v, q), abs=1e-12 * scale)
        assert ours.delta == pytest.approx(analytical.delta(flag, s, k, t, r, v, q), abs=1e-12)
        assert ours.gamma == pytest.approx(analytical.gamma(flag, s, k, t, r, v, q), rel=1e-10, abs=1e-15)
        # vollib quotes vega and rho per 1 % and theta per calendar day.
        assert ours.vega / 100 == pytest.approx(analytical.vega(flag, s, k, t, r, v, q), abs=1e-12 * scale)
        assert ours.rho / 100 == pytest.approx(analytical.rho(flag, s, k, t, r, v, q), abs=1e-12 * scale)
        assert ours.theta / 365 == pytest.approx(analytical.theta(flag, s, k, t, r, v, q), abs=1e-11 * scale)
        if ours.vega * v > 1e-6 * scale:
            theirs = implied_volatility(ours.price, s, k, t, r, q, flag)
            assert vp.bsm_implied_vol(flag, s, k, t, r, q, ours.price) == pytest.approx(theirs, rel=1e-9)


def test_the_gil_is_released_while_computing():
    """While a worker thread prices a slow batch (lattice American options), the main thread
    keeps running Python for most of the call: if the call held the GIL, the main thread could
    only run around it (a switch interval, 5 ms, at each end)."""
    import threading
    import time

    b = random_book(4000, seed=9)
    args = [b[k] for k in ("right", "spot", "strike", "years", "rate", "dividend_yield", "vol")]
    start = time.perf_counter()
    vp.american_price(*args, steps=301)
    call = time.perf_counter() - start
    assert call > 0.05  # long against the 5 ms switch interval
    spins, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.05:
        spins += 1
    rate = spins / 0.05
    done = threading.Event()

    def work():
        vp.american_price(*args, steps=301)
        done.set()

    worker = threading.Thread(target=work)
    spins = 0
    worker.start()
    while not done.is_set():
        spins += 1
    worker.join()
    # Held, the main thread would spin for ~10 ms of a call of `call` seconds.
    assert spins > 0.25 * rate * call, f"{spins} spins during a {call:.3f} s call at {rate:.0f}/s"


def test_int8_rights_pass_through_and_bad_ones_are_refused():
    """±1 `int8` rights go to the compiled module as they are; it names a bad row."""
    args = (100.0, 105.0, 0.5, 0.03, 0.01, 0.2)
    signs = np.array([1, -1], dtype=np.int8)
    by_sign, by_text = vp.bsm_greeks(signs, *args), vp.bsm_greeks(np.array(["call", "put"]), *args)
    for a, b in zip(by_sign, by_text):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="row 1: right 0"):
        vp.bsm_price(np.array([1, 0], dtype=np.int8), *args)
