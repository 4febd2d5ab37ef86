#!/usr/bin/env python3
"""The Python package `volta_pricing` against what a researcher would otherwise use, on one
book of 10⁶ random European options with a dividend yield (issue 18 §2's speed goals):

- a plain numpy/scipy vectorised Black-Scholes-Merton (price and the first-order greeks, the
  textbook formulas with `scipy.special.ndtr`), timed on the whole book;
- QuantLib's Python bindings (`BlackCalculator` for price + greeks,
  `blackFormulaImpliedStdDev` for implied volatility), timed per option in a Python loop over
  a sample of the book (a loop over 10⁶ would take minutes; the per-option cost is flat);
- `volta_pricing` on the whole book, on one core and with `parallel=True`.

Every peer's answers are checked against Volta's before the times are printed. Timings: best
of `--repeat` runs, `time.perf_counter`. Not part of CI (`just bench-peers` runs run.sh, the
scalar comparison; run this one by hand):

    pip install ./crates/pricing-py scipy QuantLib
    python3 benches/peers/python_vectorised.py [--n 1000000] [--sample 20000]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from scipy.special import ndtr

import volta_pricing as vp


def book(n: int, seed: int = 2026) -> dict[str, np.ndarray]:
    """The peers bench's ranges: S 50-150, K = S·e^{±0.3}, 7 days-2 years, r 0-8 %,
    q 0.5-5 %, σ 5-80 %."""
    g = np.random.default_rng(seed)
    spot = g.uniform(50, 150, n)
    return {
        "right": np.where(g.random(n) < 0.5, 1, -1).astype(np.int8),
        "spot": spot,
        "strike": spot * np.exp(g.uniform(-0.3, 0.3, n)),
        "years": g.uniform(7 / 365, 2, n),
        "rate": g.uniform(0, 0.08, n),
        "dividend_yield": g.uniform(0.005, 0.05, n),
        "vol": g.uniform(0.05, 0.8, n),
    }


def numpy_scipy_greeks(theta, s, k, t, r, q, v):
    """Textbook vectorised Black-Scholes-Merton (Haug 2007, §1.1.6 and ch. 2): what one writes
    with numpy and scipy. Returns price, delta, gamma, vega, theta (per year), rho, dividend rho."""
    sqrt_t = np.sqrt(t)
    v_sqrt_t = v * sqrt_t
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / v_sqrt_t
    d2 = d1 - v_sqrt_t
    df, qf = np.exp(-r * t), np.exp(-q * t)
    n1, n2 = ndtr(theta * d1), ndtr(theta * d2)
    pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    price = theta * (s * qf * n1 - k * df * n2)
    delta = theta * qf * n1
    gamma = qf * pdf / (s * v_sqrt_t)
    vega = s * qf * pdf * sqrt_t
    theta_ = -s * qf * pdf * v / (2 * sqrt_t) + theta * (q * s * qf * n1 - r * k * df * n2)
    rho = theta * k * t * df * n2
    dividend_rho = -theta * s * t * qf * n1
    return price, delta, gamma, vega, theta_, rho, dividend_rho


def best_of(repeat: int, f):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


def quantlib_loop(b, idx, implied_prices=None):
    """QuantLib per option: BlackCalculator (price and greeks) or blackFormulaImpliedStdDev."""
    import QuantLib as ql

    out = []
    call, put = ql.Option.Call, ql.Option.Put
    if implied_prices is None:
        for i in idx:
            t, r, q = b["years"][i], b["rate"][i], b["dividend_yield"][i]
            s, k, v = b["spot"][i], b["strike"][i], b["vol"][i]
            df, growth = math.exp(-r * t), math.exp((r - q) * t)
            payoff = ql.PlainVanillaPayoff(call if b["right"][i] == 1 else put, k)
            calc = ql.BlackCalculator(payoff, s * growth, v * math.sqrt(t), df)
            out.append(
                (
                    calc.value(),
                    calc.delta(s),
                    calc.gamma(s),
                    calc.vega(t),
                    calc.theta(s, t),
                    calc.rho(t),
                    calc.dividendRho(t),
                )
            )
        return out
    for i, p in zip(idx, implied_prices):
        t, r, q = b["years"][i], b["rate"][i], b["dividend_yield"][i]
        s, k = b["spot"][i], b["strike"][i]
        df, growth = math.exp(-r * t), math.exp((r - q) * t)
        kind = call if b["right"][i] == 1 else put
        try:
            sd = ql.blackFormulaImpliedStdDev(kind, k, s * growth, p, df)
            out.append(sd / math.sqrt(t))
        except RuntimeError:
            out.append(math.nan)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=20_000, help="options timed for QuantLib")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    b = book(args.n)
    cols = [b[k] for k in ("right", "spot", "strike", "years", "rate", "dividend_yield", "vol")]
    theta = b["right"].astype(np.float64)
    rows = []

    t_price, volta_price = best_of(args.repeat, lambda: vp.bsm_price(*cols))
    t_greeks, volta = best_of(args.repeat, lambda: vp.bsm_greeks(*cols))
    t_greeks_par, _ = best_of(args.repeat, lambda: vp.bsm_greeks(*cols, parallel=True))
    t_iv, volta_iv = best_of(args.repeat, lambda: vp.bsm_implied_vol(*cols[:6], volta.price))
    t_iv_par, _ = best_of(
        args.repeat, lambda: vp.bsm_implied_vol(*cols[:6], volta.price, parallel=True)
    )
    # The volatility comes back wherever the price identifies it (vega·σ ≥ 1e-4 of the scale).
    well = volta.vega * b["vol"] >= 1e-4 * np.maximum(b["spot"], b["strike"])
    assert np.abs(volta_iv[well] / b["vol"][well] - 1).max() < 1e-9

    t_np, ref = best_of(args.repeat, lambda: numpy_scipy_greeks(theta, *[c for c in cols[1:]]))
    scale = np.maximum(b["spot"], b["strike"])
    worst_np = max(np.max(np.abs(a - c) / scale) for a, c in zip(ref, volta))

    idx = np.linspace(0, args.n - 1, min(args.sample, args.n)).astype(int)
    t_ql, ql_greeks = best_of(1, lambda: quantlib_loop(b, idx))
    t_ql_iv, ql_iv = best_of(1, lambda: quantlib_loop(b, idx, volta.price[idx]))
    ql_greeks = np.array(ql_greeks)
    worst_ql = max(
        np.max(np.abs(ql_greeks[:, j] - getattr(volta, name)[idx]) / scale[idx])
        for j, name in enumerate(("price", "delta", "gamma", "vega", "theta", "rho", "dividend_rho"))
    )
    ok = np.isfinite(ql_iv) & (volta.vega[idx] > 1e-6)
    worst_ql_iv = np.max(np.abs(np.array(ql_iv)[ok] - volta_iv[idx][ok]))

    n, m = args.n, len(idx)
    per = lambda seconds, count: seconds / count * 1e9  # noqa: E731
    rows = [
        ("volta_pricing, one core", per(t_price, n), per(t_greeks, n), per(t_iv, n)),
        (f"volta_pricing, parallel ({os.cpu_count()} cores)", None, per(t_greeks_par, n), per(t_iv_par, n)),
        ("numpy/scipy vectorised", None, per(t_np, n), None),
        (f"QuantLib (Python loop, {m} options)", None, per(t_ql, m), per(t_ql_iv, m)),
    ]
    print(f"{n} options, best of {args.repeat}; ns/option")
    print(f"{'':44} {'price':>10} {'greeks':>10} {'implied vol':>12}")
    for name, p, g, iv in rows:
        fmt = lambda x: f"{x:10.1f}" if x is not None else f"{'—':>10}"  # noqa: E731
        print(f"{name:44} {fmt(p)} {fmt(g)} {fmt(iv):>12}")
    print(
        f"ratios (peer ÷ volta one core): numpy/scipy greeks {t_np / t_greeks:.1f}×, "
        f"QuantLib greeks {per(t_ql, m) / per(t_greeks, n):.0f}×, "
        f"QuantLib implied vol {per(t_ql_iv, m) / per(t_iv, n):.0f}×"
    )
    print(
        f"agreement (max |Δ| / max(S, K)): numpy/scipy {worst_np:.1e}, QuantLib {worst_ql:.1e}; "
        f"QuantLib implied vol max |Δσ| {worst_ql_iv:.1e} (its default accuracy is 1e-6 on σ√T)"
    )


if __name__ == "__main__":
    main()
