#!/usr/bin/env bash
# The gateway side by side with plain kernel forwarding and Debian's TAYGA, in ONE run of the shared
# benchmark (../shared/bench/nat64-bench.sh: three network namespaces, one TCP flow and 64-byte UDP with
# iperf3, a 64-byte UDP flood with udpblast; it deletes exactly the namespaces it made).
#
#   sudo benches/gateway-bench.sh                          # kernel tayga tun1 tun2 afp1 afp2
#   sudo DURATION=5 REPEAT=3 benches/gateway-bench.sh kernel tayga tun1 tun1-nooffload tun2 tun2-shared
#
# Variants of ours (each a `cmd:ours-VARIANT` of the shared script, its own configuration):
#   tun1            TUN, 1 worker, offloads on (the default configuration)
#   tun1-nooffload  TUN, 1 worker, offloads off (one packet per read and write)
#   tun2            TUN, 2 workers, one queue each (IFF_MULTI_QUEUE)
#   tun2-shared     TUN, 2 workers sharing one queue
#   tun2-nooffload  TUN, 2 workers, one queue each, offloads off
#   afp1 / afp2     AF_PACKET on the translator's two veths, 1 / 2 workers (PACKET_FANOUT)
# kernel, tayga (and the shared script's other names) are passed through.
#
# env: NAT64=path/to/nat64 (default target/release/nat64, built with `cargo build --release -p nat64`),
#      BENCH=path/to/nat64-bench.sh (default ../shared/bench/nat64-bench.sh), and the shared script's
#      DURATION, REPEAT, PIN, KEEP_LOGS, ...
#
# Our variants are counted at the translator's IPv4-side veth (xl-eth4 tx_packets: packets delivered
# towards the server, one per GSO super-packet) for TUN and AF_PACKET alike, so "cpu us/pkt" under the
# flood (all IPv6 -> IPv4) is per delivered packet; TAYGA's is per packet written to its TUN device.
set -euo pipefail

if [[ ${1:-} == --launch ]]; then
  # Called by the shared script (OURS_CMD) inside the translator namespace: run the next variant.
  dir=$2
  v=$(head -n1 "$dir/queue"); tail -n +2 "$dir/queue" > "$dir/queue.rest"; mv "$dir/queue.rest" "$dir/queue"
  exec "$(cat "$dir/nat64")" gateway --config "$dir/$v.toml"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
NAT64=$(realpath "${NAT64:-$ROOT/target/release/nat64}")
BENCH=${BENCH:-$ROOT/../shared/bench/nat64-bench.sh}
[[ -x $NAT64 ]] || { echo "no nat64 binary at $NAT64 (cargo build --release -p nat64)" >&2; exit 2; }
[[ -f $BENCH ]] || { echo "no shared benchmark at $BENCH (set BENCH=)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run as root (network namespaces)" >&2; exit 2; }
command -v tayga >/dev/null && command -v iperf3 >/dev/null \
  || { echo "needs tayga and iperf3: apt-get install -y tayga iperf3" >&2; exit 2; }

DIR=$(mktemp -d /tmp/nat64-gateway-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
echo "$NAT64" > "$DIR/nat64"
: > "$DIR/queue"

config() { # config VARIANT: the gateway configuration of a variant
  local v=$1 workers=1 mq=true off=true adapter=
  case $v in
    tun1) ;;
    tun1-nooffload) off=false ;;
    tun2) workers=2 ;;
    tun2-shared) workers=2 mq=false ;;
    tun2-nooffload) workers=2 off=false ;;
    afp1) adapter=af_packet ;;
    afp2) adapter=af_packet workers=2 ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  cat <<TOML
[gateway]
mode = "nat64"
workers = $workers
clients = ["2001:db8:6::/64"]
control_socket = "$DIR/$v.sock"
metrics = ""
log_level = "warn"
TOML
  if [[ -z $adapter ]]; then
    printf 'device = "nat64"\nmulti_queue = %s\noffload = %s\n' "$mq" "$off"
  else
    printf 'adapter = "af_packet"\n[af_packet]\nipv6_interface = "xl-eth6"\nipv4_interface = "xl-eth4"\n'
  fi
  cat <<TOML
[translator]
pool6 = "2001:db8:64::/96"
[nat64]
pool4 = ["192.168.255.0/24"]
TOML
}

args=()
for t in "${@:-kernel tayga tun1 tun2 afp1 afp2}"; do
  for t in $t; do
    case $t in
      tun*|afp*) config "$t" > "$DIR/$t.toml"; echo "$t" >> "$DIR/queue"; args+=("cmd:ours-$t") ;;
      *) args+=("$t") ;;
    esac
  done
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)" >&2
OURS_CMD="exec $(realpath "${BASH_SOURCE[0]}") --launch $DIR" OURS_ROUTES=0 OURS_DEV=xl-eth4 OURS_COUNTER=tx_packets \
  bash "$BENCH" "${args[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
