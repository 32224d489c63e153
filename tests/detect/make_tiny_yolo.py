# Writes a tiny ONNX "detector" whose output is a known box, in the layout of a YOLOv8 export, so that tests
# of models described by manifests do not depend on downloaded weights (Debian's python3-onnx and numpy).
#
#   /usr/bin/python3 make_tiny_yolo.py OUT.onnx --classes C --box CX CY W H --class K --score S [--size W H]
#
# Input "images" [1, 3, H, W] (fixed with --size, else any size); output "output0" [1, 4 + C, 1]: one anchor
# with the box (input-tensor pixels) and score S for class K, 0 for the others. The output depends on the
# input (plus 0 x its mean) so that no runtime drops the input as unused.
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--classes", type=int, default=1)
p.add_argument("--box", type=float, nargs=4, required=True)
p.add_argument("--class", dest="cls", type=int, default=0)
p.add_argument("--score", type=float, default=0.9)
p.add_argument("--size", type=int, nargs=2)
a = p.parse_args()

values = np.zeros((1, 4 + a.classes, 1), dtype=np.float32)
values[0, 0:4, 0] = a.box
values[0, 4 + a.cls, 0] = a.score
w, h = (a.size if a.size else ("width", "height"))
graph = helper.make_graph(
    [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "zero"], ["nothing"]),
        helper.make_node("Add", ["detections", "nothing"], ["output0"]),
    ],
    "tiny_yolo",
    [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])],
    [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + a.classes, 1])],
    [
        numpy_helper.from_array(values, "detections"),
        numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), "shape"),
        numpy_helper.from_array(np.zeros((1, 1, 1), dtype=np.float32), "zero"),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="roadveil tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, a.out)
