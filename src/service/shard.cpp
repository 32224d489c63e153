#include "service/shard.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace roadveil::service {

std::uint64_t stable_hash(const std::string& text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool Shard::takes(const std::string& input_name) const {
  return count <= 1 || stable_hash(input_name) % static_cast<std::uint64_t>(count) == static_cast<std::uint64_t>(index);
}

std::string Shard::text() const { return fmt::format("{}/{}", index, count); }

namespace {

int whole(const std::string& text, const std::string& what, const std::string& option) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size() || v < 0 || v > 1000000) throw Error("");
    return static_cast<int>(v);
  } catch (...) {
    throw Error(fmt::format("{}: {} is '{}', not a whole number from 0 to 1000000", option, what, text));
  }
}

}  // namespace

Shard parse_shard(const std::string& text, const std::map<std::string, std::string>& env, const std::string& option) {
  auto var = [&](const char* name) -> const std::string* {
    const auto it = env.find(name);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  const auto slash = text.find('/');
  const std::string index_text = text.substr(0, slash);
  const std::string count_text = slash == std::string::npos ? "" : text.substr(slash + 1);
  Shard s;
  if (index_text == "auto") {
    if (const auto* id = var("SLURM_ARRAY_TASK_ID")) {
      s.index = whole(*id, "SLURM_ARRAY_TASK_ID", option);
      if (count_text.empty()) {
        // The array's own range: --array=10-13 is four shares, 10 the first. A rerun of one task of it
        // (--array=12) is an array of one: such reruns need the count given (auto/N with --array=0-(N-1)).
        const auto* n = var("SLURM_ARRAY_TASK_COUNT");
        if (!n) throw Error(option + " auto: SLURM_ARRAY_TASK_COUNT is not set; give the count as " + option + " auto/N");
        s.count = whole(*n, "SLURM_ARRAY_TASK_COUNT", option);
        const auto* min = var("SLURM_ARRAY_TASK_MIN");
        const int first = min ? whole(*min, "SLURM_ARRAY_TASK_MIN", option) : 0;
        s.index -= first;
        // --array=0-6:2 is four tasks, 0, 2, 4 and 6: shares 0 to 3 (IDs 4 and 6 were refused, shares 1 and 3
        // never taken).
        const auto* step = var("SLURM_ARRAY_TASK_STEP");
        const int by = step ? std::max(1, whole(*step, "SLURM_ARRAY_TASK_STEP", option)) : 1;
        // A list (--array=1,3,4) is no range of one step: its shares cannot be told from these variables.
        const auto* max = var("SLURM_ARRAY_TASK_MAX");
        if (min && max && whole(*max, "SLURM_ARRAY_TASK_MAX", option) != first + static_cast<long long>(by) * (s.count - 1))
          throw Error(fmt::format("{} auto: the array's task ids are not a range of one step (SLURM_ARRAY_TASK_MIN {}, "
                                  "MAX {}, COUNT {}): give {} auto/N with task ids 0 to N-1", option, *min, *max, s.count, option));
        if (by > 1 && s.index >= 0) {
          if (s.index % by != 0)
            throw Error(fmt::format("{} auto: SLURM_ARRAY_TASK_ID {} is not on the array's step of {} from its first task",
                                    option, *id, by));
          s.index /= by;
        }
        if (s.count == 1)
          s.note = fmt::format("{} auto: an array of one task ({}): it takes every input; a rerun of task {} of an array "
                               "of N is {} auto/N with --array={}", option, *id, *id, option, *id);
      }
    } else if (const auto* k8s = var("JOB_COMPLETION_INDEX")) {
      s.index = whole(*k8s, "JOB_COMPLETION_INDEX", option);
      if (count_text.empty()) throw Error(option + " auto: a Kubernetes Indexed Job does not say its completions: give " + option + " auto/N");
    } else if (const auto* batch = var("AWS_BATCH_JOB_ARRAY_INDEX")) {
      s.index = whole(*batch, "AWS_BATCH_JOB_ARRAY_INDEX", option);
      if (count_text.empty()) throw Error(option + " auto: an AWS Batch array job does not say its size: give " + option + " auto/N");
    } else {
      throw Error(option + " auto: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set "
                  "(not a task of a job array?); give " + option + " I/N");
    }
    if (!count_text.empty()) s.count = whole(count_text, "the count", option);
  } else {
    if (count_text.empty()) throw Error(option + ": '" + text + "' is not I/N (e.g. 0/8) or auto");
    s.index = whole(index_text, "the index", option);
    s.count = whole(count_text, "the count", option);
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    throw Error(fmt::format("{}: task {} of {} does not exist (tasks are 0 to count - 1)", option, s.index, s.count));
  return s;
}

}  // namespace roadveil::service
