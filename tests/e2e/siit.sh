#!/usr/bin/env bash
# End-to-end test of `nat64 gateway` in SIIT mode (RFC 7915, RFC 7757 EAMT)
# with `configure = true`, in network namespaces this script creates (and
# deletes, by name, even on failure or Ctrl-C).
#
#   sudo bash tests/e2e/siit.sh [path/to/nat64]     # default target/debug/nat64
#
# Needs root and: iproute2 curl python3 iputils-ping (Debian packages).
# Only documentation addresses, inside the namespaces:
#
#   client  2001:db8:1::2/64: HTTP and UDP echo on port 8081 (server.py)
#     |        EAM 198.51.100.2 <-> 2001:db8:1::2 (the client's IPv4 address)
#   gateway 2001:db8:1::1/64 | TUN "siit": pool6 2001:db8:64::/96 | 203.0.113.1/24
#     |        EAM 203.0.113.3 <-> 2001:db8:46::3 (a server's IPv6 address)
#   server  203.0.113.2/24 and 203.0.113.3/24: HTTP and UDP echo on port 8080
#
# The gateway routes into its device only what it must translate: pool6,
# 198.51.100.2/32 (IPv4 traffic to the client) and 2001:db8:46::3/128
# (IPv6 traffic to the server's EAM address); not 2001:db8:1::2 nor
# 203.0.113.3, which the kernel reaches on g6 and g4 (routing them into the
# device captured the translator's own output: issue 11 item 3).
#
# Prints one line per check and ends with "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAT64=$(realpath "${1:-target/debug/nat64}")
[ -x "$NAT64" ] || { echo "no nat64 binary at $NAT64 (cargo build -p nat64)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: the tests create network namespaces" >&2; exit 2; }
for t in ip curl python3 ping; do
  command -v $t >/dev/null || { echo "$t is missing (apt-get install iproute2 curl python3 iputils-ping)" >&2; exit 2; }
done

ID=n64siit$$
C=$ID-c G=$ID-g S=$ID-s
DIR=$(mktemp -d /tmp/nat64-siit.XXXXXX)
CLIENT=2001:db8:1::2
CLIENT4=198.51.100.2            # the client's EAM address
SERVER=203.0.113.2
DST=2001:db8:64::cb00:7102      # 203.0.113.2 under pool6 (RFC 6052 section 2.2)
SERVER_EAM=203.0.113.3
SERVER_EAM6=2001:db8:46::3      # its EAM address (RFC 7757)
SOCK=$DIR/siit.sock
PASS=0 FAIL=0
GW_PID= SRV_PIDS= CSRV_PID=
START=$(date +%s)

cleanup() {
  trap - EXIT INT TERM
  for p in $GW_PID $SRV_PIDS $CSRV_PID; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in $GW_PID $SRV_PIDS $CSRV_PID; do kill -9 "$p" 2>/dev/null; done
  ip -n "$C" link del c0 2>/dev/null
  ip -n "$S" link del s0 2>/dev/null
  for ns in "$C" "$G" "$S"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

. "$HERE/lib.sh"
inc() { ip netns exec "$C" "$@"; }
ins() { ip netns exec "$S" "$@"; }
udp_echo() { # udp_echo ADDR PORT: how many of 5 datagrams came back
  python3 -c "
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
ok = 0
for i in range(5):
    s.sendto(b'udp-%d' % i, (a, p))
    try:
        ok += s.recvfrom(100)[0] == b'udp-%d' % i
    except socket.timeout:
        pass
print(ok)" "$1" "$2"
}

# ---------------------------------------------------------------- the lab
set -e
for ns in "$C" "$G" "$S"; do ip netns add "$ns"; done
ip -n "$C" link add c0 type veth peer name g6 netns "$G"
ip -n "$S" link add s0 type veth peer name g4 netns "$G"
for ns in "$C" "$G" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" addr add $CLIENT/64 dev c0 nodad
ip -n "$C" link set c0 up
ip -n "$C" -6 route add default via 2001:db8:1::1
ip -n "$G" addr add 2001:db8:1::1/64 dev g6 nodad
ip -n "$G" addr add 203.0.113.1/24 dev g4
ip -n "$G" link set g6 up
ip -n "$G" link set g4 up
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$S" addr add $SERVER/24 dev s0
ip -n "$S" addr add $SERVER_EAM/24 dev s0
ip -n "$S" link set s0 up
ip -n "$S" route add default via 203.0.113.1

mkdir -p "$DIR/www" "$DIR/cwww"
echo "hello from the IPv4-only server" > "$DIR/www/index.html"
echo "hello from the IPv6-only client" > "$DIR/cwww/index.html"
head -c 2M /dev/urandom > "$DIR/www/big.bin"
head -c 2M /dev/urandom > "$DIR/cwww/big.bin"
head -c 1M /dev/urandom > "$DIR/upload.bin"
SBIG=$(sha256sum < "$DIR/www/big.bin" | cut -d' ' -f1)
CBIG=$(sha256sum < "$DIR/cwww/big.bin" | cut -d' ' -f1)
UP_SHA=$(sha256sum < "$DIR/upload.bin" | cut -d' ' -f1)
for a in $SERVER $SERVER_EAM; do
  (cd "$DIR/www" && exec ip netns exec "$S" python3 "$HERE/server.py" $a 8080) &
  SRV_PIDS="$SRV_PIDS $!"
done
(cd "$DIR/cwww" && exec ip netns exec "$C" python3 "$HERE/server.py" $CLIENT 8081) &
CSRV_PID=$!

# No eamt_routes key: the default ("auto") is what this test is about, and
# the same file runs on a gateway that predates the key.
cat > "$DIR/siit.toml" <<EOF
[gateway]
mode = "siit"
device = "siit"
workers = 2
configure = true
clients = ["2001:db8:1::/64"]
control_socket = "$SOCK"
metrics = ""
log_level = "info"

[translator]
pool6 = "2001:db8:64::/96"
# The EAMT maps an IPv4 node too ($SERVER_EAM), so no hairpinning (RFC 7757
# section 4.2 is for EAMT entries that are all IPv6 nodes, as in SIIT-DC).
eam_hairpin_mode = "off"
eamt = [
  { ipv4 = "$CLIENT4", ipv6 = "$CLIENT" },
  { ipv4 = "$SERVER_EAM", ipv6 = "$SERVER_EAM6" },
]
EOF
ip netns exec "$G" "$NAT64" gateway --config "$DIR/siit.toml" 2> "$DIR/siit.log" &
GW_PID=$!
set +e

wait_for 10 "$NAT64" stats --socket "$SOCK" || { bad "gateway starts" "$(cat "$DIR/siit.log")"; exit 1; }
ok "gateway starts (siit, configure = true, 2 EAMT entries)"
wait_for 10 ins python3 -c "import socket; socket.create_connection(('$SERVER', 8080), 1)" \
  && wait_for 10 ins python3 -c "import socket; socket.create_connection(('$SERVER_EAM', 8080), 1)" \
  && wait_for 10 inc python3 -c "import socket; socket.create_connection(('$CLIENT', 8081), 1)" \
  || { bad "servers start"; exit 1; }

# ---------------------------------------------------------------- routes
r4=$(ip -n "$G" -4 route show dev siit) r6=$(ip -n "$G" -6 route show dev siit)
routes="IPv4 routes of siit: $r4
IPv6 routes of siit: $r6"
echo "$r6" | grep -q "^2001:db8:64::/96" && echo "$r4" | grep -q "^$CLIENT4 " && echo "$r6" | grep -q "^$SERVER_EAM6 " \
  && ok "routes: pool6, the client's EAM $CLIENT4 and the server's EAM $SERVER_EAM6 go into the device" \
  || bad "routes: what the translator must receive" "$routes"
echo "$r6" | grep -q "^$CLIENT " || echo "$r4" | grep -q "^$SERVER_EAM " \
  && bad "routes: neither $CLIENT nor $SERVER_EAM (reached on g6 and g4) goes into the device" "$routes" \
  || ok "routes: neither $CLIENT nor $SERVER_EAM (reached on g6 and g4) goes into the device"
grep -q "event=route_skipped route=$CLIENT/128 .*reached_by=\"\?2001:db8:1::/64 dev g6" "$DIR/siit.log" \
  && grep -q "event=route_skipped route=$SERVER_EAM/32 .*reached_by=\"\?203.0.113.0/24 dev g4" "$DIR/siit.log" \
  && grep -q "event=route_added route=$CLIENT4/32 " "$DIR/siit.log" \
  && grep -q "event=route_added route=$SERVER_EAM6/128 " "$DIR/siit.log" \
  && ok "routes: each EAMT side logged as added or skipped, with the route that reaches it" \
  || bad "routes: logged" "$(grep -E 'route_(added|skipped)' "$DIR/siit.log")"

# ---------------------------------------------------------------- IPv6 client -> IPv4 server
check "6->4: the client pings $SERVER as $DST" inc ping -6 -c 3 -i 0.2 -W 2 "$DST"
check "6->4: curl fetches a page from [$DST]" \
  bash -c "ip netns exec $C curl -sS --max-time 10 http://[$DST]:8080/ | grep -q 'hello from the IPv4-only server'"
got=$(inc curl -sS --max-time 30 "http://[$DST]:8080/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$SBIG" ] && ok "6->4: 2 MiB download, sha256 matches" || bad "6->4: 2 MiB download" "got $got want $SBIG"
got=$(inc curl -sS --max-time 30 -T "$DIR/upload.bin" "http://[$DST]:8080/up" | tr -d '\n')
[ "$got" = "$UP_SHA" ] && ok "6->4: 1 MiB upload, sha256 matches" || bad "6->4: 1 MiB upload" "got $got want $UP_SHA"
got=$(inc bash -c "$(declare -f udp_echo); udp_echo $DST 8080")
[ "$got" = 5 ] && ok "6->4: 5 UDP datagrams echoed" || bad "6->4: UDP echo" "$got of 5"
# The server sees the client as its EAM address.
inc curl -sS --max-time 10 --limit-rate 100K -o /dev/null "http://[$DST]:8080/big.bin" 2>/dev/null &
SLOW=$!
wait_for 5 bash -c "ip netns exec $S ss -Htn '( sport = :8080 )' | grep -q '$CLIENT4:'"
peer=$(ins ss -Htn '( sport = :8080 )')
kill $SLOW 2>/dev/null; wait $SLOW 2>/dev/null
echo "$peer" | grep -q "$CLIENT4:" && ok "6->4: the server sees the client as $CLIENT4 (its EAM)" \
  || bad "6->4: the client's IPv4 address at the server" "ss: $peer"
check "6->4: the client pings the server's EAM address $SERVER_EAM6" inc ping -6 -c 2 -i 0.2 -W 2 "$SERVER_EAM6"
check "6->4: curl fetches a page from [$SERVER_EAM6] ($SERVER_EAM)" \
  bash -c "ip netns exec $C curl -sS --max-time 10 http://[$SERVER_EAM6]:8080/ | grep -q 'hello from the IPv4-only server'"

# ---------------------------------------------------------------- IPv4 host -> IPv6 client
check "4->6: the IPv4 server pings the client as $CLIENT4" ins ping -4 -c 3 -i 0.2 -W 2 "$CLIENT4"
check "4->6: curl on the IPv4 server fetches the client's page from $CLIENT4" \
  bash -c "ip netns exec $S curl -sS --max-time 10 http://$CLIENT4:8081/ | grep -q 'hello from the IPv6-only client'"
got=$(ins curl -sS --max-time 30 "http://$CLIENT4:8081/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$CBIG" ] && ok "4->6: 2 MiB download from the client, sha256 matches" || bad "4->6: 2 MiB download" "got $got want $CBIG"
got=$(ins curl -sS --max-time 30 -T "$DIR/upload.bin" "http://$CLIENT4:8081/up" | tr -d '\n')
[ "$got" = "$UP_SHA" ] && ok "4->6: 1 MiB upload to the client, sha256 matches" || bad "4->6: 1 MiB upload" "got $got want $UP_SHA"
got=$(ins bash -c "$(declare -f udp_echo); udp_echo $CLIENT4 8081")
[ "$got" = 5 ] && ok "4->6: 5 UDP datagrams echoed by the client" || bad "4->6: UDP echo" "$got of 5"
check "4->6: the server pings the client from its EAM address $SERVER_EAM" ins ping -4 -c 2 -i 0.2 -W 2 -I "$SERVER_EAM" "$CLIENT4"

# ---------------------------------------------------------------- counters
t64=$(stat_of translated_6to4) t46=$(stat_of translated_4to6) ref=$(stat_of refused_clients)
[ "$t64" -ge 100 ] && [ "$t46" -ge 100 ] && [ "$ref" = 0 ] \
  && ok "stats: $t64 packets translated 6->4, $t46 4->6, none of the translator's own output refused" \
  || bad "stats" "translated_6to4 $t64 translated_4to6 $t46 refused_clients $ref
$("$NAT64" stats --socket "$SOCK")"

# ---------------------------------------------------------------- reload
kill -HUP $GW_PID
wait_for 5 grep -q "event=reloaded" "$DIR/siit.log" || bad "reload: SIGHUP" "$(tail -5 "$DIR/siit.log")"
r4=$(ip -n "$G" -4 route show dev siit) r6=$(ip -n "$G" -6 route show dev siit)
echo "$r4" | grep -q "^$CLIENT4 " && echo "$r6" | grep -q "^$SERVER_EAM6 " && ! echo "$r6" | grep -q "^$CLIENT " \
  && ins ping -4 -c 1 -W 2 "$CLIENT4" >/dev/null && inc ping -6 -c 1 -W 2 "$DST" >/dev/null \
  && ok "reload: the same routes stay (the device's own routes do not count as reaching elsewhere), traffic both ways" \
  || bad "reload: routes" "IPv4: $r4
IPv6: $r6
$(grep -E 'route_|reload' "$DIR/siit.log" | tail -8)"

# ---------------------------------------------------------------- shutdown
kill -TERM $GW_PID
if wait $GW_PID; then ok "sigterm: the gateway exits 0"; else bad "sigterm: exit status" "$(tail -5 "$DIR/siit.log")"; fi
GW_PID=
[ -z "$(ip -n "$G" route show $CLIENT4/32; ip -n "$G" -6 route show $SERVER_EAM6/128)" ] \
  && ok "sigterm: the device and its routes are gone" || bad "sigterm: routes left" "$(ip -n "$G" route; ip -n "$G" -6 route)"
if [ "$FAIL" != 0 ]; then
  echo "      gateway log:"; sed 's/^/      /' "$DIR/siit.log" | tail -30
fi

echo
echo "e2e siit: $(( $(date +%s) - START )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
