#include <gtest/gtest.h>

#include "agent/agent_config.h"
#include "agent/sources/mounts/mounts_source.h"
#include "agent/sources/registry.h"

using namespace ss;
using namespace ss::agent;

namespace {

const std::string kProcRoot = std::string(SS_FIXTURES_DIR) + "/agent/proc";

YAML::Node yaml(const std::string& text) {
  auto n = config::load_string(text);
  EXPECT_TRUE(n.ok());
  return *n;
}

Result<std::vector<std::unique_ptr<Source>>> sources_from(const std::string& text, std::string proc_root = kProcRoot,
                                                           FsNames names = {}) {
  AgentContext ctx{"n1", 10'000, std::move(proc_root), std::move(names)};
  return make_sources(config::Section(yaml(text), "sources"), ctx);
}

// The source of that name, or nullptr (other sources may switch themselves on where their tools exist).
Source* find_source(const std::vector<std::unique_ptr<Source>>& sources, std::string_view name) {
  for (const auto& s : sources)
    if (s->name() == name) return s.get();
  return nullptr;
}

}  // namespace

TEST(AgentMountsSource, ReportsParallelFileSystemsOnceWithTheirFsNames) {
  // The BeeGFS mount's client configuration does not exist: its instance is "beegfs", renamed here like a
  // management host; /home is renamed by its mount point.
  auto sources = sources_from("{}", kProcRoot, FsNames{{{"beegfs", "scratch"}, {"/home", "homes"}}});
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  ASSERT_NE(find_source(*sources, "mounts"), nullptr);
  Source& mounts = *find_source(*sources, "mounts");
  EXPECT_EQ(mounts.name(), "mounts");
  Collection c(1763700000000);
  ASSERT_TRUE(mounts.collect(c).ok());
  std::vector<std::string> got;
  for (const auto& s : c.samples()) {
    EXPECT_EQ(s.name, "stormscope_mount_info");
    EXPECT_EQ(s.value, 1);
    got.push_back(std::string(label_value(*s.labels, "fstype")) + " " + std::string(label_value(*s.labels, "mount")) +
                  " " + std::string(label_value(*s.labels, "source")) + " fs=" +
                  std::string(label_value(*s.labels, "fs")));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"lustre /lustre/ai0 10.0.0.1@o2ib:10.0.0.2@o2ib:/ai0 fs=ai0",
                                           "beegfs /mnt/beegfs beegfs_nodev fs=scratch", "wekafs /mnt/weka default fs=default",
                                           "nfs4 /home filer:/export/home fs=homes",
                                           "lustre /mnt/scratch \"q\" mgs@tcp:/scratch fs=scratch"}));
  ASSERT_NE(c.families().count("stormscope_mount_info"), 0u);
}

TEST(AgentMountsSource, MissingMountTableIsAnError) {
  auto sources = sources_from("{}", "/nonexistent-proc");
  ASSERT_TRUE(sources.ok());
  Collection c(1763700000000);
  ASSERT_NE(find_source(*sources, "mounts"), nullptr);
  auto r = find_source(*sources, "mounts")->collect(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent-proc/self/mountinfo"), std::string::npos);
}

TEST(AgentRegistry, SwitchesSourcesOffAndRejectsUnknownOnes) {
  auto off = sources_from("mounts: {enabled: false}");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(find_source(*off, "mounts"), nullptr);
  auto on = sources_from("mounts: {enabled: true}");
  ASSERT_TRUE(on.ok());
  EXPECT_NE(find_source(*on, "mounts"), nullptr);

  auto unknown = sources_from("lustr: {}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("sources.lustr: unknown source"), std::string::npos)
      << unknown.error().message;

  auto bad_key = sources_from("mounts: {enabeld: true}");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message.find("sources.mounts.enabeld: unknown key"), std::string::npos)
      << bad_key.error().message;

  auto bad_value = sources_from("mounts: {enabled: maybe}");
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.error().message.find("sources.mounts.enabled"), std::string::npos);
}

TEST(AgentConfig, DefaultsFileAndFlags) {
  auto d = make_agent_config(yaml("{}"), {}, "gpu017");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->node, "gpu017");
  EXPECT_EQ(d->listen, "0.0.0.0:9479");
  EXPECT_EQ(d->interval_ms, 10'000);
  EXPECT_EQ(d->spool, "./data/spool");
  EXPECT_TRUE(d->collectors.empty());
  EXPECT_EQ(d->source_timeout_ms, 5'000);

  auto file = yaml(
      "collector: http://c:9480\n"
      "interval: 30s\n"
      "node: from-file\n"
      "listen: 127.0.0.1:1234\n"
      "spool_max_size: 64MiB\n"
      "source_timeouts: {mounts: 2s}\n"
      "sources:\n  mounts: {enabled: true}\n");
  AgentFlags flags;
  flags.node = "from-flag";
  flags.interval = "20s";
  auto c = make_agent_config(file, flags, "gpu017");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node, "from-flag");
  EXPECT_EQ(c->interval_ms, 20'000);
  EXPECT_EQ(c->collectors, std::vector<std::string>{"http://c:9480"});
  // Two collectors: a list in the file, commas on the command line (which wins).
  auto two = make_agent_config(yaml("collector: [http://a:9480, http://b:9480]"), {}, "gpu017");
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(two->collectors, (std::vector<std::string>{"http://a:9480", "http://b:9480"}));
  AgentFlags both;
  both.collector = "http://x:9480,https://y:9480";
  two = make_agent_config(yaml("collector: http://a:9480"), both, "gpu017");
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(two->collectors, (std::vector<std::string>{"http://x:9480", "https://y:9480"}));
  EXPECT_EQ(c->listen, "127.0.0.1:1234");
  EXPECT_EQ(c->spool_max_bytes, 64ll << 20);
  EXPECT_EQ(c->source_timeouts_ms.at("mounts"), 2'000);
  EXPECT_TRUE(c->sources["mounts"].IsMap());
}

TEST(AgentConfig, ErrorsNameTheKey) {
  auto expect_error = [](const std::string& text, const std::string& want, AgentFlags flags = {}) {
    auto c = make_agent_config(yaml(text), flags, "gpu017");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message.find(want), std::string::npos) << c.error().message;
  };
  expect_error("colector: http://x", "colector: unknown key");
  expect_error("interval: soon", "interval");
  expect_error("fs_names: [a]", "fs_names: expected a mapping");
  expect_error("fs_names: {mgmt01: ''}", "fs_names: mgmt01: expected a non-empty");
  expect_error("interval: 10ms", "interval: 10ms is too short");
  expect_error("node: 'bad node'", "node:");
  expect_error("listen: nowhere", "listen:");
  expect_error("collector: c:9480", "collector:");
  expect_error("collector: [http://a:1, http://a:1]", "listed twice");
  expect_error("source_timeout: 10s", "source_timeout: 10s must be shorter than the interval");
  expect_error("source_timeouts: {mounts: 1m}", "source_timeouts.mounts");
  expect_error("sources: [mounts]", "sources: expected a mapping");
  expect_error("log_level: loud", "log_level");
  expect_error("token: a\ntoken_file: /etc/hostname", "token and token_file");
  expect_error("token_file: /nonexistent/token", "token_file: cannot read /nonexistent/token");
  AgentFlags flags;
  flags.interval = "fast";
  expect_error("{}", "--interval", flags);
}
