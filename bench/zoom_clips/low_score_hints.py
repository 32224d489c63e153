# Whether boxes scored under the thresholds would point a reviewer at what stayed exposed: takes two
# roadveil_zoom_bench --queue work folders of the same clips, one with the default thresholds and one with
# lowered thresholds, treats each detection of the second that lies mostly (>= half) outside the first's
# regions of its class as a hint, and prints how many hints overlap an object the defaults left exposed
# (exact truth, the sampling of exposure_by_object.py) and the exposed object-frames in the top 1/5/10/20% of
# frames ranked by their number of hints.
#
#   python3 bench/zoom_clips/low_score_hints.py DEFAULT_WORK LOWERED_WORK
import glob
import json
import os
import sys

from exposure_by_object import covered  # beside this script


def overlap(a, b):
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def main(default_work, lowered_work):
    ranked, hints_total, hints_hit, exposed_total = [], 0, 0, 0
    for mot in sorted(glob.glob(os.path.join(default_work, "*.mot.txt"))):
        regions = os.path.basename(mot).replace(".mot.txt", ".regions.json")
        default = json.load(open(os.path.join(default_work, regions)))["entries"][0]
        lowered = json.load(open(os.path.join(lowered_work, regions)))["entries"][0]
        hidden = {f["frame"]: f["regions"] for f in default["frames"]}
        seen = {f["frame"]: f["regions"] for f in lowered["frames"]}
        exposed = {}
        for line in open(mot):
            p = line.strip().split(",")
            if len(p) < 8:
                continue
            f, x, y, w, h = int(p[0]) - 1, *map(float, p[2:6])
            if covered(x, y, w, h, hidden.get(f, [])) < 0.9:
                exposed.setdefault(f, []).append([x, y, x + w, y + h])
        frame_count = max([f["frame"] + 1 for f in default["frames"]] + [default.get("frame_count") or 0])
        for f in range(frame_count):
            hints = []
            for r in seen.get(f, []):
                if r["source"] not in ("detector", "head", "context"):
                    continue
                b = r["box"]
                area = max(1.0, (b[2] - b[0]) * (b[3] - b[1]))
                inside = sum(overlap(b, o["box"]) for o in hidden.get(f, []) if o["class"] == r["class"]) / area
                if inside < 0.5:
                    hints.append(b)
            objects = exposed.get(f, [])
            hints_total += len(hints)
            hints_hit += sum(1 for b in hints if any(overlap(b, e) > 0 for e in objects))
            exposed_total += len(objects)
            ranked.append((len(hints), len(objects)))
    print(f"hints {hints_total}, overlapping an exposed object {hints_hit} ({100 * hints_hit / max(1, hints_total):.1f}%)")
    ranked.sort(key=lambda t: -t[0])
    for budget in (0.01, 0.05, 0.10, 0.20):
        n = int(round(budget * len(ranked)))
        got = sum(t[1] for t in ranked[:n])
        print(f"top {budget:.0%} of frames by hints: {got}/{exposed_total} = {100 * got / max(1, exposed_total):.1f}% of the exposed object-frames")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
