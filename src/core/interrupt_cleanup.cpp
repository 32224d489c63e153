#include "core/interrupt_cleanup.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

namespace roadveil {
namespace {

constexpr int kSlots = 256;
constexpr std::size_t kPathMax = 4096;
// Fixed storage: the handler may not allocate. A slot is readable while its flag is set.
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_ready[kSlots];
std::atomic<unsigned> g_next{0};
std::mutex g_register;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_registered_and_reraise(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_ready[i].load(std::memory_order_acquire)) ::unlink(g_paths[i]);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int sig : kSignals) {
      struct sigaction current {};
      if (::sigaction(sig, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;  // someone else's
      struct sigaction action {};
      action.sa_handler = remove_registered_and_reraise;
      sigemptyset(&action.sa_mask);
      ::sigaction(sig, &action, nullptr);
    }
  });
}

}  // namespace

void remove_on_interrupt(const std::filesystem::path& path) {
  const std::string& text = path.native();
  if (text.empty() || text.size() >= kPathMax) return;
  install_once();
  std::lock_guard lock(g_register);
  // A free slot (never used, or forgotten) first; when all 256 are taken, the oldest registration goes.
  unsigned slot = g_next.fetch_add(1) % kSlots;
  for (unsigned i = 0; i < kSlots; ++i)
    if (!g_ready[(slot + i) % kSlots].load(std::memory_order_acquire)) {
      slot = (slot + i) % kSlots;
      break;
    }
  g_ready[slot].store(false, std::memory_order_release);
  std::memcpy(g_paths[slot], text.c_str(), text.size() + 1);
  g_ready[slot].store(true, std::memory_order_release);
}

void forget_on_interrupt(const std::filesystem::path& path) {
  const std::string& text = path.native();
  std::lock_guard lock(g_register);
  for (int i = 0; i < kSlots; ++i)
    if (g_ready[i].load(std::memory_order_acquire) && text == g_paths[i]) g_ready[i].store(false, std::memory_order_release);
}

}  // namespace roadveil
