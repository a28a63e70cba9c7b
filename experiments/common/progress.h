#pragma once
// Progress lines for long runs: each line starts with the elapsed time and an ETA estimated
// from the planned units of work (e.g. model fits weighted by their expected cost) and those
// completed so far. Lines inside a unit are rate-limited so that a tight loop can offer them
// every step.
#include <chrono>
#include <iosfwd>
#include <string>

namespace ember::experiments {

class Progress {
 public:
  explicit Progress(std::ostream& out, double min_interval_seconds = 2.0);

  void plan(double units) { planned_ += units; }
  void complete(double units) { completed_ += units; }
  double elapsed_seconds() const;
  // Seconds left, extrapolated from the rate so far; negative before any unit has completed.
  double eta_seconds() const;

  // Prints "[elapsed | ETA] text" now.
  void line(const std::string& text);
  // Whether an in-unit line is due (the interval has passed since the last line).
  bool due() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream& out_;
  double min_interval_;
  Clock::time_point start_, last_line_;
  double planned_ = 0, completed_ = 0;
};

}  // namespace ember::experiments
