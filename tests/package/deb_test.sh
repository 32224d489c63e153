#!/usr/bin/env bash
# The Debian package installs and runs on its own: cpack makes the .deb from the build, dpkg -x unpacks it in
# an empty folder (no root needed), and the unpacked program must report its version, load its own ONNX
# Runtime (not the build tree's), carry a man page with every subcommand, and anonymize a clip.
#   deb_test.sh BUILD_DIR MODELS_DIR
set -euo pipefail
build="$1"
models="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/pkg" >/dev/null) || fail "cpack failed"
deb=$(ls "$work"/pkg/roadveil_*_amd64.deb) || fail "no .deb made"
# Read whole before matching: `grep -q` stops at the first match, and under pipefail the writer's SIGPIPE
# failed the pipeline now and then.
control=$(dpkg-deb -I "$deb")
grep -q '^ Depends: .*libavcodec' <<<"$control" || fail "the package declares no library dependencies"
dpkg -x "$deb" "$work/root"
bin="$work/root/usr/bin/roadveil"

version=$("$bin" --version 2>&1) || fail "--version failed: $version"
grep -q '^roadveil [0-9]' <<<"$version" || fail "--version: $version"
ort=$(realpath "$(ldd "$bin" | awk '/libonnxruntime/ {print $3}')")
[ "$ort" = "$work/root/usr/lib/roadveil/libonnxruntime.so.1" ] || fail "ONNX Runtime resolved to '$ort', not the package's"
sections=$(grep -c '^\.SS roadveil ' "$work/root/usr/share/man/man1/roadveil.1")
[ "$sections" -ge 10 ] || fail "man page has $sections subcommand sections"


ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=320x240:rate=10:duration=1 -c:v libx264 "$work/in.mp4"
"$bin" anonymize "$work/in.mp4" -o "$work/out.mp4" --models "$models" -q || fail "anonymize failed"
[ -s "$work/out.mp4" ] || fail "no output"
echo "deb_test: $(basename "$deb") ($(du -h "$deb" | cut -f1)) installs and runs"
