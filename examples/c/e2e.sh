#!/usr/bin/env bash
# End-to-end test of examples/c/tun_nat64.c in network namespaces this script
# creates (and deletes, by name, even on failure or Ctrl-C):
#
#   client  2001:db8:1::2/64, IPv6 only; default route via the gateway
#     |
#   gateway 2001:db8:1::1/64 | TUN nat64tun: pool6 2001:db8:64::/96, pool4 198.51.100.1 | 203.0.113.1/24
#     |                          (tun_nat64, linked with libnat64)
#   server  203.0.113.2/24, IPv4 only: TCP echo on port 7 (python3); answers pings
#
# Checks: ping from the IPv6-only client to 2001:db8:64::cb00:7102 (203.0.113.2
# under pool6), a TCP echo round trip, and the session table and counters
# tun_nat64 prints at exit. Only documentation addresses; needs root, iproute2,
# ping, python3, gcc. Prints one line per check and "N passed, N failed".
#
#   sudo bash examples/c/e2e.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "run as root: the test creates network namespaces" >&2; exit 2; }
for t in ip ping python3 gcc; do
  command -v $t >/dev/null || { echo "$t is missing" >&2; exit 2; }
done
ID=n64c$$
C=$ID-c G=$ID-g S=$ID-s
DIR=$(mktemp -d /tmp/nat64-c-e2e.XXXXXX)
GW_PID= SRV_PID=
PASS=0 FAIL=0
cleanup() {
  trap - EXIT INT TERM
  for p in $GW_PID $SRV_PID; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in $GW_PID $SRV_PID; do kill -9 "$p" 2>/dev/null; done
  for ns in "$C" "$G" "$S"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo interrupted; exit 130' INT TERM
ok() { PASS=$((PASS + 1)); echo "ok    $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /' | head -20; return 0; }
check() { local n=$1; shift; local o; if o=$("$@" 2>&1); then ok "$n"; else bad "$n" "$o"; fi; }

cargo build -q -p nat64-ffi || exit 2
gcc -std=c11 -Wall -Wextra -Werror -O2 -I include -o "$DIR/tun_nat64" examples/c/tun_nat64.c \
  target/debug/libnat64.a -lpthread -ldl -lm || exit 2

for ns in "$C" "$G" "$S"; do ip netns add "$ns" || exit 2; ip -n "$ns" link set lo up; done
ip link add c0 netns "$C" type veth peer name g0 netns "$G"
ip link add s0 netns "$S" type veth peer name g1 netns "$G"
ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$C" link set c0 up
ip -n "$C" -6 route add default via 2001:db8:1::1
ip -n "$G" addr add 2001:db8:1::1/64 dev g0 nodad
ip -n "$G" addr add 203.0.113.1/24 dev g1
ip -n "$G" link set g0 up
ip -n "$G" link set g1 up
ip netns exec "$G" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1
ip -n "$S" addr add 203.0.113.2/24 dev s0
ip -n "$S" link set s0 up
ip -n "$S" route add 198.51.100.0/24 via 203.0.113.1

ip netns exec "$G" "$DIR/tun_nat64" nat64tun 2001:db8:64::/96 198.51.100.1 198.51.100.1 >"$DIR/gw.out" 2>"$DIR/gw.err" &
GW_PID=$!
for _ in $(seq 50); do ip -n "$G" link show nat64tun >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$G" link set nat64tun up
ip -n "$G" route add 2001:db8:64::/96 dev nat64tun
ip -n "$G" route add 198.51.100.0/24 dev nat64tun

ip netns exec "$S" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.2", 7)); s.listen()
while True:
    c, _ = s.accept()
    with c:
        while d := c.recv(4096): c.sendall(d)
' &
SRV_PID=$!
sleep 0.5

check "ping6 2001:db8:64::cb00:7102 (203.0.113.2) from the IPv6-only client" \
  ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 2 2001:db8:64::cb00:7102
check "TCP echo through the NAT64" ip netns exec "$C" python3 -c '
import socket
s = socket.create_connection(("2001:db8:64::cb00:7102", 7), timeout=5)
msg = b"hello through libnat64 " * 100
s.sendall(msg); got = b""
while len(got) < len(msg): got += s.recv(65536)
assert got == msg, got[:64]
'
check "the client link has no IPv4 address" bash -c "! ip -n $C -4 addr show dev c0 | grep -q inet"

kill "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
check "tun_nat64 translated both ways" grep -Eq 'translated_6to4 [1-9][0-9]* translated_4to6 [1-9]' "$DIR/gw.out"
check "a TCP session 203.0.113.2:7 in the table" grep -q 'proto 1 .* -> 203.0.113.2:7 via pool4 port 6[1-5]' "$DIR/gw.out"
check "an ICMP session in the table" grep -q 'proto 3 .* -> 203.0.113.2:' "$DIR/gw.out"
[ "$FAIL" = 0 ] || { echo "--- tun_nat64 output"; cat "$DIR/gw.out" "$DIR/gw.err"; }
echo "c-e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
