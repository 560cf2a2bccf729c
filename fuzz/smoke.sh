#!/usr/bin/env bash
# Fuzz smoke run: replays every target's committed corpus and regression
# inputs, then fuzzes each target for a bounded time (default 30 s), one
# target at a time, one job. Exits non-zero on the first crash; libFuzzer
# leaves the input in fuzz/artifacts/TARGET/.
#
#   bash fuzz/smoke.sh                      # every target, 30 s each
#   FUZZ_SECS=600 bash fuzz/smoke.sh stateful
#   FUZZ_SECS=0 bash fuzz/smoke.sh          # replays only
#   FUZZ_RUNS=10000000 bash fuzz/smoke.sh xlat64   # a long run: 10 million executions
#   NAT64_FUZZ_KNOWN_BUGS=1 ...             # let the reported, unfixed bugs pass
#                                           # (see KnownBug in src/lib.rs)
#
# Stable Rust is enough: targets are built with --sanitizer none. For
# AddressSanitizer: RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET (the core has
# no unsafe code, so it adds little but time).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
SECS="${FUZZ_SECS:-30}"
RUNS="${FUZZ_RUNS:-}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build --sanitizer none

# -close_fd_mask=1: a target that prints (none does today) stays quiet.
common=(-close_fd_mask=1 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
mkdir -p work
run() {
  # run NAME ARGS...: runs cargo fuzz, prints the summary lines, and on a
  # failure the whole log.
  local log="work/$1.log"
  shift
  if cargo fuzz run --sanitizer none "$@" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|DONE +cov' "$log" || true
  else
    tail -n 60 "$log"
    echo "fuzz: FAILED: cargo fuzz run $*" >&2
    exit 1
  fi
}
for t in "${targets[@]}"; do
  printf '\n== fuzz %s: replay (%s)\n' "$t" "$(date +%T)"
  dirs=("corpus/$t")
  if [ -d "regressions/$t" ]; then
    dirs+=("regressions/$t")
  fi
  run "$t-replay" "$t" "${dirs[@]}" -- -runs=0 "${common[@]}"
  mkdir -p "work/$t"
  # New inputs go to work/ (not committed); corpus/ is only read.
  if [ -n "$RUNS" ]; then
    printf '== fuzz %s: %s executions (%s)\n' "$t" "$RUNS" "$(date +%T)"
    run "$t" "$t" "work/$t" "corpus/$t" -- -runs="$RUNS" "${common[@]}"
  elif [ "$SECS" -gt 0 ]; then
    printf '== fuzz %s: %s s (%s)\n' "$t" "$SECS" "$(date +%T)"
    run "$t" "$t" "work/$t" "corpus/$t" -- -max_total_time="$SECS" "${common[@]}"
  fi
done
printf '\n== fuzz smoke: %d targets passed\n' "${#targets[@]}"
