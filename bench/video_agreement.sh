#!/usr/bin/env bash
# What the video schedule gives up against full detection on every frame, on the real clips in
# ../shared/eval/videos (no ground truth exists for them): the reference run detects every frame with the
# full plate pass (not enlarged), with no tracking and no padding (the networks' own boxes); each --config run
# is compared with `roadveil compare`.
#
#   bench/video_agreement.sh [--config "ARGS"]...     (default: the default settings and "--keyframes 2")
#
# Prints one Markdown row per config: faces and plates of the reference hidden, frames where something the
# reference saw is not hidden, and the longest run of such frames. The reference takes minutes (2 cores).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
roadveil="${ROADVEIL_BIN:-$here/build/roadveil}"
shared="${ROADVEIL_SHARED:-$here/../shared}"
export ROADVEIL_MODELS="${ROADVEIL_MODELS:-$shared/models}"
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) configs+=("$2"); shift 2 ;;
    *) echo "video_agreement.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#configs[@]} -gt 0 ] || configs=("" "--keyframes 2")
[ -x "$roadveil" ] || { echo "video_agreement.sh: $roadveil not built (scripts/setup.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
videos=("$shared"/eval/videos/*.mp4)

"$roadveil" anonymize -q --keyframes 0 --full-plate-pass --no-tracking --padding 0 "${videos[@]}" -o "$tmp/ref" --detections "$tmp/ref.json"
echo "| command | faces hidden | plates hidden | frames with a miss / frames | longest run of such frames |"
echo "| --- | --- | --- | --- | --- |"
for config in "${configs[@]}"; do
  # shellcheck disable=SC2086
  "$roadveil" anonymize -q $config "${videos[@]}" -o "$tmp/out" --detections "$tmp/cand.json"
  "$roadveil" compare --json "$tmp/ref.json" "$tmp/cand.json" > "$tmp/cmp.json"
  python3 - "$tmp/cmp.json" "roadveil anonymize ${config:-(defaults)}" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["input"] != "(all)"]
t = {k: sum(r[k] for r in rows) for k in ("frames", "faces", "faces_hidden", "plates", "plates_hidden", "frames_with_miss")}
run = max(r["longest_miss_run"] for r in rows)
share = lambda h, n: f"{h}/{n} = {h / n:.3f}" if n else "–"
print(f"| {sys.argv[2]} | {share(t['faces_hidden'], t['faces'])} | {share(t['plates_hidden'], t['plates'])} | "
      f"{t['frames_with_miss']} / {t['frames']} | {run} |")
PY
done
