#!/bin/sh
# Installs the benchmarks' own dependencies (bench/package.json) on first use,
# and again whenever bench/package-lock.json changes. They live apart from the
# service's so that a newcomer's `npm ci` does not compile sqlite3 (the peer's).
set -e
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bench: installing the benchmarks' dependencies (once; sqlite3 compiles, a few minutes)" >&2
  npm ci --no-audit --no-fund >&2
fi
