#!/usr/bin/env bash
# Regenerates include/nat64.h from nat64-ffi with the pinned cbindgen and
# fails if it differs from the checked-in header.
#
#   bash include/check-header.sh           # check (CI)
#   bash include/check-header.sh --write   # update the checked-in header
#
# The pin (keep in step with .ci/run): cargo install cbindgen --version 0.29.4 --locked
set -euo pipefail
PIN=0.29.4
cd "$(dirname "$0")/.."
if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version)" != "cbindgen $PIN" ]; then
  echo "cbindgen $PIN is needed: cargo install cbindgen --version $PIN --locked" >&2
  exit 2
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cbindgen --quiet --config nat64-ffi/cbindgen.toml --crate nat64-ffi --output "$tmp" nat64-ffi
if [ "${1:-}" = "--write" ]; then
  cp "$tmp" include/nat64.h
  echo "include/nat64.h written"
elif ! diff -u include/nat64.h "$tmp"; then
  echo "include/nat64.h is stale: run bash include/check-header.sh --write and commit it" >&2
  exit 1
else
  echo "include/nat64.h is up to date (cbindgen $PIN)"
fi
