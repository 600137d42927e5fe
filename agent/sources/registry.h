// Builds the sources named in the `sources:` section of the agent configuration.
// Each source lives in agent/sources/<name>/ and provides a factory that reads its own section
// (rejecting unknown keys) and returns nullptr when it is switched off.
#pragma once

#include <memory>
#include <vector>

#include "agent/source.h"
#include "common/config.h"

namespace ss::agent {

// `sources` is the `sources:` mapping of the agent's YAML file (an empty mapping when absent).
Result<std::vector<std::unique_ptr<Source>>> make_sources(const config::Section& sources, const AgentContext& ctx);

}  // namespace ss::agent
