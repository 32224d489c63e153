#pragma once
// Real servers that tests start on 127.0.0.1 and always stop: an S3-compatible store (s3rver from npm,
// installed by scripts/setup.sh into tests/storage/s3rver) and, later, redis-server. Each gets a free port,
// its own data folder, and is killed (with its process group) when the object goes out of scope.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace roadveil::testing {

// A port nothing listens on now (the kernel's choice for an ephemeral bind).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

inline bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

// A child process in its own process group, killed with the group on destruction.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& argv, int port, const std::filesystem::path& log,
                std::chrono::seconds start_limit = std::chrono::seconds(20))
      : ServerProcess(argv, [port] { return accepts_connections(port); }, log, start_limit) {
    port_ = port;
  }
  // Ready when `ready()` says so (a socket file exists...).
  ServerProcess(const std::vector<std::string>& argv, const std::function<bool()>& ready, const std::filesystem::path& log,
                std::chrono::seconds start_limit = std::chrono::seconds(20)) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const std::string log_path = log.string();
      if (FILE* f = std::fopen(log_path.c_str(), "w")) {
        ::dup2(fileno(f), 1);
        ::dup2(fileno(f), 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    const auto deadline = std::chrono::steady_clock::now() + start_limit;
    while (!ready()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(argv[0] + " exited before listening: " + read_text(log));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error(argv[0] + " did not become ready in time: " + read_text(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A shell command run in the background (its output to `log`), to be signalled at a moment the test chooses.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::string& command, const std::filesystem::path& log) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const std::string line = "exec " + command + " > " + quote(log) + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~BackgroundCommand() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status as a shell reports it (128 + signal when killed); waits at most `limit`.
  int wait(std::chrono::seconds limit = std::chrono::seconds(300)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// Polls `condition` every 50 ms for at most `limit`; true when it held.
inline bool eventually(const std::function<bool()>& condition, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

inline std::filesystem::path s3rver_program() {
  return std::filesystem::path(ROADVEIL_SOURCE_DIR) / "tests/storage/s3rver/node_modules/s3rver/bin/s3rver.js";
}

// s3rver on 127.0.0.1 with `buckets` created, serving path-style requests. It knows one access key id, S3RVER
// (another gets 403 InvalidAccessKeyId), and does not verify SigV4 signatures. Node 17+ needs the legacy
// OpenSSL provider for the cipher of its listing continuation tokens.
class S3rver {
 public:
  explicit S3rver(const std::vector<std::string>& buckets) {
    if (!std::filesystem::exists(s3rver_program()))
      throw std::runtime_error(s3rver_program().string() + " is missing: run scripts/setup.sh (npm ci in tests/storage/s3rver)");
    std::vector<std::string> argv = {"node", "--openssl-legacy-provider", s3rver_program().string(), "-d", (dir_ / "data").string(), "-a",
                                     "127.0.0.1", "-p", std::to_string(free_port()), "--silent",
                                     "--no-vhost-buckets"};
    std::filesystem::create_directories(dir_ / "data");
    for (const auto& b : buckets) {
      argv.push_back("--configure-bucket");
      argv.push_back(b);
    }
    process_ = std::make_unique<ServerProcess>(argv, std::stoi(argv[8]), dir_ / "s3rver.log");
  }
  int port() const { return process_->port(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }
  // The environment a roadveil process needs to reach it.
  std::string environment() const {
    return "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL=" + endpoint() +
           " AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent ";
  }
  void stop() { process_->stop(); }

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> process_;
};

// redis-server (Debian's) on 127.0.0.1, in memory only, with its own folder; redis-cli talks to it.
class RedisServer {
 public:
  // With a password, every client must AUTH (redis-cli here gets it through REDISCLI_AUTH).
  explicit RedisServer(std::string password = "") : password_(std::move(password)) { start(free_port()); }
  int port() const { return process_->port(); }
  std::string url(const std::string& stream) const { return "redis://127.0.0.1:" + std::to_string(port()) + "/" + stream; }
  // A redis-cli command's output ("XLEN uploads" -> "3\n").
  std::string cli(const std::string& args) const {
    return run_command((password_.empty() ? "" : "REDISCLI_AUTH=" + quote(password_) + " ") + "redis-cli -p " +
                       std::to_string(port()) + " " + args).output;
  }
  // Killed and started again on the same port, empty (as a Redis without persistence comes back).
  void restart() {
    const int same = port();
    process_.reset();
    start(same);
  }

 private:
  void start(int port) {
    std::vector<std::string> argv{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", dir_.path().string()};
    if (!password_.empty()) {
      argv.push_back("--requirepass");
      argv.push_back(password_);
    }
    process_ = std::make_unique<ServerProcess>(argv, port, dir_ / "redis.log");
  }

  TempDir dir_;
  std::string password_;
  std::unique_ptr<ServerProcess> process_;
};

// A one-node Slurm cluster of this machine, as a user would run on a workstation: munged, slurmctld and slurmd
// (Debian's packages) with a configuration, key and state of their own under a temporary folder, on free
// ports. `sbatch(...)` submits with that configuration. Everything is stopped when the object goes away.
class SlurmCluster {
 public:
  SlurmCluster() {
    namespace fs = std::filesystem;
    for (const char* d : {"munge", "state", "spool", "log"}) fs::create_directories(dir_ / d);
    fs::permissions(dir_ / "munge", fs::perms::owner_all, fs::perm_options::replace);
    const auto key = run_command("mungekey -c -b 1024 -k " + quote(dir_ / "munge/munge.key"));
    if (key.exit_code != 0) throw std::runtime_error("mungekey failed (is munge installed?): " + key.output);
    fs::permissions(dir_ / "munge/munge.key", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    const std::string socket = (dir_ / "munge/socket").string();
    munged_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"munged", "-F", "-f", "--socket=" + socket, "--key-file=" + (dir_ / "munge/munge.key").string(),
                                 "--log-file=" + (dir_ / "log/munged.log").string(), "--pid-file=" + (dir_ / "munge/pid").string(),
                                 "--seed-file=" + (dir_ / "munge/seed").string()},
        [socket] { return std::filesystem::exists(socket); }, dir_ / "log/munged.out");
    host_ = run_command("hostname -s").output;
    while (!host_.empty() && (host_.back() == '\n' || host_.back() == '\r')) host_.pop_back();
    const std::string user = run_command("id -un").output.substr(0, run_command("id -un").output.find('\n'));
    const int ctld_port = free_port(), slurmd_port = free_port();
    std::ofstream(dir_ / "slurm.conf")
        << "ClusterName=roadveiltest\nSlurmctldHost=" << host_ << "(127.0.0.1)\nSlurmctldPort=" << ctld_port
        << "\nSlurmdPort=" << slurmd_port << "\nAuthType=auth/munge\nAuthInfo=socket=" << socket
        << "\nCredType=cred/munge\nSlurmUser=" << user << "\nSlurmdUser=" << user << "\nStateSaveLocation=" << (dir_ / "state").string()
        << "\nSlurmdSpoolDir=" << (dir_ / "spool").string() << "\nSlurmctldPidFile=" << (dir_ / "slurmctld.pid").string()
        << "\nSlurmdPidFile=" << (dir_ / "slurmd.pid").string() << "\nSlurmctldLogFile=" << (dir_ / "log/slurmctld.log").string()
        << "\nSlurmdLogFile=" << (dir_ / "log/slurmd.log").string()
        << "\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none"
           "\nAccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\nSchedulerType=sched/builtin"
           "\nSelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\nMpiDefault=none\nNodeName="
        << host_ << " NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN\nPartitionName=test Nodes=ALL Default=YES "
           "MaxTime=INFINITE State=UP\n";
    const std::string conf = (dir_ / "slurm.conf").string();
    ctld_ = std::make_unique<ServerProcess>(std::vector<std::string>{"slurmctld", "-D", "-f", conf}, ctld_port, dir_ / "log/ctld.out");
    slurmd_ = std::make_unique<ServerProcess>(std::vector<std::string>{"slurmd", "-D", "-f", conf, "-N", host_}, slurmd_port,
                                              dir_ / "log/slurmd.out");
    // The node must have registered before a job can start.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (run_command(environment() + "sinfo -h -o %t").output.find("idle") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the Slurm node did not come up: " + read_text(dir_ / "log/slurmctld.log") + read_text(dir_ / "log/slurmd.log"));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ~SlurmCluster() {
    slurmd_.reset();
    ctld_.reset();
    munged_.reset();
  }
  std::string environment() const { return "SLURM_CONF=" + quote(dir_ / "slurm.conf") + " "; }
  // sbatch --wait ARGS: returns when every task of the job has ended.
  CommandResult sbatch(const std::string& args) const { return run_command(environment() + "timeout 300 sbatch --wait " + args); }
  std::string logs() const { return read_text(dir_ / "log/slurmctld.log") + read_text(dir_ / "log/slurmd.log"); }

 private:
  TempDir dir_;
  std::string host_;
  std::unique_ptr<ServerProcess> munged_, ctld_, slurmd_;
};

}  // namespace roadveil::testing
