#!/usr/bin/env bash
# The Node binding from nothing:
#  1. npm ci --engine-strict: every package's declared engines (and the
#     package's devEngines) must include this Node, or this fails (npm's
#     EBADENGINE warning becomes an error); npm ci also runs install.js,
#     which builds the addon with cargo;
#  2. a release build with `napi build` (the pinned @napi-rs/cli 3), which
#     regenerates native.js (the loader) and index.d.ts, then a check that the
#     committed ones match;
#     napi create-npm-dirs makes one package per napi.targets entry (what
#     `napi prepublish` publishes), each named as native.js requires it;
#  3. tsc --noEmit --strict on test/sample.ts (narrowing on `kind`, bigint
#     timestamps, @ts-expect-error on what must not compile);
#  4. node --test (including Jool's vectors from $NAT64_VECTORS/jool, converted
#     at test time by bindings/vectors/jool.py, which needs python3);
#  5. installs as a user does them, from clean directories:
#     - `npm install <this folder>` with no binary in it: install.js builds it,
#       then require('nat64') and a real translation;
#     - `npm pack` then `npm install ./nat64-0.1.0.tgz` (the binary travels in
#       the tarball), require and translate;
#     - the folder without cargo on PATH and without a binary: install.js
#       fails, saying Rust is needed (https://rustup.rs);
#     - the tarball without a binary: the install fails, saying why and
#       what to do (not the loader's "npm has a bug" note); with
#       --ignore-scripts, require('nat64') says it.
#
#   bash bindings/node/ci.sh
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
command -v node >/dev/null || { echo "node is missing (Debian: apt-get install nodejs npm)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/nat64-node.XXXXXX)
NODE_FILE=
restore() {
  # A binary moved aside by step 5 comes back, whatever happened.
  if [ -n "$NODE_FILE" ] && [ -f "$TMP/$NODE_FILE" ] && [ ! -f "$HERE/$NODE_FILE" ]; then
    mv "$TMP/$NODE_FILE" "$HERE/$NODE_FILE"
  fi
  rm -rf "$TMP" "$HERE/.npm-dirs-check"
}
trap restore EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "-- npm ci --engine-strict (node $(node --version), npm $(npm --version))"
npm ci --engine-strict --loglevel=error

echo "-- napi build; native.js and index.d.ts as committed"
mkdir "$TMP/committed"
cp index.d.ts native.js "$TMP/committed/"
npx napi build --platform --release --js native.js --dts index.d.ts
stale=0
for f in index.d.ts native.js; do
  if ! diff -u "$TMP/committed/$f" "$f"; then
    echo "bindings/node/$f is stale: run 'npm run build' in bindings/node and commit it" >&2
    stale=1
  fi
done
[ "$stale" = 0 ] && echo "index.d.ts and native.js are up to date"

echo "-- napi create-npm-dirs: a package per napi.targets entry, each one native.js loads"
npx napi create-npm-dirs --npm-dir .npm-dirs-check >/dev/null
n=0
for d in .npm-dirs-check/*/; do
  name=$(node -p "require('./${d}package.json').name")
  grep -q "require('$name')" native.js || { echo "native.js never loads $name" >&2; exit 1; }
  n=$((n + 1))
done
[ "$n" = "$(node -p "require('./package.json').napi.targets.length")" ] || { echo "not one package per target" >&2; exit 1; }
echo "$n per-platform packages: $(cd .npm-dirs-check && echo *)"
rm -rf .npm-dirs-check

echo "-- tsc (strict) on test/sample.ts"
npx tsc -p test/tsconfig.json

echo "-- node --test"
node --test test/*.test.js

# A clean directory that installs `$1` and translates a packet through it.
SMOKE='
const nat64 = require("nat64")
const t = new nat64.Translator({ pool6: "2001:db8:64::/96" })
const sum = (b, s = 0) => { for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] || 0); while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return s }
const p = Buffer.alloc(33)
p[0] = 0x45; p.writeUInt16BE(33, 2); p[8] = 64; p[9] = 17
Buffer.from([192, 0, 2, 1, 198, 51, 100, 2]).copy(p, 12)
p.writeUInt16BE(~sum(p.subarray(0, 20)) & 0xffff, 10)
p.writeUInt16BE(4000, 20); p.writeUInt16BE(53, 22); p.writeUInt16BE(13, 24); p.write("hello", 28)
p.writeUInt16BE(~sum(p.subarray(20), sum(p.subarray(12, 20)) + 17 + 13) & 0xffff, 26)
const v = t.translate(p)
if (v.kind !== "Translated" || v.packets[0].length !== 53 || v.packets[0][0] >> 4 !== 6) {
  console.error("unexpected verdict", v); process.exit(1)
}
console.log("require(\"nat64\") from", require.resolve("nat64"), "translated", v.direction, v.packets[0].length, "bytes")
'
app() {
  rm -rf "$TMP/app" && mkdir "$TMP/app" && cd "$TMP/app" && echo '{"name":"app","private":true}' > package.json
}

echo "-- clean directory: npm install $HERE (no binary in the folder: install.js builds it)"
NODE_FILE=$(cd "$HERE" && ls nat64.*.node)
mv "$HERE/$NODE_FILE" "$TMP/"
app
npm install --loglevel=error --foreground-scripts "$HERE"
[ -f "$HERE/$NODE_FILE" ] || { echo "the install did not build $NODE_FILE" >&2; exit 1; }
node -e "$SMOKE"
# (set -e does not stop at a failing command before &&: this must be an if.)
if ! cmp "$HERE/$NODE_FILE" "$TMP/$NODE_FILE"; then
  echo "install.js built a different $NODE_FILE than napi build (another --target, profile or RUSTFLAGS?)" >&2
  exit 1
fi
echo "the binary installed is the one napi build made"

echo "-- the source folder without Rust: install.js says what is missing"
mkdir "$TMP/bin" && ln -s "$(command -v node)" "$TMP/bin/node"
mv "$HERE/$NODE_FILE" "$TMP/"
if PATH="$TMP/bin" node "$HERE/install.js" >"$TMP/out.txt" 2>&1; then
  cat "$TMP/out.txt"; echo "install.js succeeded without cargo and without a binary" >&2; exit 1
fi
grep -q "needs Rust" "$TMP/out.txt" && grep -q "https://rustup.rs" "$TMP/out.txt" || { cat "$TMP/out.txt"; exit 1; }
cat "$TMP/out.txt"
mv "$TMP/$NODE_FILE" "$HERE/"

echo "-- clean directory: npm pack, then npm install ./nat64-0.1.0.tgz (binary in the tarball)"
cd "$HERE" && npm pack --silent --pack-destination "$TMP" >/dev/null
files=$(tar -tzf "$TMP/nat64-0.1.0.tgz" | sort)
echo "$files"
grep -qx "package/$NODE_FILE" <<<"$files" || { echo "the tarball lacks $NODE_FILE" >&2; exit 1; }
app
npm install --loglevel=error "$TMP/nat64-0.1.0.tgz"
node -e "$SMOKE"

echo "-- clean directory: a tarball without a binary for this platform"
mkdir "$TMP/bare" && tar -xzf "$TMP/nat64-0.1.0.tgz" -C "$TMP/bare"
rm "$TMP/bare/package/$NODE_FILE"
(cd "$TMP/bare" && tar -czf "$TMP/bare.tgz" package)
app
if npm install --loglevel=error --foreground-scripts "$TMP/bare.tgz" >"$TMP/out.txt" 2>&1; then
  cat "$TMP/out.txt"; echo "installing a package without a binary succeeded" >&2; exit 1
fi
grep -q "cannot build one" "$TMP/out.txt" && grep -q "https://rustup.rs" "$TMP/out.txt" \
  && ! grep -q "npm has a bug" "$TMP/out.txt" || { cat "$TMP/out.txt"; echo "unclear install failure" >&2; exit 1; }
sed -n '/nat64: no native binary/,/^npm error code/p' "$TMP/out.txt" | grep -v '^npm error code'
npm install --loglevel=error --ignore-scripts "$TMP/bare.tgz"
node -e '
try { require("nat64"); process.exit(1) } catch (e) {
  if (e.code !== "ERR_NAT64_NO_BINARY" || /npm has a bug/.test(e.message) || !/cannot build one/.test(e.message)) throw e
  console.log("require without a binary:", e.message.split("\n")[0])
}'
cd "$HERE"
exit "$stale"
