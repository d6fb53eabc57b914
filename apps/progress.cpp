// Log lines and progress bars on stderr (contract in apps/progress.h).
#include "apps/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace sse::app {

using Json = nlohmann::json;

Reporter::Reporter(const GlobalOptions& g) : quiet_(g.quiet), json_(g.log_json), tty_(isatty(STDERR_FILENO) != 0) {}

Reporter Reporter::silent() {
  GlobalOptions g;
  g.quiet = true;
  return Reporter(g);
}

Reporter Reporter::muted() {
  Reporter r = silent();
  r.muted_ = true;
  return r;
}

void Reporter::info(const std::string& event, const std::string& message, const Json& fields) const {
  if (quiet_) return;
  if (!json_) {
    std::cerr << message << "\n";
    return;
  }
  Json j{{"event", event}, {"message", message}};
  if (fields.is_object()) j.update(fields);
  std::cerr << j.dump() << "\n";
}

void Reporter::warn(const std::string& message) const {
  if (muted_) return;
  if (json_)
    std::cerr << Json{{"event", "warning"}, {"message", message}}.dump() << "\n";
  else
    std::cerr << "sseunet: warning: " << message << "\n";
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

Progress::Progress(const Reporter& r, std::string label, std::string unit, long long total, long long start)
    : r_(r),
      label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_count_(start),
      done_(start),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  // An exception unwinding through a drawn bar must not leave the cursor mid-line.
  if (drawn_ && !finished_ && r_.tty() && !r_.json_lines()) std::cerr << "\n";
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(long long done, const std::string& extra, const Json& fields) {
  done_ = done;
  extra_ = extra;
  fields_ = fields;
  if (r_.quiet() || done >= total_) return;  // the last state is drawn once, by finish()
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  const double period = r_.json_lines() ? 1.0 : (r_.tty() ? 0.1 : 10.0);
  if (!drawn_ || since >= period) draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!r_.quiet()) draw(true);
}

void Progress::draw(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  drawn_ = true;
  const double t = elapsed();
  const double rate = t > 0 ? double(done_ - start_count_) / t : 0.0;
  const double eta = rate > 0 ? double(total_ - done_) / rate : NAN;
  if (r_.json_lines()) {
    Json j{{"event", "progress"},
           {"what", label_},
           {"done", done_},
           {"total", total_},
           {"rate_per_s", rate},
           {"elapsed_s", t},
           {"eta_s", final ? 0.0 : (std::isfinite(eta) ? eta : -1.0)}};
    if (fields_.is_object()) j.update(fields_);
    std::cerr << j.dump() << "\n";
    return;
  }
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? int(double(kWidth) * double(done_) / double(total_)) : 0;
  char rate_s[32];
  std::snprintf(rate_s, sizeof rate_s, rate >= 10 ? "%.0f" : "%.2f", rate);
  std::string line = label_ + " [" + std::string(std::size_t(filled), '#') +
                     std::string(std::size_t(kWidth - filled), '.') + "] " + std::to_string(done_) + "/" +
                     std::to_string(total_) + " " + unit_ + "  " + rate_s + " " + unit_ + "/s  " +
                     (final ? "took " + format_duration(t) : "ETA " + format_duration(eta));
  if (!extra_.empty()) line += "  " + extra_;
  if (r_.tty())
    std::cerr << "\r" << line << "\033[K" << (final ? "\n" : "") << std::flush;
  else
    std::cerr << line << "\n";
}

}  // namespace sse::app
