#pragma once
// CVAT's shapes as boxes: what both readers of CVAT XML (dataset conversion's "CVAT for images" and eval's
// "CVAT for video" ground truth) take a shape to cover.
#include <optional>

#include "core/geometry.hpp"
#include "dataset/xml.hpp"

namespace roadveil::dataset {

// The upright box around a CVAT shape (box with its rotation, ellipse, polygon, polyline, points, mask,
// cuboid, skeleton), in pixels; nullopt when its coordinates are not numbers or it is no shape.
std::optional<Box> cvat_shape_bounds(const xml::Element& shape);

}  // namespace roadveil::dataset
