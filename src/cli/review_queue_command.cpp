// `roadveil review-queue REGIONS.json... [--verify REPORT.json]... [--budget 5%|N]`: the frames a person should
// check first, riskiest first (review/queue.hpp).
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "review/contact_sheet.hpp"
#include "review/queue.hpp"
#include "review/verify.hpp"

namespace roadveil::cli {

namespace {

// "5%" of the frames, or a number of frames.
std::int64_t parse_budget(const std::string& text, std::int64_t total_frames) {
  try {
    std::size_t used = 0;
    if (!text.empty() && text.back() == '%') {
      const double share = std::stod(text.substr(0, text.size() - 1), &used);
      if (used != text.size() - 1 || !(share > 0) || share > 100) throw std::invalid_argument(text);
      return std::max<std::int64_t>(1, std::llround(share / 100.0 * static_cast<double>(total_frames)));
    }
    const long long n = std::stoll(text, &used);
    if (used != text.size() || n < 1) throw std::invalid_argument(text);
    return n;
  } catch (const std::exception&) {
    throw Error("--budget " + text + ": give a share of the frames (5%) or a number of frames (300)");
  }
}

}  // namespace

void add_review_queue_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("review-queue", "Rank the frames of anonymized videos by the risk that something is still exposed, for a person to check first");
  struct State {
    std::vector<std::string> regions, verify;
    std::string budget = "5%", json_path, contact_sheet;
    review::QueueOptions options;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("regions", state->regions, "Regions files written by anonymize --detections")->required();
  cmd->add_option("--verify", state->verify, "verify --json reports of the same files: what they found goes first");
  cmd->add_option("--budget", state->budget, "How many frames to queue: a share of all frames (5%) or a number (300)")->capture_default_str();
  cmd->add_option("--reach", state->options.reach_frames, "Frames before a track's first region and after its last where its object may still be visible")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--json", state->json_path, "Write the queue as JSON to this file (- for stdout)");
  cmd->add_option("--contact-sheet", state->contact_sheet, "Write pages of thumbnails of the queued frames (regions outlined, the spot to check in red, frame, time code, risk) to this folder: queue-001.png, ...");
  cmd->callback([state, &action] {
    action = [state] {
      auto& s = *state;
      {
        std::vector<std::string> read = s.regions;
        read.insert(read.end(), s.verify.begin(), s.verify.end());
        refuse_report_over_inputs(s.json_path, read);
      }
      std::vector<pipeline::RegionsEntry> entries;
      for (const auto& path : s.regions) {
        const auto file = pipeline::RegionsFile::read(path);
        entries.insert(entries.end(), file.entries().begin(), file.entries().end());
      }
      std::vector<review::ExposedFinding> verified;
      for (const auto& path : s.verify) {
        const auto found = review::read_verify_report(path);
        verified.insert(verified.end(), found.begin(), found.end());
      }
      std::int64_t total = 0;
      bool counts_known = true;
      for (const auto& e : entries) {
        counts_known = counts_known && e.info.frame_count > 0;
        total += e.frame_total();
      }
      if (!counts_known)
        std::cerr << "roadveil: warning: a regions file does not say how many frames its video has (written by an older "
                     "roadveil): its frames are counted up to the last one with regions\n";
      std::size_t unmatched = 0;
      for (const auto& v : verified) unmatched += !review::entry_of_finding(v, entries).has_value();
      // Findings not ranked are frames a person is never shown: the queue is still written, but the exit says
      // it is incomplete (two cameras' out/v.mp4 dropped ten exposed frames with exit 0).
      if (unmatched > 0)
        std::cerr << "roadveil: error: " << unmatched << " finding(s) of the verify report are of files none of the "
                     "regions files names (or names twice): not ranked; give each camera's regions file and report in "
                     "a run of its own\n";
      const auto ranked = review::rank_frames(entries, verified, s.options);
      const std::int64_t budget = parse_budget(s.budget, total);
      const std::size_t queued = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(budget));
      if (s.json_path != "-") {
        std::cout << queued << " of " << total << " frames queued (" << ranked.size() << " with a reason to look)\n";
        for (std::size_t i = 0; i < queued && i < 20; ++i) {
          const auto& q = ranked[i];
          const auto& r = q.reasons.front();
          std::printf("%3zu. %s frame %lld %s risk %.2f: %s (%s%s)\n", i + 1, entries[q.entry].info.input.c_str(),
                      static_cast<long long>(q.frame), review::timecode(q.time).c_str(), q.risk, r.what.c_str(),
                      std::string(to_string(r.cls)).c_str(), r.track >= 0 ? (", track " + std::to_string(r.track)).c_str() : "");
        }
        if (queued > 20) std::cout << "... (--json for all)\n";
      }
      if (!s.json_path.empty()) {
        nlohmann::json list = nlohmann::json::array();
        for (std::size_t i = 0; i < queued; ++i) list.push_back(review::to_json(ranked[i], entries[ranked[i].entry]));
        write_json_report({{"frames", total}, {"budget", budget}, {"with_reason", ranked.size()}, {"queue", std::move(list)}},
                          s.json_path);
      }
      if (!s.contact_sheet.empty()) {
        const std::vector<review::QueuedFrame> top(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(queued));
        const auto pages = review::write_contact_sheets(top, entries, s.contact_sheet);
        if (s.json_path != "-")
          std::cout << "contact sheet: " << pages.size() << " page" << (pages.size() == 1 ? "" : "s") << " in " << s.contact_sheet << "\n";
      }
      return unmatched > 0 ? kExitPartialFailure : kExitOk;
    };
  });
}

}  // namespace roadveil::cli
