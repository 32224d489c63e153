# Writes a tiny ONNX "detector" of dark squares, in the layout of a YOLOv8 export, for the tests of classes
# of one's own (Debian's python3-onnx and numpy). Unlike make_tiny_yolo.py's fixed box it looks at its input,
# so it finds a square wherever a whole frame or a search window shows it, at any scale:
#
#   /usr/bin/python3 make_square_detector.py OUT.onnx
#
# Input "images" [1, 3, H, W] (any size, values 0..1); output "output0" [1, 5, 1]: the centre (cx, cy) of the
# dark pixels (grey < 0.3, so that the letterbox padding, 114/255, is not dark), a side of sqrt(their count)
# for both width and height, and a score of 0.9 when there are any (0 otherwise). One square per picture.
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument("out")
a = p.parse_args()

def const(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)

nodes = [
    helper.make_node("ReduceMean", ["images"], ["grey"], axes=[1], keepdims=1),  # [1, 1, H, W]
    helper.make_node("Sub", ["threshold", "grey"], ["below"]),
    helper.make_node("Mul", ["below", "ten"], ["steep"]),
    helper.make_node("Clip", ["steep", "zero", "one"], ["dark"]),  # 1 where dark, 0 where not
    helper.make_node("Shape", ["images"], ["shape"]),
    helper.make_node("Gather", ["shape", "index_h"], ["h"], axis=0),
    helper.make_node("Gather", ["shape", "index_w"], ["w"], axis=0),
    helper.make_node("Range", ["start", "h", "step"], ["rows_i"]),
    helper.make_node("Range", ["start", "w", "step"], ["cols_i"]),
    helper.make_node("Cast", ["rows_i"], ["rows_f"], to=TensorProto.FLOAT),
    helper.make_node("Cast", ["cols_i"], ["cols_f"], to=TensorProto.FLOAT),
    helper.make_node("Add", ["rows_f", "half"], ["rows_c"]),  # pixel centres
    helper.make_node("Add", ["cols_f", "half"], ["cols_c"]),
    helper.make_node("Reshape", ["rows_c", "row_shape"], ["ys"]),  # [1, 1, H, 1]
    helper.make_node("Reshape", ["cols_c", "col_shape"], ["xs"]),  # [1, 1, 1, W]
    helper.make_node("ReduceSum", ["dark", "all_axes"], ["count"], keepdims=1),  # [1, 1, 1, 1]
    helper.make_node("Mul", ["dark", "xs"], ["dark_x"]),
    helper.make_node("Mul", ["dark", "ys"], ["dark_y"]),
    helper.make_node("ReduceSum", ["dark_x", "all_axes"], ["sum_x"], keepdims=1),
    helper.make_node("ReduceSum", ["dark_y", "all_axes"], ["sum_y"], keepdims=1),
    helper.make_node("Add", ["count", "tiny"], ["count_safe"]),
    helper.make_node("Div", ["sum_x", "count_safe"], ["cx"]),
    helper.make_node("Div", ["sum_y", "count_safe"], ["cy"]),
    helper.make_node("Sqrt", ["count"], ["side"]),
    helper.make_node("Clip", ["count", "zero", "one"], ["seen"]),
    helper.make_node("Mul", ["seen", "score"], ["confidence"]),
    helper.make_node("Concat", ["cx", "cy", "side", "side", "confidence"], ["values"], axis=1),  # [1, 5, 1, 1]
    helper.make_node("Reshape", ["values", "out_shape"], ["output0"]),
]
initializers = [
    const("threshold", 0.3), const("ten", 10.0), const("zero", 0.0), const("one", 1.0), const("half", 0.5),
    const("tiny", 1e-6), const("score", 0.9),
    const("index_h", 2, np.int64), const("index_w", 3, np.int64),
    const("start", 0, np.int64), const("step", 1, np.int64),
    const("row_shape", [1, 1, -1, 1], np.int64), const("col_shape", [1, 1, 1, -1], np.int64),
    const("all_axes", [1, 2, 3], np.int64), const("out_shape", [1, 5, 1], np.int64),
]
graph = helper.make_graph(
    nodes, "square_detector",
    [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "height", "width"])],
    [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 5, 1])],
    initializers,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="roadveil tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, a.out)
