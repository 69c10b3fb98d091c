#!/usr/bin/env bash
# Python client tests: pytest starts the real `epsilon serve` on a free
# loopback port and reads it with pyarrow. Installs pyarrow, numpy and
# pytest into .venv/ at the repository root (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x .venv/bin/python ]; then
	python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check pyarrow numpy pytest

# The tests build the binary themselves; building here first makes a
# compile error show up as such instead of as a fixture failure.
go build -o /dev/null ./tools/epsilon

# pytest exits 0 when every test passed, 5 when it collected no test, and
# otherwise non-zero; anything but 0 fails CI.
status=0
.venv/bin/python -m pytest -q clients/python/tests || status=$?
if [ "$status" -eq 5 ]; then
	echo "20-python: pytest collected no tests" >&2
fi
exit "$status"
