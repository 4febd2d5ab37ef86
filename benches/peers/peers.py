#!/usr/bin/env python3
"""Volta against QuantLib's and vollib's Python packages on one book of random European options.

Run through run.sh (which makes the venv). Steps:

1. Write N options to options.csv with the benches' splitmix64 generator and seed
   (crates/pricing/benches/support/random_options.rs, ported digit for digit), so the book
   is the one the Rust benches price: every option has a dividend yield q != 0 and q != r.
2. Volta: run the `price_csv` example on the CSV (price + greeks), then on the prices in
   `--implied` mode; its answers are the reference every peer is checked against.
   Volta's ns/option: criterion's mean for `peers/greeks/volta` etc., read from
   target/criterion/<group>/<bench>/new/estimates.json divided by the loop length, when those
   benches have been run (`cargo bench -p volta-pricing --bench peers`; run.sh does); otherwise the
   example's wall time, which also counts process start and CSV parsing/formatting, so it
   flatters the peers. The table says which one it used.
3. Peers, timed per option in a plain Python loop (the way a researcher calls them; the
   Python call overhead is part of what they cost):
   - QuantLib: BlackCalculator (price + delta, gamma, vega, theta, rho, dividend rho) and
     blackFormulaImpliedStdDev (IV);
   - vollib (py_vollib): black_scholes_merton price, analytical greeks, implied_volatility.
4. Agreement: max relative difference of each peer against Volta (or against QuantLib when
   Volta's answers are unavailable), with each peer's units converted to Volta's (per 1.00 of
   vol/rate, theta per year).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

MASK = (1 << 64) - 1
SEED = 0x5EED_2026_0001
FIELDS = ["model", "right", "spot", "strike", "years", "rate", "dividend_yield", "vol"]
GREEKS = ["price", "delta", "gamma", "vega", "theta", "rho", "dividend_rho"]


class SplitMix64:
    """splitmix64, as in random_options.rs."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, lo, hi):
        unit = (self.next_u64() >> 11) * (1.0 / (1 << 53))
        return lo + (hi - lo) * unit


def random_options(n):
    """The benches' book: same draws, same order as random_option() in Rust."""
    rng = SplitMix64(SEED)
    out = []
    for _ in range(n):
        right = "call" if rng.next_u64() & 1 == 0 else "put"
        spot = rng.uniform(50.0, 150.0)
        strike = spot * math.exp(rng.uniform(-0.3, 0.3))
        years = rng.uniform(7.0 / 365.0, 2.0)
        rate = rng.uniform(0.0, 0.08)
        q = rng.uniform(0.005, 0.05)
        if abs(rate - q) < 1e-3:
            q += 2e-3
        vol = rng.uniform(0.05, 0.80)
        out.append(("bsm", right, spot, strike, years, rate, q, vol))
    return out


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([x if isinstance(x, str) else repr(x) for x in r])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------------------------
# Volta


def run_volta(binary, csv_in, csv_out, extra):
    """Runs the price_csv example (CSV on stdin, CSV on stdout); returns (rows, seconds)."""
    if not os.path.exists(binary):
        print(f"volta: {binary} not found; build it with `cargo build --release -p volta-pricing --example price_csv`")
        return None, None
    with open(csv_in) as fin, open(csv_out, "w") as fout:
        t0 = time.perf_counter()
        proc = subprocess.run([binary, *extra], stdin=fin, stdout=fout, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"volta: price_csv {' '.join(extra)} failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
        return None, None
    rows = read_csv(csv_out)
    if not rows or "price" not in rows[0] and "vol" not in rows[0]:
        print(f"volta: unexpected output header {list(rows[0]) if rows else '(empty)'}")
        return None, None
    return rows, seconds


def criterion_ns_per_option(criterion_dir, bench, per_iteration):
    """Criterion's mean time per iteration for `group/bench`, divided by the loop length."""
    path = os.path.join(criterion_dir, *bench.split("/"), "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["mean"]["point_estimate"] / per_iteration
    except (OSError, KeyError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Peers


def quantlib_ops(ql):
    def calc(o):
        right, s, k, t, r, q, v = o
        kind = ql.Option.Call if right == "call" else ql.Option.Put
        df = math.exp(-r * t)
        forward = s * math.exp((r - q) * t)
        return ql.BlackCalculator(ql.PlainVanillaPayoff(kind, k), forward, v * math.sqrt(t), df), s, t

    def price(o):
        c, _, _ = calc(o)
        return c.value()

    def greeks(o):
        c, s, t = calc(o)
        return [c.value(), c.delta(s), c.gamma(s), c.vega(t), c.theta(s, t), c.rho(t), c.dividendRho(t)]

    def implied(o, p):
        right, s, k, t, r, q, _ = o
        kind = ql.Option.Call if right == "call" else ql.Option.Put
        df = math.exp(-r * t)
        forward = s * math.exp((r - q) * t)
        return ql.blackFormulaImpliedStdDev(kind, k, forward, p, df) / math.sqrt(t)

    return price, greeks, implied


def vollib_ops():
    from py_vollib.black_scholes_merton import black_scholes_merton as bsm
    from py_vollib.black_scholes_merton.greeks import analytical as g
    from py_vollib.black_scholes_merton.implied_volatility import implied_volatility

    def price(o):
        right, s, k, t, r, q, v = o
        return bsm(right[0], s, k, t, r, v, q)

    def greeks(o):
        # vollib's units: vega and rho per 1 % point, theta per calendar day (/365); it has no
        # dividend rho.
        right, s, k, t, r, q, v = o
        f = right[0]
        return [
            bsm(f, s, k, t, r, v, q),
            g.delta(f, s, k, t, r, v, q),
            g.gamma(f, s, k, t, r, v, q),
            g.vega(f, s, k, t, r, v, q) * 100.0,
            g.theta(f, s, k, t, r, v, q) * 365.0,
            g.rho(f, s, k, t, r, v, q) * 100.0,
            float("nan"),
        ]

    def implied(o, p):
        right, s, k, t, r, q, _ = o
        return implied_volatility(p, s, k, t, r, q, right[0])

    return price, greeks, implied


def timed(fn, items):
    """Calls fn on every item; returns (results, ns per item)."""
    out = []
    append = out.append
    t0 = time.perf_counter()
    for it in items:
        try:
            append(fn(it))
        except Exception:  # a peer refusing an option counts as a disagreement, not a crash
            append(float("nan"))
    return out, (time.perf_counter() - t0) * 1e9 / max(len(items), 1)


def max_rel(ref, got, scale=None):
    """Max |ref − got| / max(|ref|, scale) over paired values; NaN (peer failed) → inf."""
    worst, bad = 0.0, 0
    for i, (a, b) in enumerate(zip(ref, got)):
        if a is None or (isinstance(a, float) and math.isnan(a)):
            continue
        if isinstance(b, float) and math.isnan(b):
            bad += 1
            continue
        s = max(abs(a), scale[i] if scale else 0.0, 1e-300)
        worst = max(worst, abs(a - b) / s)
    return (math.inf if bad else worst), bad


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="options in the book")
    ap.add_argument("--workdir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--volta", default="", help="path to the price_csv example binary")
    ap.add_argument("--criterion", default="", help="criterion output dir (target/criterion)")
    ap.add_argument("--peers", default="quantlib,vollib", help="comma-separated subset")
    args = ap.parse_args()

    options_csv = os.path.join(args.workdir, "options.csv")
    book = random_options(args.n)
    write_csv(options_csv, FIELDS, book)
    opts = [(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in book]
    scale = [s * math.exp(-q * t) + k * math.exp(-r * t) for (_, s, k, t, r, q, _) in opts]
    print(f"book: {args.n} options from seed {SEED:#x} -> {options_csv}")

    # Volta.
    volta = {}
    volta_ns = {}
    rows, secs = run_volta(args.volta, options_csv, os.path.join(args.workdir, "volta_greeks.csv"), [])
    if rows:
        volta["greeks"] = [[float(r[g]) if r.get(g) not in (None, "") else math.nan for g in GREEKS] for r in rows]
        volta["price"] = [g[0] for g in volta["greeks"]]
        volta_ns["greeks"] = ("example wall time incl. CSV I/O", secs * 1e9 / args.n)
        implied_in = os.path.join(args.workdir, "prices.csv")
        write_csv(implied_in, FIELDS[:-1] + ["price"], [b[:-1] + (p,) for b, p in zip(book, volta["price"])])
        rows, secs = run_volta(args.volta, implied_in, os.path.join(args.workdir, "volta_implied.csv"), ["--implied"])
        if rows:
            volta["implied"] = [float(r["vol"]) if r.get("vol") not in (None, "") else math.nan for r in rows]
            volta_ns["implied"] = ("example wall time incl. CSV I/O", secs * 1e9 / args.n)
    # Criterion's figures for the same one-million-option book (benches/peers.rs), scalar API
    # called once per option like the peers; the group "peers/price" is stored as "peers_price".
    for op, bench in [("price", "peers_price/volta"), ("greeks", "peers_greeks/volta"),
                      ("implied", "peers_implied_vol/volta")]:
        ns = criterion_ns_per_option(args.criterion, bench, 1_000_000) if args.criterion else None
        if ns is not None:
            volta_ns[op] = (f"criterion {bench}", ns)

    # Peers.
    peers = {}
    wanted = set(args.peers.split(","))
    if "quantlib" in wanted:
        import QuantLib as ql

        peers[f"QuantLib {ql.__version__}"] = quantlib_ops(ql)
    if "vollib" in wanted:
        peers["py_vollib"] = vollib_ops()

    results = {}
    for name, (price, greeks, implied) in peers.items():
        p, ns_p = timed(price, opts)
        g, ns_g = timed(greeks, opts)
        results[name] = {"price": (p, ns_p), "greeks": (g, ns_g)}
        print(f"{name}: price {ns_p:,.0f} ns/option, price+greeks {ns_g:,.0f} ns/option")
    # Implied vol from the reference prices (Volta's, or QuantLib's when Volta is absent).
    ref_name = "volta" if "price" in volta else next(iter(results), None)
    ref_price = volta.get("price") or (results[ref_name]["price"][0] if ref_name else [])
    for name, (_, _, implied) in peers.items():
        iv, ns_iv = timed(lambda pair: implied(*pair), list(zip(opts, ref_price)))
        results[name]["implied"] = (iv, ns_iv)
        print(f"{name}: implied vol {ns_iv:,.0f} ns/option")

    # Agreement.
    print(f"\nagreement (reference: {ref_name}; relative to max(|value|, S·e^-qT + K·e^-rT) for prices)")
    # A greek near zero is compared on the scale it moves on (as in benches/peers.rs).
    greek_scales = {
        1: [1.0] * len(opts),
        2: [1.0 / (s * v * math.sqrt(t)) for (_, s, k, t, r, q, v) in opts],
        3: [s * math.sqrt(t) for (_, s, k, t, r, q, v) in opts],
        4: [s * v / math.sqrt(t) + (abs(r) + abs(q)) * s for (_, s, k, t, r, q, v) in opts],
        5: [k * t for (_, s, k, t, r, q, v) in opts],
        6: [s * t for (_, s, k, t, r, q, v) in opts],
    }
    ref = {"price": ref_price}
    ref["greeks"] = volta.get("greeks") or (results[ref_name]["greeks"][0] if ref_name else [])
    ref["implied"] = [o[6] for o in opts]
    for name, res in results.items():
        if name == ref_name:
            continue
        w, bad = max_rel(ref["price"], res["price"][0], scale)
        print(f"  {name:<16} price        max rel diff {w:.2e}  failures {bad}")
        for k, gname in enumerate(GREEKS[1:], start=1):
            w, bad = max_rel([g[k] for g in ref["greeks"]], [g[k] for g in res["greeks"][0]], greek_scales[k])
            if gname == "dividend_rho" and name == "py_vollib":
                print(f"  {name:<16} {gname:<12} (not offered)")
                continue
            print(f"  {name:<16} {gname:<12} max rel diff {w:.2e}  failures {bad}")
    # Implied vol is only well defined to 1e-9 where vega·σ is not tiny next to the option's
    # scale (see benches/peers.rs); report those rows, and count the peer's refusals overall.
    vs = [g[3] * o[6] for g, o in zip(ref["greeks"], opts)] if ref["greeks"] else [math.inf] * len(opts)
    ok = [i for i in range(len(opts)) if vs[i] >= 1e-6 * scale[i]]
    for name, res in results.items():
        iv = res["implied"][0]
        w, bad = max_rel([ref["implied"][i] for i in ok], [iv[i] for i in ok])
        fails = sum(1 for x in iv if isinstance(x, float) and math.isnan(x))
        print(f"  {name:<16} implied vol  max rel diff {w:.2e} vs the book's vol over {len(ok)} "
              f"well-conditioned rows (failures there {bad}; refusals overall {fails})")

    # Table.
    print("\n| peer | operation | ns/option | ratio to Volta |")
    print("|---|---|---:|---:|")
    for op in ["price", "greeks", "implied"]:
        src, vns = volta_ns.get(op, (None, None))
        if vns is not None:
            print(f"| Volta ({src}) | {op} | {vns:,.1f} | 1.0 |")
        for name, res in results.items():
            ns = res[op][1]
            ratio = f"{ns / vns:,.0f}x" if vns else "n/a (no Volta timing)"
            print(f"| {name} | {op} | {ns:,.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
