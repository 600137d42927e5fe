#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/time.h"

namespace ss::log {

static std::atomic<int> g_level{static_cast<int>(Level::Info)};
static std::mutex g_mu;

void set_level(Level level) { g_level = static_cast<int>(level); }

bool parse_level(std::string_view t, Level& out) {
  if (t == "debug") out = Level::Debug;
  else if (t == "info") out = Level::Info;
  else if (t == "warn" || t == "warning") out = Level::Warn;
  else if (t == "error") out = Level::Error;
  else return false;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info ", "warn ", "error"};
  std::string line = fmt::format("{} {} {}\n", format_rfc3339(now_ms()), kNames[static_cast<int>(level)], message);
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ss::log
