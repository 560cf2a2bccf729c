#!/usr/bin/env bash
# Differential test of `nat64 dns64` against unbound's dns64 module.
#
# On loopback only (127.0.0.1, high ports): one unbound instance serves a small
# test zone authoritatively (auth-zone), a second unbound runs
# `module-config: "dns64 iterator"` forwarding to it, and `nat64 dns64`
# forwards to the same authoritative server. Every case is asked of both
# resolvers with dig; status, answer records and TTLs are compared.
#
# Where the two differ, the difference must be listed in KNOWN below with the
# RFC clause that decides it (and which side the clause favours); an unlisted
# difference fails the run. Prints "N passed, M failed" at the end.
#
# Usage: bash tests/dns64-differential.sh        (installs unbound and dig if missing)
#        NAT64=path/to/nat64 bash tests/dns64-differential.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v unbound >/dev/null || ! command -v dig >/dev/null; then
  echo "installing unbound and dnsutils"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unbound dnsutils >/dev/null
fi
if [ -z "${NAT64:-}" ]; then
  cargo build -q -p nat64
  NAT64=target/debug/nat64
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Three free UDP+TCP ports on 127.0.0.1.
read -r AUTH_PORT UNB_PORT OURS_PORT < <(python3 - <<'EOF'
import socket
ports = []
while len(ports) < 3:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", p)); ports.append(p)
    except OSError:
        pass
    u.close(); t.close()
print(*ports)
EOF
)

cat >"$WORK/test.example.zone" <<'EOF'
$ORIGIN test.example.
@             3600 IN SOA ns.test.example. hostmaster.test.example. 1 7200 900 1209600 300
@             3600 IN NS  ns
ns            3600 IN A   127.0.0.1
a-only        3600 IN A   93.184.216.34
short           30 IN A   93.184.216.30
multi         3600 IN A   93.184.216.1
multi         3600 IN A   93.184.216.2
v6-only       3600 IN AAAA 2001:db8::6
dual          3600 IN A   93.184.216.35
dual          3600 IN AAAA 2001:db8::35
www           3600 IN CNAME a-only
chain         3600 IN CNAME www
mapped        3600 IN A   93.184.216.40
mapped        3600 IN AAAA ::ffff:93.184.216.40
private       3600 IN A   10.1.2.3
doc           3600 IN A   192.0.2.1
txt           3600 IN TXT "hello"
EOF
cat >"$WORK/rev.zone" <<'EOF'
$ORIGIN 216.184.93.in-addr.arpa.
$TTL 3600
@   IN SOA ns.test.example. hostmaster.test.example. 1 7200 900 1209600 300
@   IN NS  ns.test.example.
34  IN PTR a-only.test.example.
EOF
cat >"$WORK/ipv4only.zone" <<'EOF'
$ORIGIN ipv4only.arpa.
$TTL 86400
@   IN SOA ns.test.example. hostmaster.test.example. 1 7200 900 1209600 86400
@   IN NS  ns.test.example.
@   IN A   192.0.0.170
@   IN A   192.0.0.171
EOF

common() {
  cat <<EOF
  username: ""
  chroot: ""
  directory: "$WORK"
  use-syslog: no
  logfile: ""
  do-ip6: no
  do-daemonize: no
  access-control: 127.0.0.0/8 allow
  verbosity: ${VERBOSITY:-0}
EOF
}

cat >"$WORK/auth.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $AUTH_PORT
  pidfile: "$WORK/auth.pid"
  module-config: "iterator"
$(common)
auth-zone:
  name: "test.example."
  zonefile: "$WORK/test.example.zone"
  for-downstream: yes
  for-upstream: no
auth-zone:
  name: "216.184.93.in-addr.arpa."
  zonefile: "$WORK/rev.zone"
  for-downstream: yes
  for-upstream: no
auth-zone:
  name: "ipv4only.arpa."
  zonefile: "$WORK/ipv4only.zone"
  for-downstream: yes
  for-upstream: no
EOF

cat >"$WORK/dns64.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $UNB_PORT
  pidfile: "$WORK/dns64.pid"
  module-config: "dns64 iterator"
  dns64-prefix: 64:ff9b::/96
  do-not-query-localhost: no
  qname-minimisation: no
$(common)
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$AUTH_PORT
EOF

unbound -c "$WORK/auth.conf" >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
unbound -c "$WORK/dns64.conf" >"$WORK/dns64.log" 2>&1 &
PIDS+=($!)
"$NAT64" dns64 --listen "127.0.0.1:$OURS_PORT" --upstream "127.0.0.1:$AUTH_PORT" \
  --allow-ipv4 --metrics-interval 0 >"$WORK/ours.log" 2>&1 &
PIDS+=($!)

for port in $AUTH_PORT $UNB_PORT $OURS_PORT; do
  for _ in $(seq 50); do
    dig +time=1 +tries=1 -p "$port" @127.0.0.1 a-only.test.example A >/dev/null 2>&1 && break
    sleep 0.2
  done
done

# Status and answer section, one record per line: "status NAME TTL TYPE RDATA".
ask() { # port name type
  dig +time=2 +tries=1 -p "$1" @127.0.0.1 "$2" "$3" +noall +comments +answer 2>/dev/null |
    awk '/status:/ { match($0, /status: [A-Z]+/); s = substr($0, RSTART + 8, RLENGTH - 8) }
         /^[^;]/ && NF >= 5 { $3 = ""; rec = rec s " " $0 "\n" }
         END { if (rec == "") print s; else printf "%s", rec }' |
    sed 's/  */ /g' | sort
}

# Known differences: "name type" -> the RFC clause that decides, and which
# side it favours.
declare -A KNOWN=(
  ["a-only.test.example AAAA"]="RFC 6147 section 5.1.7: TTL = min(A TTL 3600, SOA of the negative AAAA answer 300) = 300; unbound keeps the A record's TTL (nat64 follows the clause)"
  ["multi.test.example AAAA"]="RFC 6147 section 5.1.7: TTL = min(A TTL 3600, SOA 300) = 300 for each record; unbound keeps 3600 (nat64 follows the clause)"
  ["www.test.example AAAA"]="RFC 6147 section 5.1.7: the authoritative server's AAAA answer (CNAME, then no data) carries no SOA, so the TTL is min(A TTL, 600) = 600; unbound keeps the A TTL (nat64 follows the clause)"
  ["chain.test.example AAAA"]="RFC 6147 section 5.1.7: as www, no SOA with the negative AAAA answer after the two CNAMEs: min(A TTL, 600) = 600; unbound keeps the A TTL (nat64 follows the clause)"
  ["mapped.test.example AAAA"]="RFC 6147 section 5.1.4: ::ffff:0:0/96 SHOULD be excluded by default and an answer of only excluded AAAA records MUST be treated as empty; unbound returns the ::ffff address, nat64 synthesizes from the A record (TTL min(3600, 600): no SOA, section 5.1.7) (nat64 follows the clause)"
  ["private.test.example AAAA"]="RFC 6052 section 3.1: non-global IPv4 addresses (10.1.2.3) MUST NOT be synthesized under the Well-Known Prefix 64:ff9b::/96; unbound synthesizes 64:ff9b::a01:203, nat64 returns the empty answer (nat64 follows the clause)"
  ["doc.test.example AAAA"]="RFC 6052 section 3.1: 192.0.2.1 (TEST-NET-1) is not global, so no synthesis under 64:ff9b::/96; unbound synthesizes it (nat64 follows the clause)"
  ["$(python3 -c 'import ipaddress; print(ipaddress.ip_address("64:ff9b::5db8:d822").reverse_pointer)') PTR"]="RFC 6147 section 5.3.1 allows two answers and asks for one: nat64 synthesizes a CNAME to 34.216.184.93.in-addr.arpa (the second option) followed by its PTR; unbound answers the PTR RDATA directly under the ip6.arpa name (the first option's form, with the reverse tree's RDATA). Both conform"
)

pass=0
fail=0
known=0
check() { # name type
  local a b key="$1 $2"
  a=$(ask "$UNB_PORT" "$1" "$2")
  b=$(ask "$OURS_PORT" "$1" "$2")
  if [ "$a" == "$b" ]; then
    pass=$((pass + 1))
    printf 'same      %-40s %s\n' "$key" "$(echo "$b" | head -1)"
    return
  fi
  # Same records, other TTLs?
  local na nb
  na=$(echo "$a" | awk '{ $3 = ""; print }')
  nb=$(echo "$b" | awk '{ $3 = ""; print }')
  # Both resolvers cache: asked a second apart, the same record shows TTLs a
  # second or two apart. That is not a difference.
  if [ "$na" == "$nb" ] && [ "$(paste <(echo "$a" | awk '{print $3}') <(echo "$b" | awk '{print $3}') |
      awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {print m + 0}')" -le 5 ]; then
    pass=$((pass + 1))
    printf 'same      %-40s %s (TTLs within 5 s)\n' "$key" "$(echo "$b" | head -1)"
    return
  fi
  if [ -n "${KNOWN[$key]:-}" ]; then
    known=$((known + 1))
    pass=$((pass + 1))
    printf 'DIFFERS   %-40s (known) %s\n' "$key" "${KNOWN[$key]}"
  else
    fail=$((fail + 1))
    if [ "$na" == "$nb" ]; then
      printf 'TTL DIFF  %-40s\n' "$key"
    else
      printf 'DIFFERS   %-40s (NOT KNOWN)\n' "$key"
    fi
  fi
  printf '    unbound: %s\n' "$(echo "$a" | tr '\n' '|')"
  printf '    nat64:   %s\n' "$(echo "$b" | tr '\n' '|')"
}

REV=$(python3 -c 'import ipaddress; print(ipaddress.ip_address("64:ff9b::5db8:d822").reverse_pointer)')

check a-only.test.example AAAA
check a-only.test.example A
check short.test.example AAAA
check multi.test.example AAAA
check v6-only.test.example AAAA
check dual.test.example AAAA
check www.test.example AAAA
check chain.test.example AAAA
check nowhere.test.example AAAA
check txt.test.example AAAA
check txt.test.example TXT
check mapped.test.example AAAA
check private.test.example AAAA
check doc.test.example AAAA
check ipv4only.arpa AAAA
check "$REV" PTR
# No PTR for 93.184.216.99: NXDOMAIN for the ip6.arpa name (RFC 6147 section 5.3.1), not a
# forwarded ip6.arpa query.
check "$(python3 -c 'import ipaddress; print(ipaddress.ip_address("64:ff9b::5db8:d863").reverse_pointer)')" PTR

echo
echo "dns64 differential: $known known differences (each decided by the RFC clause named above)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
