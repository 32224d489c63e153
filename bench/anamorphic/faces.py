#!/usr/bin/env python3
"""Faces hidden in anamorphic clips (pixels shown wider than high) against the same pictures square.

    bench/anamorphic/faces.py [--roadveil BIN] [--shared DIR] [--sar 2|4/3] [--photos N] [--work DIR]

Each of the first N faces-street photos (VOC annotations) becomes two 0.2 s clips: at its own size with
square pixels, and stored narrower (1/SAR of its width) with that sample aspect ratio, so that both are shown
alike. `roadveil anonymize --no-tracking --detections` runs on each; a face counts as hidden when one face
region of frame 0 covers 70% of its annotated box (scaled to the stored width). Prints hidden / faces and the
regions for both. Needs ffmpeg; ROADVEIL_MODELS or --shared for the models.
"""
import argparse, json, os, subprocess, tempfile, xml.etree.ElementTree as ET
from fractions import Fraction

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--roadveil", default=os.path.join(here, "../../build/roadveil"))
ap.add_argument("--shared", default=os.path.join(here, "../../../shared"))
ap.add_argument("--sar", default="2")
ap.add_argument("--photos", type=int, default=40)
ap.add_argument("--work", default=None)
a = ap.parse_args()
sar = Fraction(a.sar)
env = dict(os.environ)
env.setdefault("ROADVEIL_MODELS", os.path.join(a.shared, "models"))
faces = os.path.join(a.shared, "eval/faces-street")
work = a.work or tempfile.mkdtemp()
total = {"square": [0, 0, 0], "anamorphic": [0, 0, 0]}
for i in range(a.photos):
    img = os.path.join(faces, "images", f"maksssksksss{i}.jpg")
    if not os.path.exists(img):
        img = img[:-3] + "png"
    if not os.path.exists(img):
        continue
    root = ET.parse(os.path.join(faces, "annotations", f"maksssksksss{i}.xml")).getroot()
    W, H = int(root.find("size/width").text), int(root.find("size/height").text)
    W2, H2 = W // 2 * 2, H // 2 * 2
    narrow = int(W2 / sar) // 2 * 2
    boxes = [[float(o.find("bndbox/" + k).text) for k in ("xmin", "ymin", "xmax", "ymax")] for o in root.findall("object")]
    for name, vf, stored_w in (("square", f"scale={W2}:{H2}", W2),
                               ("anamorphic", f"scale={narrow}:{H2},setsar={sar.numerator}/{sar.denominator}", narrow)):
        clip, out, regions = (os.path.join(work, f"{name}{i}{e}") for e in (".mp4", "_out.mp4", ".json"))
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", img, "-t", "0.2", "-r", "10", "-vf", vf,
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", clip], check=True)
        if os.path.exists(out):
            os.remove(out)
        subprocess.run([a.roadveil, "anonymize", "-q", "--no-audit", "--no-tracking", clip, "-o", out,
                        "--detections", regions], check=True, env=env)
        frames = [f for f in json.load(open(regions))["entries"][0]["frames"] if f["frame"] == 0]
        found = [r["box"] for r in (frames[0]["regions"] if frames else []) if r["class"] == "face"]
        sx, sy = stored_w / W, H2 / H
        hidden = 0
        for b in boxes:
            g = [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]
            area = (g[2] - g[0]) * (g[3] - g[1])
            if area <= 0:
                continue
            cover = max([max(0, min(g[2], r[2]) - max(g[0], r[0])) * max(0, min(g[3], r[3]) - max(g[1], r[1])) / area
                         for r in found] + [0])
            hidden += cover >= 0.7
        total[name][0] += hidden
        total[name][1] += len(boxes)
        total[name][2] += len(found)
for name, (hidden, count, regions) in total.items():
    print(f"{name} (SAR {sar}): {hidden} of {count} faces hidden, {regions} face regions")
