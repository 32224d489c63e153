#pragma once
// Batch arrays: N tasks of a scheduler (a Slurm job array, a Kubernetes Indexed Job, an AWS Batch array job)
// run the same command line, and each takes its share of the inputs. Shares are decided by a hash of each
// input's name, not by its place in the list, so an object uploaded between two tasks' listings moves no other
// input to another task: every input is taken by exactly one task, and a rerun of one failed task takes the
// same inputs again (finished outputs are skipped).
#include <cstdint>
#include <map>
#include <string>

namespace roadveil::service {

struct Shard {
  int index = 0, count = 1;
  std::string note;  // a warning for the user (an array of one task read by "auto"), or empty
  bool takes(const std::string& input_name) const;
  std::string text() const;  // "3/8"
};

// "I/N" (0 <= I < N); "auto" or "auto/N": the index from the scheduler's variables, the count from N or from
// the scheduler. Slurm: "auto" takes SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT;
// a stepped array (--array=0-6:2) counts its tasks (SLURM_ARRAY_TASK_STEP); "auto/N" takes SLURM_ARRAY_TASK_ID itself (arrays 0..N-1), so that one task can be rerun alone with
// --array=K. Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX; AWS Batch: AWS_BATCH_JOB_ARRAY_INDEX (these two
// need "/N"). Throws Error saying which variable is missing or what is wrong.
Shard parse_shard(const std::string& text, const std::map<std::string, std::string>& environment,
                  const std::string& option = "--shard");  // `option` names the option in errors

// FNV-1a, 64 bits: stable across machines, compilers and runs (std::hash is not).
std::uint64_t stable_hash(const std::string& text);

}  // namespace roadveil::service
