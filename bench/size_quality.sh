#!/usr/bin/env bash
# Output size and picture quality against the source, for the real clips in ../shared/eval/videos.
#
#   bench/size_quality.sh [--config "ARGS"]... [--clips "a.mp4 b.mp4"]
#
# Each --config is one set of roadveil anonymize options (default: the defaults, and "--crf 23"). For each clip: the output's size over the
# source's, and SSIM and PSNR of the luma against the source outside the hidden regions (the --mask output
# says where they are; hidden pixels are taken from the source, so they count as equal: the share of the
# frame they cover is printed too). Prints a Markdown table; needs ffmpeg.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
roadveil="${ROADVEIL_BIN:-$here/build/roadveil}"
shared="${ROADVEIL_SHARED:-$here/../shared}"
export ROADVEIL_MODELS="${ROADVEIL_MODELS:-$shared/models}"
configs=() clips=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) configs+=("$2"); shift 2 ;;
    --clips) clips="$2"; shift 2 ;;
    *) echo "size_quality.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#configs[@]} -gt 0 ] || configs=("" "--crf 23")
[ -n "$clips" ] || clips="$(ls "$shared"/eval/videos/*.mp4)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
echo "| clip | source | settings | output / source size | SSIM (Y) outside hidden | PSNR (Y) outside hidden | frame hidden |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for clip in $clips; do
  src=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$clip" | tr , ' ')
  kbps=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$clip" | awk '{printf "%.0f", $1 / 1000}')
  for config in "${configs[@]}"; do
    "$roadveil" anonymize -q --mask $config "$clip" -o "$tmp/out.mp4"
    ratio=$(awk -v a="$(stat -c %s "$tmp/out.mp4")" -v b="$(stat -c %s "$clip")" 'BEGIN {printf "%.2f", a / b}')
    graph="[0:v]extractplanes=y,split[s1][s2];[1:v]extractplanes=y[o];[2:v]format=gray[m];[o][s1][m]maskedmerge[om]"
    ssim=$(ffmpeg -v info -i "$clip" -i "$tmp/out.mp4" -i "$tmp/out.mask.mp4" -lavfi "$graph;[om][s2]ssim" -f null - 2>&1 |
           grep -o 'All:[0-9.]*' | tail -1 | cut -d: -f2)
    psnr=$(ffmpeg -v info -i "$clip" -i "$tmp/out.mp4" -i "$tmp/out.mask.mp4" -lavfi "$graph;[om][s2]psnr" -f null - 2>&1 |
           grep -o 'average:[0-9.inf]*' | tail -1 | cut -d: -f2)
    hidden=$(ffmpeg -v info -i "$tmp/out.mask.mp4" -vf "signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=$tmp/yavg" -f null - 2>/dev/null;
             awk -F= '/YAVG/ {s += $2; n++} END {printf "%.1f%%", n ? 100 * s / n / 255 : 0}' "$tmp/yavg")
    printf "| %s | %s, %s kbit/s | %s | %s | %s | %s dB | %s |\n" "$(basename "$clip")" "$src" "$kbps" "${config:-defaults}" \
      "$ratio" "$ssim" "$psnr" "$hidden"
  done
done
