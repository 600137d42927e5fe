#include "agent/sources/registry.h"

#include <exception>
#include <string_view>

#include "agent/sources/beegfs/beegfs_source.h"
#include "agent/sources/gpu/gpu_source.h"
#include "agent/sources/mounts/mounts_source.h"
#include "agent/sources/weka/weka_source.h"
// One include per source, for example:
// #include "agent/sources/lustre/lustre_source.h"

namespace ss::agent {
namespace {

using Factory = Result<std::unique_ptr<Source>> (*)(const config::Section&, const AgentContext&);

// Every source the agent knows, in the order they are started. To add one, write
// `Result<std::unique_ptr<Source>> make_<name>_source(const config::Section&, const AgentContext&)` (return
// nullptr when the section switches it off; reject unknown keys with section.allow_only) and add one line:
//   {"lustre", make_lustre_source},
// Its YAML section is `sources.<name>` (an empty mapping when absent).
const std::pair<std::string_view, Factory> kFactories[] = {
    {"mounts", make_mounts_source},
    {"beegfs", make_beegfs_source},
    {"weka", make_weka_source},
    {"gpu", make_gpu_source},
};

}  // namespace

Result<std::vector<std::unique_ptr<Source>>> make_sources(const config::Section& sources, const AgentContext& ctx) {
  std::vector<std::unique_ptr<Source>> out;
  try {
    if (sources.node().IsDefined() && sources.node().IsMap()) {
      for (const auto& kv : sources.node()) {
        auto key = kv.first.as<std::string>();
        bool known = false;
        std::string list;
        for (const auto& [name, factory] : kFactories) {
          known = known || key == name;
          list += (list.empty() ? "" : ", ") + std::string(name);
        }
        if (!known) sources.fail(key, fmt::format("unknown source (known sources: {})", list));
      }
    }
    for (const auto& [name, factory] : kFactories) {
      auto source = factory(sources.child(name), ctx);
      if (!source) return source.error();
      if (*source) out.push_back(std::move(*source));
    }
  } catch (const config::Invalid& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}: {}", sources.path(), e.what())};
  } catch (const std::exception& e) {
    return Error{fmt::format("{}: {}", sources.path(), e.what())};
  }
  return out;
}

}  // namespace ss::agent
