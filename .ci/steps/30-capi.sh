#!/usr/bin/env bash
# Builds the C shared library and the heat2d example with gcc, and runs the
# example against a fresh store: it exits 0 only when every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v gcc >/dev/null; then
	apt-get update -qq && apt-get install -y -qq gcc
fi

build=build/capi
rm -rf "$build"
mkdir -p "$build"
go build -buildmode=c-shared -o "$build/libepsilon.so" ./capi
gcc -std=c11 -O2 -Wall -Wextra -Werror -I capi examples/c/heat2d.c -L"$build" -lepsilon -lm -o "$build/heat2d"
LD_LIBRARY_PATH="$build" "$build/heat2d" "$build/store"
