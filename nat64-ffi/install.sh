#!/usr/bin/env bash
# Builds libnat64 (release) and installs it for C programs:
#
#   PREFIX/include/nat64.h
#   LIBDIR/libnat64.so.VERSION, libnat64.so.0 -> it (the SONAME), libnat64.so -> libnat64.so.0
#   LIBDIR/libnat64.a
#   LIBDIR/pkgconfig/nat64.pc         cc app.c $(pkg-config --cflags --libs nat64)
#   LIBDIR/pkgconfig/nat64-static.pc  cc app.c $(pkg-config --cflags --libs nat64-static)
#
# The libraries are stripped (the static one of debug info only, so it still links).
#
#   bash nat64-ffi/install.sh [--prefix DIR] [--libdir DIR] [--destdir DIR] [--uninstall]
#
# --prefix   where it goes (default /usr/local; env PREFIX)
# --libdir   the library folder (default PREFIX/lib; e.g. /usr/lib/x86_64-linux-gnu)
# --destdir  a staging root prepended to every path, for packaging (env DESTDIR);
#            the .pc files still name the real prefix
# --uninstall  remove what this script installed there: the library the libnat64.so.0
#              link points to (whatever its version), links that point to it, the
#              header and .pc files it wrote, and libnat64.a
#
# The static library's Libs come from `rustc --print native-static-libs`, for this
# toolchain and target.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local} LIBDIR= DESTDIR=${DESTDIR:-} UNINSTALL=0
die() { echo "install.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --libdir) [ $# -ge 2 ] || die "--libdir needs a folder"; LIBDIR=$2; shift 2 ;;
    --libdir=*) LIBDIR=${1#*=}; shift ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a folder"; DESTDIR=$2; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case $PREFIX in /*) ;; *) die "--prefix must be an absolute path, not '$PREFIX'" ;; esac
case $DESTDIR in ""|/*) ;; *) die "--destdir must be an absolute path, not '$DESTDIR'" ;; esac
LIBDIR=${LIBDIR:-$PREFIX/lib}
case $LIBDIR in /*) ;; *) die "--libdir must be an absolute path, not '$LIBDIR'" ;; esac
INCLUDEDIR=$PREFIX/include
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[ -n "$VERSION" ] || die "no version in the workspace Cargo.toml"
SONAME=libnat64.so.0 # must match nat64-ffi/build.rs; checked against the built library below
REAL=libnat64.so.$VERSION
FILES=("$INCLUDEDIR/nat64.h" "$LIBDIR/$REAL" "$LIBDIR/$SONAME" "$LIBDIR/libnat64.so" "$LIBDIR/libnat64.a"
  "$LIBDIR/pkgconfig/nat64.pc" "$LIBDIR/pkgconfig/nat64-static.pc")

D=$DESTDIR$LIBDIR
# The real file a previous install left: what its libnat64.so.0 link names (any version).
previous=
if [ -L "$D/$SONAME" ]; then
  previous=$(readlink "$D/$SONAME")
  case $previous in libnat64.so.[0-9]*.*) ;; *) previous= ;; esac # not ours: leave it
fi
ours() { grep -q "$1" "$2" 2>/dev/null; } # ours PATTERN FILE: a file we wrote
remove() { rm -f "$1" && echo "removed $1"; }

if [ "$UNINSTALL" = 1 ]; then
  [ -n "$previous" ] && [ -f "$D/$previous" ] && remove "$D/$previous"
  [ "$(readlink "$D/$SONAME" 2>/dev/null)" = "$previous" ] && [ -n "$previous" ] && remove "$D/$SONAME"
  [ "$(readlink "$D/libnat64.so" 2>/dev/null)" = "$SONAME" ] && remove "$D/libnat64.so"
  ours 'nat64.h: the C API of nat64-core' "$DESTDIR$INCLUDEDIR/nat64.h" && remove "$DESTDIR$INCLUDEDIR/nat64.h"
  for pc in nat64 nat64-static; do
    ours '^URL: https://github.com/nat64/nat64$' "$D/pkgconfig/$pc.pc" && remove "$D/pkgconfig/$pc.pc"
  done
  # libnat64.a carries no mark of its own; it is ours when the .pc files were.
  [ -f "$D/libnat64.a" ] && ours 'nat64_translator_translate' <(nm -g --defined-only "$D/libnat64.a" 2>/dev/null) \
    && remove "$D/libnat64.a"
  exit 0
fi

command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs)"
for t in strip readelf; do command -v $t >/dev/null || die "$t is missing (Debian: apt-get install binutils)"; done
# `cargo rustc` so rustc can print the static library's native dependencies; cargo
# replays the note when the build is already up to date.
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if ! cargo rustc -q --release -p nat64-ffi --lib -- --print native-static-libs 2>"$LOG"; then
  cat "$LOG" >&2
  die "the build failed"
fi
NATIVE=$(sed -n 's/.*native-static-libs: //p' "$LOG" | tail -1)
[ -n "$NATIVE" ] || { cat "$LOG" >&2; die "rustc did not report the native libraries of the static library"; }
TARGET_DIR=$(cargo metadata -q --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')
BUILT=$TARGET_DIR/release
got=$(readelf -d "$BUILT/libnat64.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$got" = "$SONAME" ] || die "the built library's SONAME is '$got', not $SONAME: keep nat64-ffi/build.rs and this script in step"

install -d "$DESTDIR$INCLUDEDIR" "$DESTDIR$LIBDIR/pkgconfig"
install -m 644 include/nat64.h "$DESTDIR$INCLUDEDIR/nat64.h"
install -m 755 "$BUILT/libnat64.so" "$DESTDIR$LIBDIR/$REAL"
strip --strip-unneeded "$DESTDIR$LIBDIR/$REAL"
ln -sfn "$REAL" "$DESTDIR$LIBDIR/$SONAME"
# An upgrade: the previous version's file is no longer linked to.
if [ -n "$previous" ] && [ "$previous" != "$REAL" ] && [ -f "$D/$previous" ]; then remove "$D/$previous"; fi
ln -sfn "$SONAME" "$DESTDIR$LIBDIR/libnat64.so"
install -m 644 "$BUILT/libnat64.a" "$DESTDIR$LIBDIR/libnat64.a"
strip --strip-debug "$DESTDIR$LIBDIR/libnat64.a"

# libdir relative to prefix where it is under it, so `pkg-config --define-prefix` works.
PC_LIBDIR=$LIBDIR
case $LIBDIR in "$PREFIX"/*) PC_LIBDIR='${prefix}'${LIBDIR#"$PREFIX"} ;; esac
pc() { # pc NAME DESCRIPTION LIBS [LIBS_PRIVATE]
  cat <<EOF
prefix=$PREFIX
libdir=$PC_LIBDIR
includedir=\${prefix}/include

Name: $1
Description: $2
Version: $VERSION
URL: https://github.com/nat64/nat64
Cflags: -I\${includedir}
Libs: $3
EOF
  [ -z "${4:-}" ] || echo "Libs.private: $4"
}
DESC="IPv6/IPv4 translation: NAT64 (RFC 6146), SIIT (RFC 7915), DNS64 (RFC 6147)"
pc nat64 "$DESC, shared library" "-L\${libdir} -lnat64" "$NATIVE" >"$DESTDIR$LIBDIR/pkgconfig/nat64.pc"
pc nat64-static "$DESC, static library (nothing to find at run time)" "\${libdir}/libnat64.a $NATIVE" \
  >"$DESTDIR$LIBDIR/pkgconfig/nat64-static.pc"
chmod 644 "$DESTDIR$LIBDIR/pkgconfig/"nat64*.pc

for f in "${FILES[@]}"; do echo "installed $DESTDIR$f"; done
if [ -z "$DESTDIR" ]; then
  case ":$(ldconfig -v -N 2>/dev/null | sed -n 's/^\(\/[^:]*\):.*/\1/p' | tr '\n' ':')" in
    *":$LIBDIR:"*)
      if [ "$(id -u)" = 0 ]; then ldconfig && echo "ran ldconfig: $SONAME is found at run time"; fi ;;
    *) echo "note: $LIBDIR is not on the run-time loader's path: programs linked with nat64.pc need" \
      "LD_LIBRARY_PATH=$LIBDIR, -Wl,-rpath,$LIBDIR, or nat64-static.pc" ;;
  esac
fi
