#!/usr/bin/env bash
# Runs every test (unit, end-to-end on ../shared/eval, accuracy floors) against the build in build/.
# Then, unless --fast is given, builds the unit tests with AddressSanitizer + UBSan in build-asan/ and runs them,
# and runs each libFuzzer harness for FUZZ_SECONDS (default 20) from the seed corpus (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROADVEIL_MODELS=${ROADVEIL_MODELS:-$(cd .. && pwd)/shared/models}
BUILD_DIR=${BUILD_DIR:-build}
[ -x "$BUILD_DIR/roadveil" ] || { echo "test.sh: $BUILD_DIR/roadveil is missing: run scripts/setup.sh first" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
if [ "${1:-}" != "--fast" ]; then
  # Sanitizers: the stages' unit tests (the end-to-end tests spawn the CLI and would only re-test FFmpeg).
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROADVEIL_SANITIZE=ON -DROADVEIL_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$(nproc)" --target unit_tests
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$(pwd)/scripts/lsan.supp
  (cd build-asan && ctest --output-on-failure -j"$(nproc)" -L 'core|media|redact|track|detect|dataset|eval|review|storage' --timeout 900)
  # A short, bounded fuzz round; the corpus it grows stays in build-fuzz/ for the next run.
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
