# How far the plate network's boxes fall short of the annotated plate, side by side: the measurement behind
# the plate padding (src/track/padding.hpp). Reads a roadveil_zoom_bench --queue work folder: for each annotated
# plate in each frame, the plate region that a detection made in that frame (source "detector") and that
# overlaps it most (IoU >= 0.3) is taken back to the box it was padded from (the network's box, joined with its
# neighbours' path where they agree: the tracker's consensus; boxes matching worse are left out),
# and for each side the distance from the detection's edge out to the plate's edge is measured, as a share of
# the detection's width (left, right) or height (top, bottom): a side is covered when the padding is at least
# that. Boxes touching the frame edge are left out (clamped).
#
#   python3 bench/zoom_clips/plate_box_error.py WORK [--padding ACROSS UPDOWN]
#
# --padding: the padding per side of the run that made the work folder (default: today's 0.2 0.25; runs before
# 2026-12-05 used 0.15 0.25), with its 2 px minimum; at --padding K other than 1, multiply both by K.
import json
import os
import sys
import glob

MIN_MARGIN_PX = 2.0


def unpad(length, share):
    # padded = length + 2 * max(MIN_MARGIN_PX, share * length)
    if share > 0 and length / (1 + 2 * share) * share >= MIN_MARGIN_PX:
        return length / (1 + 2 * share)
    return length - 2 * MIN_MARGIN_PX


def main(work, across, updown):
    shares = {"left/right": [], "top/bottom": []}
    by_width = {}
    for mot in sorted(glob.glob(os.path.join(work, "*.mot.txt"))):
        regions_path = mot.replace(".mot.txt", ".regions.json")
        if not os.path.exists(regions_path):
            continue
        entry = json.load(open(regions_path))["entries"][0]
        fw, fh = entry.get("width", 1920), entry.get("height", 1080)
        found = {f["frame"]: [r["box"] for r in f["regions"] if r["class"] == "plate" and r.get("source") == "detector"]
                 for f in entry["frames"]}
        for line in open(mot):
            p = line.strip().split(",")
            if len(p) < 8 or int(float(p[7])) != 2:
                continue
            frame = int(p[0]) - 1
            x, y, w, h = map(float, p[2:6])
            tx1, ty1, tx2, ty2 = x, y, x + w, y + h
            if tx1 < 2 or ty1 < 2 or tx2 > fw - 2 or ty2 > fh - 2:
                continue
            best, best_iou = None, 0.0
            for x1, y1, x2, y2 in found.get(frame, []):
                if x1 <= 0 or y1 <= 0 or x2 >= fw or y2 >= fh:
                    continue
                dw, dh = unpad(x2 - x1, across), unpad(y2 - y1, updown)
                cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
                d = (cx - dw / 2, cy - dh / 2, cx + dw / 2, cy + dh / 2)
                ix = max(0.0, min(d[2], tx2) - max(d[0], tx1))
                iy = max(0.0, min(d[3], ty2) - max(d[1], ty1))
                iou = ix * iy / (dw * dh + w * h - ix * iy)
                if iou > best_iou:
                    best, best_iou = d, iou
            if best is None or best_iou < 0.3:
                continue
            dw, dh = best[2] - best[0], best[3] - best[1]
            sides = [(best[0] - tx1) / dw, (tx2 - best[2]) / dw]
            shares["left/right"] += sides
            bucket = "under 40 px" if dw < 40 else "40-80 px" if dw < 80 else "80 px and wider"
            by_width.setdefault(bucket, []).extend(sides)
            shares["top/bottom"] += [(best[1] - ty1) / dh, (ty2 - best[3]) / dh]

    def line(name, values):
        values = sorted(values)
        n = len(values)
        if not n:
            return f"{name}: none"
        q = " ".join(f"p{p}={values[int(p / 100 * (n - 1))]:.3f}" for p in (50, 90, 95, 98, 99))
        short = " ".join(f"beyond {m:.2f}: {sum(v > m for v in values) / n:.3f}" for m in (0.15, 0.2, 0.25))
        return f"{name}: {n} sides, {q}; share of sides {short}"

    for name, values in shares.items():
        print(line(name, values))
    for name in ("under 40 px", "40-80 px", "80 px and wider"):
        if name in by_width:
            print(line("  left/right, detections " + name + (" wide" if "wide" not in name else ""), by_width[name]))


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: python3 bench/zoom_clips/plate_box_error.py WORK [--padding ACROSS UPDOWN]")
    across, updown = 0.2, 0.25
    if "--padding" in args:
        i = args.index("--padding")
        across, updown = float(args[i + 1]), float(args[i + 2])
        del args[i:i + 3]
    main(args[0], across, updown)
