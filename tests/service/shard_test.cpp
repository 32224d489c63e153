// Job-array shares (--shard): every input is taken by exactly one task, shares stay put when other inputs come
// and go, the scheduler's variables are read, and a rerun of a task skips what it already made.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/error.hpp"
#include "service/shard.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using roadveil::service::parse_shard;
using roadveil::service::Shard;
using namespace roadveil::testing;

TEST(Shard, EveryInputIsTakenByExactlyOneTaskAndSharesAreEven) {
  for (const int n : {1, 2, 3, 8}) {
    std::vector<int> taken(n, 0);
    for (int i = 0; i < 2000; ++i) {
      const std::string name = "s3://uploads/cam" + std::to_string(i % 7) + "/" + std::to_string(i) + ".mp4";
      int takers = 0;
      for (int k = 0; k < n; ++k)
        if (Shard{k, n, {}}.takes(name)) {
          ++takers;
          ++taken[k];
        }
      ASSERT_EQ(takers, 1) << name << " in " << n << " shards";
    }
    for (int k = 0; k < n; ++k) EXPECT_NEAR(taken[k], 2000.0 / n, 2000.0 / n * 0.15) << k << "/" << n;
  }
  // The hash is fixed (FNV-1a 64): the same name lands in the same share on every machine and version.
  EXPECT_EQ(roadveil::service::stable_hash("a"), 0xaf63dc4c8601ec8cULL);
}

TEST(Shard, ReadsExplicitSharesAndTheSchedulersVariables) {
  const Shard a = parse_shard("3/8", {});
  EXPECT_EQ(a.index, 3);
  EXPECT_EQ(a.count, 8);
  const Shard slurm = parse_shard("auto", {{"SLURM_ARRAY_TASK_ID", "12"}, {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_COUNT", "4"}});
  EXPECT_EQ(slurm.text(), "2/4");
  // A rerun of task 2 alone (sbatch --array=2) is an array of one: with the count given, the task id is used.
  EXPECT_EQ(parse_shard("auto/4", {{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "2"}, {"SLURM_ARRAY_TASK_COUNT", "1"}}).text(), "2/4");
  EXPECT_EQ(parse_shard("auto/5", {{"JOB_COMPLETION_INDEX", "4"}}).text(), "4/5");
  EXPECT_EQ(parse_shard("auto/3", {{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}}).text(), "0/3");
  auto message = [](const std::string& text, const std::map<std::string, std::string>& env) {
    try {
      parse_shard(text, env);
    } catch (const roadveil::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("auto", {}).find("none of SLURM_ARRAY_TASK_ID"), std::string::npos);
  EXPECT_NE(message("auto", {{"JOB_COMPLETION_INDEX", "1"}}).find("give --shard auto/N"), std::string::npos);
  EXPECT_NE(message("8/8", {}).find("task 8 of 8 does not exist"), std::string::npos);
  EXPECT_NE(message("x/2", {}).find("the index is 'x'"), std::string::npos);
  EXPECT_NE(message("3", {}).find("not I/N"), std::string::npos);
  // A task id below the array's first was share -2 of 4: nothing taken, exit 0.
  EXPECT_NE(message("auto", {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "5"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})
                .find("task -2 of 4 does not exist"), std::string::npos);
  // A stepped array (--array=0-6:2: tasks 0, 2, 4, 6) is four shares; 4 and 6 were refused, 1 and 3 never taken.
  const std::map<std::string, std::string> stepped = {{"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_STEP", "2"}};
  std::set<std::string> shares;
  for (const char* id : {"0", "2", "4", "6"}) {
    auto env = stepped;
    env["SLURM_ARRAY_TASK_ID"] = id;
    shares.insert(parse_shard("auto", env).text());
  }
  EXPECT_EQ(shares, (std::set<std::string>{"0/4", "1/4", "2/4", "3/4"}));
  // A rerun of one task of an array with plain "auto" (sbatch --array=5) is an array of one: it takes every
  // input, which is said, with what a rerun of task 5 of N is.
  const Shard alone = parse_shard("auto", {{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "5"}, {"SLURM_ARRAY_TASK_COUNT", "1"}});
  EXPECT_EQ(alone.text(), "0/1");
  EXPECT_NE(alone.note.find("--shard auto/N with --array=5"), std::string::npos) << alone.note;
  EXPECT_NE(parse_shard("auto", {{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "1"}})
                .note.find("takes every input"), std::string::npos);
  EXPECT_EQ(slurm.note, "");
  // A list of ids (--array=1,3,4) is no range: its shares cannot be told, and are not guessed.
  EXPECT_NE(message("auto", {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"},
                             {"SLURM_ARRAY_TASK_COUNT", "3"}}).find("not a range of one step"), std::string::npos);
  EXPECT_EQ(parse_shard("auto", {{"SLURM_ARRAY_TASK_ID", "6"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_MAX", "6"},
                                 {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_STEP", "2"}}).text(), "3/4");
}

TEST(Shard, TasksSplitAFolderAndARerunSkipsWhatIsDone) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (int i = 0; i < 6; ++i)
    std::filesystem::copy_file(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg", dir / "in" / (std::to_string(i) + ".jpg"));
  auto run = [&](const std::string& shard) {
    return run_command(std::string(ROADVEIL_CLI) + " anonymize --progress " + quote(dir / "in") + " -o " + quote(dir / "out") +
                       " --shard " + shard + " --models " + quote(models_dir()));
  };
  const auto a = run("0/2"), b = run("1/2");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  int made = 0;
  for (int i = 0; i < 6; ++i) made += std::filesystem::exists(dir / "out" / (std::to_string(i) + ".jpg"));
  EXPECT_EQ(made, 6);
  // "roadveil: shard 0/2: 3 of 6 inputs" -> 3
  const auto share = [](const std::string& out) { return std::stoi(out.substr(out.find(": ", out.find("shard ")) + 2)); };
  EXPECT_EQ(share(a.output) + share(b.output), 6) << a.output << b.output;
  // A task that took inputs (task 0, or task 1 when the names' hashes gave task 0 none) fails and is run
  // again: what it made is skipped, a damaged output of its own is made again, and the other task's outputs are
  // not touched.
  const int task = share(a.output) > 0 ? 0 : 1;
  int own = 0, mine = -1, other = -1;
  for (int i = 0; i < 6; ++i) {
    const bool taken = Shard{task, 2, {}}.takes(std::to_string(i) + ".jpg");  // its output's name under -o
    own += taken;
    if (taken && mine < 0) mine = i;
    if (!taken && other < 0) other = i;
  }
  ASSERT_EQ(own, share(task == 0 ? a.output : b.output));
  ASSERT_GE(mine, 0);
  std::ofstream(dir / "out" / (std::to_string(mine) + ".jpg"), std::ios::app) << "x";
  if (other >= 0) std::ofstream(dir / "out" / (std::to_string(other) + ".jpg"), std::ios::app) << "x";
  const auto other_size = other >= 0 ? std::filesystem::file_size(dir / "out" / (std::to_string(other) + ".jpg")) : 0;
  const auto again = run(std::to_string(task) + "/2");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("1 file done, " + std::to_string(own - 1) + " skipped"), std::string::npos) << again.output;
  if (own > 1) {
    EXPECT_NE(again.output.find("already made from this input with these settings: skipped"), std::string::npos);
  }
  if (other >= 0) {
    EXPECT_EQ(std::filesystem::file_size(dir / "out" / (std::to_string(other) + ".jpg")), other_size);
  }
}

// Two inputs of one output (A/x.jpg and B/x.jpg into one folder) are refused by one run; given to two tasks
// of an array, each wrote it, exit 0, the last one kept (the clash was looked for within a task's share only).
// And the shares go by the output's name under -o, not by the input's path as typed: tasks given "in", "./in"
// and the absolute path took some inputs twice and four of ten never.
TEST(Shard, TasksRefuseOutputsOfTwoInputsAndShareByNameHoweverTheFolderIsWritten) {
  TempDir dir;
  for (const char* sub : {"A", "B"}) std::filesystem::create_directories(dir / sub);
  const auto picture = shared_dir() / "eval/faces-street/images/maksssksksss0.jpg";
  std::filesystem::copy_file(picture, dir / "A" / "x.jpg");
  std::filesystem::copy_file(picture, dir / "B" / "x.jpg");
  auto run = [&](const std::string& args) {
    return run_command("cd " + quote(dir.path()) + " && " + std::string(ROADVEIL_CLI) + " anonymize --progress " + args +
                       " --models " + quote(models_dir()));
  };
  for (const char* shard : {"0/2", "1/2"}) {
    const auto r = run("A B -o clash --shard " + std::string(shard));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("would be the output of both"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "clash" / "x.jpg"));

  std::filesystem::create_directories(dir / "in" / "sub");
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) {
    const std::string name = (i % 3 == 0 ? "sub/" : "") + std::to_string(i) + ".jpg";
    std::filesystem::copy_file(picture, dir / "in" / name);
    names.push_back(name);
  }
  int done = 0;
  const std::vector<std::string> spellings = {"in", "./in/", (dir / "in").string()};
  for (int task = 0; task < 3; ++task) {
    const auto r = run(quote(spellings[task]) + " -o " + (task == 1 ? std::string("./out/") : quote(dir / "out")) +
                       " --shard " + std::to_string(task) + "/3");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("skipped"), std::string::npos) << "an input taken twice: " << r.output;
    const auto at = r.output.find(" files done");
    const auto one = r.output.find(" file done");
    done += std::stoi(r.output.substr(r.output.rfind(' ', (at != std::string::npos ? at : one) - 1) + 1));
  }
  EXPECT_EQ(done, 10);
  for (const std::string& name : names) EXPECT_TRUE(std::filesystem::exists(dir / "out" / name)) << name;
  // One file to the name given (a script running roadveil once per file) is shared by that name: relative to
  // itself every name was ".", all of them one task's.
  std::set<int> tasks;
  for (int i = 0; i < 4; ++i) tasks.insert(Shard{0, 2, {}}.takes("single/" + std::to_string(i) + ".jpg") ? 0 : 1);
  ASSERT_EQ(tasks.size(), 2u);  // these four names land in both tasks
  int made[2] = {0, 0};
  for (int task = 0; task < 2; ++task)
    for (int i = 0; i < 4; ++i) {
      const auto r = run("in/1.jpg -o single/" + std::to_string(i) + ".jpg --shard " + std::to_string(task) + "/2");
      ASSERT_EQ(r.exit_code, 0) << r.output;
      made[task] += r.output.find(" 1 file done") != std::string::npos;
    }
  EXPECT_EQ(made[0] + made[1], 4);
  EXPECT_GT(made[0], 0);
  EXPECT_GT(made[1], 0);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(std::filesystem::exists(dir / "single" / (std::to_string(i) + ".jpg"))) << i;
}

// A real job array: a one-node Slurm (munged, slurmctld, slurmd from Debian, started by the test) runs
// `sbatch --array=0-2` of the documented script shape; the three tasks share the folder, each input once.
// Then one task is rerun alone (--array=K, --shard auto/3): it takes the same inputs and skips them all.
TEST(Shard, ASlurmJobArraySharesAFolderAndATaskRerunsAlone) {
  SlurmCluster slurm;
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (int i = 0; i < 6; ++i)
    std::filesystem::copy_file(shared_dir() / "eval/faces-street/images/maksssksksss0.jpg", dir / "in" / (std::to_string(i) + ".jpg"));
  std::ofstream(dir / "job.sh") << "#!/bin/sh\n"
                                << "exec " << ROADVEIL_CLI << " anonymize --progress " << quote(dir / "in") << " -o "
                                << quote(dir / "out") << " --shard auto/3 --threads 1 --models " << quote(models_dir()) << "\n";
  std::filesystem::permissions(dir / "job.sh", std::filesystem::perms::owner_all, std::filesystem::perm_options::add);
  const std::string logs = (dir / "task-%a.log").string();
  auto r = slurm.sbatch("--array=0-2 -c 1 -o " + quote(logs) + " " + quote(dir / "job.sh"));
  ASSERT_EQ(r.exit_code, 0) << r.output << slurm.logs();
  int total = 0, busiest = 0, own = -1;
  for (int t = 0; t < 3; ++t) {
    const std::string log = read_text(dir / ("task-" + std::to_string(t) + ".log"));
    const auto at = log.find("shard " + std::to_string(t) + "/3: ");
    ASSERT_NE(at, std::string::npos) << log;
    const int taken = std::stoi(log.substr(at + 10));
    total += taken;
    if (taken > own) {
      own = taken;
      busiest = t;
    }
  }
  EXPECT_EQ(total, 6);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::filesystem::exists(dir / "out" / (std::to_string(i) + ".jpg"))) << i;

  // The rerun is of a task that took inputs: shares follow the names, which hold the test's random folder, so
  // one task of three takes none now and then (and its rerun has nothing to skip).
  const std::string k = std::to_string(busiest);
  r = slurm.sbatch("--array=" + k + " -c 1 -o " + quote((dir / "rerun-%a.log").string()) + " " + quote(dir / "job.sh"));
  ASSERT_EQ(r.exit_code, 0) << r.output << slurm.logs();
  const std::string rerun = read_text(dir / ("rerun-" + k + ".log"));
  EXPECT_NE(rerun.find("shard " + k + "/3: " + std::to_string(own) + " of 6"), std::string::npos) << rerun;
  EXPECT_NE(rerun.find("0 files done, " + std::to_string(own) + " skipped"), std::string::npos) << rerun;
}

// One long file on a Slurm cluster with the documented script (deploy/slurm-split.sh): an array of two tasks
// makes one part each (--segment auto/2), and a job that depends on the array joins them. The joined file has
// every frame and audio packet of the input.
TEST(Shard, TheDocumentedSlurmScriptSplitsOneFileAndJoinsIt) {
  SlurmCluster slurm;
  TempDir dir;
  const auto in = dir / "long.mp4", out = dir / "out" / "long.mp4";
  ffmpeg_make("-i " + quote(shared_dir() / "eval/videos/intel_one-by-one-person-detection.mp4") +
              " -f lavfi -i sine=frequency=440:sample_rate=48000 -t 12 -map 0:v -map 1:a -c:v libx264 -preset veryfast "
              "-g 40 -c:a aac -shortest " + quote(in));
  const std::string bin = std::filesystem::path(ROADVEIL_CLI).parent_path().string();
  const auto submit = run_command("cd " + quote(dir.path()) + " && " + slurm.environment() + "PATH=" + quote(bin) +
                                  ":$PATH ROADVEIL_MODELS=" + quote(models_dir()) +
                                  " PART_RESOURCES='-c 1' JOIN_RESOURCES='-c 1' timeout 60 " +
                                  quote(std::filesystem::path(ROADVEIL_SOURCE_DIR) / "deploy/slurm-split.sh") + " " +
                                  quote(in) + " " + quote(out) + " 2");
  ASSERT_EQ(submit.exit_code, 0) << submit.output << slurm.logs();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(out.string() + ".audit.json"); }, std::chrono::seconds(240)))
      << slurm.logs();
  const std::string logs = run_command("cat " + quote(dir.path()) + "/roadveil-*.log").output;
  auto packets = [](const std::filesystem::path& f, const char* stream) {
    return ffprobe("-select_streams " + std::string(stream) + " -count_packets -show_entries stream=nb_read_packets -of csv=p=0 " + quote(f));
  };
  EXPECT_EQ(packets(out, "v"), packets(in, "v")) << logs;
  EXPECT_EQ(packets(out, "a"), packets(in, "a")) << logs;
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".part-0-of-2.mp4"));
}
