#!/usr/bin/env bash
# The Python binding from nothing, as the README says: a fresh venv with only
# pip, `pip install ./bindings/python` (maturin builds the abi3 wheel), then
# pytest (scapy as the oracle, Jool's vectors from $NAT64_VECTORS/jool) and
# mypy's stubtest on the .pyi stubs.
#
#   bash bindings/python/ci.sh            # venv in a temporary folder, removed after
#   NAT64_PY_VENV=/tmp/v bash bindings/python/ci.sh   # keep (and reuse) a venv
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${NAT64_PY_VENV:-}
if [ -z "$VENV" ]; then
  VENV=$(mktemp -d /tmp/nat64-py.XXXXXX)
  trap 'rm -rf "$VENV"' EXIT
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY=$VENV/bin/python
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q ./bindings/python
"$PY" -m pip install -q pytest scapy mypy
"$PY" -c 'import nat64, sys; print("nat64 imported from", nat64.__file__, "on Python", sys.version.split()[0])'
(cd bindings/python && "$PY" -m pytest -q -p no:cacheprovider tests)
# stubtest needs a directory outside the source tree so it checks the installed package.
(cd /tmp && "$PY" -m mypy.stubtest nat64)
echo "stubtest: the stubs match the compiled module"
