#!/usr/bin/env bash
# One review session end to end, scripted: anonymize -> verify -> review-queue (+ contact sheet) -> review
# (through the editor's HTTP API, as the page does: the verify findings are boxed by "the reviewer" and the
# queue's top frames marked reviewed) -> render -> verify again -> audit. Prints the numbers the README quotes.
# Usage: [EXTEND=4] [TRUTH=CLIP.mot.txt] bench/review_loop.sh CLIP WORK_DIR [anonymize options...]
# (ROADVEIL_MODELS must be set). TRUTH: the clip's exact per-frame boxes (roadveil_zoom_bench writes them beside
# each zoom clip): the share hidden before and after the review is printed too.
# EXTEND: frames each added box is copied forward and backward (the editor's extend, keys [ and ]).
set -euo pipefail
CLIP=$(realpath "$1"); WORK=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${ROADVEIL_BIN:-$HERE/../build/roadveil}
[ -z "${TRUTH:-}" ] || TRUTH=$(realpath "$TRUTH")
mkdir -p "$WORK"; cd "$WORK"
rm -rf out reviewed sheets ./*.json
name=$(basename "$CLIP")
t0=$(date +%s.%N)
"$BIN" anonymize -q "$CLIP" -o "out/$name" --detections regions.json "$@"
t1=$(date +%s.%N)
"$BIN" verify -q "out/$name" --regions regions.json --json verify.json || [ $? = 4 ]
t2=$(date +%s.%N)
"$BIN" review-queue regions.json --verify verify.json --budget 5% --json queue.json --contact-sheet sheets >/dev/null
cp regions.json reviewed.json
"$BIN" review "$CLIP" --regions reviewed.json --port 0 --reviewer ana >server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q http server.log && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' server.log)
# Box every exposed finding of verify (a face or head grows to head size, as anonymize pads it).
python3 - "$url" "${EXTEND:-4}" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
EXTEND = int(sys.argv[2])
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        return json.load(urllib.request.urlopen(req))
    except urllib.error.HTTPError as e:
        return json.load(e)
report = json.load(open("verify.json"))
added = 0
for f in report["files"][0]["findings"]:
    if f["kind"] != "exposed":
        continue
    x1, y1, x2, y2 = f["box"]
    w, h = x2 - x1, y2 - y1
    m = 0.3 if f["class"] != "plate" else 0.15
    box = [x1 - m * w, y1 - m * h, x2 + m * w, y2 + m * h]
    cls = "plate" if f["class"] == "plate" else "face"
    r = post("api/edit", {"reviewer": "ana", "edit": {"op": "add", "frame": f["frame"], "class": cls, "box": box}})
    if "error" in r:
        continue
    added += 1
    # As a person would with [ and ]: the networks find a small object in some frames only, so the box is
    # copied to the frames around it where its track has none.
    regions = json.load(urllib.request.urlopen(url + "api/frames/%d" % f["frame"]))["regions"]
    ref = {"index": len(regions) - 1, "class": cls, "box": regions[-1]["box"]}
    for direction in ("forward", "backward"):
        post("api/edit", {"reviewer": "ana", "edit": {"op": "extend", "frame": f["frame"], "region": ref, "direction": direction, "frames": EXTEND}})
queue = json.load(open("queue.json"))["queue"]
for q in queue:
    post("api/edit", {"reviewer": "ana", "edit": {"op": "reviewed", "frame": q["frame"]}})
print(f"review: {added} boxes added at verify's findings (each extended {EXTEND} frames both ways), {len(queue)} queued frames marked reviewed")
PY
kill $server; trap - EXIT
t3=$(date +%s.%N)
"$BIN" render -q --regions reviewed.json "$CLIP" -o "reviewed/$name"
t4=$(date +%s.%N)
"$BIN" verify -q "reviewed/$name" --regions reviewed.json --json verify-after.json || [ $? = 4 ]
"$BIN" audit "reviewed/$name" || [ $? = 4 ]
python3 - <<PY
import json
def count(p):
    f = json.load(open(p))["files"][0]
    k = [x["kind"] for x in f["findings"]]
    return f["frames"], k.count("exposed"), k.count("readable")
fr, e0, r0 = count("verify.json")
_, e1, r1 = count("verify-after.json")
a = json.load(open("reviewed/$name.audit.json"))
print(f"frames {fr}: verify before review {e0} exposed, {r0} readable; after review and render {e1} exposed, {r1} readable")
print(f"audit: review {a['review']['frames_reviewed']} frames reviewed, {a['review']['edits']} edits by {[p['name'] for p in a['review']['reviewers']]}; verify recorded: {a['verify']['summary']}")
print("seconds: anonymize %.1f, verify %.1f, render %.1f" % ($t1 - $t0, $t2 - $t1, $t4 - $t3))
PY
ls sheets | wc -l | xargs echo "contact sheet pages:"
if [ -n "${TRUTH:-}" ]; then
  echo "exact truth before review:"; python3 "$HERE/zoom_clips/regions_truth_cover.py" "$TRUTH" regions.json
  echo "exact truth after review:"; python3 "$HERE/zoom_clips/regions_truth_cover.py" "$TRUTH" reviewed.json
fi
