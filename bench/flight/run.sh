#!/usr/bin/env bash
# Benchmark of Python reads over Arrow Flight; see bench.py for what it
# measures. Arguments go to bench.py, e.g. `bash bench/flight/run.sh --mib 256`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
	python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check pyarrow numpy
exec .venv/bin/python bench/flight/bench.py "$@"
