# Helpers shared by the end-to-end scripts (sourced). The script sets PASS=0
# FAIL=0, NAT64 (the binary) and SOCK (the gateway's control socket).

ok() { PASS=$((PASS + 1)); printf 'ok    %s\n' "$1"; }
bad() {
  FAIL=$((FAIL + 1)); printf 'FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /' | head -30
  return 0
}
check() { # check NAME COMMAND...: passes if the command succeeds
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}
stat_of() { # stat_of LABEL [SOCKET]: the count of a counter label in `nat64 stats --json`
  "$NAT64" stats --socket "${2:-$SOCK}" --json | python3 -c '
import json, sys
s = json.load(sys.stdin); want = sys.argv[1]
for group in ("io", "verdicts", "drops", "not_ours"):
    for c in s[group]:
        if c["label"] == want: print(c["count"]); sys.exit()
print(s.get(want, 0))' "$1"
}
wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
