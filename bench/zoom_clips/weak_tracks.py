# What a rule keeping weak tracks would buy, without running anything: reads a roadveil_zoom_bench --queue
# work folder run with lowered thresholds (e.g. -- --head-threshold 0.15 --body-threshold 0.15
# --plate-threshold 0.18 --face-threshold 0.3) and keeps only the tracks that either reach the default
# threshold of their source once or were detected in at least K frames, then prints the exact-truth coverage
# (the sampling of exposure_by_object.py) and the share of the frame the kept regions hide (a 4x4-pixel grid;
# on the defaults' own run it reads 3.9% where roadveil_zoom_bench says 3.7%).
#
#   /usr/bin/python3 bench/zoom_clips/weak_tracks.py WORK K[,K...]   (numpy: Debian's python3-numpy)
import collections
import glob
import json
import os
import sys

import numpy as np

from exposure_by_object import covered  # beside this script

DEFAULT_THRESHOLD = {("face", "detector"): 0.5, ("face", "head"): 0.3, ("face", "context"): 0.3, ("plate", "detector"): 0.35}
DETECTED = ("detector", "head", "context")


def main(work, ks):
    totals = {k: collections.Counter() for k in ks}
    objects = {k: collections.defaultdict(set) for k in ks}
    for mot in sorted(glob.glob(os.path.join(work, "*.mot.txt"))):
        entry = json.load(open(mot.replace(".mot.txt", ".regions.json")))["entries"][0]
        width, height = entry["width"], entry["height"]
        tracks = collections.defaultdict(lambda: [0, 0.0, None])  # detections, best score, (class, source)
        for frame in entry["frames"]:
            for r in frame["regions"]:
                if r["source"] in DETECTED:
                    t = tracks[r.get("track", -1)]
                    t[0] += 1
                    t[1] = max(t[1], r["score"])
                    t[2] = (r["class"], r["source"])
        truth = []
        for line in open(mot):
            p = line.strip().split(",")
            if len(p) >= 8:
                truth.append((int(p[0]) - 1, int(p[1]), *map(float, p[2:6]), int(float(p[7]))))
        frame_count = max([f["frame"] + 1 for f in entry["frames"]] + [entry.get("frame_count") or 0])
        for k in ks:
            def kept(r):
                t = tracks.get(r.get("track", -1))
                if t is None or t[2] is None:
                    return True  # a track never detected here (carried only) is kept as it is
                return t[1] >= DEFAULT_THRESHOLD.get(t[2], 0) - 1e-6 or t[0] >= k
            frames = {f["frame"]: [r for r in f["regions"] if kept(r)] for f in entry["frames"]}
            c = totals[k]
            for f, oid, x, y, w, h, cls in truth:
                name = "head" if cls == 1 else "plate"
                c[name] += 1
                objects[k][name].add((mot, oid))
                if covered(x, y, w, h, frames.get(f, [])) >= 0.9:
                    c[name + " hidden"] += 1
                else:
                    objects[k][name + " exposed"].add((mot, oid))
            area = 0.0
            for f in range(frame_count):
                mask = np.zeros((height // 4, width // 4), bool)
                for r in frames.get(f, []):
                    x1, y1, x2, y2 = (max(0, int(v / 4)) for v in r["box"])
                    mask[y1:y2, x1:x2] = True
                area += mask.mean()
            c["area"] += area / max(1, frame_count)
            c["clips"] += 1
    for k in ks:
        c, o = totals[k], objects[k]
        cells = [f"{n}-frames {c[n + ' hidden']}/{c[n]} = {c[n + ' hidden'] / max(1, c[n]):.3f}, "
                 f"{n}s never exposed {len(o[n] - o[n + ' exposed'])}/{len(o[n])}" for n in ("head", "plate")]
        print(f"K={k}: " + "; ".join(cells) + f"; frame hidden {100 * c['area'] / max(1, c['clips']):.1f}%")


if __name__ == "__main__":
    main(sys.argv[1], [int(k) for k in sys.argv[2].split(",")])
