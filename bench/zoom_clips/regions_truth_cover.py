# Exact-truth exposure of a regions file, without running anything: the share of annotated object-frames (MOT
# text as roadveil_zoom_bench writes it: frame,id,x,y,w,h,conf,class; class 1 head, 2 plate) at least 90%
# inside the regions of that frame (regions drawn as roadveil draws them: exposure_by_object.inside; sampled on a 12x12 grid per box). It
# agrees with `roadveil eval --ground-truth` on a run's own regions (12/67 head-frames, 48/48 plate-frames on
# zoom clip 196eb840) and also measures a regions file a person edited. Usage: regions_truth_cover.py MOT REGIONS

import json, sys
from exposure_by_object import covered  # the same sampling of a box against regions (beside this script)
mot, regions_path = sys.argv[1], sys.argv[2]
entry = json.load(open(regions_path))["entries"][0]
frames = {f["frame"]: f["regions"] for f in entry["frames"]}
tot = {1: 0, 2: 0}; hid = {1: 0, 2: 0}; exposed_objects = {1: set(), 2: set()}; objects = {1: set(), 2: set()}
for line in open(mot):
    p = line.strip().split(",")
    if len(p) < 8: continue
    f, oid, x, y, w, h, cls = int(p[0]) - 1, int(p[1]), float(p[2]), float(p[3]), float(p[4]), float(p[5]), int(float(p[7]))
    if cls not in tot: continue
    tot[cls] += 1; objects[cls].add(oid)
    if covered(x, y, w, h, frames.get(f, [])) >= 0.9: hid[cls] += 1
    else: exposed_objects[cls].add(oid)
for c, name in ((1, "head"), (2, "plate")):
    if tot[c]:
        print(f"{name}-frames hidden {hid[c]}/{tot[c]} = {hid[c]/tot[c]:.3f}; {name}s never exposed {len(objects[c]-exposed_objects[c])}/{len(objects[c])}")
