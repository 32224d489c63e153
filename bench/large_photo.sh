#!/usr/bin/env bash
# What the defaults hide on a large photo (README, Accuracy): a dashcam still of ../shared/eval enlarged to
# 8000x4500, with one frontal face of faces-street pasted at eight widths (16-64 px), anonymized with the
# options given (one run per --config), and each pasted face box counted hidden where a face region covers
# 90% of it. Prints, per config, the widths hidden and missed and the run's peak RSS.
#   bench/large_photo.sh [--config "OPTIONS"]...   (default: one run with the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ROADVEIL_BIN:-build/roadveil}
SHARED=${ROADVEIL_SHARED:-../shared}  # as the other benches name it
export ROADVEIL_MODELS=${ROADVEIL_MODELS:-$SHARED/models}
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) configs+=("$2"); shift 2 ;;
    *) echo "large_photo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#configs[@]} -gt 0 ] || configs=("")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
still="$SHARED/eval/dashcam-berlin-dev/images/$(ls "$SHARED/eval/dashcam-berlin-dev/images" | head -1)"
# maksssksksss609.jpg: one frontal face, annotated at x 91-239, y 103-265; the crop keeps some head around it.
ffmpeg -v error -y -i "$SHARED/eval/faces-street/images/maksssksksss609.jpg" -vf crop=208:242:61:63 "$work/face.png"
filter="[0]scale=8000:4500[b0]"; prev=b0; i=0; : > "$work/placed.txt"
for w in 16 20 24 28 32 40 48 64; do
  s=$(( (208 * w + 74) / 148 )); x=$(( 400 + i * 900 )); y=$(( 2600 + (i % 2) * 900 ))
  filter="$filter;[1]scale=$s:-2[f$i];[$prev][f$i]overlay=$x:$y[b$((i + 1))]"
  prev=b$((i + 1)); echo "$w $x $y" >> "$work/placed.txt"; i=$((i + 1))
done
ffmpeg -v error -y -i "$still" -i "$work/face.png" -filter_complex "$filter" -map "[$prev]" -q:v 2 "$work/big.jpg"
for c in "${configs[@]}"; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "%M" -o "$work/rss" "$BIN" anonymize -q --no-audit $c "$work/big.jpg" -o "$work/out.jpg" --detections "$work/d.json"
  python3 - "$work/placed.txt" "$work/d.json" "$(cat "$work/rss")" "${c:-defaults}" <<'PY'
import json, sys
placed = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
faces = [r["box"] for e in json.load(open(sys.argv[2]))["entries"] for f in e["frames"] for r in f["regions"] if r["class"] == "face"]
hidden, missed = [], []
for w, x, y in placed:
    k = w / 148.0
    fb = (x + 30 * k, y + 40 * k, x + 30 * k + w, y + 40 * k + 162 * k)
    area = (fb[2] - fb[0]) * (fb[3] - fb[1])
    best = max((max(0, min(b[2], fb[2]) - max(b[0], fb[0])) * max(0, min(b[3], fb[3]) - max(b[1], fb[1])) / area for b in faces), default=0)
    (hidden if best >= 0.9 else missed).append(w)
print(f"{sys.argv[4]}: faces hidden at widths {hidden}, missed at {missed}; peak RSS {int(sys.argv[3]) // 1024} MB")
PY
done
