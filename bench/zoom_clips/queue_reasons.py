# How well `roadveil review-queue` points at what stayed exposed on the zoom clips: ranks every frame of a
# roadveil_zoom_bench --queue work folder, then prints the exposed object-frames (exact truth, the sampling
# of exposure_by_object.py) in the top 1/5/10/20% of the queue, and for each kind of reason how many of its
# boxes overlap an exposed object of its class, and how many exposed object-frames any reason overlaps.
#
#   python3 bench/zoom_clips/queue_reasons.py WORK [ROADVEIL]   (ROADVEIL: build/roadveil by default)
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile

from exposure_by_object import covered  # beside this script


def overlaps(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def main(work, roadveil):
    files = sorted(glob.glob(os.path.join(work, "*.regions.json")))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "queue.json")
        subprocess.run([roadveil, "review-queue", "--budget", "100%", "--json", out, *files], check=True,
                       stdout=subprocess.DEVNULL)
        queue = json.load(open(out))["queue"]
    exposed = collections.defaultdict(list)  # (input, frame) -> [(box, is_plate)]
    total_frames = 0
    for path in files:
        entry = json.load(open(path))["entries"][0]
        frames = {f["frame"]: f["regions"] for f in entry["frames"]}
        total_frames += entry.get("frame_count") or 0
        for line in open(path.replace(".regions.json", ".mot.txt")):
            p = line.strip().split(",")
            if len(p) < 8:
                continue
            f, x, y, w, h, cls = int(p[0]) - 1, *map(float, p[2:6]), int(float(p[7]))
            if covered(x, y, w, h, frames.get(f, [])) < 0.9:
                exposed[(entry["input"], f)].append(([x, y, x + w, y + h], cls == 2))
    total = sum(len(v) for v in exposed.values())
    row = []
    for budget in (0.01, 0.05, 0.10, 0.20):
        n = int(round(budget * total_frames))
        got = sum(len(exposed.get((q["input"], q["frame"]), [])) for q in queue[:n])
        row.append(f"{budget:.0%}: {got}/{total} = {100 * got / max(1, total):.1f}%")
    print(" | ".join(row))
    count, hits = collections.Counter(), collections.Counter()
    reached = 0
    reasons = {(q["input"], q["frame"]): q["reasons"] for q in queue}
    for key, objects in exposed.items():
        reached += sum(1 for box, _ in objects if any(overlaps(r["box"], box) for r in reasons.get(key, [])))
    for q in queue:
        objects = exposed.get((q["input"], q["frame"]), [])
        for r in q["reasons"]:
            kind = r["what"].split(" over a gap")[0]
            count[kind] += 1
            hits[kind] += any(overlaps(r["box"], box) and plate == (r["class"] == "plate") for box, plate in objects)
    for kind in sorted(count):
        print(f"{kind:42s} {count[kind]:6d} reasons, {hits[kind]:5d} overlap an exposed object ({100 * hits[kind] / count[kind]:.1f}%)")
    print(f"exposed object-frames that some reason overlaps: {reached}/{total} = {100 * reached / max(1, total):.0f}%")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "build/roadveil")
