#!/usr/bin/env bash
# `nat64 demo` as a newcomer runs it, checked: the whole DNS64 + NAT64
# bridge (RFC 7050 discovery, the synthesized AAAA, curl and ping by name,
# sessions, counters), then the same demo with nsd and then dig missing from
# PATH (one clear line each, the rest still done, exit 0), then --keep
# stopped by Ctrl-C. Each run must leave no namespace and no /etc/netns
# folder behind.
#
#   sudo bash tests/e2e/demo.sh [path/to/nat64]     # default target/debug/nat64
#
# Needs root and: iproute2 curl python3 iputils-ping dnsutils nsd. The demo
# uses fixed names (n64demo-*), so two demos cannot run at once.
#
# Prints one line per check and ends with "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAT64=$(realpath "${1:-target/debug/nat64}")
[ -x "$NAT64" ] || { echo "no nat64 binary at $NAT64 (cargo build -p nat64)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: the demo creates network namespaces" >&2; exit 2; }
for t in ip curl python3 ping dig nsd; do
  command -v $t >/dev/null || { echo "$t is missing (apt-get install iproute2 curl python3 iputils-ping dnsutils nsd)" >&2; exit 2; }
done
DIR=$(mktemp -d /tmp/nat64-demo-e2e.XXXXXX)
PASS=0 FAIL=0 KEEP_PID=
START=$(date +%s)
cleanup() {
  trap - EXIT INT TERM
  [ -n "$KEEP_PID" ] && kill "$KEEP_PID" 2>/dev/null && sleep 2
  "$NAT64" demo --cleanup >/dev/null 2>&1
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM
. "$HERE/lib.sh"

left_behind() { # what a demo left: its namespaces, its /etc/netns folder
  ip netns list | grep -o '^n64demo-[a-z]*'
  ls -d /etc/netns/n64demo-* 2>/dev/null
}
# A PATH of the tools the demo uses, without the ones named.
path_without() {
  local d=$DIR/path-no-$1 t
  mkdir -p "$d"
  for t in ip curl ping sysctl cat dig nsd; do
    [ "$t" = "$1" ] || ln -sf "$(command -v $t)" "$d/$t"
  done
  # Debian's python3 itself (a version manager's shim may need a shell).
  ln -sf "$(PATH=/usr/bin:/bin command -v python3 || command -v python3)" "$d/python3"
  echo "$d"
}

# ---------------------------------------------------------------- everything installed
"$NAT64" demo > "$DIR/full.out" 2>&1
rc=$?
out=$(cat "$DIR/full.out")
[ "$rc" = 0 ] && ok "demo: exits 0" || bad "demo: exit status $rc" "$(tail -20 "$DIR/full.out")"
echo "$out" | grep -Eq "ipv4only.arpa\.\s+[0-9]+\s+IN\s+AAAA\s+2001:db8:64::c000:aa" \
  && echo "$out" | grep -q "the NAT64 prefix is 2001:db8:64::/96" \
  && ok "demo: dig AAAA ipv4only.arpa through the DNS64, prefix 2001:db8:64::/96 discovered (RFC 7050)" \
  || bad "demo: RFC 7050 discovery" "$out"
echo "$out" | grep -Eq "www.demo.example\.\s+[0-9]+\s+IN\s+AAAA\s+2001:db8:64::cb00:7102" \
  && ok "demo: dig AAAA www.demo.example: the synthesized 2001:db8:64::cb00:7102" || bad "demo: synthesized AAAA" "$out"
echo "$out" | grep -A1 -F '$ ip netns exec n64demo-client curl http://www.demo.example/' | grep -q "Hello from the IPv4-only server" \
  && ok "demo: curl http://www.demo.example/ by name, the IPv4-only server's page" || bad "demo: curl by name" "$out"
echo "$out" | grep -q "PING www.demo.example(2001:db8:64::cb00:7102)" && echo "$out" | grep -q " 0% packet loss" \
  && ok "demo: ping www.demo.example, no loss" || bad "demo: ping by name" "$out"
echo "$out" | grep -Eq "^ +tcp +2001:db8:1::2#[0-9]+ +198\.51\.100\.[0-9]+#[0-9]+ +203\.0\.113\.2#80 " \
  && echo "$out" | grep -Eq "translated_6to4 +[1-9]" \
  && ok "demo: the session table and the counters" || bad "demo: sessions and stats" "$out"
echo "$out" | grep -Eq "^[0-9]+\. " && [ "$(echo "$out" | grep -Ec '^[0-9]+\. ')" = 10 ] \
  && ok "demo: 10 numbered steps" || bad "demo: numbered steps" "$(echo "$out" | grep -E '^[0-9]+\. ')"
[ -z "$(left_behind)" ] && ok "demo: nothing left behind" || bad "demo: left behind" "$(left_behind)"

# ---------------------------------------------------------------- no nsd
PATH=$(path_without nsd) "$NAT64" demo > "$DIR/nonsd.out" 2>&1
rc=$?
out=$(cat "$DIR/nonsd.out")
[ "$rc" = 0 ] && [ "$(echo "$out" | grep -c 'nsd is not installed')" = 1 ] \
  && echo "$out" | grep -A1 -F 'curl http://[2001:db8:64::cb00:7102]/' | grep -q "Hello from the IPv4-only server" \
  && echo "$out" | grep -q " 0% packet loss" && ! echo "$out" | grep -q "dig " \
  && ok "no nsd: one line says so, the page is fetched from the literal address, ping, exit 0" \
  || bad "no nsd (exit $rc)" "$out"
[ -z "$(left_behind)" ] && ok "no nsd: nothing left behind" || bad "no nsd: left behind" "$(left_behind)"

# ---------------------------------------------------------------- no dig
PATH=$(path_without dig) "$NAT64" demo > "$DIR/nodig.out" 2>&1
rc=$?
out=$(cat "$DIR/nodig.out")
[ "$rc" = 0 ] && [ "$(echo "$out" | grep -c 'dig is not installed')" = 1 ] \
  && echo "$out" | grep -A1 -F 'curl http://www.demo.example/' | grep -q "Hello from the IPv4-only server" \
  && ! echo "$out" | grep -q "ipv4only.arpa\..*AAAA" \
  && ok "no dig: one line says so, curl still resolves www.demo.example through the DNS64, exit 0" \
  || bad "no dig (exit $rc)" "$out"
[ -z "$(left_behind)" ] && ok "no dig: nothing left behind" || bad "no dig: left behind" "$(left_behind)"

# ---------------------------------------------------------------- --keep, then Ctrl-C
"$NAT64" demo --keep > "$DIR/keep.out" 2>&1 &
KEEP_PID=$!
if wait_for 30 grep -q "Press Ctrl-C" "$DIR/keep.out"; then
  got=$(ip netns exec n64demo-client curl -sS --max-time 5 http://www.demo.example/)
  echo "$got" | grep -q "Hello from the IPv4-only server" \
    && ok "--keep: the lab stays up; curl by name from another shell works" || bad "--keep: curl" "$got"
  kill -INT $KEEP_PID
  wait $KEEP_PID
  rc=$?
  KEEP_PID=
  [ "$rc" = 130 ] && [ -z "$(left_behind)" ] && ok "--keep: Ctrl-C deletes the lab and its resolv.conf (exit 130)" \
    || bad "--keep: Ctrl-C (exit $rc)" "$(left_behind; tail -8 "$DIR/keep.out")"
else
  bad "--keep: the lab comes up" "$(cat "$DIR/keep.out")"
fi

echo
echo "e2e demo: $(( $(date +%s) - START )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
