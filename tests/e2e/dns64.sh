#!/usr/bin/env bash
# End-to-end test of DNS64 + NAT64 (the seed's Phase 2 checkpoint without
# Kubernetes), in network namespaces this script creates and deletes, by
# name, even on failure or Ctrl-C:
#
#   sudo bash tests/e2e/dns64.sh [path/to/nat64]     # default target/debug/nat64
#
# Needs root and: iproute2 curl python3 dnsutils (dig) nsd unbound (Debian
# packages). Only documentation addresses, inside the namespaces:
#
#   client   2001:db8:1::2/64, IPv6 only (no IPv4 address, no IPv4 route);
#     |      /etc/netns/<client>/resolv.conf: nameserver 2001:db8:1::1
#   gateway  2001:db8:1::1/64: one `nat64 gateway` process, one file: the
#     |      stateful NAT64 (pool6 2001:db8:64::/96, pool4 198.51.100.0/28)
#     |      and, from the file's [dns64] table, the DNS64 resolver on port
#     |      53 (prefix: pool6); unbound (module dns64) on port 5300, same
#     |      prefix; both resolvers forward to the authoritative server
#     |      below, caches on;
#     |      2001:db8:1::80: an IPv6 web server (the real AAAA of v6-only/dual)
#     |                                                  | 203.0.113.1/24
#   server   203.0.113.2/24: the IPv4-only web server (port 80)
#            203.0.113.53/24: nsd, authoritative for lab.example.,
#            113.0.203.in-addr.arpa. and ipv4only.arpa.
#
# The prefix is network-specific because the lab's IPv4 addresses are not
# global (RFC 6052 section 3.1 keeps them out of 64:ff9b::/96).
#
# Part 1 asks both resolvers the same questions (dig from the client) and
# compares status, answer records and TTLs; where they differ, the
# difference must be listed in KNOWN with the RFC clause that decides it.
# Part 2 is the checkpoint: `curl http://a-only.lab.example/` from the
# IPv6-only client through DNS64 and NAT64, the synthesized address in
# `dig AAAA`, real AAAA records for dual-stack and AAAA-only names, CNAME
# chains, PTR, RFC 7050 discovery, TCP, truncation, DNSSEC CD, metrics.
#
# Prints one line per check and ends with "N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAT64=$(realpath "${1:-target/debug/nat64}")
[ -x "$NAT64" ] || { echo "no nat64 binary at $NAT64 (cargo build -p nat64)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: the test creates network namespaces" >&2; exit 2; }
missing=
for t in ip curl python3 dig nsd unbound; do command -v $t >/dev/null || missing=1; done
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  echo "installing iproute2 curl python3 dnsutils nsd unbound"
  apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 curl python3 dnsutils nsd unbound >/dev/null
fi
for t in ip curl python3 dig nsd unbound; do
  command -v $t >/dev/null || { echo "$t is missing (apt-get install iproute2 curl python3 dnsutils nsd unbound)" >&2; exit 2; }
done

ID=n64dns-$$
C=$ID-c G=$ID-g S=$ID-s
DIR=$(mktemp -d /tmp/nat64-dns64-e2e.XXXXXX)
chmod 755 "$DIR"
ZONE=lab.example
PREFIX=2001:db8:64::
GW6=2001:db8:1::1
WEB6=2001:db8:1::80
SERVER4=203.0.113.2
AUTH4=203.0.113.53
SYNTH=${PREFIX}cb00:7102 # 203.0.113.2 under pool6 (RFC 6052 section 2.2)
OURS_PORT=53 UNB_PORT=5300
PASS=0 FAIL=0 KNOWN_SEEN=0
PIDS=()
NETNS_ETC=/etc/netns/$C
MADE_ETC_NETNS=
START=$(date +%s)

cleanup() {
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip -n "$C" link del c0 2>/dev/null
  ip -n "$S" link del s0 2>/dev/null
  for ns in "$C" "$G" "$S"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$NETNS_ETC"
  [ -n "$MADE_ETC_NETNS" ] && rmdir /etc/netns 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

ok() { PASS=$((PASS + 1)); printf 'ok    %s\n' "$1"; }
bad() {
  FAIL=$((FAIL + 1)); printf 'FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /' | head -30
  return 0
}
inc() { ip netns exec "$C" "$@"; }
ing() { ip netns exec "$G" "$@"; }
wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
bg() { # bg LOG COMMAND...: start in the background, remember the pid
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
}

# ---------------------------------------------------------------- the lab
set -e
for ns in "$C" "$G" "$S"; do ip netns add "$ns"; done
ip -n "$C" link add c0 type veth peer name g6 netns "$G"
ip -n "$S" link add s0 type veth peer name g4 netns "$G"
for ns in "$C" "$G" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$C" link set c0 up
ip -n "$C" -6 route add default via $GW6
ip -n "$G" addr add $GW6/64 dev g6 nodad
ip -n "$G" addr add $WEB6/64 dev g6 nodad
ip -n "$G" addr add 203.0.113.1/24 dev g4
ip -n "$G" link set g6 up
ip -n "$G" link set g4 up
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$S" addr add $SERVER4/24 dev s0
ip -n "$S" addr add $AUTH4/24 dev s0
ip -n "$S" link set s0 up
ip -n "$S" route add default via 203.0.113.1
[ -d /etc/netns ] || MADE_ETC_NETNS=1
mkdir -p "$NETNS_ETC"
echo "nameserver $GW6" >"$NETNS_ETC/resolv.conf"

# The web servers: IPv4-only behind the NAT64, and IPv6 on the gateway.
mkdir -p "$DIR/www4" "$DIR/www6"
echo "hello from the IPv4-only server" >"$DIR/www4/index.html"
echo "hello from the IPv6 server" >"$DIR/www6/index.html"
bg "$DIR/www4.log" ip netns exec "$S" python3 -m http.server --bind $SERVER4 --directory "$DIR/www4" 80
bg "$DIR/www6.log" ip netns exec "$G" python3 -m http.server --bind $WEB6 --directory "$DIR/www6" 80

# The authoritative server: nsd.
{
  echo "\$ORIGIN $ZONE."
  cat <<EOF
\$TTL 3600
@          IN SOA ns hostmaster 1 7200 900 1209600 300
@          IN NS  ns
ns         IN A   $AUTH4
a-only     IN A   $SERVER4
short   30 IN A   $SERVER4
multi      IN A   203.0.113.10
multi      IN A   203.0.113.11
v6-only    IN AAAA $WEB6
dual       IN A   $SERVER4
dual       IN AAAA $WEB6
www        IN CNAME a-only
chain      IN CNAME www
cname-dual IN CNAME dual
cname-v6   IN CNAME v6-only
dangling   IN CNAME nowhere
mapped     IN A   203.0.113.40
mapped     IN AAAA ::ffff:203.0.113.40
txt        IN TXT "hello"
EOF
  for i in $(seq 100 129); do echo "many       IN A   203.0.113.$i"; done
} >"$DIR/lab.zone"
cat >"$DIR/rev.zone" <<EOF
\$ORIGIN 113.0.203.in-addr.arpa.
\$TTL 3600
@   IN SOA ns.$ZONE. hostmaster.$ZONE. 1 7200 900 1209600 300
@   IN NS  ns.$ZONE.
2   IN PTR a-only.$ZONE.
EOF
cat >"$DIR/ipv4only.zone" <<EOF
\$ORIGIN ipv4only.arpa.
\$TTL 86400
@   IN SOA ns.$ZONE. hostmaster.$ZONE. 1 7200 900 1209600 86400
@   IN NS  ns.$ZONE.
@   IN A   192.0.0.170
@   IN A   192.0.0.171
EOF
cat >"$DIR/nsd.conf" <<EOF
server:
  ip-address: $AUTH4
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$DIR"
  database: ""
  zonelistfile: "$DIR/nsd-zone.list"
  xfrdfile: "$DIR/nsd-xfrd.state"
  xfrdir: "$DIR"
  pidfile: "$DIR/nsd.pid"
  logfile: "$DIR/nsd.log"
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: $ZONE
  zonefile: lab.zone
zone:
  name: 113.0.203.in-addr.arpa
  zonefile: rev.zone
zone:
  name: ipv4only.arpa
  zonefile: ipv4only.zone
EOF
bg "$DIR/nsd.out" ip netns exec "$S" nsd -d -c "$DIR/nsd.conf"

# The NAT64 gateway and our DNS64 resolver: one process, one file (the
# resolver's prefix defaults to the translator's pool6).
cat >"$DIR/gateway.toml" <<EOF
[gateway]
mode = "nat64"
device = "nat64"
clients = ["2001:db8:1::/64"]
control_socket = "$DIR/nat64.sock"
metrics = ""
[translator]
pool6 = "${PREFIX}/96"
[nat64]
pool4 = ["198.51.100.0/28"]
[dns64]
listen = ["[$GW6]:$OURS_PORT"]
upstreams = ["$AUTH4"]
metrics_interval = 1
EOF
bg "$DIR/gateway.log" ip netns exec "$G" "$NAT64" gateway --config "$DIR/gateway.toml"
GW_PID=${PIDS[-1]}

# unbound's dns64 module beside it.
cat >"$DIR/unbound.conf" <<EOF
server:
  interface: $GW6@$UNB_PORT
  do-ip4: yes
  do-ip6: yes
  access-control: 2001:db8:1::/64 allow
  # unbound answers the documentation ranges' reverse zones itself (RFC
  # 6303, NXDOMAIN): let it ask the lab's authoritative server like nat64.
  local-zone: "113.0.203.in-addr.arpa." nodefault
  local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
  module-config: "dns64 iterator"
  dns64-prefix: ${PREFIX}/96
  qname-minimisation: no
  username: ""
  chroot: ""
  directory: "$DIR"
  pidfile: "$DIR/unbound.pid"
  use-syslog: no
  logfile: ""
  do-daemonize: no
  verbosity: 0
forward-zone:
  name: "."
  forward-addr: $AUTH4
EOF
bg "$DIR/unbound.log" ip netns exec "$G" unbound -c "$DIR/unbound.conf"
set +e

dig_at() { # dig_at PORT ARGS...: dig from the client at the gateway
  local port=$1; shift
  inc dig +time=2 +tries=2 -p "$port" "@$GW6" "$@"
}
wait_for 10 ing dig +time=1 +tries=1 "@$AUTH4" "a-only.$ZONE" A \
  && ok "nsd serves $ZONE on $AUTH4" || { bad "nsd starts" "$(cat "$DIR/nsd.out" "$DIR/nsd.log")"; exit 1; }
wait_for 10 "$NAT64" stats --socket "$DIR/nat64.sock" \
  && ok "the NAT64 gateway starts" || { bad "gateway starts" "$(cat "$DIR/gateway.log")"; exit 1; }
wait_for 10 dig_at $OURS_PORT +time=1 +tries=1 "txt.$ZONE" TXT \
  && ok "the gateway's DNS64 resolver ([dns64] table) answers on [$GW6]:$OURS_PORT" \
  || { bad "the gateway's DNS64 resolver starts" "$(cat "$DIR/gateway.log")"; exit 1; }
out=$(ip netns exec "$G" ss -Hlnup "sport = :$OURS_PORT"; ip netns exec "$G" ss -Hlntp "sport = :$OURS_PORT")
[ "$(grep -c "pid=$GW_PID," <<<"$out")" = 2 ] \
  && ok "one process serves both: the gateway (pid $GW_PID) owns UDP and TCP port $OURS_PORT" \
  || bad "DNS64 sockets owned by the gateway process $GW_PID" "$out"
wait_for 10 dig_at $UNB_PORT +time=1 +tries=1 "txt.$ZONE" TXT \
  && ok "unbound (dns64 module) answers on [$GW6]:$UNB_PORT" \
  || { bad "unbound starts" "$(cat "$DIR/unbound.log")"; exit 1; }
wait_for 10 ip netns exec "$S" python3 -c "import socket; socket.create_connection(('$SERVER4', 80), 1)" \
  && wait_for 10 ip netns exec "$G" python3 -c "import socket; socket.create_connection(('$WEB6', 80), 1)" \
  || { bad "web servers start" "$(cat "$DIR/www4.log" "$DIR/www6.log")"; exit 1; }

# ---------------------------------------------------------------- part 1: differential
# Status and answer section, one record per line: "status NAME TTL TYPE RDATA".
ask() { # port name type [dig options]
  local port=$1 name=$2 type=$3; shift 3
  dig_at "$port" "$name" "$type" "$@" +noall +comments +answer 2>/dev/null |
    awk '/status:/ { match($0, /status: [A-Z]+/); s = substr($0, RSTART + 8, RLENGTH - 8) }
         /^[^;]/ && NF >= 5 { $3 = ""; rec = rec s " " $0 "\n" }
         END { if (rec == "") print s; else printf "%s", rec }' |
    sed 's/  */ /g' | sort
}
recs() { # recs PORT NAME TYPE [dig options]: "status name type rdata" lines (ask without TTLs)
  ask "$@" | awk '{ $3 = ""; print }' | sed 's/  */ /g'
}
REV=$(python3 -c "import ipaddress; print(ipaddress.ip_address('$SYNTH').reverse_pointer)")

# Known differences: "name type [options]" -> the RFC clause that decides it,
# and which side it favours.
declare -A KNOWN=(
  ["a-only.$ZONE AAAA"]="RFC 6147 section 5.1.7: TTL = min(A TTL 3600, SOA minimum of the negative AAAA answer 300) = 300; unbound keeps the A record's 3600 (nat64 follows the clause)"
  ["multi.$ZONE AAAA"]="RFC 6147 section 5.1.7: TTL = min(A TTL 3600, SOA 300) = 300 for each record; unbound keeps 3600 (nat64 follows the clause)"
  ["www.$ZONE AAAA"]="RFC 6147 section 5.1.7: the synthesized record's TTL is min(A TTL 3600, SOA 300 of the negative AAAA answer after the CNAME) = 300; unbound keeps 3600; the CNAME is kept by both (section 5.1.5)"
  ["chain.$ZONE AAAA"]="RFC 6147 section 5.1.7: as www, min(3600, 300) = 300 after the two CNAMEs (kept by both, section 5.1.5); unbound keeps 3600"
  ["mapped.$ZONE AAAA"]="RFC 6147 section 5.1.4: ::ffff:0:0/96 SHOULD be excluded by default and an answer of only excluded AAAA records MUST be treated as empty; unbound returns the ::ffff address, nat64 synthesizes from the A record, TTL min(3600, 600) as that AAAA answer had no SOA (section 5.1.7) (nat64 follows the clauses)"
  ["many.$ZONE AAAA"]="RFC 6147 section 5.1.7: TTL = min(A TTL 3600, SOA 300) = 300 for each of the 30 records; unbound keeps 3600 (nat64 follows the clause)"
  ["$REV PTR"]="RFC 6147 section 5.3.1 allows two answers: nat64 answers a CNAME to 2.113.0.203.in-addr.arpa (the second option) followed by its PTR; unbound answers the PTR RDATA under the ip6.arpa name (the first option's form). Both conform"
  ["a-only.$ZONE AAAA +tcp"]="RFC 6147 section 5.1.7, as a-only AAAA over UDP: TTL 300 (the SOA minimum) against unbound's 3600, both counting down from the cache"
)

# What the clause asks of nat64 in each known difference (an extended regex
# over its answer lines joined by "|"; TTLs may have counted down a little):
# a known difference passes only when nat64 gives exactly this.
t() { echo "($1|$(($1 - 1))|$(($1 - 2))|$(($1 - 3))|$(($1 - 4))|$(($1 - 5)))"; }
Z="lab\\.example\\."
declare -A OURS_EXPECT=(
  ["a-only.$ZONE AAAA"]="NOERROR a-only\\.$Z $(t 300) AAAA $SYNTH\\|"
  ["multi.$ZONE AAAA"]="NOERROR multi\\.$Z $(t 300) AAAA ${PREFIX}cb00:710a\\|NOERROR multi\\.$Z $(t 300) AAAA ${PREFIX}cb00:710b\\|"
  ["www.$ZONE AAAA"]="NOERROR a-only\\.$Z $(t 300) AAAA $SYNTH\\|NOERROR www\\.$Z $(t 3600) CNAME a-only\\.$Z\\|"
  ["chain.$ZONE AAAA"]="NOERROR a-only\\.$Z $(t 300) AAAA $SYNTH\\|NOERROR chain\\.$Z $(t 3600) CNAME www\\.$Z\\|NOERROR www\\.$Z $(t 3600) CNAME a-only\\.$Z\\|"
  ["mapped.$ZONE AAAA"]="NOERROR mapped\\.$Z $(t 600) AAAA ${PREFIX}cb00:7128\\|"
  ["many.$ZONE AAAA"]="(NOERROR many\\.$Z $(t 300) AAAA ${PREFIX}cb00:71[0-9a-f]{2}\\|){30}"
  ["$REV PTR"]="NOERROR ${REV//./\\.}\\. $(t 3600) CNAME 2\\.113\\.0\\.203\\.in-addr\\.arpa\\.\\|NOERROR 2\\.113\\.0\\.203\\.in-addr\\.arpa\\. $(t 3600) PTR a-only\\.$Z\\|"
  ["a-only.$ZONE AAAA +tcp"]="NOERROR a-only\\.$Z $(t 300) AAAA $SYNTH\\|"
)

check_same() { # name type [dig options]
  local name=$1 type=$2; shift 2
  local key="$name $type${*:+ $*}" a b na nb
  a=$(ask $UNB_PORT "$name" "$type" "$@")
  b=$(ask $OURS_PORT "$name" "$type" "$@")
  if [ "$a" == "$b" ]; then
    ok "same      $key: $(echo "$b" | head -1)"
    return
  fi
  na=$(echo "$a" | awk '{ $3 = ""; print }')
  nb=$(echo "$b" | awk '{ $3 = ""; print }')
  # Both resolvers cache: asked a moment apart, one record's TTLs count down
  # a second or two apart. That is not a difference.
  if [ "$na" == "$nb" ] && [ "$(paste <(echo "$a" | awk '{print $3}') <(echo "$b" | awk '{print $3}') |
    awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {print m + 0}')" -le 5 ]; then
    ok "same      $key: $(echo "$b" | head -1) (TTLs within 5 s)"
    return
  fi
  local detail
  detail=$(printf 'unbound: %s\nnat64:   %s' "$(echo "$a" | tr '\n' '|')" "$(echo "$b" | tr '\n' '|')")
  if [ -n "${KNOWN[$key]:-}" ]; then
    KNOWN_SEEN=$((KNOWN_SEEN + 1))
    if [[ "$(echo "$b" | tr '\n' '|')" =~ ^${OURS_EXPECT[$key]}$ ]]; then
      ok "differs   $key (known): ${KNOWN[$key]}"
      [ -n "${VERBOSE:-}" ] && printf '%s\n' "$detail" | sed 's/^/      /'
    else
      bad "differs   $key (known, but nat64's answer is not what the clause asks: /${OURS_EXPECT[$key]}/)" "$detail"
    fi
  else
    bad "differs   $key (NOT KNOWN: name the RFC clause that decides it)" "$detail"
  fi
}

echo "-- part 1: nat64 dns64 vs unbound's dns64 module, same zone, same lab"
check_same "a-only.$ZONE" AAAA
check_same "a-only.$ZONE" A
check_same "short.$ZONE" AAAA
check_same "multi.$ZONE" AAAA
check_same "v6-only.$ZONE" AAAA
check_same "dual.$ZONE" AAAA
check_same "dual.$ZONE" A
check_same "www.$ZONE" AAAA
check_same "chain.$ZONE" AAAA
check_same "cname-dual.$ZONE" AAAA
check_same "cname-v6.$ZONE" AAAA
check_same "dangling.$ZONE" AAAA
check_same "nowhere.$ZONE" AAAA
check_same "txt.$ZONE" AAAA
check_same "txt.$ZONE" TXT
check_same "mapped.$ZONE" AAAA
check_same "many.$ZONE" AAAA
check_same "$REV" PTR
check_same ipv4only.arpa AAAA
check_same "a-only.$ZONE" AAAA +dnssec +cd
check_same "a-only.$ZONE" AAAA +tcp

# ---------------------------------------------------------------- part 2: the checkpoint
echo "-- part 2: an IPv6-only client, our DNS64 as its resolver, our NAT64 to an IPv4-only server"
[ -z "$(inc ip -4 addr show scope global)" ] && [ -z "$(inc ip -4 route show)" ] \
  && ok "the client is IPv6-only: no IPv4 address, no IPv4 route" \
  || bad "the client is IPv6-only" "$(inc ip -4 addr; inc ip -4 route)"
out=$(inc cat /etc/resolv.conf)
[ "$out" = "nameserver $GW6" ] && ok "the client's resolver is nat64 dns64 ($GW6, /etc/netns/$C/resolv.conf)" \
  || bad "client resolv.conf" "$out"

# `dig AAAA` with the client's own resolver (no @server).
out=$(inc dig +time=2 +tries=2 AAAA "a-only.$ZONE")
echo "$out" | grep -Eq "^a-only\.$ZONE\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+$SYNTH$" \
  && echo "$out" | grep -q "SERVER: $GW6#53" \
  && ok "dig AAAA a-only.$ZONE: the synthesized $SYNTH ($SERVER4 under pool6)" || bad "dig AAAA a-only" "$out"
out=$(inc curl -sS --max-time 10 "http://a-only.$ZONE/")
[ "$out" = "hello from the IPv4-only server" ] \
  && ok "curl http://a-only.$ZONE/ from the IPv6-only client: the IPv4-only server's page, through DNS64 + NAT64" \
  || bad "curl http://a-only.$ZONE/" "$out"
out=$("$NAT64" session display --socket "$DIR/nat64.sock")
echo "$out" | grep -Eq "^tcp +2001:db8:1::2#[0-9]+ +198\.51\.100\.[0-9]+#[0-9]+ +$SERVER4#80 " \
  && ok "the gateway's session table has the client's TCP session to $SERVER4#80" || bad "session display" "$out"
out=$(inc curl -sS --max-time 10 "http://www.$ZONE/")
[ "$out" = "hello from the IPv4-only server" ] && ok "curl http://www.$ZONE/ (a CNAME to a-only) works too" \
  || bad "curl through a CNAME" "$out"

# Real AAAA records are used as they are (RFC 6147 section 5.1.1).
out=$(ask $OURS_PORT "v6-only.$ZONE" AAAA)
[ "$(echo "$out" | awk '{print $4, $5}')" = "AAAA $WEB6" ] \
  && ok "AAAA-only name: its real AAAA $WEB6" || bad "v6-only AAAA" "$out"
out=$(ask $OURS_PORT "dual.$ZONE" AAAA)
[ "$(echo "$out" | awk '{print $4, $5}')" = "AAAA $WEB6" ] \
  && ok "dual-stack name: only its real AAAA, nothing synthesized (section 5.1.1)" || bad "dual AAAA" "$out"
out=$(inc curl -sS --max-time 10 "http://dual.$ZONE/")
[ "$out" = "hello from the IPv6 server" ] && ok "curl http://dual.$ZONE/ reaches the IPv6 server directly" \
  || bad "curl dual" "$out"
out=$(inc curl -sS --max-time 10 "http://v6-only.$ZONE/")
[ "$out" = "hello from the IPv6 server" ] && ok "curl http://v6-only.$ZONE/ reaches the IPv6 server" \
  || bad "curl v6-only" "$out"

# CNAME chains are kept, and followed to the synthesized or real record (5.1.5).
out=$(recs $OURS_PORT "chain.$ZONE" AAAA)
echo "$out" | grep -q "^NOERROR chain.$ZONE. CNAME www.$ZONE.$" \
  && echo "$out" | grep -q "^NOERROR www.$ZONE. CNAME a-only.$ZONE.$" \
  && echo "$out" | grep -q "^NOERROR a-only.$ZONE. AAAA $SYNTH$" \
  && [ "$(echo "$out" | wc -l)" = 3 ] \
  && ok "CNAME chain chain -> www -> a-only: both CNAMEs, then the synthesized AAAA" || bad "chain" "$out"
out=$(recs $OURS_PORT "cname-dual.$ZONE" AAAA)
echo "$out" | grep -q "CNAME dual.$ZONE.$" && echo "$out" | grep -q "^NOERROR dual.$ZONE. AAAA $WEB6$" \
  && [ "$(echo "$out" | wc -l)" = 2 ] && ok "CNAME to the dual-stack name: the CNAME and the real AAAA" \
  || bad "cname-dual" "$out"

# No synthesis for NXDOMAIN (5.1.2); ::ffff:0:0/96 excluded (5.1.4).
out=$(ask $OURS_PORT "nowhere.$ZONE" AAAA)
[ "$out" = NXDOMAIN ] && ok "NXDOMAIN stays NXDOMAIN (section 5.1.2)" || bad "nxdomain" "$out"
out=$(ask $OURS_PORT "mapped.$ZONE" AAAA)
[ "$(echo "$out" | awk '{print $4, $5}')" = "AAAA ${PREFIX}cb00:7128" ] \
  && ok "an AAAA in ::ffff:0:0/96 is excluded and the A record synthesized (section 5.1.4)" || bad "mapped" "$out"

# PTR for a synthesized address (5.3.1) and RFC 7050 discovery (RFC 8880).
out=$(inc dig +time=2 +tries=2 -x "$SYNTH" +noall +answer)
echo "$out" | grep -q "CNAME.*2\.113\.0\.203\.in-addr\.arpa\.$" && echo "$out" | grep -q "PTR.*a-only\.$ZONE\.$" \
  && ok "dig -x $SYNTH: CNAME to 2.113.0.203.in-addr.arpa and its PTR a-only.$ZONE (section 5.3.1)" \
  || bad "ptr" "$out"
out=$(inc dig +time=2 +tries=2 +short AAAA ipv4only.arpa | sort | tr '\n' ' ')
[ "$out" = "${PREFIX}c000:aa ${PREFIX}c000:ab " ] \
  && ok "RFC 7050: ipv4only.arpa AAAA gives ${PREFIX}c000:aa and :ab, so the client can learn the /96" \
  || bad "ipv4only.arpa" "$out"

# Transport: TCP, and truncation with the client's retry over TCP.
out=$(inc dig +time=2 +tries=2 +tcp +short AAAA "a-only.$ZONE")
[ "$out" = "$SYNTH" ] && ok "over TCP: the same synthesized answer" || bad "tcp" "$out"
out=$(inc dig +time=2 +tries=2 +noedns +ignore AAAA "many.$ZONE")
echo "$out" | grep -q "flags: qr tc" && ok "30 synthesized records do not fit 512 bytes: TC set over UDP without EDNS" \
  || bad "truncation" "$out"
out=$(inc dig +time=2 +tries=2 +noedns +short AAAA "many.$ZONE" | grep -c "^$PREFIX")
[ "$out" = 30 ] && ok "dig retries over TCP and gets all 30 synthesized records" || bad "tcp retry" "$out records"

# DNSSEC (5.5): CD and DO set: the real (empty) answer.
out=$(ask $OURS_PORT "a-only.$ZONE" AAAA +dnssec +cd)
[ "$out" = NOERROR ] && ok "DO+CD (a validating client): the real empty answer, no synthesis (section 5.5)" \
  || bad "do+cd" "$out"

# Metrics: one JSON line a second on standard error.
sleep 1.2
m=$(grep '"dns64_metrics"' "$DIR/gateway.log" | tail -1)
python3 - "$m" <<'EOF' && ok "metrics: queries, synthesized answers, cache hits and latency histograms counted" || bad "metrics" "$m"
import json, sys
m = json.loads(sys.argv[1]); c = m["dns64_metrics"]
assert c["synthesized"] >= 5 and c["cache_hits"] >= 3 and c["queries_udp"] >= 20 and c["queries_tcp"] >= 2, c
assert m["dns64_latency"]["count"] >= 20 and m["upstream_latency"]["count"] >= 5, m
EOF

echo
echo "dns64 e2e: $(($(date +%s) - START)) s; $KNOWN_SEEN differences with unbound, each decided by the RFC clause named"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
