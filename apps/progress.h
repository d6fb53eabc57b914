// apps/progress.h — what the subcommands tell the user while they run: log lines and progress bars,
// all on stderr (stdout carries only a command's product: `info` text, `evaluate` tables).
//
// Contract:
//  * Reporter::info prints a log line unless --quiet; with --log-json it prints one JSON object per
//    line instead: {"event": ..., "message": ..., <fields>}. Reporter::warn prints even under
//    --quiet (a warning is something the user must see).
//  * Progress draws "label [####....] done/total unit  rate unit/s  ETA m:ss  <extra>": redrawn in place
//    (\r) at most 10 times a second when stderr is a terminal, otherwise as a plain line at most every
//    10 s, so logs of cluster jobs stay readable. With --log-json: a {"event":"progress", ...} object
//    at most once a second. Nothing under --quiet. finish() prints the final state once.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/app.h"

namespace sse::app {

class Reporter {
 public:
  explicit Reporter(const GlobalOptions& g);
  static Reporter silent();  // prints warnings only, as under --quiet
  // Prints nothing at all: a data-parallel rank other than 0, whose rank 0 says the same things.
  static Reporter muted();
  void info(const std::string& event, const std::string& message, const nlohmann::json& fields = {}) const;
  void warn(const std::string& message) const;
  bool quiet() const { return quiet_; }
  bool json_lines() const { return json_; }
  bool tty() const { return tty_; }

 private:
  bool quiet_, json_, tty_, muted_ = false;
};

class Progress {
 public:
  // `start`: units already done before this run (a resumed training), left out of the rate.
  Progress(const Reporter& r, std::string label, std::string unit, long long total, long long start = 0);
  ~Progress();
  // `done` units so far; `extra` is appended to the bar (e.g. "loss 0.412"), `fields` to the JSON line.
  void update(long long done, const std::string& extra = "", const nlohmann::json& fields = {});
  void finish();

 private:
  void draw(bool final);
  double elapsed() const;

  const Reporter& r_;
  std::string label_, unit_, extra_;
  nlohmann::json fields_;
  long long total_, start_count_, done_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false, finished_ = false;
};

// "1:05" or "2:03:09".
std::string format_duration(double seconds);

}  // namespace sse::app
