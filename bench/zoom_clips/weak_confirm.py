# Reads roadveil_weak_confirm_probe's lines for the keyframes of the zoom clips (frames 0, 24, 47, images
# named CLIP.1.png .. CLIP.3.png) and counts the weak boxes by kind, by whether they are an annotated object
# (a head or plate box of the clip's MOT truth in that frame with IoU > 0.2; a body's head region: the head's
# centre inside it), whether that object is exposed there in the run's regions (< 70% of it covered), and
# whether the second look confirmed them (a box over the threshold).
#
#   python3 bench/zoom_clips/weak_confirm.py weak.txt WORK   (WORK: roadveil_zoom_bench --work, with --queue)
import collections
import json
import os
import sys

FRAME_OF = {"1": 0, "2": 24, "3": 47}


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    i = ix * iy
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return i / u if u > 0 else 0


def covered(t, r):
    ix = max(0, min(t[2], r[2]) - max(t[0], r[0]))
    iy = max(0, min(t[3], r[3]) - max(t[1], r[1]))
    return ix * iy / max(1e-6, (t[2] - t[0]) * (t[3] - t[1]))


def main(weak, work):
    truth, regions = {}, {}
    counts = collections.Counter()
    for line in open(weak):
        image, kind, score, best, *box = line.split()
        if kind.startswith("strong"):
            continue
        box = list(map(float, box))
        clip, index, _ = os.path.basename(image).rsplit(".", 2)
        frame = FRAME_OF[index]
        if clip not in truth:
            truth[clip] = []
            for t in open(os.path.join(work, clip + ".in.mot.txt")):
                p = t.strip().split(",")
                f, x, y, w, h = int(p[0]) - 1, *map(float, p[2:6])
                truth[clip].append((f, int(float(p[7])), (x, y, x + w, y + h)))
            entry = json.load(open(os.path.join(work, clip + ".in.regions.json")))["entries"][0]
            regions[clip] = {f["frame"]: f["regions"] for f in entry["frames"]}
        cls = 2 if kind == "plate" else 1
        match = None
        for f, c, t in truth[clip]:
            if f != frame or c != cls:
                continue
            centre_inside = box[0] <= (t[0] + t[2]) / 2 <= box[2] and box[1] <= (t[1] + t[3]) / 2 <= box[3]
            if iou(t, box) > 0.2 or (kind == "body" and centre_inside):
                match = t
                break
        if match is None:
            what = "not annotated"
        else:
            hidden = any(covered(match, r["box"]) >= 0.7 for r in regions[clip].get(frame, [])
                         if (r["class"] == "plate") == (cls == 2))
            what = "annotated, hidden" if hidden else "annotated, exposed"
        counts[(kind, what, float(best) > 0)] += 1
    print("| weak box | object | confirmed at 2x | not confirmed |\n| --- | --- | --- | --- |")
    for kind in ("head", "body", "face", "plate"):
        for what in ("annotated, exposed", "annotated, hidden", "not annotated"):
            print(f"| {kind} | {what} | {counts[(kind, what, True)]} | {counts[(kind, what, False)]} |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: weak_confirm.py WEAK.txt WORK")
    main(sys.argv[1], sys.argv[2])
