#!/usr/bin/env bash
# Runs every test of openqps: formatting, lints, unit tests, the end-to-end suite against the
# real binary, and the conformance harness (real Qualys clients from PyPI against the binary).
# Installs what the tests need when it is missing: xmllint (libxml2-utils), python3 and its venv
# module (apt), and the clients (pip, into .venv in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if ((${#need_apt[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing ${need_apt[*]} ..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Please install ${need_apt[*]}; the XSD checks and the harness need them." >&2
    exit 1
  fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The conformance harness: qualysapi over HTTPS and qualys-cli over HTTP against the binary.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
  rm -rf .venv
  python3 -m venv .venv
fi
if ! .venv/bin/python -m pip install -q --disable-pip-version-check -r harness/requirements.txt; then
  echo "harness: cannot install the clients (pip)" | tee -a "$log"
  echo "harness: 0 passed, 1 failed" | tee -a "$log"
  harness_status=1
else
  cargo build --locked -p openqps
  set +e
  .venv/bin/python harness/conformance.py "${CARGO_TARGET_DIR:-target}/debug/openqps" 2>&1 | tee -a "$log"
  harness_status=${PIPESTATUS[0]}
  set -e
fi

# One closing line for the whole run (cargo prints one per test binary, the last often empty;
# the harness prints its own), counting the harness scenarios too.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     /^harness: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
[ "$status" = 0 ] || exit "$status"
exit "$harness_status"
