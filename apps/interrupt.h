// apps/interrupt.h — Ctrl-C (SIGINT) and SIGTERM while a command works.
//
// Contract: while an InterruptScope lives, the first such signal only sets a flag (interrupted());
// the command finishes its current unit of work and stops cleanly — `train` saves a checkpoint and
// exits 0, `predict` and `evaluate` throw Interrupted (exit 130) so that no partial output stays
// behind. Another signal more than a second later kills the process at once (a user insisting);
// repeats within that second are the same request delivered twice (e.g. `timeout` signals both the
// process and its group). Outside a scope the default actions apply. Scopes nest (e.g. `reproduce`
// around each configuration's training): an inner scope neither clears a signal the outer one saw
// nor restores the default actions when it ends.
#pragma once

#include <atomic>
#include <stdexcept>

namespace sse::app {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted; unfinished outputs were removed") {}
};

class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

bool interrupted();
const std::atomic<bool>* interrupt_flag();
void throw_if_interrupted();

}  // namespace sse::app
