#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a built roadveil:
#   1. Debian packages (compiler, CMake, FFmpeg libraries, JSON, CLI, logging, HTTP server, test libraries,
#      ffmpeg and chromium for tests)
#   2. ONNX Runtime's Linux x64 build from the npm package com.github.asus4.onnxruntime (checksum verified),
#      extracted into third_party/onnxruntime (ignored by git). Skipped when ONNXRUNTIME_ROOT names another install.
#   3. playwright-core from npm for the browser test (tests/browser) and s3rver for the object-storage tests
#      (tests/storage/s3rver), each pinned by its package-lock.json
#   4. CMake configure + build into build/, as a unity build (CMake joins each target's sources into a few
#      files, so the headers of FFmpeg, fmt, spdlog and nlohmann-json are compiled once per group, not once
#      per file): a fresh build took 255 s instead of 548 on 2 cores (1,059 -> 460 CPU-s), the same binary
#      output. One changed source then rebuilds its group: UNITY_BUILD=OFF for a tree one edits often.
# Options: --no-apt (skip step 1), --no-build (skip step 4). Environment: BUILD_DIR, BUILD_TYPE, CMAKE_ARGS,
# UNITY_BUILD (ON).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DO_APT=1; DO_BUILD=1
for a in "$@"; do
  case "$a" in
    --no-apt) DO_APT=0 ;;
    --no-build) DO_BUILD=0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

APT_PACKAGES=(build-essential cmake pkg-config ca-certificates
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  zlib1g-dev  # compressed PNG text that verify reads
  libcurl4-openssl-dev  # S3-compatible object storage
  libhiredis-dev redis-server  # the Redis Streams of roadveil worker (the tests start their own redis-server)
  slurmctld slurmd slurm-client munge  # the job-array test starts a one-node Slurm of its own
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libssl-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev time
  clang libclang-rt-14-dev  # the libFuzzer harnesses (scripts/fuzz.sh)
  python3-botocore  # the AWS signer that tests/storage checks roadveil's SigV4 against
  python3-pil  # makes the CMYK JPEG of tests/pipeline/image_test.cpp (FFmpeg cannot write one)
  python3-onnx  # builds the tiny models of the --model manifest tests (tests/detect/make_tiny_yolo.py)
  chromium)  # the browser test of roadveil review (driven by playwright-core from npm)

if [ "$DO_APT" = 1 ]; then
  missing=()
  # npm fetches ONNX Runtime and the browser test's driver; a Node.js installed outside Debian's packages
  # brings its own.
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# ONNX Runtime 1.29 (ORT_API_VERSION 29), Linux x64, from the npm registry.
ORT_NPM_PACKAGE=com.github.asus4.onnxruntime
ORT_NPM_VERSION=0.4.9
ORT_NPM_SHA256=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
ORT_DIR="$ROOT/third_party/onnxruntime"

if [ -n "${ONNXRUNTIME_ROOT:-}" ]; then
  echo "setup: using ONNX Runtime from ONNXRUNTIME_ROOT=$ONNXRUNTIME_ROOT"
elif [ -f "$ORT_DIR/.installed-$ORT_NPM_VERSION" ]; then
  :
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "setup: fetching $ORT_NPM_PACKAGE@$ORT_NPM_VERSION (ONNX Runtime 1.29) with npm pack"
  (cd "$tmp" && npm pack --silent "$ORT_NPM_PACKAGE@$ORT_NPM_VERSION" >/dev/null 2>&1)
  tgz="$tmp/$ORT_NPM_PACKAGE-$ORT_NPM_VERSION.tgz"
  [ -f "$tgz" ] || { echo "setup: npm pack did not produce $tgz" >&2; exit 1; }
  echo "$ORT_NPM_SHA256  $tgz" | sha256sum -c --quiet - || { echo "setup: checksum mismatch for $tgz" >&2; exit 1; }
  hdr='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers'
  tar xzf "$tgz" -C "$tmp" --wildcards 'package/Plugins/Linux/x64/*.so' "$hdr/*.h" package/LICENSE package/ThirdPartyNotices.txt
  rm -rf "$ORT_DIR"; mkdir -p "$ORT_DIR/include" "$ORT_DIR/lib"
  cp "$tmp/$hdr"/*.h "$ORT_DIR/include/"
  cp "$tmp"/package/Plugins/Linux/x64/*.so "$ORT_DIR/lib/"
  cp "$tmp"/package/LICENSE "$tmp"/package/ThirdPartyNotices.txt "$ORT_DIR/"
  # The library's soname is libonnxruntime.so.1: the dynamic loader looks for that name at run time.
  ln -sf libonnxruntime.so "$ORT_DIR/lib/libonnxruntime.so.1"
  touch "$ORT_DIR/.installed-$ORT_NPM_VERSION"
  echo "setup: ONNX Runtime installed in $ORT_DIR"
fi

# playwright-core for the browser test, pinned by tests/browser/package-lock.json (drives Debian's chromium;
# it downloads no browser of its own).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "setup: installing playwright-core for the browser test (npm ci)"
  (cd tests/browser && npm ci --silent --no-audit --no-fund)
fi

# s3rver for the object-storage tests (tests/storage/s3rver, pinned by its package-lock.json): an
# S3-compatible server the tests start on 127.0.0.1.
if [ ! -d tests/storage/s3rver/node_modules/s3rver ]; then
  echo "setup: installing s3rver for the object-storage tests (npm ci)"
  (cd tests/storage/s3rver && npm ci --silent --no-audit --no-fund)
fi

if [ "$DO_BUILD" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DCMAKE_UNITY_BUILD="${UNITY_BUILD:-ON}" \
    ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
  echo "setup: built $BUILD_DIR/roadveil"
fi
