#!/usr/bin/env bash
# Load test: `nat64 dns64` against unbound's dns64 module, in the same setup.
#
#   sudo bash benches/dns64-load.sh            # cargo build --release -p nat64 first
#   sudo NAT64=path/to/nat64 SECS=5 RUNS=3 THREADS=1 DNSPERF_THREADS=1 bash benches/dns64-load.sh
#   sudo PIN=1 bash benches/dns64-load.sh       # servers on the last CPU, dnsperf on the others
#   sudo PROFILE=1 bash benches/dns64-load.sh   # perf profile of nat64 dns64 under load instead
#
# Needs root (it works in a network namespace of its own, on its loopback
# only) and: iproute2 nsd unbound dnsperf dnsutils (Debian packages, installed
# with apt-get when missing).
#
# In the namespace n64dns-load-<pid>: nsd serves lab.example. on
# 127.0.0.1:5300 (1000 A-only, 1000 dual-stack and 1000 AAAA-only names);
# `nat64 dns64` on [::1]:5301 and unbound (module-config "dns64 iterator") on
# [::1]:5302 both use the prefix 2001:db8:64::/96, forward to that nsd and
# cache, each with THREADS worker threads. dnsperf asks a mix of queries (a
# third AAAA synthesized from A, a half real AAAA, a sixth A) over IPv6 as
# fast as each server answers, with 200 queries outstanding. A first pass
# over the query file warms each cache; then RUNS runs of SECS seconds each,
# alternating between the two, and the medians are compared.
#
# Two figures per server: queries per second, and queries answered per
# second of the server's own CPU time (utime + stime from /proc). On a small
# machine dnsperf itself may be the limit, and other load on the machine
# moves queries per second a lot; queries per CPU second measures the
# servers themselves (both make one recvfrom and one sendto per query, so
# the kernel's share is the same; the user CPU time per query is where they
# differ). Prints the ratios (nat64 / unbound) last.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-5}
RUNS=${RUNS:-3}
THREADS=${THREADS:-1}
OUTSTANDING=${OUTSTANDING:-200}
DNSPERF_THREADS=${DNSPERF_THREADS:-1}
# PIN=1: the servers on the last CPU, dnsperf on the others (taskset).
SERVER_CPUS= CLIENT_CPUS=
if [ -n "${PIN:-}" ]; then
  last=$(($(nproc) - 1))
  SERVER_CPUS="taskset -c $last" CLIENT_CPUS="taskset -c 0-$((last > 0 ? last - 1 : 0))"
fi
[ "$(id -u)" = 0 ] || { echo "run as root: the test makes a network namespace" >&2; exit 2; }
missing=
for t in ip nsd unbound dnsperf dig; do command -v $t >/dev/null || missing=1; done
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  echo "installing iproute2 nsd unbound dnsperf dnsutils"
  apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 nsd unbound dnsperf dnsutils >/dev/null
fi
for t in ip nsd unbound dnsperf dig; do
  command -v $t >/dev/null || { echo "$t is missing (apt-get install iproute2 nsd unbound dnsperf dnsutils)" >&2; exit 2; }
done
if [ -z "${NAT64:-}" ]; then
  if [ -n "${PROFILE:-}" ]; then # perf needs line tables: the profiling profile keeps them
    cargo build -q --profile profiling -p nat64
    NAT64=target/profiling/nat64
  else
    cargo build -q --release -p nat64 # nothing to do when it is up to date
    NAT64=target/release/nat64
  fi
fi
NAT64=$(realpath "$NAT64")

NS=n64dns-load-$$
DIR=$(mktemp -d /tmp/nat64-dns64-load.XXXXXX)
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "files kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM
in_ns() { ip netns exec "$NS" "$@"; }
bg() { # bg LOG COMMAND...: an external command (so that $! is its pid)
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
}

ip netns add "$NS"
ip -n "$NS" link set lo up

N=1000
{
  cat <<'EOF'
$ORIGIN lab.example.
$TTL 3600
@ IN SOA ns hostmaster 1 7200 900 1209600 3600
@ IN NS  ns
ns IN A 127.0.0.1
EOF
  for i in $(seq 0 $((N - 1))); do
    h=$((i / 250)) l=$((i % 250 + 1))
    echo "a-$i IN A 198.51.$h.$l"
    echo "d-$i IN A 203.0.$h.$l"
    echo "d-$i IN AAAA 2001:db8:d::$i"
    echo "v-$i IN AAAA 2001:db8:6::$i"
  done
} >"$DIR/lab.zone"
for i in $(seq 0 $((N - 1))); do
  echo "a-$i.lab.example AAAA"
  echo "d-$i.lab.example AAAA"
  echo "v-$i.lab.example AAAA"
  echo "a-$i.lab.example AAAA"
  echo "a-$i.lab.example A"
  echo "d-$i.lab.example AAAA"
done >"$DIR/queries"

cat >"$DIR/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@5300
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
remote-control:
  control-enable: no
zone:
  name: lab.example
  zonefile: lab.zone
EOF
cat >"$DIR/unbound.conf" <<EOF
server:
  interface: ::1@5302
  do-ip4: yes
  do-ip6: yes
  num-threads: $THREADS
  module-config: "dns64 iterator"
  dns64-prefix: 2001:db8:64::/96
  do-not-query-localhost: no
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
  forward-addr: 127.0.0.1@5300
EOF

bg "$DIR/nsd.out" ip netns exec "$NS" nsd -d -c "$DIR/nsd.conf"
bg "$DIR/ours.log" ip netns exec "$NS" $SERVER_CPUS "$NAT64" dns64 --listen "[::1]:5301" --upstream 127.0.0.1:5300 \
  --prefix 2001:db8:64::/96 --threads "$THREADS" --cache-size 100000 --metrics-interval 1
OURS_PID=${PIDS[-1]} # `ip netns exec` execs the command: this is nat64's pid
bg "$DIR/unbound.log" ip netns exec "$NS" $SERVER_CPUS unbound -c "$DIR/unbound.conf"
UNB_PID=${PIDS[-1]}
for port in 5301 5302; do
  ok=
  for _ in $(seq 50); do
    if in_ns dig +time=1 +tries=1 -p $port @::1 a-0.lab.example AAAA +short 2>/dev/null | grep -q 2001:db8:64::; then
      ok=1
      break
    fi
    sleep 0.2
  done
  [ -n "$ok" ] || { echo "the resolver on port $port does not answer" >&2; cat "$DIR"/*.log "$DIR/nsd.out" >&2; exit 1; }
done

cpu_ticks() { # "utime stime" of a process, in clock ticks
  awk '{print $14, $15}' "/proc/$1/stat"
}
qps() { # qps PORT PID [dnsperf options]: "QPS LOST QUERIES-PER-CPU-SECOND USER-NS-PER-QUERY" of one run
  local port=$1 pid=$2; shift 2
  local u0 s0 u1 s1
  read -r u0 s0 < <(cpu_ticks "$pid")
  in_ns $CLIENT_CPUS dnsperf -s ::1 -p "$port" -d "$DIR/queries" -q "$OUTSTANDING" -c 4 -T "$DNSPERF_THREADS" -t 2 "$@" \
    >"$DIR/dnsperf.out" 2>&1 || { cat "$DIR/dnsperf.out" >&2; return 1; }
  read -r u1 s1 < <(cpu_ticks "$pid")
  awk -v user=$((u1 - u0)) -v sys=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" '
    /Queries completed:/ {done = $3} /Queries lost:/ {lost = $3} /Queries per second:/ {qps = $4}
    END {
      cpu = (user + sys) / hz
      printf "%d %d %d %d\n", qps, lost, (cpu > 0 ? done / cpu : 0), (done > 0 ? user / hz / done * 1e9 : 0)
    }' "$DIR/dnsperf.out"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "warming both caches ($(wc -l <"$DIR/queries") queries each)"
qps 5301 "$OURS_PID" -n 1 >/dev/null
qps 5302 "$UNB_PID" -n 1 >/dev/null
# Both caches hold every answer: a second pass must be all cache hits.
if [ -n "${PROFILE:-}" ]; then # PROFILE=1: perf profile of nat64 dns64 under load, then exit
  perf record -q -F 999 -g -p "$OURS_PID" -o "$DIR/perf.data" -- sleep "$SECS" 2>/dev/null &
  qps 5301 "$OURS_PID" -l "$SECS" | awk '{print "nat64 dns64 while profiled: " $1 " qps"}'
  wait $!
  perf report -i "$DIR/perf.data" --stdio --no-children --percent-limit 0.5 2>/dev/null | grep -v '^$' >"$DIR/perf.txt"
  perf report -i "$DIR/perf.data" --stdio --no-children -g none --percent-limit 0.3 2>/dev/null | grep '%' >"$DIR/perf-flat.txt"
  KEEP=1
  echo "profile: $DIR/perf-flat.txt, $DIR/perf.txt"
  exit 0
fi
OURS=() UNB=() OURS_CPU=() UNB_CPU=() OURS_USER=() UNB_USER=()
for i in $(seq "$RUNS"); do
  read -r o ol oc ou < <(qps 5301 "$OURS_PID" -l "$SECS") || exit 1
  read -r u ul uc uu < <(qps 5302 "$UNB_PID" -l "$SECS") || exit 1
  printf 'run %d: nat64 dns64 %7d qps, %7d/CPU s, user %4d ns/q, %d lost | unbound %7d qps, %7d/CPU s, user %4d ns/q, %d lost\n' \
    "$i" "$o" "$oc" "$ou" "$ol" "$u" "$uc" "$uu" "$ul"
  OURS+=("$o") UNB+=("$u") OURS_CPU+=("$oc") UNB_CPU+=("$uc") OURS_USER+=("$ou") UNB_USER+=("$uu")
done
mo=$(printf '%s\n' "${OURS[@]}" | median)
mu=$(printf '%s\n' "${UNB[@]}" | median)
moc=$(printf '%s\n' "${OURS_CPU[@]}" | median)
muc=$(printf '%s\n' "${UNB_CPU[@]}" | median)
mou=$(printf '%s\n' "${OURS_USER[@]}" | median)
muu=$(printf '%s\n' "${UNB_USER[@]}" | median)
echo
echo "threads $THREADS, $OUTSTANDING outstanding, cache hits (medians of $RUNS runs of $SECS s)"
printf 'nat64 dns64: %7d qps, %7d queries per CPU second, %4d ns of user CPU per query\n' "$mo" "$moc" "$mou"
printf 'unbound:     %7d qps, %7d queries per CPU second, %4d ns of user CPU per query\n' "$mu" "$muc" "$muu"
sleep 1.1
grep '"dns64_metrics"' "$DIR/ours.log" | tail -1 | python3 -c '
import json, sys
m = json.load(sys.stdin); c = m["dns64_metrics"]
print("nat64 dns64 over the whole run: %d queries, %d cache hits, %d misses, %d dropped; DNS64 latency p50 %s ms, p99 %s ms"
      % (c["queries_udp"], c["cache_hits"], c["cache_misses"], c["dropped"], m["dns64_latency"]["p50_ms"], m["dns64_latency"]["p99_ms"]))'
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo "user CPU per query, unbound/nat64: $(ratio "$muu" "$mou") (above 1: nat64 spends less)"
echo "ratio nat64/unbound per CPU second: $(ratio "$moc" "$muc") (the machine's other load matters less here)"
echo "ratio nat64/unbound: $(ratio "$mo" "$mu")"
