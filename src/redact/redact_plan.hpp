#pragma once
// From the regions of one frame to hidden pixels: the box of each region becomes the integer rect that
// covers it completely, hidden with the style chosen for its class.
#include <array>

#include "core/region.hpp"
#include "redact/redactor.hpp"

namespace roadveil::redact {

using ClassStyles = std::array<StyleOptions, kMaxObjectClasses>;  // indexed by ObjectClass

// The integer rect a region's box hides: covering the box completely, clamped to the frame (empty for a
// box outside it or with non-finite coordinates).
PixelRect hidden_rect(const Box& box, int width, int height);

// The style a region is hidden with: its class's, as a box where drawn_as_ellipse says so.
StyleOptions style_for(const Region& region, const ClassStyles& styles);

// Regions are applied in order; a box partly or wholly outside the frame is clamped to it.
void redact_regions(Redactor& redactor, AVFrame& frame, const Regions& regions, const ClassStyles& styles);

// Draws every region on a GRAY8 mask frame (white = hidden) with the shape it is hidden with, so the review
// output shows exactly what redact_regions hid.
void draw_region_mask(AVFrame& mask, const Regions& regions, const ClassStyles& styles);

}  // namespace roadveil::redact
