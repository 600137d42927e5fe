// The vfs source end to end, as the agent runs it: metrics with DESIGN.md §3 labels (job from a cgroup) and
// a storm in one directory at the top of the vfs_hot_dirs event. Needs root; skips loudly otherwise.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/sources/vfs/vfs_source.h"
#include "tools/storm_load.h"
#include "common/time.h"
#include "tests/ebpf/vfs_test_env.h"

namespace ss::agent {
namespace {

std::unique_ptr<Source> source_or_skip(VfsOptions o, std::string* skip) {
  AgentContext ctx;
  auto source = make_vfs_source(o, ctx);
  Collection first(now_ms());
  if (auto r = source->collect(first); !r) {
    *skip = "BPF probes cannot load here: " + r.error().message;
    return nullptr;
  }
  return source;
}

double value_of(const Collection& c, std::string_view name, const Labels& want) {
  double total = 0;
  for (const auto& s : c.samples()) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) match = match && label_value(*s.labels, k) == v;
    if (match) total += s.value;
  }
  return total;
}

TEST(VfsSource, AStormInOneDirectoryTopsTheHotDirectories) {
  SS_SKIP_WITHOUT_VFS_ENV();
  VfsOptions o;
  o.probe.target_tgid = static_cast<uint32_t>(getpid());  // only this test's threads
  o.probe.ignore_tgid = 0;
  o.fstypes = {"tmpfs"};
  std::string skip;
  auto source = source_or_skip(o, &skip);
  if (!source) GTEST_SKIP() << "SKIPPED: " << skip;

  const std::string tmpfs = test::VfsEnv::get().tmpfs();
  const std::string hot = tmpfs + "/hot", cold = tmpfs + "/cold";
  ASSERT_EQ(mkdir(hot.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(cold.c_str(), 0755), 0);
  struct stat st;
  for (int i = 0; i < 200; i++) stat((cold + "/x").c_str(), &st);  // 200 failing stats elsewhere

  cli::StormOptions storm;
  storm.dir = hot;
  storm.threads = 2;
  storm.duration_ms = 1000;
  storm.dirs = 1;
  storm.files = 16;
  storm.ops = {cli::StormOp::Stat};
  ASSERT_TRUE(cli::prepare_storm_tree(storm).ok());
  auto result = cli::run_storm(storm);
  ASSERT_TRUE(result.ok()) << result.error().message;
  uint64_t stats = result->ops[cli::StormOp::Stat];
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the sampler thread drains the ring buffer

  Collection c(now_ms());
  ASSERT_TRUE(source->collect(c).ok());
  // A tmpfs has no file-system name of its own: fs is its mount point's last component (agent/fs_names.h).
  const std::string fs = tmpfs.substr(tmpfs.rfind('/') + 1);
  Labels where{{"fstype", "tmpfs"}, {"fs", fs}, {"mount", tmpfs}, {"op", "stat"}};
  // With the default exact_path_calls_per_cpu, a storm's path-based calls are a weighted sample: the count
  // is an estimate (thousands of calls read: well within 5 %). The 200 calls before the storm are exact.
  const double made = static_cast<double>(stats + 200);
  EXPECT_NEAR(value_of(c, "vfs_ops_total", where), made, 0.05 * made);
  EXPECT_EQ(value_of(c, "vfs_op_errors_total", where), 200.0);
  EXPECT_GT(value_of(c, "vfs_op_duration_seconds_count", where), 0.0);

  // One event per file system: the test's tmpfs has its own (this process may touch other tmpfs mounts too).
  const Event* mine = nullptr;
  for (const Event& e : c.events())
    if (label_value(e.labels, "fs") == fs) mine = &e;
  ASSERT_NE(mine, nullptr) << c.events().size() << " events, none for fs " << fs;
  const Event& e = *mine;
  EXPECT_EQ(e.kind, "vfs_hot_dirs");
  EXPECT_EQ(label_value(e.labels, "fstype"), "tmpfs");
  auto fields = nlohmann::json::parse(e.fields_json);
  ASSERT_GE(fields["dirs"].size(), 2u) << e.fields_json;
  const auto& top = fields["dirs"][0];
  EXPECT_EQ(top["path"], hot + "/storm/d0") << e.fields_json;
  EXPECT_EQ(top["comm"].get<std::string>().empty(), false);
  // Samples are rate-limited; their weights estimate the op count.
  double estimated = top["ops"].get<double>();
  EXPECT_GT(estimated, 0.5 * static_cast<double>(stats)) << e.fields_json;
  EXPECT_LT(estimated, 1.5 * static_cast<double>(stats)) << e.fields_json;
  bool cold_seen = false;
  for (const auto& d : fields["dirs"]) cold_seen = cold_seen || d["path"] == cold;
  EXPECT_TRUE(cold_seen) << e.fields_json;
}

TEST(VfsSource, JobLabelComesFromTheCgroup) {
  SS_SKIP_WITHOUT_VFS_ENV();
  test::TestCgroup cg("job_4711");
  if (!cg.skip_reason().empty()) GTEST_SKIP() << "SKIPPED: " << cg.skip_reason();
  const std::string file = test::VfsEnv::get().tmpfs() + "/job-file";
  close(open(file.c_str(), O_WRONLY | O_CREAT, 0644));
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char ch;
    close(go[1]);
    if (read(go[0], &ch, 1) != 1) _exit(2);
    struct stat st;
    for (int i = 0; i < 21; i++) stat(file.c_str(), &st);
    _exit(0);
  }
  close(go[0]);
  VfsOptions o;
  o.probe.target_tgid = static_cast<uint32_t>(child);
  o.probe.ignore_tgid = 0;
  o.hot_dirs = 0;
  o.probe.samples_per_sec = 0;
  o.cgroup_root = cg.root();
  std::string skip;
  auto source = source_or_skip(o, &skip);
  bool moved = source && cg.add(child);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!source) GTEST_SKIP() << "SKIPPED: " << skip;
  ASSERT_TRUE(moved);

  Collection c(now_ms());
  ASSERT_TRUE(source->collect(c).ok());
  EXPECT_EQ(value_of(c, "vfs_ops_total", {{"op", "stat"}, {"fstype", "tmpfs"}, {"job", "4711"}}), 21.0);
  EXPECT_TRUE(c.events().empty());
}

// As an unprivileged user (a child that dropped root), loading fails and collect() says why.
TEST(VfsSource, WithoutBpfPermissionTheSourceReportsWhy) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
    VfsOptions o;
    AgentContext ctx;
    auto source = make_vfs_source(o, ctx);
    Collection c(now_ms());
    auto r = source->collect(c);
    if (r.ok()) _exit(11);
    if (r.error().message.find("needs root") == std::string::npos) _exit(12);
    if (!source->collect(c).ok()) _exit(0);  // still failing, without retrying before `retry`
    _exit(13);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: cannot drop root, 11: loaded without permission, 12: reason missing, "
                                       "13: second collect succeeded";
}

}  // namespace
}  // namespace ss::agent
