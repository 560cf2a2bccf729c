#!/usr/bin/env bash
# The Node binding from nothing: npm ci (the pinned @napi-rs/cli 3), a release
# build with `napi build` (which regenerates index.js and index.d.ts), a check
# that the committed index.d.ts and index.js match what was generated, and the
# tests with `node --test` (including Jool's vectors from $NAT64_VECTORS/jool,
# converted at test time by bindings/vectors/jool.py, which needs python3).
#
#   bash bindings/node/ci.sh
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "node is missing (Debian: apt-get install nodejs npm)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/nat64-node.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp index.d.ts index.js "$TMP/"
npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform --release --js index.js --dts index.d.ts
stale=0
for f in index.d.ts index.js; do
  if ! diff -u "$TMP/$f" "$f"; then
    echo "bindings/node/$f is stale: run 'npm run build' in bindings/node and commit it" >&2
    stale=1
  fi
done
[ "$stale" = 0 ] && echo "index.d.ts and index.js are up to date"
node --test test/
exit "$stale"
