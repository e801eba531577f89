#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (a build directory of their own) and runs each for
# a while, two at a time, on a copy of the seed corpus in fuzz/corpus/<target>/. Prints each
# target's executions and rate; exits non-zero if a target crashed (the crashing input is kept
# under BUILD_DIR/artifacts/<target>/) or did not run.
#
#   fuzz/run.sh [--seconds N] [--min-runs R] [--build-dir DIR] [--parallel P] [TARGET...]
#
# --seconds defaults to $FUZZ_SECONDS or 600; --min-runs (a target runs on past its seconds
# until it has made R executions; for slow or busy machines) to $FUZZ_MIN_RUNS or 0;
# --build-dir to build-fuzz in the source tree; --parallel (targets at once) to 2. TARGETs
# default to every fuzz_* target.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
BUILD_DIR=$ROOT/build-fuzz
MIN_RUNS=${FUZZ_MIN_RUNS:-0}
PARALLEL=2
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_TARGET=$2; shift 2 ;;
    --min-runs) MIN_RUNS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=($(ls "$ROOT/fuzz" | sed -n 's/^\(fuzz_.*\)\.cc$/\1/p'))

# clang 19 is the first Debian 12 clang whose C++23 mode compiles libstdc++ 12's std::expected.
CXX=$(command -v clang++-19 || true)
if [ -z "$CXX" ]; then
  echo "fuzz/run.sh: clang-19 not found; run scripts/deps (clang-19, libclang-rt-19-dev)" >&2
  exit 1
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$CXX" -DWHARF_FUZZ=ON >/dev/null
fi
cmake --build "$BUILD_DIR" --target "${TARGETS[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1 || {
  tail -50 "$BUILD_DIR/fuzz-build.log" >&2
  echo "fuzz/run.sh: build failed (log: $BUILD_DIR/fuzz-build.log)" >&2
  exit 1
}

# Runs one target for SECONDS_PER_TARGET, then on until it has made MIN_RUNS executions in all.
# Writes BUILD_DIR/logs/<target>.{log,rc,execs,wall,cpu}: libFuzzer's log, exit status,
# executions, wall and CPU seconds. The CPU time tells, on a busy machine, what the target does
# on a core of its own.
run_target() {
  local t=$1
  local work=$BUILD_DIR/corpus/$t artifacts=$BUILD_DIR/artifacts/$t/ logs=$BUILD_DIR/logs
  mkdir -p "$work" "$artifacts" "$logs"
  : >"$logs/$t.log"
  local execs=0 rc=0 start=$SECONDS budget=(-max_total_time="$SECONDS_PER_TARGET") n
  local TIMEFORMAT='%U %S'
  while :; do
    # New inputs go to the first directory (the work copy), never into the checked-in seeds.
    { time "$BUILD_DIR/fuzz/$t" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$ROOT/fuzz/corpus/$t" \
        >>"$logs/$t.log" 2>&1; } 2>>"$logs/$t.cpu.parts" || rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
    [ "$rc" -ne 0 ] || [ -z "$n" ] && { rc=${rc/#0/1}; break; }
    execs=$((execs + n))
    [ "$execs" -ge "$MIN_RUNS" ] && break
    budget=(-runs=$((MIN_RUNS - execs)))
  done
  echo "$rc" >"$logs/$t.rc"
  echo "$execs" >"$logs/$t.execs"
  echo $((SECONDS - start)) >"$logs/$t.wall"
  awk '{ cpu += $1 + $2 } END { printf "%.1f", cpu }' "$logs/$t.cpu.parts" >"$logs/$t.cpu"
  rm -f "$logs/$t.cpu.parts"
}

# No allocation stacks in ASan reports: recording one per malloc costs the JSON parsers ~20% of
# their speed. A crash is still reported with its own stack; to see where a freed block was
# allocated, run the target on the saved input with ASAN_OPTIONS=malloc_context_size=30.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}

echo "fuzz/run.sh: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, $PARALLEL at a time"
declare -A PIDS
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
  run_target "$t" &
  PIDS[$t]=$!
done

failed=0
printf '%-22s %12s %8s %8s %8s %10s  %s\n' target executions seconds exec/s cpu_s exec/cpu_s result
for t in "${TARGETS[@]}"; do
  wait "${PIDS[$t]}" || true
  logs=$BUILD_DIR/logs
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo "?")
  execs=$(cat "$logs/$t.execs" 2>/dev/null || echo 0)
  wall=$(cat "$logs/$t.wall" 2>/dev/null || echo 0)
  cpu=$(cat "$logs/$t.cpu" 2>/dev/null || echo 0)
  result=ok
  if [ "$rc" != 0 ]; then
    result="FAILED (exit $rc; log $logs/$t.log)"
    failed=1
  fi
  rate=$(awk -v e="$execs" -v s="$wall" 'BEGIN { if (s > 0) printf "%d", e / s; else print "-" }')
  cpu_rate=$(awk -v e="$execs" -v c="$cpu" 'BEGIN { if (c > 0) printf "%d", e / c; else print "-" }')
  printf '%-22s %12s %8s %8s %8s %10s  %s\n' "$t" "$execs" "$wall" "$rate" "$cpu" "$cpu_rate" \
    "$result"
  if [ "$result" != ok ]; then
    grep -E -A20 'ERROR|Deadly|runtime error' "$logs/$t.log" | head -40 >&2 || true
  fi
done
exit $failed
