#!/usr/bin/env bash
# Runs every test of openqps: formatting, lints, unit tests, the end-to-end suite against the
# real binary, and the conformance harness (real Qualys clients from PyPI against the binary).
# Installs what the tests need when it is missing: xmllint (libxml2-utils), python3 and its venv
# module, the PostgreSQL server (apt), and the clients (pip, into .venv in the repository).
#
# The store suites and the two-process test also run on PostgreSQL: unless
# OPENQPS_TEST_POSTGRES_URL already names a server, this script starts a throwaway cluster of its
# own (initdb in a temporary folder, as the `postgres` user when run as root), points
# OPENQPS_TEST_POSTGRES_URL at it and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "${OPENQPS_TEST_POSTGRES_URL:-}" ] && ! [ -x "$(pg_bin)/initdb" ]; then
  need_apt+=(postgresql)
fi
if ((${#need_apt[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing ${need_apt[*]} ..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Please install ${need_apt[*]}; the XSD checks, PostgreSQL tests and the harness need them." >&2
    exit 1
  fi
fi

cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

# A PostgreSQL cluster for the tests, owned by this run.
if [ -z "${OPENQPS_TEST_POSTGRES_URL:-}" ]; then
  bin="$(pg_bin)"
  pgdir="$(mktemp -d "${TMPDIR:-/tmp}/openqps-pg.XXXXXX")"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$pgdir"
    as_pg=(runuser -u postgres --)
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -U openqps --auth=trust -E UTF8 --no-locale >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log" >&2; exit 1; }
  # A throwaway cluster: no fsync; room for the tests' parallel connection pools; shared memory
  # in the data folder, not /dev/shm (small in containers).
  "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c dynamic_shared_memory_type=mmap" start >/dev/null \
    || { cat "$pgdir/server.log" >&2; exit 1; }
  cleanup+=("\"\${as_pg[@]}\" \"$bin/pg_ctl\" -D \"$pgdir/data\" -m fast -w stop >/dev/null 2>&1; rm -rf \"$pgdir\"")
  export OPENQPS_TEST_POSTGRES_URL="postgres://openqps@127.0.0.1:$port/postgres"
  echo "PostgreSQL for the tests: $OPENQPS_TEST_POSTGRES_URL ($("$bin/postgres" --version))"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
log="$(mktemp)"
cleanup+=("rm -f \"$log\"")
set +e
cargo test --workspace --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The golden cases once more, every server on a fresh PostgreSQL database: same answers as SQLite.
OPENQPS_E2E_POSTGRES=1 cargo test --locked -p openqps --test golden 2>&1 | tee -a "$log"
pg_golden=${PIPESTATUS[0]}
[ "$status" != 0 ] || status=$pg_golden
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
