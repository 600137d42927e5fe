// The probes count what a process does, exactly: ops, histogram counts and bytes per file system and op,
// attribution to the right mount, and to a cgroup. Needs root; skips loudly without it or without BPF.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <numeric>

#include "tests/ebpf/vfs_test_env.h"

namespace ss::agent::vfs {
namespace {

// Tests of attribution and sampling load tp_btf: that logic is the same in every tracepoint mode, and tp_btf
// attaches in a fraction of a second where the per-syscall mode's 140 tracepoints take seconds.
std::unique_ptr<Probe> load_or_skip(AttachMode mode, uint32_t target_tgid, std::string* skip,
                                    uint64_t attributed_per_sec = 0) {
  ProbeOptions o;
  o.attach = mode;
  o.target_tgid = target_tgid;
  o.timed_per_sec = 0;  // time every call: histogram counts must equal op counts
  o.samples_per_sec = 0;
  o.attributed_per_sec = attributed_per_sec;  // 0: every path-based call read and counted, exactly
  auto probe = Probe::load(o);
  if (!probe) {
    *skip = "BPF probes cannot load here: " + probe.error().message;
    return nullptr;
  }
  if (auto r = (*probe)->set_mounts(test::all_mounts_watched()); !r) {
    *skip = r.error().message;
    return nullptr;
  }
  return std::move(probe.value());
}

struct PerOp {
  uint64_t count = 0, hist = 0, bytes = 0, errors = 0;
};

// Sums the probe's counts for one file system (and cgroup, when given) per op name.
std::map<std::string, PerOp> per_op(const std::vector<OpCounts>& counts, uint32_t dev, uint64_t cgroup_id = 0) {
  std::map<std::string, PerOp> out;
  for (const OpCounts& c : counts) {
    if (c.key.dev != dev || (cgroup_id && c.key.cgroup_id != cgroup_id)) continue;
    PerOp& p = out[std::string(op_name(c.key.op))];
    p.count += c.count;
    p.hist += std::accumulate(c.hist.begin(), c.hist.end(), uint64_t{0});
    p.bytes += c.bytes;
    p.errors += c.errors;
  }
  return out;
}

class VfsProbeModes : public ::testing::TestWithParam<AttachMode> {};

TEST_P(VfsProbeModes, CountsHistogramsAndBytesMatchTheCallsMade) {
  SS_SKIP_WITHOUT_VFS_ENV();
  std::string skip;
  auto probe = load_or_skip(GetParam(), static_cast<uint32_t>(getpid()), &skip);
  if (!probe) GTEST_SKIP() << "SKIPPED: " << skip;
  const std::string dir = test::VfsEnv::get().tmpfs() + "/counts-" + std::string(attach_mode_name(GetParam()));
  std::map<std::string, uint64_t> want;

  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  want["mkdir"] += 1;
  const std::string file = dir + "/data";
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  want["create"] += 1;
  const std::string block(4096, 'x');
  for (int i = 0; i < 25; i++) ASSERT_EQ(write(fd, block.data(), block.size()), 4096);
  want["write"] += 25;
  for (int i = 0; i < 5; i++) ASSERT_EQ(fsync(fd), 0);
  want["fsync"] += 5;
  close(fd);
  want["close"] += 1;

  struct stat st;
  for (int i = 0; i < 100; i++) ASSERT_EQ(stat(file.c_str(), &st), 0);  // absolute path
  want["stat"] += 100;
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dfd, 0);
  want["open"] += 1;
  for (int i = 0; i < 10; i++) ASSERT_EQ(fstatat(dfd, "data", &st, 0), 0);  // relative to a dirfd
  want["stat"] += 10;
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir(dir.c_str()), 0);
  for (int i = 0; i < 10; i++) ASSERT_EQ(stat("data", &st), 0);  // relative to the working directory
  want["stat"] += 10;
  ASSERT_EQ(chdir(cwd), 0);

  for (int i = 0; i < 50; i++) {
    int f = open(file.c_str(), O_RDONLY);
    ASSERT_GE(f, 0);
    char buf[1000];
    ASSERT_EQ(read(f, buf, sizeof(buf)), 1000);
    close(f);
  }
  want["open"] += 50;
  want["read"] += 50;
  want["close"] += 50;

  char dents[8192];
  for (int i = 0; i < 20; i++) ASSERT_GE(syscall(SYS_getdents64, dfd, dents, sizeof(dents)), 0);
  want["readdir"] += 20;
  close(dfd);
  want["close"] += 1;

  for (int i = 0; i < 30; i++) {
    std::string p = dir + "/n" + std::to_string(i);
    int f = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(f, 0);
    close(f);
  }
  want["create"] += 30;
  want["close"] += 30;
  for (int i = 0; i < 10; i++)
    ASSERT_EQ(rename((dir + "/n" + std::to_string(i)).c_str(), (dir + "/r" + std::to_string(i)).c_str()), 0);
  want["rename"] += 10;
  for (int i = 0; i < 10; i++) ASSERT_EQ(unlink((dir + "/r" + std::to_string(i)).c_str()), 0);
  for (int i = 10; i < 30; i++) ASSERT_EQ(unlink((dir + "/n" + std::to_string(i)).c_str()), 0);
  want["unlink"] += 30;
  ASSERT_EQ(stat((dir + "/missing").c_str(), &st), -1);  // a failed call counts, as an error
  want["stat"] += 1;

  auto counts = probe->read_counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  auto got = per_op(*counts, test::dev_of_path(dir));
  for (const auto& [op, n] : want) {
    EXPECT_EQ(got[op].count, n) << "op " << op;
    EXPECT_EQ(got[op].hist, n) << "histogram count of op " << op;
  }
  for (const auto& [op, p] : got) EXPECT_TRUE(want.count(op)) << "unexpected op " << op << " x" << p.count;
  EXPECT_EQ(got["write"].bytes, 25u * 4096);
  EXPECT_EQ(got["read"].bytes, 50u * 1000);
  EXPECT_EQ(got["stat"].errors, 1u);
  EXPECT_EQ(got["open"].errors, 0u);
  EXPECT_EQ(probe->counters().map_full, 0u);
}

INSTANTIATE_TEST_SUITE_P(AttachModes, VfsProbeModes,
                         ::testing::Values(AttachMode::TpBtf, AttachMode::RawTp, AttachMode::Syscalls),
                         [](const auto& info) { return std::string(attach_mode_name(info.param)); });

TEST(VfsProbe, OpsOnTwoMountsAreAttributedToEach) {
  SS_SKIP_WITHOUT_VFS_ENV();
  std::string skip;
  auto probe = load_or_skip(AttachMode::TpBtf, static_cast<uint32_t>(getpid()), &skip);
  if (!probe) GTEST_SKIP() << "SKIPPED: " << skip;
  const std::string on_tmpfs = test::VfsEnv::get().tmpfs() + "/two";
  std::string on_root = "/var/tmp/ss-vfs-two-XXXXXX";
  ASSERT_NE(mkdtemp(on_root.data()), nullptr);
  ASSERT_EQ(mkdir(on_tmpfs.c_str(), 0755), 0);

  struct stat st;
  for (int i = 0; i < 40; i++) ASSERT_EQ(stat(on_tmpfs.c_str(), &st), 0);
  for (int i = 0; i < 25; i++) ASSERT_EQ(stat(on_root.c_str(), &st), 0);
  int fd = open((on_root + "/f").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello", 5), 5);
  close(fd);
  unlink((on_root + "/f").c_str());
  auto counts = probe->read_counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  // Looked up afterwards: the lookup's own statx would count.
  uint32_t tmpfs_dev = test::dev_of_path(on_tmpfs), root_dev = test::dev_of_path(on_root);
  rmdir(on_root.c_str());
  ASSERT_NE(tmpfs_dev, root_dev);
  auto tmpfs = per_op(*counts, tmpfs_dev), root = per_op(*counts, root_dev);
  EXPECT_EQ(tmpfs["stat"].count, 40u);
  EXPECT_EQ(root["stat"].count, 25u);
  EXPECT_EQ(root["write"].bytes, 5u);
  EXPECT_EQ(tmpfs["write"].count, 0u);
  EXPECT_EQ(root["unlink"].count, 1u);
}

TEST(VfsProbe, AProcessInADedicatedCgroupIsAttributedToIt) {
  SS_SKIP_WITHOUT_VFS_ENV();
  test::TestCgroup cg("job_4242");
  if (!cg.skip_reason().empty()) GTEST_SKIP() << "SKIPPED: " << cg.skip_reason();
  std::string skip;
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const std::string file = test::VfsEnv::get().tmpfs() + "/cg-file";
  close(open(file.c_str(), O_WRONLY | O_CREAT, 0644));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(2);
    struct stat st;
    for (int i = 0; i < 33; i++)
      if (stat(file.c_str(), &st) != 0) _exit(3);
    _exit(0);
  }
  close(go[0]);
  auto probe = load_or_skip(AttachMode::TpBtf, static_cast<uint32_t>(child), &skip);
  bool moved = probe && cg.add(child);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!probe) GTEST_SKIP() << "SKIPPED: " << skip;
  ASSERT_TRUE(moved) << "could not move the child into " << cg.path();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  auto counts = probe->read_counts();
  ASSERT_TRUE(counts.ok());
  uint32_t dev = test::dev_of_path(file);
  EXPECT_EQ(per_op(*counts, dev, cg.id())["stat"].count, 33u) << "cgroup id " << cg.id();

  CgroupResolver resolver(cg.root());
  ASSERT_TRUE(resolver.refresh().ok());
  const std::string* path = resolver.path_of(cg.id());
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(job_from_cgroup_path(*path), "4242");
}

}  // namespace
}  // namespace ss::agent::vfs

namespace ss::agent::vfs {
namespace {

// A mount point longer than the probes' cached path head, sharing its head with paths on the mount it sits
// in: the answer depends on bytes past the head, so it must come from the long read, not the head cache.
TEST(VfsProbe, ALongMountPointIsToldApartFromTheMountItSitsIn) {
  SS_SKIP_WITHOUT_VFS_ENV();
  const std::string outer = test::VfsEnv::get().tmpfs();
  ASSERT_GT(outer.size(), size_t{SS_ATTR_HEAD});  // both paths below share their first SS_ATTR_HEAD bytes
  const std::string inner = outer + "/a-nested-mount-point";
  const std::string beside = outer + "/a-nested-directory";
  ASSERT_EQ(mkdir(inner.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(beside.c_str(), 0755), 0);
  ASSERT_EQ(mount("tmpfs", inner.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  std::string skip;
  auto probe = load_or_skip(AttachMode::TpBtf, static_cast<uint32_t>(getpid()), &skip);  // after the mount
  if (!probe) {
    umount2(inner.c_str(), MNT_DETACH);
    GTEST_SKIP() << "SKIPPED: " << skip;
  }
  const std::string in_inner = inner + "/f";  // the mount point itself, without a '/', counts as its parent's
  close(open(in_inner.c_str(), O_WRONLY | O_CREAT, 0644));
  struct stat st;
  for (int round = 0; round < 3; round++) {  // interleaved, so that a wrongly cached answer would show
    for (int i = 0; i < 10; i++) ASSERT_EQ(stat(in_inner.c_str(), &st), 0);
    for (int i = 0; i < 7; i++) ASSERT_EQ(stat(beside.c_str(), &st), 0);
  }
  auto counts = probe->read_counts();
  uint32_t inner_dev = test::dev_of_path(inner), outer_dev = test::dev_of_path(beside);
  umount2(inner.c_str(), MNT_DETACH);
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  ASSERT_NE(inner_dev, outer_dev);
  EXPECT_EQ(per_op(*counts, inner_dev)["stat"].count, 30u);
  EXPECT_EQ(per_op(*counts, outer_dev)["stat"].count, 21u);  // and the lookup of inner_dev above (statx)
}

// A new mount table retires the answers the probes cached for the old one.
TEST(VfsProbe, AMountThatStopsBeingWatchedStopsCounting) {
  SS_SKIP_WITHOUT_VFS_ENV();
  const std::string dir = test::VfsEnv::get().tmpfs() + "/unwatch";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const uint32_t dev = test::dev_of_path(dir);  // before the probes: its statx would count
  std::string skip;
  auto probe = load_or_skip(AttachMode::TpBtf, static_cast<uint32_t>(getpid()), &skip);
  if (!probe) GTEST_SKIP() << "SKIPPED: " << skip;
  struct stat st;
  for (int i = 0; i < 20; i++) ASSERT_EQ(stat(dir.c_str(), &st), 0);
  auto mounts = test::all_mounts_watched();
  for (auto& m : mounts)
    if (m.dev == dev) m.watched = false;
  ASSERT_TRUE(probe->set_mounts(mounts).ok());
  for (int i = 0; i < 50; i++) ASSERT_EQ(stat(dir.c_str(), &st), 0);
  auto counts = probe->read_counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(per_op(*counts, dev)["stat"].count, 20u);
}

// Above the exact-attribution rate, a random sample of path-based calls is read, each counted with its
// weight: the count is an estimate of the calls made, and histogram counts still add up to it.
TEST(VfsProbe, AboveTheExactRatePathCallsAreSampledWithWeights) {
  SS_SKIP_WITHOUT_VFS_ENV();
  std::string skip;
  // 20,000 a second per CPU, against a stat loop of several hundred thousand: about 1 call in 16-64 is read.
  auto probe = load_or_skip(AttachMode::TpBtf, static_cast<uint32_t>(getpid()), &skip, 20000);
  if (!probe) GTEST_SKIP() << "SKIPPED: " << skip;
  const std::string dir = test::VfsEnv::get().tmpfs() + "/sampled";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const int calls = 300000;
  struct stat st;
  for (int i = 0; i < calls; i++) ASSERT_EQ(stat(dir.c_str(), &st), 0);
  auto counts = probe->read_counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  PerOp got = per_op(*counts, test::dev_of_path(dir))["stat"];
  // >= 4,700 calls read (1 in 64 at most): the estimate's standard deviation is under 1.5%; 10% is 7 of them.
  EXPECT_NEAR(static_cast<double>(got.count), calls, calls * 0.10);
  EXPECT_EQ(got.hist, got.count);
}

}  // namespace
}  // namespace ss::agent::vfs

namespace ss::agent::vfs {
namespace {

size_t loaded_fentry_programs() {
  size_t n = 0;
  for (const ProgramStats& p : loaded_program_stats()) n += p.name.starts_with("fe_");
  return n;
}

// fentry/fexit on the VFS functions make unrelated calls free where the kernel allows tracing programs; where
// it refuses them (EPERM at load, as the development kernel does) asking for fentry fails, names the mode and
// leaves nothing loaded, and auto falls back to a tracepoint mode that counts, saying why it fell back.
TEST(VfsProbe, AutoTakesFentryWhereAllowedAndFallsBackWholeWhereNot) {
  SS_SKIP_WITHOUT_VFS_ENV();
  const size_t before = loaded_fentry_programs();
  ProbeOptions o;
  o.attach = AttachMode::Fentry;
  o.target_tgid = static_cast<uint32_t>(getpid());
  o.samples_per_sec = 0;
  auto fentry = Probe::load(o);
  const bool kernel_allows_fentry = fentry.ok();
  if (!kernel_allows_fentry) {
    EXPECT_NE(fentry.error().message.find("(fentry)"), std::string::npos) << fentry.error().message;
    EXPECT_EQ(loaded_fentry_programs(), before) << "a refused fentry load left programs behind";
  }
  fentry = Error{"released"};

  o.attach = AttachMode::Auto;
  auto probe = Probe::load(o);
  ASSERT_TRUE(probe.ok()) << probe.error().message;
  if (kernel_allows_fentry) {
    EXPECT_EQ((*probe)->mode(), AttachMode::Fentry);
    EXPECT_TRUE((*probe)->fallbacks().empty());
  } else {
    EXPECT_NE((*probe)->mode(), AttachMode::Fentry);
    ASSERT_FALSE((*probe)->fallbacks().empty());
    EXPECT_NE((*probe)->fallbacks()[0].find("(fentry)"), std::string::npos) << (*probe)->fallbacks()[0];
    EXPECT_EQ(loaded_fentry_programs(), before);
  }
  ASSERT_TRUE((*probe)->set_mounts(test::all_mounts_watched()).ok());
  const std::string file = test::VfsEnv::get().tmpfs() + "/fallback-file";
  close(open(file.c_str(), O_WRONLY | O_CREAT, 0644));
  struct stat st;
  for (int i = 0; i < 12; i++) ASSERT_EQ(stat(file.c_str(), &st), 0);
  auto counts = (*probe)->read_counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(per_op(*counts, test::dev_of_path(file))["stat"].count, 12u) << attach_mode_name((*probe)->mode());
}

}  // namespace
}  // namespace ss::agent::vfs
