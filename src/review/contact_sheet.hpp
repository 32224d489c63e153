#pragma once
// Contact sheets of the review queue: pages of thumbnails (PNG), riskiest first, each with the frame's hidden
// regions outlined (faces blue, plates yellow), the spot the queue points at in red, and a label with the
// frame number, time code and risk, so that a person can skim the top of the queue before opening the
// editor. Thumbnails come from the anonymized output when it is there (what will be published), else the
// input.
#include <filesystem>
#include <vector>

#include "pipeline/regions_file.hpp"
#include "review/queue.hpp"

namespace roadveil::review {

struct ContactSheetOptions {
  int columns = 4;
  int rows = 5;
  int thumbnail_width = 384;  // pixels; the height follows the video's aspect ratio
};

// Writes DIR/queue-001.png, queue-002.png, ... for `queue` in order and returns their paths. Throws Error
// naming the file that cannot be read or written.
std::vector<std::filesystem::path> write_contact_sheets(const std::vector<QueuedFrame>& queue,
                                                        const std::vector<pipeline::RegionsEntry>& entries,
                                                        const std::filesystem::path& dir,
                                                        const ContactSheetOptions& options = {});

// The 5x7 pixel glyphs the labels use (digits, ':', '.', ' ', 'f', 'r', '#'); other characters draw as blanks.
// Exposed for the test that reads a label back.
const unsigned char* glyph(char c);

}  // namespace roadveil::review
