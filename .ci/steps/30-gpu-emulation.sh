#!/usr/bin/env bash
# Runs the block kernels of gpuaccel on the CPU through g++ and compares them
# with the CPU codec on every real field. go test ./... skips these tests
# where g++ is missing, so this step installs g++ and fails on a skip.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v g++ >/dev/null; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq g++
fi

out=$(go test -count=1 -v -run 'Emulated' ./gpuaccel)
echo "$out" | grep -E '^(--- |ok|FAIL)' | grep -v '^    ' || true
if echo "$out" | grep -q -- '--- SKIP'; then
	echo "$0: emulated kernel tests were skipped" >&2
	echo "$out" | grep -A2 -- '--- SKIP' >&2
	exit 1
fi
