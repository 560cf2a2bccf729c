#!/usr/bin/env bash
# End-to-end tests of `nat64 gateway` in network namespaces this script
# creates (and deletes, by name, even on failure or Ctrl-C).
#
#   sudo bash tests/e2e/gateway.sh [path/to/nat64]     # default target/debug/nat64
#
# Needs root and: iproute2 curl python3 iputils-ping (Debian packages).
# The NAT64 gateway runs with TUN offloads (TCP super-packets), the CLAT
# without. Only documentation addresses, inside the namespaces:
#
#   client  2001:db8:1::2/64 (and 2001:db8:bad::2, outside the client prefix)
#     |                          CLAT (RFC 6877) for the 464XLAT case: 192.0.0.2 <-> 2001:db8:1::464
#   gateway 2001:db8:1::1/64 | TUN: stateful NAT64, pool6 2001:db8:64::/96, pool4 198.51.100.0/28 | 203.0.113.1/24
#     |                                                                               (MTU 1400 on this link)
#   server  203.0.113.2/24: HTTP GET/PUT and UDP echo on port 8080 (server.py)
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

ID=n64e$$
C=$ID-c G=$ID-g S=$ID-s
DIR=$(mktemp -d /tmp/nat64-e2e.XXXXXX)
PREFIX=2001:db8:64::
SERVER=203.0.113.2
DST=${PREFIX}cb00:7102          # 203.0.113.2 under pool6 (RFC 6052 section 2.2)
GW4_AS6=${PREFIX}cb00:7101      # 203.0.113.1
OWN6=${PREFIX}c633:6401         # 198.51.100.1, the translator's own address
SOCK=$DIR/nat64.sock
PASS=0 FAIL=0
GW_PID= SRV_PID= CLAT_PID= CK_PIDS= AFP_PID=
START=$(date +%s)

cleanup() {
  trap - EXIT INT TERM
  for p in $CK_PIDS $AFP_PID $CLAT_PID $GW_PID $SRV_PID; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in $CK_PIDS $AFP_PID $CLAT_PID $GW_PID $SRV_PID; do kill -9 "$p" 2>/dev/null; done
  ip -n "$C" link del c0 2>/dev/null
  ip -n "$S" link del s0 2>/dev/null
  for ns in "$C" "$G" "$S"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

. "$HERE/lib.sh"
inc() { ip netns exec "$C" "$@"; }
ing() { ip netns exec "$G" "$@"; }

# ---------------------------------------------------------------- the lab
set -e
for ns in "$C" "$G" "$S"; do ip netns add "$ns"; done
ip -n "$C" link add c0 type veth peer name g6 netns "$G"
ip -n "$S" link add s0 type veth peer name g4 netns "$G"
for ns in "$C" "$G" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$C" addr add 2001:db8:bad::2/64 dev c0 nodad
ip -n "$C" link set c0 up
ip -n "$C" -6 route add default via 2001:db8:1::1
# Small socket buffers at both ends, so that a rate-limited download stays
# open while the test looks at it (with the gateway's offloads, 8 MiB would
# otherwise fit in flight and the server's FIN would come at once).
ip netns exec "$C" sysctl -qw net.ipv4.tcp_rmem="4096 131072 1048576"
ip netns exec "$S" sysctl -qw net.ipv4.tcp_wmem="4096 16384 1048576"
ip -n "$G" addr add 2001:db8:1::1/64 dev g6 nodad
ip -n "$G" addr add 203.0.113.1/24 dev g4
ip -n "$G" link set g6 up
ip -n "$G" link set g4 mtu 1400 up
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$S" addr add 203.0.113.2/24 dev s0
ip -n "$S" link set s0 mtu 1400 up
# The server advertises an MSS for 1500-byte packets (advmss) although its
# link is 1400, so that the client's full-size segments need Path MTU
# discovery through the translator.
ip -n "$S" route add default via 203.0.113.1 advmss 1460
ip -n "$S" route change 203.0.113.0/24 dev s0 proto kernel scope link src 203.0.113.2 advmss 1460

mkdir -p "$DIR/www"
echo "hello from the IPv4-only server" > "$DIR/www/index.html"
head -c 8M /dev/urandom > "$DIR/www/big.bin"
head -c 4M /dev/urandom > "$DIR/upload.bin"
BIG_SHA=$(sha256sum < "$DIR/www/big.bin" | cut -d' ' -f1)
UP_SHA=$(sha256sum < "$DIR/upload.bin" | cut -d' ' -f1)
(cd "$DIR/www" && exec ip netns exec "$S" python3 "$HERE/server.py" 203.0.113.2 8080) &
SRV_PID=$!

write_config() { # write_config ICMP_TIMEOUT
  cat > "$DIR/gateway.toml" <<EOF
[gateway]
mode = "nat64"
device = "nat64"
workers = 2
clients = ["2001:db8:1::/64"]
control_socket = "$SOCK"
metrics = "127.0.0.1:9164"
log_level = "info"
icmp_errors_per_sec = 1000
icmp_errors_burst = 50
icmp_errors_dest_interval_ms = 500
icmp_errors_dest_burst = 10

[translator]
pool6 = "2001:db8:64::/96"

[nat64]
pool4 = ["198.51.100.0/28"]
timeouts = { icmp = $1, tcp_trans = 4 }
EOF
}
write_config 3
ip netns exec "$G" "$NAT64" gateway --config "$DIR/gateway.toml" 2> "$DIR/gateway.log" &
GW_PID=$!
set +e

wait_for 10 "$NAT64" stats --socket "$SOCK" || { bad "gateway starts" "$(cat "$DIR/gateway.log")"; exit 1; }
ok "gateway starts (2 workers, multi-queue TUN)"
wait_for 10 ip netns exec "$S" python3 -c "import socket; socket.create_connection(('203.0.113.2', 8080), 1)" \
  || { bad "server starts"; exit 1; }

# ---------------------------------------------------------------- TCP
check "tcp: curl fetches a page through [$DST]" \
  bash -c "inc() { ip netns exec $C \"\$@\"; }; inc curl -sS --max-time 10 http://[$DST]:8080/ | grep -q 'hello from the IPv4-only server'"
got=$(inc curl -sS --max-time 60 "http://[$DST]:8080/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$BIG_SHA" ] && ok "tcp: 8 MiB download, sha256 matches" || bad "tcp: 8 MiB download" "got $got want $BIG_SHA"

# ---------------------------------------------------------------- Path MTU
# The IPv4 link is 1400: full-size IPv6 packets become 1480-byte IPv4
# packets with DF, the gateway's kernel answers Fragmentation Needed, the
# translator turns it into Packet Too Big (1420), and the upload completes.
got=$(inc curl -sS --max-time 60 -T "$DIR/upload.bin" "http://[$DST]:8080/up" | tr -d '\n')
[ "$got" = "$UP_SHA" ] && ok "pmtu: 4 MiB upload over the 1400-byte IPv4 link, sha256 matches" \
  || bad "pmtu: 4 MiB upload" "got $got want $UP_SHA"
mtu=$(inc ip -6 route get "$DST" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
[ "${mtu:-0}" = 1420 ] && ok "pmtu: the client learnt MTU 1420 from the translated Packet Too Big" \
  || bad "pmtu: client route MTU" "$(inc ip -6 route get "$DST")"
out=$(inc ping -6 -c 2 -i 0.3 -W 2 -M do -s 1452 "$DST" 2>&1)
echo "$out" | grep -q "mtu=1420\|mtu 1420\|message too long, mtu: 1420" \
  && ok "pmtu: a 1500-byte DF ping gets Packet Too Big, mtu 1420" || bad "pmtu: ping -M do -s 1452" "$out"

# ---------------------------------------------------------------- offloads
# The gateway runs with TUN offloads (the default): TCP reaches it as GSO
# super-packets of up to 64 KiB with partial checksums, each translated once
# and written back as a super-packet for the kernel to cut. Inside these
# namespaces nobody verifies a partial checksum (veth hands the skb over as
# CHECKSUM_PARTIAL, and the receiver trusts it), so a capture on the server's
# and the client's interfaces checks every TCP packet the gateway sent them:
# a complete checksum must be valid, a partial one (TP_STATUS_CSUMNOTREADY)
# must be the pseudo-header sum a NIC would finish correctly.
CSUMCHECK='
import signal, socket, struct, sys
dev, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
s.setsockopt(263, 8, 1)                          # SOL_PACKET, PACKET_AUXDATA
s.bind((dev, 0)); s.settimeout(0.2)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
open(out + ".ready", "w").close()
n = partial = bad = big = 0
def words(b): return int.from_bytes(b + b"\0" * (len(b) & 1), "big")
while not stop:
    try:
        data, anc, _, addr = s.recvmsg(70000, 64)
    except (socket.timeout, InterruptedError):
        continue
    if addr[2] == 4:                             # PACKET_OUTGOING: not from the gateway
        continue
    st = next((struct.unpack("I", d[:4])[0] for l, t, d in anc if (l, t) == (263, 8)), 0)
    et, ip = data[12:14], data[14:]
    if et == b"\x08\x00" and ip[9] == 6:
        h = (ip[0] & 15) * 4; tcp = ip[h:struct.unpack("!H", ip[2:4])[0]]
        ph = words(ip[12:20]) + 6 + len(tcp)
    elif et == b"\x86\xdd" and ip[6] == 6:
        tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        ph = words(ip[8:40]) + 6 + len(tcp)
    else:
        continue
    n += 1; big += len(tcp) > 1500
    if st & 8:                                   # TP_STATUS_CSUMNOTREADY: field = pseudo-header sum
        partial += 1
        ok = words(tcp[16:18]) % 0xffff == ph % 0xffff
    else:
        ok = (ph + words(tcp)) % 0xffff == 0
    bad += not ok
open(out, "w").write("%d %d %d %d\n" % (n, partial, bad, big))
'
ip netns exec "$S" python3 -c "$CSUMCHECK" s0 "$DIR/ck-s" & CK_PIDS="$CK_PIDS $!"
ip netns exec "$C" python3 -c "$CSUMCHECK" c0 "$DIR/ck-c" & CK_PIDS="$CK_PIDS $!"
wait_for 5 test -e "$DIR/ck-s.ready" -a -e "$DIR/ck-c.ready"
gso0=$(stat_of gso_packets)
got=$(inc curl -sS --max-time 60 "http://[$DST]:8080/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$BIG_SHA" ] && ok "offload: 8 MiB download (IPv4 super-packets to IPv6), sha256 matches" \
  || bad "offload: 8 MiB download" "got $got want $BIG_SHA"
got=$(inc curl -sS --max-time 60 -T "$DIR/upload.bin" "http://[$DST]:8080/up" | tr -d '\n')
[ "$got" = "$UP_SHA" ] && ok "offload: 4 MiB upload (IPv6 super-packets to IPv4), sha256 matches" \
  || bad "offload: 4 MiB upload" "got $got want $UP_SHA"
sleep 0.3
kill -TERM $CK_PIDS 2>/dev/null; wait $CK_PIDS 2>/dev/null; CK_PIDS=
gso=$(( $(stat_of gso_packets) - gso0 )) oerr=$(stat_of offload_errors)
[ "$gso" -ge 20 ] && [ "$oerr" = 0 ] && ok "offload: $gso TCP super-packets translated once each, no offload errors" \
  || bad "offload: super-packets" "gso_packets +$gso, offload_errors $oerr"
read -r ns ps bs gs < "$DIR/ck-s" 2>/dev/null; read -r nc pc bc gc < "$DIR/ck-c" 2>/dev/null
[ "${bs:-1}" = 0 ] && [ "${bc:-1}" = 0 ] && [ "${gs:-0}" -ge 1 ] && [ "${gc:-0}" -ge 1 ] \
  && ok "offload: every TCP checksum the gateway sent is right (server $ns packets, $ps partial, $gs super; client $nc, $pc partial, $gc super)" \
  || bad "offload: TCP checksums" "server: $ns packets, $ps partial, $bs bad, $gs super; client: $nc, $pc partial, $bc bad, $gc super"

# ---------------------------------------------------------------- UDP
got=$(inc python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3)
ok = 0
for i in range(5):
    s.sendto(b'udp-%d' % i, ('$DST', 8080))
    try:
        ok += s.recvfrom(100)[0] == b'udp-%d' % i
    except socket.timeout:
        pass
print(ok)")
[ "$got" = 5 ] && ok "udp: 5 datagrams echoed" || bad "udp: echo" "$got of 5"

# ---------------------------------------------------------------- ICMP
check "ping: 3 echo requests answered" inc ping -6 -c 3 -i 0.2 -W 2 "$DST"
out=$(inc ping -6 -c 1 -W 2 -t 2 "$DST")
echo "$out" | grep -q "From $OWN6.*Time exceeded" \
  && ok "ttl: hop limit 1 at the translator: Time Exceeded from its own address $OWN6" \
  || bad "ttl: translator's Time Exceeded" "$out"
out=$(inc ping -6 -c 1 -W 2 -t 3 "$DST")
echo "$out" | grep -q "From $GW4_AS6.*Time exceeded" \
  && ok "ttl: TTL expiry on the IPv4 side: the ICMPv4 Time Exceeded comes back translated from $GW4_AS6" \
  || bad "ttl: translated Time Exceeded" "$out"
if command -v traceroute >/dev/null; then
  out=$(inc traceroute -6 -n -q 1 -w 1 -m 6 "$DST")
  echo "$out" | grep -q "$GW4_AS6" && echo "$out" | grep -q "$DST" \
    && ok "traceroute: shows the IPv4 hop as $GW4_AS6 and reaches $DST" || bad "traceroute" "$out"
fi

# ---------------------------------------------------------------- ICMP error rate limit
# RFC 4443 section 2.4 (f): 200 echo requests that reach the translator with
# hop limit 1, in a burst; the translator generates 200 Time Exceeded but
# sends the client (one destination) only its per-destination burst plus one
# per interval; the rest are counted as rate-limited.
rate_check() { # rate_check NAME SOCKET HOPS BURST INTERVAL_S
  local name=$1 sock=$2 hops=$3 burst=$4 iv=$5 gen0 sent0 lim0 got secs gen sent lim most
  gen0=$(stat_of icmp_errors_generated "$sock") sent0=$(stat_of icmp_errors_sent "$sock")
  lim0=$(stat_of icmp_errors_rate_limited "$sock")
  read -r got secs < <(inc python3 -c "
import socket, struct, time
own, dst = '$OWN6', '$DST'
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, $hops)
s.settimeout(0.1)
t0 = time.monotonic()
for i in range(200):
    s.sendto(struct.pack('!BBHHH', 128, 0, 0, 0x5151, i) + b'ratelimit', (dst, 0))
secs = time.monotonic() - t0
n, end = 0, time.monotonic() + 1.5
while time.monotonic() < end:
    try:
        data, addr = s.recvfrom(2000)
    except socket.timeout:
        continue
    # Time Exceeded from the translator quoting one of our echo requests.
    if data[0] == 3 and addr[0] == own and data[48:50] == bytes([128, 0]) and data[52:54] == b'\\x51\\x51':
        n += 1
print(n, '%.3f' % secs)")
  sleep 0.3
  gen=$(( $(stat_of icmp_errors_generated "$sock") - gen0 )) sent=$(( $(stat_of icmp_errors_sent "$sock") - sent0 ))
  lim=$(( $(stat_of icmp_errors_rate_limited "$sock") - lim0 ))
  most=$(python3 -c "import math; print($burst + math.floor(${secs:-99} / $iv) + 1)")
  [ "$gen" = 200 ] && [ "${got:-0}" -ge "$burst" ] && [ "${got:-0}" -le "$most" ] && [ "$sent" = "$got" ] && [ $((sent + lim)) = 200 ] \
    && ok "$name: 200 Time Exceeded generated in ${secs}s, $got sent (burst $burst + 1 per ${iv}s: at most $most), $lim counted as icmp_errors_rate_limited" \
    || bad "$name" "generated +$gen, received $got in ${secs}s (want $burst..$most), icmp_errors_sent +$sent, icmp_errors_rate_limited +$lim (want sent + limited = 200)"
}
sleep 1.2                                   # the earlier errors' tokens are back
rate_check "icmp rate limit" "$SOCK" 2 10 0.5
# The limit is a rate, not a ban: the client's bucket refills (one token
# per 500 ms), so a later hop-limit-2 ping gets its Time Exceeded again.
sleep 0.6
out=$(inc ping -6 -c 1 -W 2 -t 2 "$DST")
echo "$out" | grep -q "From $OWN6.*Time exceeded" \
  && ok "icmp rate limit: the client's bucket refills (a Time Exceeded 600 ms later)" \
  || bad "icmp rate limit: refill" "$out"

# ---------------------------------------------------------------- sessions
inc curl -sS --max-time 30 --limit-rate 1M -o /dev/null "http://[$DST]:8080/big.bin" &
LONG=$!
inc ping -6 -c 1 -W 2 "$DST" >/dev/null
sleep 0.5
out=$("$NAT64" session display --socket "$SOCK")
echo "$out" | grep -Eq "^tcp +2001:db8:1::2#[0-9]+ +198\.51\.100\.[0-9]+#[0-9]+ +203\.0\.113\.2#8080 +ESTABLISHED" \
  && echo "$out" | grep -Eq "^icmp +2001:db8:1::2#" \
  && ok "session display: the live TCP transfer (ESTABLISHED) and the ping" || bad "session display" "$out"
out=$("$NAT64" session display --icmp --socket "$SOCK")
echo "$out" | grep -q "^tcp" && bad "session display --icmp shows only ICMP" "$out" || ok "session display --icmp shows only ICMP"

# ---------------------------------------------------------------- reload
# SIGHUP with a changed file (ICMP timeout 3 -> 2) during the transfer.
write_config 2
kill -HUP $GW_PID
wait_for 5 grep -q "event=reloaded" "$DIR/gateway.log" && ok "reload: SIGHUP applied (event=reloaded logged)" \
  || bad "reload: SIGHUP" "$(tail -5 "$DIR/gateway.log")"
wait $LONG && ok "reload: the 8 MiB transfer running across the reload completed" \
  || bad "reload: transfer across the reload" "$(tail -5 "$DIR/gateway.log")"
[ "$(stat_of reloads)" = 1 ] && ok "reload: counted" || bad "reload: counted" "$(stat_of reloads)"
# A bad file is refused, the gateway keeps running.
cp "$DIR/gateway.toml" "$DIR/good.toml"
echo 'pool4 = "oops"' >> "$DIR/gateway.toml"
kill -HUP $GW_PID
wait_for 5 grep -q "event=reload_refused" "$DIR/gateway.log" \
  && check "reload: a broken file is refused and the gateway keeps translating" \
    inc curl -sS --max-time 10 -o /dev/null "http://[$DST]:8080/" \
  || bad "reload: broken file refused" "$(tail -3 "$DIR/gateway.log")"
cp "$DIR/good.toml" "$DIR/gateway.toml"

# ---------------------------------------------------------------- expiry
inc ping -6 -c 1 -W 2 "$DST" >/dev/null
n1=$("$NAT64" session display --icmp --socket "$SOCK" | grep -c "^icmp")
sleep 3.5
n2=$("$NAT64" session display --icmp --socket "$SOCK" | grep -c "^icmp")
[ "$n1" -ge 1 ] && [ "$n2" = 0 ] && [ "$(stat_of sessions_expired)" -ge 1 ] \
  && ok "expiry: the ICMP session expired after its 2 s timeout" || bad "expiry" "before $n1 after $n2"

# ---------------------------------------------------------------- bad traffic
before_refused=$(stat_of refused_clients)
before_253=$(stat_of unsupported_protocol)
before_trunc=$(stat_of transport_truncated)
before_ack=$(stat_of tcp_no_session)
before_icmp=$(stat_of icmp_untranslatable_type)
inc curl -sS --max-time 30 --limit-rate 2M -o "$DIR/during.bin" "http://[$DST]:8080/big.bin" &
GOOD=$!
inc python3 "$HERE/rawsend.py" proto253 2001:db8:1::2 "$DST" 300
inc python3 "$HERE/rawsend.py" udptrunc 2001:db8:1::2 "$DST" 300
inc python3 "$HERE/rawsend.py" tcpack 2001:db8:1::2 "$DST" 300
inc python3 "$HERE/rawsend.py" icmp6unknown 2001:db8:1::2 "$DST" 300
inc python3 "$HERE/rawsend.py" ping 2001:db8:bad::2 "$DST" 300
inc curl -sS --max-time 2 --interface 2001:db8:bad::2 "http://[$DST]:8080/" >/dev/null 2>&1 \
  && bad "outsider: a client outside [gateway] clients is refused" || ok "outsider: a client outside [gateway] clients is refused"
sleep 0.5
d() { echo $(( $(stat_of "$1") - $2 )); }
[ "$(d refused_clients "$before_refused")" -ge 270 ] && ok "outsider: its packets are counted (refused_clients)" \
  || bad "outsider counted" "refused_clients +$(d refused_clients "$before_refused")"
[ "$(d unsupported_protocol "$before_253")" -ge 270 ] && ok "garbage: protocol 253 counted as unsupported_protocol" \
  || bad "garbage: protocol 253" "+$(d unsupported_protocol "$before_253")"
[ "$(d transport_truncated "$before_trunc")" -ge 270 ] && ok "garbage: cut UDP headers counted as transport_truncated" \
  || bad "garbage: cut UDP" "+$(d transport_truncated "$before_trunc")"
[ "$(d tcp_no_session "$before_ack")" -ge 270 ] && ok "garbage: stray TCP ACKs counted as tcp_no_session" \
  || bad "garbage: stray ACKs" "+$(d tcp_no_session "$before_ack")"
[ "$(d icmp_untranslatable_type "$before_icmp")" -ge 270 ] && ok "garbage: ICMPv6 type 200 counted as icmp_untranslatable_type" \
  || bad "garbage: ICMPv6 type 200" "+$(d icmp_untranslatable_type "$before_icmp")"
wait $GOOD
[ "$(sha256sum < "$DIR/during.bin" | cut -d' ' -f1)" = "$BIG_SHA" ] \
  && ok "garbage: a download running during the bad traffic completed intact" || bad "good traffic during bad traffic"
out=$("$NAT64" stats --socket "$SOCK")
echo "$out" | grep -q "tcp_no_session .*no session" && ok "stats: drop reasons printed with their explanation" \
  || bad "stats explains drops" "$out"

# ---------------------------------------------------------------- metrics
m=$(ing curl -sS --max-time 5 http://127.0.0.1:9164/metrics)
echo "$m" | grep -Eq '^nat64_drops_total\{reason="tcp_no_session"\} [1-9]' \
  && echo "$m" | grep -q '^nat64_sessions{proto="tcp"}' \
  && echo "$m" | grep -Eq '^nat64_pool4_used\{proto="tcp"\} [0-9]' \
  && echo "$m" | grep -Eq '^nat64_packets_total\{verdict="translated",direction="6to4"\} [1-9]' \
  && echo "$m" | grep -Eq '^nat64_icmp_errors_rate_limited_total [1-9]' \
  && ok "metrics: Prometheus text on 127.0.0.1:9164 (sessions, pool4, verdicts, drop reasons, ICMP errors rate-limited)" \
  || bad "metrics" "$(echo "$m" | head -20)"

# ---------------------------------------------------------------- 464XLAT
# The client runs a CLAT: its IPv4 applications reach the IPv4 server
# through the CLAT and the gateway (the PLAT), over IPv6 only.
FAIL_BEFORE_CLAT=$FAIL
ip netns exec "$C" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$G" -6 route add 2001:db8:1::464/128 via 2001:db8:1::2
cat > "$DIR/clat.toml" <<EOF
[gateway]
mode = "clat"
device = "clat"
offload = false
control_socket = "$DIR/clat.sock"
metrics = ""
[translator]
pool6 = "2001:db8:64::/96"
[clat]
ipv6 = "2001:db8:1::464"
EOF
ip netns exec "$C" "$NAT64" gateway --config "$DIR/clat.toml" 2> "$DIR/clat.log" &
CLAT_PID=$!
if wait_for 10 "$NAT64" stats --socket "$DIR/clat.sock"; then
  check "464xlat: an IPv4 application on the IPv6-only client fetches http://$SERVER:8080/ (CLAT + NAT64)" \
    bash -c "ip netns exec $C curl -4 -sS --max-time 10 http://$SERVER:8080/ | grep -q hello"
  check "464xlat: IPv4 ping through CLAT and NAT64" ip netns exec "$C" ping -4 -c 2 -i 0.2 -W 2 "$SERVER"
  got=$(ip netns exec "$C" curl -4 -sS --max-time 60 "http://$SERVER:8080/big.bin" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$BIG_SHA" ] && ok "464xlat: 8 MiB download through the CLAT (offloads off) and NAT64 (offloads on), sha256 matches" \
    || bad "464xlat: 8 MiB download" "got $got want $BIG_SHA"
else
  bad "464xlat: CLAT starts" "$(cat "$DIR/clat.log")"
fi
if [ "$FAIL" != "$FAIL_BEFORE_CLAT" ]; then
  { "$NAT64" stats --socket "$DIR/clat.sock"; cat "$DIR/clat.log"; ip -n "$C" route; ip -n "$C" -6 route; } 2>&1 | sed 's/^/      /'
fi
kill $CLAT_PID 2>/dev/null; wait $CLAT_PID 2>/dev/null; CLAT_PID=

# ---------------------------------------------------------------- shutdown
kill -TERM $GW_PID
if wait $GW_PID; then
  ok "sigterm: the gateway exits 0"
else
  bad "sigterm: exit status" "$(tail -5 "$DIR/gateway.log")"
fi
GW_PID=
grep -q "event=gateway_stopped" "$DIR/gateway.log" && [ ! -e "$SOCK" ] && ! ip -n "$G" link show nat64 >/dev/null 2>&1 \
  && ok "sigterm: logged, control socket removed, TUN device gone" || bad "sigterm: clean up" "$(tail -3 "$DIR/gateway.log")"
grep -Ev '^ts=[^ ]+ level=[a-z]+ event=[a-z_0-9]+( [a-z_0-9]+=("([^"\\]|\\.)*"|[^ "]+))*$' "$DIR/gateway.log" > "$DIR/odd.log"
[ -s "$DIR/odd.log" ] && bad "logs: one key=value line per event" "$(head -5 "$DIR/odd.log")" \
  || ok "logs: one key=value line per event ($(wc -l < "$DIR/gateway.log") lines)"

# ---------------------------------------------------------------- AF_PACKET
# The same gateway attached to g6 and g4 with the AF_PACKET adapter: no TUN
# device; TPACKET_V3 rings, fanout over 2 workers, next hops from the
# kernel's neighbour table, blackhole routes so the kernel stays out.
cat > "$DIR/afp.toml" <<EOF
[gateway]
mode = "nat64"
adapter = "af_packet"
workers = 2
clients = ["2001:db8:1::/64"]
control_socket = "$DIR/afp.sock"
metrics = ""
[af_packet]
ipv6_interface = "g6"
ipv4_interface = "g4"
[translator]
pool6 = "2001:db8:64::/96"
[nat64]
pool4 = ["198.51.100.0/28"]
EOF
ip netns exec "$G" "$NAT64" gateway --config "$DIR/afp.toml" 2> "$DIR/afp.log" &
AFP_PID=$!
if wait_for 10 "$NAT64" stats --socket "$DIR/afp.sock"; then
  ok "af_packet: the gateway starts on g6 and g4 (2 workers, fanout), blackhole routes in place"
  check "af_packet: ping through the rings" inc ping -6 -c 3 -i 0.2 -W 2 "$DST"
  # Nothing behind the rings answers a packet too big for g4 (MTU 1400):
  # the core does, its mtu4 lowered to the interface's.
  ip -n "$C" -6 route flush cache
  out=$(inc ping -6 -c 2 -i 0.3 -W 2 -M do -s 1452 "$DST" 2>&1)
  echo "$out" | grep -q "From $OWN6.*mtu=1420" && grep -q "event=mtu_lowered" "$DIR/afp.log" \
    && ok "af_packet: a 1500-byte DF ping gets Packet Too Big (mtu 1420) from the translator, mtu4 lowered to g4's 1400" \
    || bad "af_packet: Packet Too Big" "$out
$(grep mtu "$DIR/afp.log")"
  check "af_packet: curl fetches a page" \
    bash -c "ip netns exec $C curl -sS --max-time 10 http://[$DST]:8080/ | grep -q 'hello from the IPv4-only server'"
  ip netns exec "$S" python3 -c "$CSUMCHECK" s0 "$DIR/ack-s" & CK_PIDS="$CK_PIDS $!"
  ip netns exec "$C" python3 -c "$CSUMCHECK" c0 "$DIR/ack-c" & CK_PIDS="$CK_PIDS $!"
  wait_for 5 test -e "$DIR/ack-s.ready" -a -e "$DIR/ack-c.ready"
  got=$(inc curl -sS --max-time 60 "http://[$DST]:8080/big.bin" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$BIG_SHA" ] && ok "af_packet: 8 MiB download, sha256 matches" || bad "af_packet: 8 MiB download" "got $got want $BIG_SHA"
  got=$(inc curl -sS --max-time 60 -T "$DIR/upload.bin" "http://[$DST]:8080/up" | tr -d '\n')
  [ "$got" = "$UP_SHA" ] && ok "af_packet: 4 MiB upload over the 1400-byte IPv4 link, sha256 matches" \
    || bad "af_packet: 4 MiB upload" "got $got want $UP_SHA"
  sleep 0.3
  kill -TERM $CK_PIDS 2>/dev/null; wait $CK_PIDS 2>/dev/null; CK_PIDS=
  read -r ns ps bs gs < "$DIR/ack-s" 2>/dev/null; read -r nc pc bc gc < "$DIR/ack-c" 2>/dev/null
  gso=$(stat_of gso_packets "$DIR/afp.sock") txe=$(stat_of tx_errors "$DIR/afp.sock") oerr=$(stat_of offload_errors "$DIR/afp.sock")
  [ "${bs:-1}" = 0 ] && [ "${bc:-1}" = 0 ] && [ "$gso" -ge 20 ] && [ "$txe" = 0 ] && [ "$oerr" = 0 ] \
    && ok "af_packet: $gso super-packets through the rings, every TCP checksum right (server $ns, client $nc packets), no send or offload errors" \
    || bad "af_packet: super-packets and checksums" "gso_packets $gso tx_errors $txe offload_errors $oerr; server: $ns packets, $bs bad; client: $nc, $bc bad"
  got=$(inc python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3)
ok = 0
for i in range(5):
    s.sendto(b'udp-%d' % i, ('$DST', 8080))
    try:
        ok += s.recvfrom(100)[0] == b'udp-%d' % i
    except socket.timeout:
        pass
print(ok)")
  [ "$got" = 5 ] && ok "af_packet: 5 UDP datagrams echoed" || bad "af_packet: UDP echo" "$got of 5"
  # Linux's defaults (no icmp_errors_* keys): burst 6, then 1 per second.
  # The rings see the client's packets before any router: hop limit 1.
  rate_check "af_packet: icmp rate limit (defaults)" "$DIR/afp.sock" 1 6 1
  out=$("$NAT64" session display --socket "$DIR/afp.sock")
  echo "$out" | grep -Eq "^tcp +2001:db8:1::2#[0-9]+ +198\.51\.100\.[0-9]+#[0-9]+ +203\.0\.113\.2#8080" \
    && ok "af_packet: session display shows the TCP sessions" || bad "af_packet: session display" "$out"
  kill -TERM $AFP_PID
  if wait $AFP_PID && [ -z "$(ip -n "$G" route show type blackhole; ip -n "$G" -6 route show type blackhole)" ]; then
    ok "af_packet: SIGTERM: exits 0 and removes its blackhole routes"
  else
    bad "af_packet: shutdown" "$(tail -3 "$DIR/afp.log"; ip -n "$G" route show type blackhole)"
  fi
  AFP_PID=
else
  bad "af_packet: the gateway starts" "$(cat "$DIR/afp.log")"
fi

echo
echo "e2e: $(( $(date +%s) - START )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
