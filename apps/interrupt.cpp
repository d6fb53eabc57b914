// Signal handling for clean stops (contract in apps/interrupt.h).
#include "apps/interrupt.h"

#include <csignal>
#include <ctime>

namespace sse::app {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<long long> g_first_signal_ns{0};
int g_depth = 0;  // live scopes; only the outermost installs and restores the handlers

long long monotonic_ns() {  // clock_gettime is async-signal-safe
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

extern "C" void on_signal(int sig) {
  if (!g_stop.exchange(true)) {
    g_first_signal_ns.store(monotonic_ns());
  } else if (monotonic_ns() - g_first_signal_ns.load() > 1000000000LL) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

InterruptScope::InterruptScope() {
  if (g_depth++ > 0) return;
  g_stop.store(false);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

InterruptScope::~InterruptScope() {
  if (--g_depth > 0) return;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

bool interrupted() { return g_stop.load(); }
const std::atomic<bool>* interrupt_flag() { return &g_stop; }

void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

}  // namespace sse::app
