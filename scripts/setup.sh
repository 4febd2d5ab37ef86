#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, test and bench Volta. Idempotent and
# non-interactive; run as root (apt-get) on the project's machines.
set -euo pipefail

need_apt=()
# libclang + clang: bindgen for lightgbm3 (models crate).
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
# A C++ compiler for LightGBM itself (models crate, lightgbm3 builds it with CMake), with
# OpenMP: g++ brings GCC's libgomp, which lightgbm3's `openmp` feature links.
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
# The dashboard's browser test (volta-monitor): headless Chromium driven through chromedriver.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# promtool (in Debian's prometheus package) checks and unit-tests deploy/prometheus/rules.yml.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# PostgreSQL's server binaries (initdb, pg_ctl) for the PostgreSQL store tests, which start a
# throw-away cluster (crates/data/tests/it/pg_cluster.rs). Debian keeps them in
# /usr/lib/postgresql/<version>/bin, where the tests look; the package also creates the
# `postgres` user that runs the server when the tests run as root.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

pip_quiet=(pip install --quiet --disable-pip-version-check --root-user-action=ignore)
# CMake >= 3.28 for LightGBM's build (Debian 12 ships 3.25).
cmake_ok=$(python3 - <<'PY'
import shutil, subprocess
exe = shutil.which("cmake")
if not exe:
    print("no"); raise SystemExit
v = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[2]
major, minor = (int(x) for x in v.split(".")[:2])
print("yes" if (major, minor) >= (3, 28) and major < 4 else "no")
PY
)
[ "$cmake_ok" = yes ] || "${pip_quiet[@]}" "cmake>=3.28,<4"
# `just`, the command runner, as the binary PyPI ships.
command -v just >/dev/null 2>&1 || "${pip_quiet[@]}" rust-just
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
# The Python package's tests (crates/pricing-py, run by `just test`): numpy, pytest, and
# py_vollib as the independent reference of the agreement tests. maturin is not installed
# here: pip fetches it as the package's build backend.
python3 -c "import numpy, pytest, py_vollib" >/dev/null 2>&1 || "${pip_quiet[@]}" numpy pytest py_vollib
# Ray, which farms out the runs of a parameter sweep (tools/sweep, `just sweep`; its end-to-end
# test starts a local head). Pinned: 2.60 is what `pip install "ray==2.*"` resolved to when the
# sweep was written, and the version whose token authentication (RAY_AUTH_MODE=token) the
# driver sets up.
python3 -c "import ray, sys; sys.exit(ray.__version__ != '2.60.0')" >/dev/null 2>&1 || "${pip_quiet[@]}" "ray==2.60.0"
# MLflow's tracking server for the MLflow client's test (issue 15 §5). Pinned: 2.22.5; its
# SQLite backend fails to import with SQLAlchemy 2.1 (FallbackAsyncAdaptedQueuePool), which pip
# would otherwise choose.
python3 -c "import mlflow, sqlalchemy, sys; sys.exit(mlflow.__version__ != '2.22.5' or not sqlalchemy.__version__.startswith('2.0.'))" >/dev/null 2>&1 || "${pip_quiet[@]}" "mlflow==2.22.5" "sqlalchemy>=2.0,<2.1"
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
echo "setup: clang $(clang --version | head -1 | awk '{print $NF}'), cmake $(cmake --version | head -1 | awk '{print $3}'), just $(just --version | awk '{print $2}'), $(chromium --version 2>/dev/null | head -1), promtool $(promtool --version 2>&1 | head -1 | awk '{print $3}'), PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1), ray $(python3 -c 'import ray; print(ray.__version__)' 2>/dev/null), mlflow $(python3 -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null)"
