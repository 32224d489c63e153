#!/usr/bin/env python3
"""Replays roadveil's region rules on raw boxes dumped by roadveil_detection_dump and scores them like
`roadveil eval` (a box is hidden when 90% of its pixel centres lie inside the union of its class's regions,
faces as ellipses; stray = a region overlapping no box of its class by IoU > 0.1). Each row adds one rule to
the row before, so the table shows what each rule buys and costs. Python 3 standard library only.

  build/bench/roadveil_detection_dump ../shared/eval/dashcam-berlin-dev/images > dump.txt
  bench/coverage_rules/replay_rules.py dump.txt ../shared/eval/dashcam-berlin-dev/annotations
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

FACE = {'Human face', 'face', 'con_mascarilla', 'sin_mascarilla', 'mascarilla_mal_puesta'}
PLATE = {'Vehicle registration plate', 'license-plate', 'licence plate', 'license plate', 'plate'}
PERSON, BICYCLE, CAR, MOTORCYCLE, BUS, TRUCK = 0, 1, 2, 3, 5, 7


def load_truth(folder):
    truth = {}
    for path in glob.glob(os.path.join(folder, '*.xml')):
        boxes = []
        for o in ET.parse(path).getroot().findall('object'):
            name, b = o.find('name').text, o.find('bndbox')
            cls = 'face' if name in FACE else 'plate' if name in PLATE else None
            if cls:
                boxes.append((cls, [float(b.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]))
        truth[os.path.splitext(os.path.basename(path))[0]] = boxes
    return truth


def load_dump(path):
    images, cur = {}, None
    for line in open(path):
        p = line.split()
        if p[0] == 'image':
            cur = os.path.splitext(p[1])[0]
            images[cur] = {'W': int(p[2]), 'H': int(p[3]), 'boxes': []}
        else:
            images[cur]['boxes'].append((p[0], int(p[1]), float(p[2]), [float(x) for x in p[3:7]]))
    return images


def pad(b, l, t, r, bo, margin=2.0):
    w, h = b[2] - b[0], b[3] - b[1]
    return [b[0] - max(margin, l * w), b[1] - max(margin, t * h), b[2] + max(margin, r * w), b[3] + max(margin, bo * h)]


def center_inside(b, v, top_share=1.0):
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return v[0] <= cx <= v[2] and v[1] <= cy <= v[1] + top_share * (v[3] - v[1])


def regions(img, rules):
    W, H, boxes = img['W'], img['H'], img['boxes']
    faces, plates = [], []
    fpad, ppad = rules['face_padding'], (0.15, 0.25, 0.15, 0.25)
    vehicles = [b for t, l, s, b in boxes if t == 'ctx' and l in (CAR, BUS, TRUCK) and s >= 0.5]
    for tag, label, score, b in boxes:
        if tag == 'face1920' and score >= rules['face_threshold']:
            faces.append(pad(b, *fpad))
        if tag == rules['plate_pass'] and score >= 0.35:
            plates.append(pad(b, *ppad))
        if tag == 'ctx' and label == PERSON:
            w, h = b[2] - b[0], b[3] - b[1]
            if rules.get('occupants') and score >= 0.25 and h < 1.6 * w and any(center_inside(b, v, 0.6) for v in vehicles):
                faces.append(pad([b[0], b[1] - 0.1 * h, b[2], b[3]], 0, 0, 0, 0))
            elif rules.get('heads') and score >= 0.4 and h >= 0.055 * H:
                hw, top = min(w, 0.5 * h), b[1] - 0.03 * h
                cx = (b[0] + b[2]) / 2
                faces.append(pad([cx - hw / 2, top, cx + hw / 2, top + 0.25 * h], 0, 0, 0, 0))
        if tag == 'facepcrop2' and rules.get('refine') and score >= 0.5:
            faces.append(pad(b, *fpad))
        if tag == 'facevcrop2' and rules.get('faces_in_vehicles') and score >= 0.5:
            faces.append(pad(b, *fpad))
        if tag == 'platecrop2' and rules.get('refine') and score >= 0.5:
            small = [v for t, l, s, v in boxes if t == 'ctx' and l in (CAR, BUS, TRUCK, MOTORCYCLE) and s >= 0.3
                     and v[2] - v[0] < 0.13 * W]
            if any(center_inside(b, v) for v in small):
                plates.append(pad(b, *ppad))
    clip = lambda rs: [[max(0, r[0]), max(0, r[1]), min(W, r[2]), min(H, r[3])] for r in rs]
    return {'face': clip(faces), 'plate': clip(plates)}


def covered(truth_box, rs, ellipse):
    x1, y1, x2, y2 = truth_box
    inside = total = 0
    for y in range(int(y1), int(max(y1 + 1, y2))):
        for x in range(int(x1), int(max(x1 + 1, x2))):
            px, py = x + 0.5, y + 0.5
            total += 1
            for r in rs:
                if r[0] <= px < r[2] and r[1] <= py < r[3]:
                    if ellipse:
                        cx, cy, a, b = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2, (r[2] - r[0]) / 2, (r[3] - r[1]) / 2
                        if ((px - cx) / a) ** 2 + ((py - cy) / b) ** 2 > 1:
                            continue
                    inside += 1
                    break
    return inside / max(total, 1)


def iou(a, b):
    ix, iy = max(0, min(a[2], b[2]) - max(a[0], b[0])), max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0


def score(truth, dump, rules):
    hidden, total, stray = {'face': 0, 'plate': 0}, {'face': 0, 'plate': 0}, 0
    for key, boxes in truth.items():
        rs = regions(dump[key], rules)
        for cls, b in boxes:
            total[cls] += 1
            hidden[cls] += covered(b, rs[cls], ellipse=cls == 'face') >= 0.9
        for cls in rs:
            stray += sum(1 for r in rs[cls] if not any(iou(r, b) > 0.1 for c, b in boxes if c == cls))
    return hidden['face'] / total['face'], hidden['plate'] / total['plate'], stray / len(truth)


def main():
    dump, truth = load_dump(sys.argv[1]), load_truth(sys.argv[2])
    old_padding, head_padding = (0.35, 0.45, 0.35, 0.2), (0.6, 0.8, 0.6, 0.4)
    base = dict(face_threshold=0.5, face_padding=old_padding, plate_pass='plate1280')
    balanced = dict(base, face_padding=head_padding, plate_pass='plate1920', heads=True, occupants=True)
    rows = [
        ('release 0.1 (faces 1920 px, plates 1280 px, face box x1.7)', base),
        ('+ face box grown to ~2.2x, centred above', dict(base, face_padding=head_padding)),
        ('+ plates at 1920 px', dict(base, face_padding=head_padding, plate_pass='plate1920')),
        ('+ head region at the top of each person box', dict(balanced, occupants=False)),
        ('+ vehicle occupants (= balanced, the default)', balanced),
        ('balanced, face threshold 0.4 (rejected)', dict(balanced, face_threshold=0.4)),
        ('balanced + faces searched inside vehicles at 2x (rejected)', dict(balanced, faces_in_vehicles=True)),
        ('balanced + person tops and small vehicles at 2x (= max)', dict(balanced, refine=True)),
    ]
    small = missed = 0
    for key, boxes in truth.items():
        img = dump[key]
        for tag, label, conf, b in img["boxes"]:
            w, h = b[2] - b[0], b[3] - b[1]
            if tag == "ctx" and label == PERSON and conf >= 0.4 and h < 0.055 * img['H']:
                small += 1
                head = [(b[0] + b[2]) / 2 - min(w, 0.5 * h) / 2, b[1] - 0.03 * h, (b[0] + b[2]) / 2 + min(w, 0.5 * h) / 2, b[1] + 0.22 * h]
                missed += not any(iou(head, t) > 0.1 for c, t in boxes if c == 'face')
    print(f'person boxes (score >= 0.4) under 5.5% of the frame height: {small}, '
          f'{missed} of them with no annotated head in their head region')
    print()
    print('| rules | faces | plates | stray / image |')
    print('| --- | --- | --- | --- |')
    for name, rules in rows:
        f, p, s = score(truth, dump, rules)
        print(f'| {name} | {f:.3f} | {p:.3f} | {s:.2f} |')


if __name__ == '__main__':
    main()
