#!/usr/bin/env bash
# The Python package's tests: builds it from the workspace into a virtual
# environment (maturin, the dev profile) and runs pytest against the al-cli
# the Rust tests built. maturin builds the extension alone, so cargo
# resolves features for its tree alone: most shared crates are compiled a
# second time (about 3 minutes cold on 2 cores; docs/benchmarks.md). The README's test
# command runs this after `cargo test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="${AL_VENV:-$target/al-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.5,<2" "pytest>=7" "hypothesis>=6" "numpy>=1.21" "pandas>=1.3" \
  "pyarrow>=10" "scikit-learn>=1.3" "lightgbm>=4" "tqdm>=4" "nbclient>=0.7" "nbformat>=5" "ipykernel>=6" "pyspark>=4"
# The al-cli the Rust tests built (`cargo test --workspace --features
# al-cli/parquet`); a `cargo build -p al-cli` of its own would resolve
# features for al-cli alone and rebuild much of the tree (8 minutes cold).
al_cli="$target/debug/al-cli"
if [ ! -x "$al_cli" ]; then
  cargo test -q --workspace --features al-cli/parquet --no-run
fi
(cd crates/al-py && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop -q --profile dev)
# al.spark's tests run Spark in local mode; its Python workers are this venv's.
PYSPARK_PYTHON="$venv/bin/python" AL_CLI="$al_cli" "$venv/bin/python" -m pytest crates/al-py/tests -q -p no:cacheprovider
