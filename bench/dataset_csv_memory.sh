#!/usr/bin/env bash
# Peak memory of `roadveil dataset convert` on a generated 1,000,000-row Open Images box CSV against the
# same conversion of a 10,000-row one. The CSV is streamed one image group at a time, so the two peaks must
# stay within 20 MB of each other (what does grow: 16-32 bytes per distinct ImageID for duplicate detection).
# Exits 1 when they do not.
#
#   bench/dataset_csv_memory.sh            # uses build/roadveil
#   ROADVEIL=build-release/roadveil ROWS=2000000 bench/dataset_csv_memory.sh
#
# Needs only bash, awk, split and coreutils; /usr/bin/time -v when installed, otherwise VmHWM polled from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
ROADVEIL=${ROADVEIL:-build/roadveil}
ROWS=${ROWS:-1000000}
SMALL_ROWS=${SMALL_ROWS:-10000}
ROWS_PER_IMAGE=${ROWS_PER_IMAGE:-8}  # Open Images train: 14.6 M boxes on 1.74 M images
LIMIT_KB=$((20 * 1024))
CLASSES=../shared/eval/openimages/class-descriptions-boxable.csv

[ -x "$ROADVEIL" ] || { echo "dataset_csv_memory: $ROADVEIL not built (set ROADVEIL=path/to/roadveil)" >&2; exit 2; }
[ -f "$CLASSES" ] || { echo "dataset_csv_memory: $CLASSES missing" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roadveil-csv-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# rows -> CSV of that many rows, ROWS_PER_IMAGE per ImageID, sorted by ImageID like the real files; labels
# cycle through plate, face, car and person; a few group-of and depiction flags.
make_csv() {
  awk -v rows="$1" -v per="$ROWS_PER_IMAGE" 'BEGIN {
    srand(7)
    split("/m/01jfm_ /m/0dzct /m/0k4j /m/01g317", label, " ")
    print "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside"
    for (i = 0; i < rows; i++) {
      x = rand() * 0.8; y = rand() * 0.8; w = 0.01 + rand() * 0.19; h = 0.01 + rand() * 0.19
      printf "img%07d,xclick,%s,1,%.6f,%.6f,%.6f,%.6f,%d,%d,%d,%d,0\n", int(i / per), label[i % 4 + 1],
             x, x + w, y, y + h, i % 3 == 0, i % 5 == 0, i % 50 == 0, i % 97 == 0
    }
  }'
}

# count dir -> img0000000.jpg ... : 23-byte files holding just SOI, a 1280x720 SOF0 frame header and EOI
# (all the converter reads), cut from one repeated buffer by a single `split` instead of one process each.
make_images() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  printf '\xff\xd8\xff\xc0\x00\x11\x08\x02\xd0\x05\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9' >"$WORK/one.jpg"
  cp "$WORK/one.jpg" "$WORK/many.bin"
  local have=1
  while [ "$have" -lt "$n" ]; do
    cat "$WORK/many.bin" "$WORK/many.bin" >"$WORK/twice.bin"
    mv "$WORK/twice.bin" "$WORK/many.bin"
    have=$((have * 2))
  done
  head -c $((23 * n)) "$WORK/many.bin" | split -b 23 -a 7 -d --additional-suffix=.jpg - "$dir/img"
  rm -f "$WORK/many.bin" "$WORK/one.jpg"
}

# command... -> peak resident set size of the command in kB, on stdout; the command's own output to $WORK/log
peak_kb() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$@" >"$WORK/log" 2>"$WORK/time"
    awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time"
  else
    "$@" >"$WORK/log" 2>&1 &
    local pid=$! peak=0 v
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
      sleep 0.02
    done
    wait "$pid"
    echo "$peak"
  fi
}

run() {
  local rows=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  make_csv "$rows" >"$dir/boxes.csv"
  make_images $(((rows + ROWS_PER_IMAGE - 1) / ROWS_PER_IMAGE)) "$dir/images"
  local start end kb
  start=$(date +%s.%N)
  kb=$(peak_kb "$ROADVEIL" dataset convert --from openimages --to gt-manifest --annotations "$dir/boxes.csv" \
    --images "$dir/images" --class-descriptions "$CLASSES" --image-uri-prefix s3://bench/images/ \
    --drop-depiction -o "$dir/out.manifest")
  end=$(date +%s.%N)
  local csv_mb lines
  csv_mb=$(($(stat -c %s "$dir/boxes.csv") / 1024 / 1024))
  lines=$(wc -l <"$dir/out.manifest")
  printf '%9d rows (%4d MB CSV) -> %7d manifest lines in %6s s, peak RSS %7d kB\n' \
    "$rows" "$csv_mb" "$lines" "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')" "$kb" >&2
  rm -rf "$dir"
  echo "$kb"
}

small=$(run "$SMALL_ROWS")
large=$(run "$ROWS")
growth=$((large - small))
echo "peak RSS: $SMALL_ROWS rows $small kB, $ROWS rows $large kB, growth $growth kB (limit $LIMIT_KB kB)"
if [ "$growth" -gt "$LIMIT_KB" ]; then
  echo "dataset_csv_memory: FAIL: memory grows with the CSV" >&2
  exit 1
fi
echo "dataset_csv_memory: ok"
