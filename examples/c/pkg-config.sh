#!/usr/bin/env bash
# The C library as a user installs it: nat64-ffi/install.sh into a temporary
# prefix (and, staged with --destdir, as a packager would, then --uninstall),
# then examples/c/hello_nat64.c built with the pkg-config flags alone, three ways:
#   1. nat64.pc (libnat64.so.0, found through LD_LIBRARY_PATH), under valgrind;
#   2. nat64.pc plus -Wl,-rpath from `pkg-config --variable=libdir`, under valgrind;
#   3. nat64-static.pc (nothing to find at run time), under valgrind.
# Also checks the SONAME, the symlinks and that what is installed is stripped.
# Needs gcc, pkg-config, valgrind, binutils. Prints ok/FAIL lines and a count.
#
#   bash examples/c/pkg-config.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
for t in gcc pkg-config valgrind readelf; do
  command -v $t >/dev/null || { echo "$t is missing (Debian: apt-get install gcc pkg-config valgrind binutils)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/nat64-pc.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok    $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /' | head -20; return 0; }
check() { local n=$1; shift; local o; if o=$("$@" 2>&1); then ok "$n"; else bad "$n" "$o"; fi; }
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all --show-leak-kinds=all)
CFLAGS=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O1)

# Staged as a package build would: files under DESTDIR, the .pc naming the real prefix.
if o=$(bash nat64-ffi/install.sh --prefix /usr/local --destdir "$TMP/stage" 2>&1); then
  ok "install.sh --prefix /usr/local --destdir (staged)"
  check "staged: nat64.pc names prefix=/usr/local" grep -qx 'prefix=/usr/local' "$TMP/stage/usr/local/lib/pkgconfig/nat64.pc"
  check "staged: header and libraries under DESTDIR" test -f "$TMP/stage/usr/local/include/nat64.h" -a -f "$TMP/stage/usr/local/lib/libnat64.a" \
    -a -L "$TMP/stage/usr/local/lib/libnat64.so.0"
  # An upgrade over an older version: its library file goes, the links name the new one.
  SL=$TMP/stage/usr/local/lib
  cp "$SL/libnat64.so.0" "$SL/libnat64.so.0.0.9" && ln -sfn libnat64.so.0.0.9 "$SL/libnat64.so.0"
  touch "$SL/libother.so.1" # someone else's file in the same folder
  bash nat64-ffi/install.sh --prefix /usr/local --destdir "$TMP/stage" >/dev/null 2>&1
  check "reinstall over 0.0.9: its file removed, libnat64.so.0 names the new version" bash -c \
    "[ ! -e '$SL/libnat64.so.0.0.9' ] && [[ \$(readlink '$SL/libnat64.so.0') == libnat64.so.[0-9]*.[0-9]*.[0-9]* ]] && [ -f '$SL/'\$(readlink '$SL/libnat64.so.0') ]"
  bash nat64-ffi/install.sh --prefix /usr/local --destdir "$TMP/stage" --uninstall >/dev/null
  left=$(find "$TMP/stage" -type f -o -type l)
  if [ "$left" = "$SL/libother.so.1" ]; then ok "--uninstall removes every installed file and nothing else"
  else bad "--uninstall removes every installed file and nothing else" "$left"; fi
else
  bad "install.sh --prefix /usr/local --destdir (staged)" "$o"
fi
check "install.sh refuses an unknown argument by name" bash -c \
  'o=$(bash nat64-ffi/install.sh --perfix /x 2>&1); [ $? = 2 ] && grep -q "unknown argument .--perfix" <<<"$o"'
check "install.sh refuses a relative --destdir by name" bash -c \
  'o=$(bash nat64-ffi/install.sh --destdir stage 2>&1); [ $? = 2 ] && grep -q "destdir must be an absolute path, not .stage" <<<"$o"'

P=$TMP/prefix
if ! o=$(bash nat64-ffi/install.sh --prefix "$P" 2>&1); then bad "install.sh --prefix $P" "$o"; echo "pkg-config: $PASS passed, $FAIL failed"; exit 1; fi
ok "install.sh --prefix (temporary prefix)"
L=$P/lib
export PKG_CONFIG_PATH=$L/pkgconfig
check "pkg-config --modversion nat64 is the workspace version" bash -c \
  "[ \"\$(pkg-config --modversion nat64)\" = \"$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)\" ]"
check "pkg-config --libs nat64: -L libdir -lnat64" bash -c "[ \"\$(echo \$(pkg-config --libs nat64))\" = \"-L$L -lnat64\" ]"
check "installed libnat64.so has SONAME libnat64.so.0" bash -c "readelf -d '$L/libnat64.so' | grep -q 'Library soname: \[libnat64.so.0\]'"
check "libnat64.so -> libnat64.so.0 -> libnat64.so.VERSION" bash -c \
  "[ \"\$(readlink '$L/libnat64.so')\" = libnat64.so.0 ] && [[ \$(readlink '$L/libnat64.so.0') == libnat64.so.[0-9]* ]]"
for f in "$L/libnat64.so.0" "$L/libnat64.a"; do
  check "$(basename "$f") has no debug sections (stripped; $(du -kL "$f" | cut -f1) KiB)" bash -c "s=\$(readelf -S '$f') && [ -n \"\$s\" ] && ! grep -q '\.debug_' <<<\"\$s\""
done

HELLO=examples/c/hello_nat64.c
# shellcheck disable=SC2046 # the pkg-config output is meant to be split
if o=$(gcc "${CFLAGS[@]}" -o "$TMP/hello-so" "$HELLO" $(pkg-config --cflags --libs nat64) 2>&1); then
  ok "gcc hello_nat64.c \$(pkg-config --cflags --libs nat64)"
  check "hello-so needs libnat64.so.0 (the SONAME)" bash -c "readelf -d '$TMP/hello-so' | grep -q 'NEEDED.*\[libnat64.so.0\]'"
  check "hello-so under valgrind (LD_LIBRARY_PATH=libdir)" env LD_LIBRARY_PATH="$L" "${VG[@]}" "$TMP/hello-so"
else
  bad "gcc hello_nat64.c \$(pkg-config --cflags --libs nat64)" "$o"
fi
# shellcheck disable=SC2046
if o=$(gcc "${CFLAGS[@]}" -o "$TMP/hello-rpath" "$HELLO" $(pkg-config --cflags --libs nat64) \
  -Wl,-rpath,"$(pkg-config --variable=libdir nat64)" 2>&1); then
  check "hello with -Wl,-rpath,\$(pkg-config --variable=libdir nat64), under valgrind" "${VG[@]}" "$TMP/hello-rpath"
else
  bad "gcc with rpath" "$o"
fi
# shellcheck disable=SC2046
if o=$(gcc "${CFLAGS[@]}" -o "$TMP/hello-static" "$HELLO" $(pkg-config --cflags --libs nat64-static) 2>&1); then
  ok "gcc hello_nat64.c \$(pkg-config --cflags --libs nat64-static)"
  check "hello-static needs no libnat64 at run time" bash -c "! readelf -d '$TMP/hello-static' | grep -q 'libnat64'"
  check "hello-static under valgrind" "${VG[@]}" "$TMP/hello-static"
  out=$("$TMP/hello-static" 2>&1)
  check "hello prints the translation 2001:db8:1::2 -> 198.51.100.1, 203.0.113.2:53" grep -q 'translated 6->4: 198.51.100.1:[0-9]* -> 203.0.113.2:53' <<<"$out"
else
  bad "gcc hello_nat64.c \$(pkg-config --cflags --libs nat64-static)" "$o"
fi
echo "pkg-config: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
