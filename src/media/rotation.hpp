#pragma once
// Pictures stored sideways: a phone photo with an EXIF orientation, a video with a display matrix. People
// and plates must be looked for upright (the networks were trained on upright pictures: a sideways portrait
// photo hid 3 of its 7 faces), while the pixels are hidden where they are stored, so that the output keeps
// the file's own orientation tag. These helpers make the upright view for detection and map boxes found in
// it back to stored pixels.
#include <cstdint>

#include "core/geometry.hpp"
#include "media/ffmpeg_util.hpp"

namespace roadveil::media {

// Clockwise rotation (0, 90, 180, 270) that shows `frame` upright, from its display matrix (the JPEG
// decoder attaches one for an EXIF orientation). A mirrored picture is turned upright and left mirrored: a
// mirrored face is still a face.
int frame_rotation_degrees(const AVFrame& frame);
// The same from a display matrix (nine 16.16 / 2.30 values, as FFmpeg keeps them).
int display_matrix_rotation_degrees(const std::int32_t* matrix);
// Whether a display matrix mirrors the picture (EXIF orientations 2, 4, 5, 7; a video flipped by its matrix).
bool display_matrix_mirrors(const std::int32_t* matrix);

// A copy of `frame` rotated clockwise by `degrees` (90, 180 or 270). Planar formats whose chroma is
// subsampled alike in both directions are rotated as they are; others are converted to YUV 4:4:4 first
// (for detection only, so 8 bits suffice). Throws Error when the format cannot be converted.
FramePtr rotated_copy(const AVFrame& frame, int degrees);
// The same into `out`, whose buffers are reused when they already have the rotated size and format (the
// video path turns every searched frame: no allocation per frame in steady state).
void rotate_into(const AVFrame& frame, int degrees, FramePtr& out);

// A box found in the view rotated clockwise by `degrees`, in the pixels of the stored frame of size
// stored_width x stored_height.
Box box_in_stored_frame(const Box& upright, int degrees, int stored_width, int stored_height);
// The inverse: a box in the stored frame, in the view rotated clockwise by `degrees`.
Box box_in_upright_frame(const Box& stored, int degrees, int stored_width, int stored_height);

}  // namespace roadveil::media
