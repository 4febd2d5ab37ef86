# Volta — the commands a person types. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Where ../shared lives (the layering check and real market data).
shared := env("VOLTA_SHARED", justfile_directory() / ".." / "shared")

default:
    @just --list

# Install what a fresh machine lacks (clang, CMake >= 3.28, just, nextest).
setup:
    bash scripts/setup.sh

# Build everything (debug).
build:
    cargo build --workspace --all-targets

# Format check, clippy with warnings denied, crate layering.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    python3 {{shared}}/tools/check-layers .

# Every test: lint, unit + integration + property tests (nextest), doc tests, the Python
# package (crates/pricing-py) installed with pip and tested with pytest, and the sweep tools
# (tools/sweep: unit tests and the small sweep on a local Ray head with the debug backtester).
test: lint
    cargo nextest run --workspace --no-fail-fast
    cargo test --doc --workspace
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore ./crates/pricing-py
    python3 -m pytest -q crates/pricing-py/tests
    cargo build --quiet -p volta-backtest
    python3 -m pytest -q tools/sweep/tests

# The main job: a backtest on the synthetic market (default 2014-2023, the default strategies)
# → reports/backtest/report.html, summary.json, trades.csv, journal.sqlite. Any volta-backtest
# flag passes through: `just backtest --start 2020-01-02 --end 2020-12-31 --config my.toml`.
backtest *ARGS:
    cargo run --quiet --release -p volta-backtest -- {{ARGS}}

# A walk-forward parameter sweep (docs/sweep.md): every cell × window of SPEC is one run of
# volta-backtest (release) farmed out with Ray — the cluster at RAY_ADDRESS, or a local head
# started and stopped here — then the selection and the report → reports/sweep/<name>/.
# Flags pass through: `just sweep sweeps/default.toml --num-cpus 2 --keep-runs`.
sweep SPEC="sweeps/small.toml" *ARGS:
    cargo build --quiet --release -p volta-backtest
    PYTHONPATH=tools/sweep python3 -m volta_sweep run {{SPEC}} --backtest "${CARGO_TARGET_DIR:-target}/release/volta-backtest" {{ARGS}}

# Sim-paper trading: the simulated broker on the synthetic market of 2023, one session every
# 2 s, each order, fill and close printed, the dashboard at http://127.0.0.1:8050/ (docs/monitoring.md);
# Ctrl-C stops after the session under way. Any
# volta-live flag passes through: `just live-paper --session-seconds 0.5 --data store`.
live-paper *ARGS:
    cargo run --quiet --release -p volta-live -- --mode sim-paper {{ARGS}}

# The dashboard over a journal: a past backtest (reports/backtest/journal.sqlite) or a run in
# progress (var/live.db), at http://127.0.0.1:8050/. Any volta-monitor flag passes through.
monitor JOURNAL="var/live.db" *ARGS:
    cargo run --quiet --release -p volta-monitor-cli -- --journal {{JOURNAL}} {{ARGS}}

# A backtest on the real history in the store (after `just data-import`): SPX on the real
# CBOE chains of April-July 2019 → reports/backtest-real/.
backtest-real *ARGS:
    cargo run --quiet --release -p volta-backtest -- --data store --underlyings SPX --start 2019-04-25 --end 2019-07-18 --out reports/backtest-real {{ARGS}}

# Criterion benches (release). `just bench pricing -- --quick` narrows and shortens.
bench *ARGS:
    cargo bench --workspace {{ARGS}}

# Peer comparison against QuantLib's and vollib's Python packages (not part of CI).
bench-peers:
    bash benches/peers/run.sh

# Price a CSV of options (see crates/pricing/examples/price_csv.rs).
price-csv *ARGS:
    cargo run --quiet --release -p volta-pricing --example price_csv -- {{ARGS}}

# The store (VOLTA_STORE, default var/volta.db) created and filled with the synthetic market.
data-init *ARGS:
    cargo run --quiet --release -p volta-data-cli -- init
    cargo run --quiet --release -p volta-data-cli -- synth {{ARGS}}

# Every real file of the data folder (VOLTA_DATA_DIR, default ../shared/data) into the store.
data-import:
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-data-cli -- import dir

# The modelled chains priced against every real chain of the shared data, before and after the
# VIX family, SKEW and fitted spreads (docs/backtest.md, Modelled chains)
# → reports/calibration/calibration.md, calibration.json and calibration.svg.
calibrate-chains *ARGS:
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-data-cli -- calibrate-chains {{ARGS}}

# Any volta-data command, e.g. `just data validate`.
data *ARGS:
    cargo run --quiet --release -p volta-data-cli -- {{ARGS}}

# The feature matrix of SYMBOL over its real history (synthetic chains for the option features).
features SYMBOL="SPY" START="1999-11-01" END="2023-11-08":
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-train -- features --symbol {{SYMBOL}} --start {{START}} --end {{END}}

# The purged walk-forward validation of the models over the real SPY history: reports/validate.
validate *ARGS:
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-train -- validate {{ARGS}}

# A trading model on the real SPY history, registered (and promoted with `--promote always`).
train *ARGS:
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-train -- train {{ARGS}}

# docs/regime.svg: the VIX history coloured by regime.
regime-plot:
    VOLTA_DATA_DIR="${VOLTA_DATA_DIR:-{{shared}}/data}" cargo run --quiet --release -p volta-features --example regime_plot
