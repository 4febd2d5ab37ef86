#!/usr/bin/env bash
# Peer comparison against QuantLib's and vollib's Python packages (not part of CI).
#
#   bash benches/peers/run.sh [N]        # N options, default 1000000
#
# 1. creates benches/peers/.venv and installs the PyPI packages `QuantLib` and `py_vollib`
#    (vollib's PyPI name; it pulls `py_lets_be_rational`);
# 2. writes N seeded random options to benches/peers/options.csv (the generator is the
#    benches' splitmix64, so the book is the one the Rust benches price);
# 3. runs Volta on the CSV (`cargo run --release -p volta-pricing --example price_csv`, price +
#    greeks, then `--implied`), timing the whole process, and the peers inside Python;
# 4. checks every peer's answers against Volta's and prints the table.
# See docs/pricing.md, "Peers".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-1000000}"
venv="$here/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet QuantLib py_vollib
fi

cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --release -p volta-pricing --example price_csv
# Volta's own timings come from the criterion bench over the same book.
if [[ ! -f "$target/criterion/peers_implied_vol/volta/new/estimates.json" ]]; then
    cargo bench -p volta-pricing --bench peers
fi
exec "$venv/bin/python" "$here/peers.py" --n "$n" --workdir "$here" \
    --volta "$target/release/examples/price_csv" \
    --criterion "$target/criterion" "${@:2}"
