#!/usr/bin/env bash
# Per-packet cost of the same operation (stateless translation of an IPv6 UDP
# packet with a 64-byte payload to IPv4, pool6 2001:db8:64::/96) through Rust,
# C, Python and Node, single calls and batch calls, in one run. Every side
# times the same way: best of 7 runs of a 200,000-packet loop after a warm-up.
#
#   bash benches/bindings.sh [PAYLOAD_BYTES]
#
# Needs the bindings built in release mode first (this script builds the Rust
# and C parts; Python from $NAT64_PY_VENV or a temporary venv with
# `pip install ./bindings/python`; Node from bindings/node after its ci.sh or
# `npm run build`). Targets (issue 6): Python batch within 2x of Rust per
# packet; a single Python call under 1 us.
set -euo pipefail
cd "$(dirname "$0")/.."
PAYLOAD=${1:-64}
TMP=$(mktemp -d /tmp/nat64-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

cargo build -q --release -p nat64-ffi
cargo build -q --release -p nat64-benches --example bindings_baseline
gcc -O2 -std=c11 -Wall -Werror -I include -o "$TMP/bench" benches/bindings/bench.c target/release/libnat64.a -lpthread -ldl -lm

VENV=${NAT64_PY_VENV:-$TMP/venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q ./bindings/python
fi
if ! ls bindings/node/*.node >/dev/null 2>&1; then
  (cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && npm run build)
fi

target/release/examples/bindings_baseline "$PAYLOAD" >"$TMP/rust.txt"
PKT=$(awk '/^packet/ {print $2}' "$TMP/rust.txt")
{
  grep -v '^packet' "$TMP/rust.txt"
  "$TMP/bench" "$PKT"
  "$VENV/bin/python" benches/bindings/bench.py "$PKT"
  node benches/bindings/bench.js "$PKT"
} >"$TMP/all.txt"

echo "per-packet cost, ns (IPv6 UDP, ${PAYLOAD}-byte payload -> IPv4), ratio to Rust in this run"
awk '
  $1 == "rust" { rust[$2] = $3 }
  { lang[NR] = $1; op[NR] = $2; ns[NR] = $3 }
  END {
    printf "%-8s %-12s %9s %9s\n", "binding", "call", "ns/pkt", "x Rust"
    for (i = 1; i <= NR; i++) {
      base = (op[i] ~ /batch/) ? rust["batch"] : rust["single"]
      printf "%-8s %-12s %9.1f %9.2f\n", lang[i], op[i], ns[i], ns[i] / base
    }
  }' "$TMP/all.txt"
awk '
  $1 == "rust" && $2 == "batch" { rb = $3 }
  $1 == "python" && $2 == "batch" { pb = $3 }
  $1 == "python" && $2 == "single" { ps = $3 }
  END {
    printf "target: python batch within 2x of rust batch: %.2fx (%s)\n", pb / rb, (pb <= 2 * rb) ? "met" : "NOT met"
    printf "target: single python call under 1 us: %.0f ns (%s)\n", ps, (ps < 1000) ? "met" : "NOT met"
  }' "$TMP/all.txt"
