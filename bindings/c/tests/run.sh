#!/usr/bin/env bash
# Builds libnat64 (nat64-ffi) and runs the C tests: the API tests, the DNS64
# exchange driven through its whole sequence (dns64_exchange.c) and the Jool
# vectors, compiled with gcc -Wall -Wextra -Werror, three ways:
#   1. linked with the static library, run as is;
#   2. with AddressSanitizer and UBSan (-fsanitize=address,undefined);
#   3. under valgrind (memcheck, --error-exitcode), linked with the shared library.
# The vectors are read from $NAT64_VECTORS/jool at test time (default
# ../shared/vectors/jool) and turned into a temporary text file; never copied here.
# Without them the vector runs are skipped, with the reason, and the API tests still
# run; with NAT64_REQUIRE_VECTORS=1 (as in .ci/run) missing vectors fail the script.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
: "${CARGO_TARGET_DIR:=$ROOT/target}"
cargo build -q -p nat64-ffi
LIB=$CARGO_TARGET_DIR/debug
TMP=$(mktemp -d /tmp/nat64-ctest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SKIP=0 SKIP_REASON=
status=0
python3 bindings/vectors/jool.py "$TMP/cases.txt" 2>"$TMP/jool.err" || status=$?
case $status in
  0) cat "$TMP/jool.err" >&2 ;;
  77) SKIP_REASON=$(cat "$TMP/jool.err") ;;
  *) cat "$TMP/jool.err" >&2; exit "$status" ;;
esac

CFLAGS=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -g -I include)
LIBS=(-lpthread -ldl -lm)
PASS=0 FAIL=0
run() { # run NAME COMMAND...
  local name=$1; shift
  if [ -n "$SKIP_REASON" ] && [[ $name == vectors* ]]; then
    echo "== $name: SKIPPED ($SKIP_REASON)"
    SKIP=$((SKIP + 1))
    return
  fi
  echo "== $name"
  if "$@"; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); echo "FAIL  $name"; fi
}
# The shared library as installed (nat64-ffi/install.sh): programs record its SONAME,
# libnat64.so.0, so that is the name the loader looks for beside them.
mkdir "$TMP/lib"
cp "$LIB/libnat64.so" "$TMP/lib/libnat64.so.0"
ln -s libnat64.so.0 "$TMP/lib/libnat64.so"
for t in api dns64_exchange vectors; do
  gcc "${CFLAGS[@]}" -O1 -o "$TMP/$t" "bindings/c/tests/$t.c" "$LIB/libnat64.a" "${LIBS[@]}"
  gcc "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    -o "$TMP/$t-asan" "bindings/c/tests/$t.c" "$LIB/libnat64.a" "${LIBS[@]}"
  gcc "${CFLAGS[@]}" -O0 -o "$TMP/$t-so" "bindings/c/tests/$t.c" -L "$TMP/lib" -lnat64 -Wl,-rpath,"$TMP/lib"
done
run "api (static)" "$TMP/api"
run "dns64_exchange (static)" "$TMP/dns64_exchange"
run "vectors (static)" "$TMP/vectors" "$TMP/cases.txt"
run "api (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$TMP/api-asan"
run "dns64_exchange (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$TMP/dns64_exchange-asan"
run "vectors (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$TMP/vectors-asan" "$TMP/cases.txt"
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
run "api (valgrind)" "${VG[@]}" "$TMP/api-so"
run "dns64_exchange (valgrind)" "${VG[@]}" "$TMP/dns64_exchange-so"
run "vectors (valgrind)" "${VG[@]}" "$TMP/vectors-so" "$TMP/cases.txt"
echo "c-tests: $PASS passed, $FAIL failed, $SKIP skipped${SKIP_REASON:+ ($SKIP_REASON)}"
[ "$FAIL" = 0 ]
