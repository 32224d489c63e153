#!/usr/bin/env bash
# Runs every test (unit, end-to-end on ../shared/eval, accuracy floors) against the build in build/.
# Then, unless --fast is given, builds the unit tests and the libFuzzer harnesses with clang, AddressSanitizer
# and UBSan in one tree (build-sanitize/: the libraries compiled once for both), runs the unit tests there, and
# runs each harness for FUZZ_SECONDS (default 20) from the seed corpus (scripts/fuzz.sh). A long fuzzing run is
# scripts/fuzz.sh on its own, which builds optimised harnesses in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROADVEIL_MODELS=${ROADVEIL_MODELS:-$(cd .. && pwd)/shared/models}
BUILD_DIR=${BUILD_DIR:-build}
[ -x "$BUILD_DIR/roadveil" ] || { echo "test.sh: $BUILD_DIR/roadveil is missing: run scripts/setup.sh first" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
if [ "${1:-}" != "--fast" ]; then
  # Sanitizers: the stages' unit tests (the end-to-end tests spawn the CLI and would only re-test FFmpeg). One
  # Debug tree for them and the fuzzers: two trees (GCC's for the tests, clang's optimised one for the
  # fuzzers) compiled every library twice, ~11.5 of CI's 41 minutes; this one took ~6.3 on the same machine,
  # and as a unity build (see setup.sh) 3.2 minutes. At -O0: -O1 (AddressSanitizer's advice for speed) built in
  # 317 s instead of 189 and ran the tests below in 194 s instead of 258, two minutes more in all.
  CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DROADVEIL_FUZZ=ON -DROADVEIL_BUILD_TESTS=ON \
    -DROADVEIL_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD="${UNITY_BUILD:-ON}" >/dev/null
  cmake --build build-sanitize -j"$(nproc)" --target unit_tests fuzzers
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$(pwd)/scripts/lsan.supp
  (cd build-sanitize && ctest --output-on-failure -j"$(nproc)" -L 'core|media|redact|track|detect|dataset|eval|review|storage' --timeout 900)
  # A short, bounded fuzz round; the corpus it grows stays in build-sanitize/ for the next run.
  # Unoptimised (-O0), an input takes 3-5 times as long as in fuzz.sh's own optimised build: 40 s, not 10, is a hang.
  FUZZ_BUILD_DIR=build-sanitize FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-40} scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
