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

# Every test: lint, unit + integration + property tests (nextest), doc tests.
test: lint
    cargo nextest run --workspace --no-fail-fast
    cargo test --doc --workspace
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# Criterion benches (release). `just bench pricing -- --quick` narrows and shortens.
bench *ARGS:
    cargo bench --workspace {{ARGS}}

# Peer comparison against QuantLib's and vollib's Python packages (not part of CI).
bench-peers:
    bash benches/peers/run.sh

# Price a CSV of options (see crates/pricing/examples/price_csv.rs).
price-csv *ARGS:
    cargo run --quiet --release -p volta-pricing --example price_csv -- {{ARGS}}
