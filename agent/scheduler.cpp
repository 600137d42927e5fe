#include "agent/scheduler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace ss::agent {

using Clock = std::chrono::steady_clock;

// One mutex for the scheduler and all workers: cycles are rare (seconds apart) and the critical sections are
// tiny, so contention does not matter and the state transitions stay easy to reason about.
struct Scheduler::Shared {
  std::mutex mu;
  std::condition_variable done_cv;  // a worker finished a job
};

struct Scheduler::Worker {
  std::unique_ptr<Source> source;
  std::string name;
  int64_t timeout_ms = 0;
  int64_t interval_ms = 0;  // 0: every cycle
  std::condition_variable job_cv;
  std::thread thread;

  // Guarded by Shared::mu.
  bool stop = false;
  bool has_job = false;   // a job was handed over and not yet taken
  bool running = false;   // collect() is executing
  bool abandoned = false; // the running call missed its deadline; its output will be discarded
  bool finished = false;  // the output of the last handed-over job is ready
  int64_t job_t_ms = 0;
  Collection result{0};
  std::string error;
  double duration_s = 0;

  bool ever_ran = false;
  int64_t last_start_t_ms = 0;
  bool up = false;
  uint64_t errors = 0;
  double last_duration_s = 0;
  std::shared_ptr<const Collection> latest;
};

uint64_t labels_hash(const Labels& labels) {
  std::hash<std::string_view> h;
  uint64_t v = 0;
  for (const auto& [k, val] : labels) v = (v * 0x100000001b3ull) ^ (h(k) + 0x9e3779b97f4a7c15ull * h(val));
  return v;
}

uint64_t series_hash(const Sample& s) {
  return combine_series_hash(std::hash<std::string_view>{}(s.name), labels_hash(*s.labels));
}

bool same_series(const Sample& a, const Sample& b) {
  return a.name == b.name && (a.labels == b.labels || *a.labels == *b.labels);
}

int64_t align_up(int64_t now_ms, int64_t interval_ms) {
  if (interval_ms <= 0) return now_ms;
  return (now_ms + interval_ms - 1) / interval_ms * interval_ms;
}

Scheduler::Scheduler(std::vector<std::unique_ptr<Source>> sources, SchedulerOptions options)
    : options_(std::move(options)), shared_(std::make_shared<Shared>()) {
  for (auto& s : sources) {
    auto w = std::make_shared<Worker>();
    w->name = std::string(s->name());
    w->interval_ms = s->interval_ms();
    auto it = options_.timeouts_ms.find(w->name);
    w->timeout_ms = it != options_.timeouts_ms.end() ? it->second : options_.default_timeout_ms;
    w->source = std::move(s);
    w->thread = std::thread(&Scheduler::work, shared_, w);
    workers_.push_back(std::move(w));
  }
}

Scheduler::~Scheduler() {
  std::vector<std::shared_ptr<Worker>> stuck;
  {
    std::lock_guard lk(shared_->mu);
    for (auto& w : workers_) {
      w->stop = true;
      w->has_job = false;
      w->job_cv.notify_one();
      if (w->running) stuck.push_back(w);
    }
  }
  for (auto& w : workers_) {
    if (std::find(stuck.begin(), stuck.end(), w) != stuck.end()) {
      log::warn("source {} is still running at shutdown; leaving it behind", w->name);
      w->thread.detach();  // the thread owns a reference to its worker and source
    } else {
      w->thread.join();
    }
  }
}

void Scheduler::work(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> w) {
  std::unique_lock lk(shared->mu);
  for (;;) {
    w->job_cv.wait(lk, [&] { return w->stop || w->has_job; });
    if (w->stop) return;
    w->has_job = false;
    w->running = true;
    int64_t t_ms = w->job_t_ms;
    lk.unlock();

    Collection out(t_ms);
    std::string error;
    auto start = Clock::now();
    try {
      if (auto r = w->source->collect(out); !r) error = r.error().message;
    } catch (const std::exception& e) {
      error = std::string("threw: ") + e.what();
    } catch (...) {
      error = "threw an unknown exception";
    }
    double duration_s = std::chrono::duration<double>(Clock::now() - start).count();

    lk.lock();
    w->running = false;
    if (w->abandoned) {
      w->abandoned = false;
      log::info("source {}: the call that timed out returned after {:.1f}s; it runs again from the next cycle",
                w->name, duration_s);
    } else {
      w->result = std::move(out);
      w->error = std::move(error);
      w->duration_s = duration_s;
      w->finished = true;
    }
    shared->done_cv.notify_all();
  }
}

Outputs Scheduler::run_cycle(int64_t t_ms) {
  Outputs fresh;
  std::unique_lock lk(shared_->mu);
  struct Pending {
    Worker* w;
    Clock::time_point deadline;
  };
  std::vector<Pending> pending;
  auto now = Clock::now();
  for (auto& w : workers_) {
    if (w->running || w->has_job) {
      log::debug("source {} is still stuck in its previous call; not started", w->name);
      continue;
    }
    // A source with its own interval runs when that much time has passed since its last run (with half an agent
    // interval of slack, so a 60 s source on a 10 s agent runs every 6th cycle and not every 7th).
    if (w->ever_ran && w->interval_ms > 0 && t_ms - w->last_start_t_ms < w->interval_ms - options_.interval_ms / 2)
      continue;
    w->ever_ran = true;
    w->last_start_t_ms = t_ms;
    w->job_t_ms = t_ms;
    w->finished = false;
    w->has_job = true;
    w->job_cv.notify_one();
    pending.push_back({w.get(), now + std::chrono::milliseconds(w->timeout_ms)});
  }

  while (!pending.empty()) {
    auto earliest = Clock::time_point::max();
    for (auto it = pending.begin(); it != pending.end();) {
      Worker* w = it->w;
      if (w->finished) {
        w->finished = false;
        w->up = w->error.empty();
        w->last_duration_s = w->duration_s;
        if (!w->up) {
          ++w->errors;
          log::warn("source {} failed: {}", w->name, w->error);
        }
        w->latest = std::make_shared<const Collection>(std::move(w->result));
        w->result = Collection(0);
        fresh.push_back(w->latest);
        it = pending.erase(it);
      } else if (Clock::now() >= it->deadline) {
        w->abandoned = w->running;
        w->has_job = false;  // not taken yet: withdraw it (the worker thread was starved)
        w->up = false;
        ++w->errors;
        w->last_duration_s = static_cast<double>(w->timeout_ms) / 1000.0;
        w->latest = nullptr;
        log::warn("source {} timed out after {}; reported down and not started again until the call returns",
                  w->name, w->timeout_ms >= 1000 ? fmt::format("{}s", w->timeout_ms / 1000.0)
                                                 : fmt::format("{}ms", w->timeout_ms));
        it = pending.erase(it);
      } else {
        earliest = std::min(earliest, it->deadline);
        ++it;
      }
    }
    if (!pending.empty()) shared_->done_cv.wait_until(lk, earliest);
  }
  return fresh;
}

Outputs Scheduler::latest() const {
  std::lock_guard lk(shared_->mu);
  Outputs out;
  for (auto& w : workers_)
    if (w->latest) out.push_back(w->latest);
  return out;
}

void Scheduler::add_self_metrics(Collection& out) const {
  out.describe("stormscope_agent_source_up", MetricKind::Gauge,
               "1 when the source's last run succeeded; 0 when it failed, timed out, is stuck or has not run yet.");
  out.describe("stormscope_agent_source_errors_total", MetricKind::Counter,
               "Runs of the source that returned an error, threw or timed out.");
  out.describe("stormscope_agent_source_duration_seconds", MetricKind::Gauge,
               "Wall time of the source's last run (its timeout when it timed out).");
  std::lock_guard lk(shared_->mu);
  for (auto& w : workers_) {
    Labels l{{"source", w->name}};
    out.add("stormscope_agent_source_up", l, w->up && !w->running ? 1.0 : 0.0);
    out.add("stormscope_agent_source_errors_total", l, static_cast<double>(w->errors));
    out.add("stormscope_agent_source_duration_seconds", l, w->last_duration_s);
  }
}

}  // namespace ss::agent
