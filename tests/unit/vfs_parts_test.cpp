// Pure parts of the vfs source: cgroup path → job, path normalization, hot-directory ranking and events,
// delta aggregation with bounded job cardinality, configuration, and storm op parsing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/sources/vfs/cgroup_jobs.h"
#include "agent/sources/vfs/hot_dirs.h"
#include "agent/sources/vfs/vfs_aggregate.h"
#include "agent/sources/vfs/vfs_source.h"
#include "tools/storm_load.h"

namespace ss::agent::vfs {
namespace {

TEST(VfsJobs, FromCgroupPaths) {
  EXPECT_EQ(job_from_cgroup_path("/slurm/uid_1000/job_4711/step_0/task_0"), "4711");
  EXPECT_EQ(job_from_cgroup_path("/system.slice/slurmstepd.scope/job_99/step_batch/user/task_0"), "99");
  EXPECT_EQ(job_from_cgroup_path("/kubepods.slice/kubepods-burstable.slice/"
                                 "kubepods-burstable-pod1f2e3d4c_aaaa_bbbb_cccc_0123456789ab.slice/cri-containerd-1.scope"),
            "pod/1f2e3d4c-aaaa-bbbb-cccc-0123456789ab");
  EXPECT_EQ(job_from_cgroup_path("/kubepods/besteffort/pod0a1b2c3d-0000-1111-2222-333344445555/abcdef"),
            "pod/0a1b2c3d-0000-1111-2222-333344445555");
  EXPECT_EQ(job_from_cgroup_path("/system.slice/nginx.service"), "nginx.service");
  EXPECT_EQ(job_from_cgroup_path("/user.slice/user-1000.slice/session-3.scope"), "session-3.scope");
  EXPECT_EQ(job_from_cgroup_path("/"), "");
  EXPECT_EQ(job_from_cgroup_path("/job_abc/podcast"), "");
}

TEST(VfsJobs, Cgroup2RootFromMountinfo) {
  std::string hybrid =
      "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory\n"
      "31 25 0:27 / /sys/fs/cgroup/unified rw,relatime shared:11 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(find_cgroup2_root(hybrid), "/sys/fs/cgroup/unified");
  EXPECT_EQ(find_cgroup2_root("30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"), "");
}

TEST(VfsHotDirs, NormalizeAndParent) {
  EXPECT_EQ(normalize_path("//a/./b/../c/"), "/a/c");
  EXPECT_EQ(normalize_path("/../x"), "/x");
  EXPECT_EQ(normalize_path("relative/x"), "");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(parent_dir("/a/b"), "/a");
  EXPECT_EQ(parent_dir("/a"), "/");
}

TEST(VfsHotDirs, TopDirectoriesPerFileSystemWithDominantJobAndComm) {
  HotDirs hot(4);
  const FsKey ai0{"lustre", "ai0"}, scratch{"beegfs", "scratch"}, shm{"tmpfs", "shm"};
  hot.add(ai0, "/lustre/ai0/shard7", "4711", "python", 100);
  hot.add(ai0, "/lustre/ai0/shard7", "4712", "cp", 10);
  hot.add(ai0, "/lustre/ai0/ckpt", "4712", "torchrun", 50);
  hot.add(shm, "/dev/shm", "", "nccl", 5);
  hot.add(scratch, "/mnt/scratch/in", "4713", "ls", 7);
  hot.add(ai0, "/lustre/ai0/overflow", "1", "x", 1);  // beyond max_dirs: dropped, counted
  EXPECT_EQ(hot.dropped(), 1u);
  auto top = hot.take(1);
  ASSERT_EQ(top[ai0].size(), 1u);
  EXPECT_EQ(top[ai0][0].path, "/lustre/ai0/shard7");
  EXPECT_EQ(top[ai0][0].ops, 110u);
  EXPECT_EQ(top[ai0][0].job, "4711");
  EXPECT_EQ(top[ai0][0].comm, "python");
  auto events = HotDirs::events(top, 1763700010000);
  ASSERT_EQ(events.size(), 3u);  // one per file system, in (fstype, fs) order
  EXPECT_EQ(events[0].kind, "vfs_hot_dirs");
  EXPECT_EQ(label_value(events[0].labels, "fstype"), "beegfs");
  EXPECT_EQ(label_value(events[0].labels, "fs"), "scratch");
  EXPECT_EQ(label_value(events[1].labels, "fs"), "ai0");
  auto f = nlohmann::json::parse(events[2].fields_json);
  EXPECT_EQ(f["dirs"][0]["path"], "/dev/shm");
  EXPECT_FALSE(f["dirs"][0].contains("job"));  // unknown job: absent
  EXPECT_TRUE(hot.take(5).empty());             // a new interval starts empty
}

TEST(VfsHotDirs, InvalidUtf8DoesNotThrow) {
  HotDirs hot;
  hot.add({"tmpfs", "x"}, std::string("/x/\xff\xfe"), "", "c\xff", 1);
  auto events = HotDirs::events(hot.take(1), 1763700010000);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NO_THROW(nlohmann::json::parse(events[0].fields_json));
}

OpCounts counts(uint64_t cg, uint32_t dev, uint32_t op, uint64_t n, uint64_t bytes = 0) {
  OpCounts c;
  c.key = {cg, dev, op};
  c.count = n;
  c.bytes = bytes;
  c.hist[12] = n;  // 4-8 µs
  c.sum_ns = n * 5000;
  return c;
}

double find(const Collection& c, std::string_view name, const Labels& want) {
  for (const auto& s : c.samples()) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) match = match && label_value(*s.labels, k) == v;
    if (match && s.labels->size() >= want.size()) return s.value;
  }
  return -1;
}

TEST(VfsAggregateTest, DeltasTopJobsAndOther) {
  VfsAggregate agg({.top_jobs = 1, .expire_intervals = 2});
  MountLabel lustre{"lustre", "/lustre/ai0", "ai0"};
  auto mount_of = [&](uint32_t dev) -> const MountLabel* { return dev == 7 ? &lustre : nullptr; };
  auto job_of = [](uint64_t cg) -> std::string { return cg == 1 ? "" : "job" + std::to_string(cg); };
  agg.update({counts(10, 7, SS_OP_STAT, 100), counts(11, 7, SS_OP_STAT, 5), counts(1, 7, SS_OP_READ, 3, 300),
              counts(10, 99, SS_OP_STAT, 1000)},
             job_of, mount_of);
  Collection c(1763700000000);
  agg.emit(c);
  Labels stat{{"fstype", "lustre"}, {"fs", "ai0"}, {"mount", "/lustre/ai0"}, {"op", "stat"}};
  auto with_job = [&](std::string job) {
    Labels l = stat;
    l.emplace_back("job", job);
    return l;
  };
  EXPECT_EQ(find(c, "vfs_ops_total", with_job("job10")), 100);
  EXPECT_EQ(find(c, "vfs_ops_total", with_job("other")), 5);
  EXPECT_EQ(find(c, "vfs_bytes_total", {{"op", "read"}}), 300);
  EXPECT_EQ(find(c, "vfs_op_duration_seconds_count", stat), 105);
  // le=2^12 ns holds nothing of bucket 12 ([2^12, 2^13) ns); le=2^13 ns holds it all.
  EXPECT_EQ(find(c, "vfs_op_duration_seconds_bucket", {{"op", "stat"}, {"le", "4.096e-06"}}), 0);
  EXPECT_EQ(find(c, "vfs_op_duration_seconds_bucket", {{"op", "stat"}, {"le", "8.192e-06"}}), 105);

  // Next interval: job11 leads; job10's series keeps its value, counters never go down.
  agg.update({counts(10, 7, SS_OP_STAT, 101), counts(11, 7, SS_OP_STAT, 505), counts(1, 7, SS_OP_READ, 3, 300)}, job_of,
             mount_of);
  Collection c2(1763700010000);
  agg.emit(c2);
  EXPECT_EQ(find(c2, "vfs_ops_total", with_job("job11")), 500);
  EXPECT_EQ(find(c2, "vfs_ops_total", with_job("other")), 6);
  EXPECT_EQ(find(c2, "vfs_ops_total", with_job("job10")), 100);
  EXPECT_EQ(find(c2, "vfs_op_duration_seconds_count", stat), 606);

  // A key deleted and re-created (its count went down) counts from zero again.
  agg.forget_keys({{11, 7, SS_OP_STAT}});
  agg.update({counts(11, 7, SS_OP_STAT, 4)}, job_of, mount_of);
  Collection c3(1763700020000);
  agg.emit(c3);
  EXPECT_EQ(find(c3, "vfs_ops_total", with_job("job11")), 504);

  // Idle series expire after expire_intervals updates.
  for (int i = 0; i < 3; i++) agg.update({}, job_of, mount_of);
  Collection c4(1763700030000);
  agg.emit(c4);
  EXPECT_EQ(find(c4, "vfs_ops_total", with_job("job11")), -1);
}

TEST(VfsOptionsTest, ParsesAndRejects) {
  auto yaml = config::load_string("attach: syscalls\nfstypes: [lustre, tmpfs]\ntop_jobs: 5\nhot_dirs: 0\n");
  ASSERT_TRUE(yaml.ok());
  auto o = parse_vfs_options(config::Section(*yaml, "sources.vfs"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->probe.attach, AttachMode::Syscalls);
  EXPECT_EQ(o->fstypes.size(), 2u);
  EXPECT_EQ(o->top_jobs, 5u);
  EXPECT_EQ(o->probe.samples_per_sec, 0u);  // no hot dirs: no samples at all

  auto fentry = config::load_string("attach: fentry\n");
  auto f = parse_vfs_options(config::Section(*fentry, "sources.vfs"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->probe.attach, AttachMode::Fentry);

  auto bad = config::load_string("attach: kprobe\n");
  auto e = parse_vfs_options(config::Section(*bad, "sources.vfs"));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("sources.vfs.attach"), std::string::npos) << e.error().message;
  auto unknown = config::load_string("atach: tp_btf\n");
  EXPECT_FALSE(parse_vfs_options(config::Section(*unknown, "sources.vfs")).ok());
  auto off = config::load_string("enabled: false\n");
  auto none = make_vfs_source(config::Section(*off, "sources.vfs"), AgentContext{});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->get(), nullptr);
}

TEST(StormOps, Parse) {
  auto ops = cli::parse_storm_ops("stat,open,readdir,create,getppid");
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->size(), 5u);
  EXPECT_FALSE(cli::parse_storm_ops("stat,,open").ok());
  EXPECT_FALSE(cli::parse_storm_ops("chmod").ok());
}

}  // namespace
}  // namespace ss::agent::vfs
