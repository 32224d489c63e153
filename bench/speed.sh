#!/usr/bin/env bash
# roadveil anonymize against the plain transcode it rides on (issue: ratio of wall times, same encoder
# settings), on 720p and 1080p clips made from the real clips in ../shared/eval/videos.
#
#   bench/speed.sh [--seconds N] [--runs N] [--sizes "1280x720 1920x1080"] [--config "ARGS"]... [--memory MIN] [--render]
#
# Each --config is one set of roadveil options to measure (default: the default settings, "--keyframes 2"
# and "--quality fast --keyframes 2"). --memory MIN also makes a MIN-minute 1080p clip and compares peak
# RSS with the 1-minute one, with the first config. --render also times `roadveil render` of the first
# config's detections file: the pipeline without detection (decode, redact, encode). Prints Markdown tables; needs ffmpeg and GNU time.
#
# CPU s is user + system time of the whole process (median of the runs). Wall-time ratios depend on the
# machine (detection costs relatively more where the CPU is slower); CPU seconds per minute of video do
# not as much, and predict the ratio anywhere: with --render, "detection CPU-s/min" is anonymize's CPU
# minus render's (the same decode, redaction and x264 encode without the networks), and "plain transcode
# CPU-s/min" is ffmpeg's decode and x264 encode alone. On a machine whose cores all stay busy, wall ratio ~ CPU ratio.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
roadveil="${ROADVEIL_BIN:-$here/build/roadveil}"
shared="${ROADVEIL_SHARED:-$here/../shared}"
export ROADVEIL_MODELS="${ROADVEIL_MODELS:-$shared/models}"
seconds=60 runs=3 sizes="1280x720 1920x1080" memory_minutes=0 render=0
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --config) configs+=("$2"); shift 2 ;;
    --memory) memory_minutes="$2"; shift 2 ;;
    --render) render=1; shift ;;
    *) echo "speed.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#configs[@]} -gt 0 ] || configs=("" "--keyframes 2" "--quality fast --keyframes 2")
[ -x "$roadveil" ] || { echo "speed.sh: $roadveil not built (scripts/setup.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "speed.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Real dashcam-like footage with audio, looped and scaled: highway (has AAC) then the MPEG-4 highway clip.
source_clip="$shared/eval/videos/udacity_lanelines_solidWhiteRight.mp4"
make_clip() {  # size seconds out
  ffmpeg -v error -y -stream_loop -1 -i "$source_clip" -t "$2" -vf "scale=${1/x/:}" \
    -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 128k "$3"
}
measure() {  # label command... ; prints "wall rss_kb cpu_s" (median wall and CPU of $runs runs, max RSS)
  local walls=() cpus=() rss=0 i
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M %U %S" -o "$tmp/time" "$@" 2> "$tmp/stderr" > /dev/null || { cat "$tmp/stderr" >&2; exit 1; }
    read -r w m u k < "$tmp/time"
    walls+=("$w"); cpus+=("$(awk -v u="$u" -v k="$k" 'BEGIN {print u + k}')"); [ "$m" -gt "$rss" ] && rss="$m"
  done
  local wall cpu
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | awk -v n="$runs" '{a[NR]=$1} END {print a[int((n+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk -v n="$runs" '{a[NR]=$1} END {print a[int((n+1)/2)]}')
  echo "$wall $rss $cpu"
}

echo "| clip | command | wall s | fps | ratio to transcode | CPU s | CPU ratio | peak RSS MB | frames: full detection / searched / total |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
summary=()
for size in $sizes; do
  clip="$tmp/clip_$size.mp4"
  make_clip "$size" "$seconds" "$clip"
  frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
  read -r base_wall base_rss base_cpu < <(measure ffmpeg -v error -y -i "$clip" -c:v libx264 -preset veryfast -crf 20 -c:a copy "$tmp/plain.mp4")
  awk -v s="$size" -v w="$base_wall" -v f="$frames" -v r="$base_rss" -v t="$seconds" -v c="$base_cpu" \
    'BEGIN {printf "| %s %ss | ffmpeg -c:v libx264 -preset veryfast -crf 20 -c:a copy | %.1f | %.1f | 1.00 | %.1f | 1.00 | %.0f | – |\n", s, t, w, f / w, c, r / 1024}'
  first_cpu=""
  for config in "${configs[@]}"; do
    # shellcheck disable=SC2086
    read -r wall rss cpu < <(measure "$roadveil" anonymize --progress --crf 20 --preset veryfast $config "$clip" -o "$tmp/anon.mp4")
    [ -n "$first_cpu" ] || first_cpu="$cpu"
    detected=$(sed -n 's/.* frames (\([0-9]*\) fully detected, \([0-9]*\) searched.*/\1 \/ \2/p' "$tmp/stderr" | tail -1)
    awk -v s="$size" -v c="roadveil anonymize ${config:-(defaults)}" -v w="$wall" -v f="$frames" -v r="$rss" -v b="$base_wall" -v d="$detected" -v t="$seconds" -v u="$cpu" -v bu="$base_cpu" \
      'BEGIN {printf "| %s %ss | %s | %.1f | %.1f | %.2f | %.1f | %.2f | %.0f | %s / %d |\n", s, t, c, w, f / w, w / b, u, u / bu, r / 1024, d, f}'
  done
  if [ "$render" = 1 ]; then
    # shellcheck disable=SC2086
    "$roadveil" anonymize -q --crf 20 --preset veryfast ${configs[0]} "$clip" -o "$tmp/anon.mp4" --detections "$tmp/regions.json"
    read -r wall rss cpu < <(measure "$roadveil" render -q --crf 20 --preset veryfast --regions "$tmp/regions.json" "$clip" -o "$tmp/render.mp4")
    awk -v s="$size" -v w="$wall" -v f="$frames" -v r="$rss" -v b="$base_wall" -v t="$seconds" -v u="$cpu" -v bu="$base_cpu" \
      'BEGIN {printf "| %s %ss | roadveil render --regions (no detection) | %.1f | %.1f | %.2f | %.1f | %.2f | %.0f | – |\n", s, t, w, f / w, w / b, u, u / bu, r / 1024}'
    summary+=("$(awk -v s="$size" -v t="$seconds" -v a="$first_cpu" -v r="$cpu" -v b="$base_cpu" -v c="${configs[0]:-(defaults)}" \
      'BEGIN {m = t / 60; printf "| %s | %s | %.1f | %.1f | %.1f | %.2f |", s, c, (a - r) / m, r / m, b / m, a / b}')")
  fi
done
if [ ${#summary[@]} -gt 0 ]; then
  echo
  echo "| clip | config | detection CPU-s/min | render (decode, redact, x264) CPU-s/min | plain transcode CPU-s/min | CPU ratio |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${summary[@]}"
fi

if [ "$memory_minutes" -gt 0 ]; then
  echo
  echo "| clip | command | peak RSS MB |"
  echo "| --- | --- | --- |"
  config="${configs[0]}"
  for minutes in 1 "$memory_minutes"; do
    make_clip 1920x1080 $((minutes * 60)) "$tmp/long.mp4"
    # shellcheck disable=SC2086
    read -r _ rss _ < <(runs=1 measure "$roadveil" anonymize -q --crf 20 --preset veryfast $config "$tmp/long.mp4" -o "$tmp/anon.mp4")
    echo "| 1920x1080 ${minutes} min | roadveil anonymize ${config:-(defaults)} | $((rss / 1024)) |"
  done
fi
