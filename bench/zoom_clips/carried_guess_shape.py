# What hiding whole also the regions carried from a guessed head region would add, measured on the regions
# files of a roadveil_zoom_bench --queue work folder without running anything. roadveil hides a `context` face
# region (a head guessed from a person, body or vehicle box) as its whole box and a network's box as its
# ellipse (drawn_as_ellipse, src/core/region.hpp); a region carried from a context track (interpolated,
# extended, backward) is no longer marked as context and keeps the ellipse. This script counts head-frames
# hidden (>= 90% of the box, as exposure_by_object.py) and heads never exposed, and the face area hidden on a
# 24 px grid, with the rule as it is and with those carried regions (by track id) hidden whole too.
#
#   python3 bench/zoom_clips/carried_guess_shape.py WORK
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exposure_by_object import covered, inside  # noqa: E402


def main(work):
    carried = ("interpolated", "extended", "backward")
    totals = {"as rendered": [0, 0, 0], "carried guesses whole": [0, 0, 0]}  # head-frames, heads never exposed, area
    head_frames = heads = 0
    for mot in sorted(glob.glob(os.path.join(work, "*.mot.txt"))):
        entry = json.load(open(mot.replace(".mot.txt", ".regions.json")))["entries"][0]
        faces = {f["frame"]: [r for r in f["regions"] if r["class"] == "face"] for f in entry["frames"]}
        guessed = {r.get("track") for rs in faces.values() for r in rs if r.get("source") == "context"}
        # The second rule: a carried region of a context track drawn as a context region.
        whole = {f: [dict(r, source="context") if r.get("source") in carried and r.get("track") in guessed else r
                     for r in rs] for f, rs in faces.items()}
        objects = {}
        for line in open(mot):
            p = line.strip().split(",")
            if len(p) < 8 or int(float(p[7])) != 1 or int(p[0]) - 1 >= entry["frame_count"]:
                continue
            f, oid, (x, y, w, h) = int(p[0]) - 1, int(p[1]), map(float, p[2:6])
            head_frames += 1
            for name, regions in (("as rendered", faces), ("carried guesses whole", whole)):
                hidden = covered(x, y, w, h, regions.get(f, [])) >= 0.9
                totals[name][0] += hidden
                objects.setdefault((name, oid), True)
                objects[(name, oid)] &= hidden
        heads += len(objects) // 2
        for (name, _), never in objects.items():
            totals[name][1] += never
        step = 24
        for f in faces:
            for name, regions in (("as rendered", faces), ("carried guesses whole", whole)):
                totals[name][2] += sum(any(inside(px + 0.5, py + 0.5, r) for r in regions[f])
                                       for py in range(step // 2, entry["height"], step)
                                       for px in range(step // 2, entry["width"], step))
    base = totals["as rendered"][2] or 1
    for name, (hidden, never, area) in totals.items():
        print(f"{name}: head-frames {hidden}/{head_frames}, heads never exposed {never}/{heads}, "
              f"face area {area / base:.3f}x")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: carried_guess_shape.py WORK")
    main(sys.argv[1])
