#include "agent/sources/mounts/mounts_source.h"

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace ss::agent {

Result<MountTable> read_mount_table(const std::string& proc_root) {
  std::string path = proc_root + "/self/mountinfo";
  std::ifstream in(path);
  if (!in) return errorf("cannot read {}", path);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return errorf("error reading {}", path);
  return parse_mountinfo(text.str());
}

namespace {

class MountsSource : public Source {
 public:
  MountsSource(std::string proc_root, FsNames names) : proc_root_(std::move(proc_root)), names_(std::move(names)) {}

  std::string_view name() const override { return "mounts"; }

  Result<void> collect(Collection& out) override {
    out.describe("stormscope_mount_info", MetricKind::Gauge,
                 "1 for every mounted parallel or network file system (lustre, beegfs, wekafs, nfs), with its fs name.");
    auto table = read_mount_table(proc_root_);
    if (!table) return table.error();
    // A file system mounted twice on the same point (stacked mounts) is one series.
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& m : table->mounts) {
      if (!is_watched_fstype(m.fstype)) continue;
      if (!seen.emplace(m.fstype, m.mount_point, m.source).second) continue;
      out.add("stormscope_mount_info",
              {{"fstype", m.fstype}, {"mount", m.mount_point}, {"source", m.source}, {"fs", fs_of_mount(m, names_)}}, 1);
    }
    return {};
  }

 private:
  std::string proc_root_;
  FsNames names_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_mounts_source(const config::Section& section, const AgentContext& ctx) {
  section.allow_only({"enabled"});
  if (!section.boolean("enabled", true)) return std::unique_ptr<Source>();
  return std::unique_ptr<Source>(std::make_unique<MountsSource>(ctx.proc_root, ctx.fs_names));
}

}  // namespace ss::agent
