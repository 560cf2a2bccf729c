#!/usr/bin/env bash
# The Python binding as its users get it: the wheel that would be uploaded is the
# wheel that is tested.
#
#  1. A build venv with maturin (the version range of pyproject's [build-system]);
#     `maturin build --release` writes the abi3 wheel into a temporary folder.
#  2. The wheel is checked: abi3 for CPython 3.11+ (tag cp311-abi3), the extension
#     inside stripped (no .debug_* sections, no symbol table), README and URLs in
#     its metadata. Its name and size are printed.
#  3. A fresh venv installs *that file* (not the source folder), then: pytest
#     (scapy as the oracle, Jool's vectors from $NAT64_VECTORS/jool), mypy's
#     stubtest of the installed stubs against the compiled module, `mypy --strict`
#     on the tests (tests/typing_sample.py hands translate()'s packets to scapy, which
#     ships type hints, without casts) and `pip show nat64`.
#
#   bash bindings/python/ci.sh                          # everything in a temporary folder
#   NAT64_PY_VENV=/tmp/v bash bindings/python/ci.sh     # keep (and reuse) the test venv
#                                                       # (the wheel is force-reinstalled)
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
WORK=$(mktemp -d /tmp/nat64-py.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
VENV=${NAT64_PY_VENV:-$WORK/venv}
BUILD_VENV=${NAT64_PY_BUILD_VENV:-${NAT64_PY_VENV:+$NAT64_PY_VENV-build}}
BUILD_VENV=${BUILD_VENV:-$WORK/build-venv}
fail() { echo "ci.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. build
[ -x "$BUILD_VENV/bin/python" ] || python3 -m venv "$BUILD_VENV"
MATURIN=$(python3 -c 'import tomllib; r = tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]; print(next(x for x in r if x.startswith("maturin")))')
"$BUILD_VENV/bin/python" -m pip install -q "$MATURIN"
echo "build: $("$BUILD_VENV/bin/maturin" --version) (pyproject wants $MATURIN)"
"$BUILD_VENV/bin/maturin" build --release --out "$WORK/dist" --interpreter "$BUILD_VENV/bin/python"

# ---------------------------------------------------------------- 2. the wheel
shopt -s nullglob
wheels=("$WORK"/dist/*.whl)
[ "${#wheels[@]}" = 1 ] || fail "expected one wheel from maturin build, got: ${wheels[*]:-none}"
WHEEL=${wheels[0]}
NAME=$(basename "$WHEEL")
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' ../../Cargo.toml | head -1)
[[ $NAME == nat64-"$VERSION"-cp311-abi3-*.whl ]] || fail "$NAME is not the nat64 $VERSION abi3 wheel for CPython 3.11+ (nat64-$VERSION-cp311-abi3-<platform>.whl)"
echo "wheel: $NAME ($(stat -c %s "$WHEEL") bytes)"
mkdir "$WORK/unpacked"
unzip -q "$WHEEL" -d "$WORK/unpacked"
SO=$(echo "$WORK"/unpacked/nat64/_nat64.*so)
[ -f "$SO" ] || fail "no nat64/_nat64*.so in $NAME"
[[ $(basename "$SO") == _nat64.abi3.so ]] || fail "the extension is $(basename "$SO"), not _nat64.abi3.so"
command -v readelf >/dev/null || fail "readelf is missing (Debian: apt-get install binutils): the strip check needs it"
SECTIONS=$(readelf -S --wide "$SO") || fail "readelf cannot read $(basename "$SO")"
if grep -E '\.(debug_[a-z_]+|symtab)\b' <<<"$SECTIONS"; then
  fail "$(basename "$SO") in the wheel is not stripped (sections above); [tool.maturin] strip = true"
fi
echo "extension: $(basename "$SO") ($(stat -c %s "$SO") bytes), stripped (no .debug_* or .symtab sections)"
for f in nat64/__init__.py nat64/_nat64.pyi nat64/py.typed; do
  [ -f "$WORK/unpacked/$f" ] || fail "$f is missing from $NAME"
done
META=$(echo "$WORK"/unpacked/nat64-*.dist-info/METADATA)
for field in "Version: $VERSION" "Summary: " "Requires-Python: >=3.11" "Project-URL: Homepage, " "Project-URL: Repository, " \
  "Project-URL: Issues, " "Description-Content-Type: text/markdown" "Classifier: Typing :: Typed"; do
  grep -q "^$field" "$META" || fail "the wheel's METADATA has no '$field' line"
done
grep -q '^# nat64 for Python' "$META" || fail "the wheel's METADATA does not carry README.md as the description"

# ---------------------------------------------------------------- 3. tests
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY=$VENV/bin/python
# A current pip, as users have: pip 23 (Python 3.11's ensurepip) shows the project URLs
# only under `pip show --verbose`, later ones also as Home-page.
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q pytest scapy mypy
"$PY" -m pip install -q --force-reinstall --no-deps "$WHEEL"
# Everything below imports the installed wheel: never the source folder.
(cd /tmp && "$PY" - "$VENV" "$VERSION" <<'EOF')
import sys, sysconfig
import nat64
venv, version = sys.argv[1], sys.argv[2]
site = sysconfig.get_paths()["purelib"]
assert nat64.__file__.startswith(site), f"nat64 imported from {nat64.__file__}, not from the venv's {site}"
assert nat64.__version__ == version, f"nat64.__version__ is {nat64.__version__!r}, Cargo.toml says {version!r}"
print("nat64", nat64.__version__, "imported from", nat64.__file__, "on Python", sys.version.split()[0])
EOF
"$PY" -m pytest -q -p no:cacheprovider --rootdir "$HERE" "$HERE/tests"
# stubtest and mypy run outside the source tree so that they check the installed package.
(cd /tmp && "$PY" -m mypy.stubtest nat64)
echo "stubtest: the installed stubs match the compiled module"
# test_vectors.py is left out: it drives bindings/vectors/jool.py, shared with the C and
# Node tests and not annotated.
TYPED=(typing_sample.py test_typing.py test_api.py test_scapy.py test_config.py test_exchange.py)
(cd /tmp && "$PY" -m mypy --strict --no-incremental "${TYPED[@]/#/$HERE/tests/}")
echo "mypy --strict: tests/{$(IFS=,; echo "${TYPED[*]}")} type-check against the installed stubs and scapy's"
"$PY" -m pip show --verbose nat64 | tee "$WORK/show"
for field in "Version: $VERSION" "Summary: NAT64" "Home-page: https://" "  Homepage, https://" "  Repository, https://" "  Issues, https://"; do
  grep -qF -- "$field" "$WORK/show" || fail "pip show nat64 has no '$field'"
done
echo "ci.sh: ok ($NAME)"
