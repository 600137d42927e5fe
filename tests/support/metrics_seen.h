// Keeps a /metrics scrape of an end-to-end test for the docs test (tests/scripts/docs.sh), which checks that
// every metric the docs list is served: the scrapes go to BUILD_DIR/metrics-seen/NAME.prom.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace ss::test {

inline void keep_metrics(const std::string& name, const std::string& text) {
  std::filesystem::path dir = std::filesystem::path(SS_BINARY_DIR) / "metrics-seen";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + ".prom")) << text;
}

}  // namespace ss::test
