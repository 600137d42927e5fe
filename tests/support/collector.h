// A real collector for tests: listens on a free loopback port and stores in `dir`, configured by `yaml`
// (any collector configuration; listen and db are set here). Null, with the reason reported, when it fails.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "collector/collector.h"
#include "common/config.h"

namespace ss::testing {

inline std::unique_ptr<collector::Collector> start_collector(const std::string& dir, const std::string& yaml = "") {
  auto root = config::load_string(yaml);
  EXPECT_TRUE(root.ok());
  (*root)["listen"] = "127.0.0.1:0";
  (*root)["db"] = dir + "/db.sqlite";
  auto cfg = collector::read_collector_config(*root);
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  auto c = collector::Collector::start(*cfg);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : nullptr;
}

}  // namespace ss::testing
