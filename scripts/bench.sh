#!/usr/bin/env bash
# Runs the benchmarks on a release build: the store's criteria in SQL (100,000 hosts) and the
# HTTP load on the real binary with wrk (10,000 hosts). Installs wrk (apt) when it is missing.
# Compare the figures with docs/performance.md. `scripts/bench.sh http` or `criteria` runs one.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing wrk ..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
  else
    echo "Please install wrk; the HTTP benchmark drives the server with it." >&2
    exit 1
  fi
fi

which="${1:-all}"
if [ "$which" = all ] || [ "$which" = criteria ]; then
  cargo bench -p openqps-store --bench criteria
fi
if [ "$which" = all ] || [ "$which" = http ]; then
  cargo bench -p openqps --bench http
fi
