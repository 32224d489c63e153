#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz, each for SECONDS (default 60), starting from the seed corpus in
# the repository. Builds them first with clang, AddressSanitizer and UBSan in build-fuzz/ (FUZZ_BUILD_DIR).
# Prints one line per harness: executions, coverage (edges), corpus size. Exits non-zero when a harness
# finds a crash, a leak, a sanitizer report or a timeout; the input is left in the build folder's crashes/
# (build-fuzz/, or build-sanitize/ in scripts/test.sh's round).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]      (harnesses: xml regions_file video_truth annotations media photo_metadata)
# Harnesses run side by side, one per core (FUZZ_JOBS). CI runs a short round (scripts/test.sh: 20 s each, in
# its unoptimised sanitizer tree, where an input may take FUZZ_TIMEOUT=40 s instead of 10 before it counts as a
# hang); a longer one is e.g. `scripts/fuzz.sh 3600`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
shift || true
harnesses=("$@")
[ "${#harnesses[@]}" -gt 0 ] || harnesses=(xml regions_file video_truth annotations media photo_metadata)
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DROADVEIL_FUZZ=ON -DROADVEIL_BUILD_TESTS=OFF \
    -DROADVEIL_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target fuzzers -j"$(nproc)" >"$build/fuzz-build.log" 2>&1 || {
  tail -30 "$build/fuzz-build.log"
  exit 1
}

mkdir -p "$build/crashes"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The harnesses run side by side, one per core (FUZZ_JOBS), each single-threaded as libFuzzer is: CI's round
# of six took 2 minutes with one core idle throughout.
fuzz_one() {
  local h=$1 corpus="$build/corpus/$1" log="$build/fuzz_$1.log"
  mkdir -p "$corpus"
  local rc=0
  # New inputs go to the build's corpus; the repository's seeds are read only.
  "$build/tests/fuzz/fuzz_$h" "$corpus" "$root/tests/fuzz/corpus/$h" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/crashes/$h-" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$build/fuzz_$h.rc"
}
parallel="${FUZZ_JOBS:-$(nproc)}"
for h in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  rm -f "$build/fuzz_$h.rc"
  fuzz_one "$h" &
done
wait
status=0
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  log="$build/fuzz_$h.log"
  if [ "$(cat "$build/fuzz_$h.rc" 2>/dev/null)" = 0 ]; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  printf 'fuzz %-13s %s: %s executions in %s s, %s edges covered, corpus %s inputs\n' "$h" "$result" "$runs" \
    "$seconds" "$cov" "$(ls "$corpus" | wc -l)"
  [ "$result" = ok ] || grep -E -A30 'ERROR|Deadly|==[0-9]+==|runtime error' "$log" | head -60
done
exit $status
