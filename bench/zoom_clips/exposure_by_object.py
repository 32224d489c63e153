# Why each object of the zoom clips stayed exposed: reads the MOT truth and the regions file of every clip in
# a roadveil_zoom_bench --queue work folder and puts each annotated object in one class:
#   never exposed    hidden (>= 90% of its box inside the regions as rendered: faces as ellipses, context and
#                    manual regions and plates as boxes) in every frame;
#   never detected   no region of its class from a detection (detector, head, context) covers half of it in any
#                    frame: only a better network finds it;
#   found, lost      detected in some frame and exposed in others: what scheduling and tracking can close.
# For the last two classes it prints one line per object: a character per frame, '#' hidden, 'd' a detection covers
# half of it but the frame is exposed, '.' exposed.
#
#   python3 bench/zoom_clips/exposure_by_object.py WORK   (WORK: roadveil_zoom_bench --work, run with --queue)
import collections
import glob
import json
import os
import sys


def inside(px, py, r):
    x1, y1, x2, y2 = r["box"]
    if r["class"] == "plate" or r.get("source", "manual") in ("context", "manual"):  # drawn_as_ellipse, src/core/region.hpp
        return x1 <= px <= x2 and y1 <= py <= y2
    cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    return rx > 0 and ry > 0 and ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= 1


def covered(x, y, w, h, regions, n=12):
    hits = 0
    for i in range(n):
        for j in range(n):
            px, py = x + (i + 0.5) * w / n, y + (j + 0.5) * h / n
            hits += any(inside(px, py, r) for r in regions)
    return hits / (n * n)


def main(work):
    rows = []
    for mot in sorted(glob.glob(os.path.join(work, "*.mot.txt"))):
        regions_path = mot.replace(".mot.txt", ".regions.json")
        if not os.path.exists(regions_path):
            sys.exit(f"{regions_path} is missing: run roadveil_zoom_bench with --queue")
        entry = json.load(open(regions_path))["entries"][0]
        frames = {f["frame"]: f["regions"] for f in entry["frames"]}
        objects = collections.defaultdict(list)
        for line in open(mot):
            p = line.strip().split(",")
            if len(p) < 8:
                continue
            f, oid, x, y, w, h, cls = int(p[0]) - 1, int(p[1]), *map(float, p[2:6]), int(float(p[7]))
            regions = frames.get(f, [])
            found = [r for r in regions if (r["class"] == "plate") == (cls == 2)
                     and r.get("source", "manual") in ("detector", "head", "context")]
            objects[(cls, oid)].append({"hidden": covered(x, y, w, h, regions) >= 0.9,
                                        "detected": covered(x, y, w, h, found) >= 0.5, "size": (w, h)})
        for (cls, oid), fr in objects.items():
            rows.append((os.path.basename(mot).split(".")[0][:8], cls, oid, fr))
    for cls, name in ((1, "heads"), (2, "plates")):
        kinds, frames_exposed = collections.Counter(), collections.Counter()
        for clip, c, oid, fr in rows:
            if c != cls:
                continue
            exposed = sum(not x["hidden"] for x in fr)
            kind = ("never exposed" if exposed == 0 else
                    "never detected" if not any(x["detected"] for x in fr) else "found, lost")
            kinds[kind] += 1
            frames_exposed[kind] += exposed
            if kind != "never exposed":
                line = "".join("#" if x["hidden"] else "d" if x["detected"] else "." for x in fr)
                print(f"{name} {clip} {oid:3d} {fr[0]['size'][0]:.0f}x{fr[0]['size'][1]:.0f} exposed {exposed:2d} {line}")
        print(f"{name}: " + ", ".join(f"{k} {kinds[k]} (exposed frames {frames_exposed[k]})"
                                      for k in ("never exposed", "found, lost", "never detected")))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: exposure_by_object.py WORK")
    main(sys.argv[1])
