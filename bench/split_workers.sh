#!/usr/bin/env bash
# One long file split across workers (roadveil anonymize --segment I/N, then --join N) against one run.
#
#   bench/split_workers.sh [--minutes 10] [--size 1280x720] [--workers "2 4"] [--concurrent "2"] [--work DIR]
#
# Makes a MINUTES-long clip with AAC audio from ../shared/eval/videos (looped and scaled), anonymizes it in
# one run, then for each worker count W: runs the W parts one after the other, each alone on this machine as
# it would be on a machine of its own (its wall time and CPU-seconds), and joins them. "W machines" is the
# slowest part plus the join. For each count in --concurrent it also runs the parts side by side on this
# machine (processes sharing its cores). Checks that each joined file has the frames, timestamps and audio
# packets of the single run, and the same regions in every frame. Prints a Markdown table; needs ffmpeg,
# GNU time and python3.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
roadveil="${ROADVEIL_BIN:-$here/build/roadveil}"
shared="${ROADVEIL_SHARED:-$here/../shared}"
export ROADVEIL_MODELS="${ROADVEIL_MODELS:-$shared/models}"
minutes=10 size=1280x720 workers="2 4" concurrent="2" work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --concurrent) concurrent="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "split_workers.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$roadveil" ] || { echo "split_workers.sh: $roadveil not built (scripts/setup.sh)" >&2; exit 1; }
if [ -z "$work" ]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
clip="$work/long.mp4"
if [ ! -s "$clip" ]; then
  ffmpeg -v error -y -stream_loop -1 -i "$shared/eval/videos/udacity_lanelines_solidWhiteRight.mp4" -t $((minutes * 60)) \
    -vf "scale=${size/x/:}" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 128k "$clip"
fi

timed() {  # out_prefix command... ; writes PREFIX.time: "wall user sys"
  local prefix="$1"; shift
  /usr/bin/time -f "%e %U %S" -o "$prefix.time" "$@" 2> "$prefix.err" > /dev/null || { cat "$prefix.err" >&2; exit 1; }
}
wall_of() { awk '{print $1}' "$1.time"; }
cpu_of() { awk '{print $2 + $3}' "$1.time"; }

same_as_single() {  # joined.mp4 joined.json
  local a b
  for entries in "v packet=pts,duration" "a packet=pts,dts,duration,size"; do
    set -- $entries
    a=$(ffprobe -v error -select_streams "$1" -show_entries "$2" -of csv "$work/single.mp4" | sort | md5sum)
    b=$(ffprobe -v error -select_streams "$1" -show_entries "$2" -of csv "$joined" | sort | md5sum)
    [ "$a" = "$b" ] || { echo "differs ($1)"; return; }
  done
  python3 - "$work/single.json" "$joined_regions" <<'PY'
import json, sys
def frames(p):
    e = json.load(open(p))["entries"][0]
    return {f["frame"]: (f["pts"], sorted(json.dumps({k: v for k, v in r.items() if k != "track"}, sort_keys=True) for r in f["regions"])) for f in e["frames"]}
a, b = frames(sys.argv[1]), frames(sys.argv[2])
diff = sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))
print("yes" if diff == 0 else f"regions differ in {diff} frames")
PY
}

timed "$work/single" "$roadveil" anonymize -q "$clip" -o "$work/single.mp4" --detections "$work/single.json"
single_wall=$(wall_of "$work/single")
frames=$(ffprobe -v error -select_streams v -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
echo "| workers | how | parts: wall time each (s) | join (s) | total wall (s) | speed-up | CPU-s, all processes | same as one run |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf "| 1 | one run | – | – | %.1f | 1.00 | %.1f | – |\n" "$single_wall" "$(cpu_of "$work/single")"
for w in $workers; do
  out="$work/w$w/out.mp4"; mkdir -p "$work/w$w"
  walls="" max=0 cpu=0
  for ((i = 0; i < w; i++)); do
    timed "$work/w$w/part$i" "$roadveil" anonymize -q "$clip" -o "$out" --segment "$i/$w"
    t=$(wall_of "$work/w$w/part$i"); walls="$walls${walls:+ / }$t"
    max=$(awk -v a="$max" -v b="$t" 'BEGIN {print (b > a ? b : a)}')
    cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$work/w$w/part$i")" 'BEGIN {print a + b}')
  done
  timed "$work/w$w/join" "$roadveil" anonymize -q "$clip" -o "$out" --join "$w" --detections "$work/w$w/out.json"
  jw=$(wall_of "$work/w$w/join"); cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$work/w$w/join")" 'BEGIN {print a + b}')
  joined="$out" joined_regions="$work/w$w/out.json"
  total=$(awk -v a="$max" -v b="$jw" 'BEGIN {print a + b}')
  printf "| %d | %d machines (parts run one at a time here) | %s | %.1f | %.1f | %.2f | %.1f | %s |\n" "$w" "$w" "$walls" "$jw" \
    "$total" "$(awk -v s="$single_wall" -v t="$total" 'BEGIN {print s / t}')" "$cpu" "$(same_as_single)"
done
for w in $concurrent; do
  out="$work/c$w/out.mp4"; mkdir -p "$work/c$w"
  start=$(date +%s.%N)
  pids=()
  for ((i = 0; i < w; i++)); do
    timed "$work/c$w/part$i" "$roadveil" anonymize -q "$clip" -o "$out" --segment "$i/$w" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  parts_wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {print e - s}')
  walls="" cpu=0
  for ((i = 0; i < w; i++)); do
    walls="$walls${walls:+ / }$(wall_of "$work/c$w/part$i")"
    cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$work/c$w/part$i")" 'BEGIN {print a + b}')
  done
  timed "$work/c$w/join" "$roadveil" anonymize -q "$clip" -o "$out" --join "$w" --detections "$work/c$w/out.json"
  jw=$(wall_of "$work/c$w/join"); cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$work/c$w/join")" 'BEGIN {print a + b}')
  joined="$out" joined_regions="$work/c$w/out.json"
  total=$(awk -v a="$parts_wall" -v b="$jw" 'BEGIN {print a + b}')
  printf "| %d | %d processes side by side on this machine (%d cores) | %s | %.1f | %.1f | %.2f | %.1f | %s |\n" "$w" "$w" "$(nproc)" \
    "$walls" "$jw" "$total" "$(awk -v s="$single_wall" -v t="$total" 'BEGIN {print s / t}')" "$cpu" "$(same_as_single)"
done
echo
echo "$minutes min ${size} clip, $frames frames; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
