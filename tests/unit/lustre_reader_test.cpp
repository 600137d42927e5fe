// The parameter reader's kept-open files: re-read from offset 0 every cycle, closed when their device goes,
// kept on kernel file systems by default (a real procfs file checks that a kept descriptor reads fresh text)
// and never on an ordinary file system unless asked.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "agent/sources/lustre/reader.h"
#include "tests/support/temp_dir.h"

using namespace ss::agent::lustre;
namespace fs = std::filesystem;
using ss::testing::TempDir;

namespace {

ReaderOptions options(const TempDir& root, KeepOpen keep) {
  ReaderOptions o;
  o.root = root.str();
  o.lctl = "";
  o.keep_open = keep;
  return o;
}

// device → text of one request's values.
std::map<std::string, std::string> read_one(ParamReader& reader, ParamRequest req) {
  auto batch = reader.read({req});
  EXPECT_TRUE(batch.errors.empty()) << batch.errors.front();
  std::map<std::string, std::string> out;
  for (auto& v : batch.values.at(0)) out[v.device] = v.text;
  return out;
}

const ParamRequest kOscStats{"osc", "stats", {}, true};

}  // namespace

TEST(LustreReaderKeepOpen, KeptFilesAreReReadAndClosedWhenTheirDeviceGoes) {
  TempDir root;
  const std::string osc = "sys/kernel/debug/lustre/osc/";
  for (const char* d : {"fs-OST0000-osc-ffff1", "fs-OST0001-osc-ffff1"}) root.write(osc + d + "/stats", "one\n");
  ParamReader reader(options(root, KeepOpen::On));
  EXPECT_EQ(read_one(reader, kOscStats).at("fs-OST0000-osc-ffff1"), "one\n");
  EXPECT_EQ(reader.open_files(), 2u);

  // Rewritten in place (the same file), as a kernel file changes: the kept descriptor sees the new text,
  // longer than before.
  std::ofstream(root.path / osc / "fs-OST0000-osc-ffff1/stats") << "two, and longer\n";
  root.write(osc + "fs-OST0002-osc-ffff1/stats", "new device\n");
  auto second = read_one(reader, kOscStats);
  EXPECT_EQ(second.at("fs-OST0000-osc-ffff1"), "two, and longer\n");
  EXPECT_EQ(second.at("fs-OST0002-osc-ffff1"), "new device\n");
  EXPECT_EQ(reader.open_files(), 3u);

  // What `on` trades away, and the proof that the descriptor is kept: a file replaced by rename is still
  // read through the descriptor of the file it replaced.
  root.write(osc + "fs-OST0000-osc-ffff1/stats.new", "three\n");
  fs::rename(root.path / osc / "fs-OST0000-osc-ffff1/stats.new", root.path / osc / "fs-OST0000-osc-ffff1/stats");
  EXPECT_EQ(read_one(reader, kOscStats).at("fs-OST0000-osc-ffff1"), "two, and longer\n");

  fs::remove_all(root.path / osc / "fs-OST0001-osc-ffff1");
  EXPECT_EQ(read_one(reader, kOscStats).size(), 2u);
  EXPECT_EQ(reader.open_files(), 2u) << "the removed device's file stays open";

  // A request that is not marked keep_open never keeps files, and files not requested any more are closed.
  ParamRequest once = kOscStats;
  once.keep_open = false;
  EXPECT_EQ(read_one(reader, once).size(), 2u);
  EXPECT_EQ(reader.open_files(), 0u);
}

TEST(LustreReaderKeepOpen, AutoNeverKeepsFilesOfAnOrdinaryFileSystem) {
  TempDir root;
  const std::string file = "proc/fs/lustre/osc/fs-OST0000-osc-ffff1/stats";
  root.write(file, "one\n");
  ParamReader reader(options(root, KeepOpen::Auto));
  EXPECT_EQ(read_one(reader, kOscStats).at("fs-OST0000-osc-ffff1"), "one\n");
  EXPECT_EQ(reader.open_files(), 0u);
  // A copied tree refreshed by rename (rsync) must be read afresh, which a kept descriptor would not do.
  root.write(file + ".new", "two\n");
  fs::rename(root.path / (file + ".new"), root.path / file);
  EXPECT_EQ(read_one(reader, kOscStats).at("fs-OST0000-osc-ffff1"), "two\n");
}

namespace {

// A real kernel directory (`kernel_dir`) linked in as <root>/<lustre_dir>, whose parameter `req` gives a new
// text between two reads when `change` runs: keep_open: auto must keep its file open and read it afresh.
// Returns the two texts of `device`.
std::pair<std::string, std::string> read_kept_kernel_file(const char* kernel_dir, const char* lustre_dir,
                                                          const ParamRequest& req, const std::string& device,
                                                          const std::function<void()>& change) {
  TempDir root;
  fs::create_directories((root.path / lustre_dir).parent_path());
  fs::create_directory_symlink(kernel_dir, root.path / lustre_dir);
  ParamReader reader(options(root, KeepOpen::Auto));
  auto first = read_one(reader, req);
  EXPECT_EQ(first.count(device), 1u);
  EXPECT_EQ(reader.open_files(), 1u) << kernel_dir << ": kernel files are kept open under keep_open: auto";
  change();
  auto second = read_one(reader, req);
  EXPECT_EQ(reader.open_files(), 1u);
  return {first[device], second[device]};
}

}  // namespace

TEST(LustreReaderKeepOpen, AutoKeepsProcfsFilesAndRereadsFreshText) {
  // /proc/sys/kernel/random/uuid gives a new text on every read from offset 0: reached as
  // <root>/proc/fs/lustre/kernel/random/uuid, it is the parameter kernel.*.uuid of a real procfs.
  if (!fs::exists("/proc/sys/kernel/random/uuid")) GTEST_SKIP() << "no /proc/sys/kernel/random/uuid (procfs not mounted?)";
  auto [first, second] = read_kept_kernel_file("/proc/sys", "proc/fs/lustre", {"kernel", "uuid", {}, true}, "random", [] {});
  EXPECT_EQ(second.size(), first.size());
  EXPECT_NE(second, first) << "the kept descriptor was not read afresh";
}

TEST(LustreReaderKeepOpen, AutoKeepsSysfsFilesAndRereadsFreshText) {
  // sysfs (kernfs) is where 2.12+ keeps kbytes*, lock counts and more: /sys/class/net/lo/statistics/rx_bytes,
  // reached as the parameter lo.*.rx_bytes, grows with every packet sent to the loopback interface.
  if (!fs::exists("/sys/class/net/lo/statistics/rx_bytes")) GTEST_SKIP() << "no /sys/class/net/lo (sysfs not mounted?)";
  auto send_to_loopback = [] {
    int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(sock, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);  // discard
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char payload[512] = {};
    for (int i = 0; i < 4; ++i) ::sendto(sock, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    ::close(sock);
  };
  auto [first, second] =
      read_kept_kernel_file("/sys/class/net", "sys/fs/lustre", {"lo", "rx_bytes", {}, true}, "statistics", send_to_loopback);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_GT(std::stoull(second), std::stoull(first)) << "the kept descriptor was not read afresh";
}

TEST(LustreReaderDiscovery, NewDevicesAppearWithinRelistReadsAndGoneOnesAtOnce) {
  TempDir root;
  const std::string osc = "proc/fs/lustre/osc/";
  root.write(osc + "fs-OST0000-osc-ffff1/stats", "zero\n");
  root.write(osc + "fs-OST0001-osc-ffff1/stats", "one\n");
  ReaderOptions o = options(root, KeepOpen::Off);
  o.relist_reads = 3;
  ParamReader reader(o);
  EXPECT_EQ(read_one(reader, kOscStats).size(), 2u);  // read 1 lists

  root.write(osc + "fs-OST0002-osc-ffff1/stats", "two\n");
  EXPECT_EQ(read_one(reader, kOscStats).size(), 2u) << "listed again before relist_reads reads";
  EXPECT_EQ(read_one(reader, kOscStats).size(), 2u);
  EXPECT_EQ(read_one(reader, kOscStats).size(), 3u) << "the new device is not found within relist_reads reads";

  // A device that goes away is skipped at once, without an error, and its open failing lists the directory
  // again at the next read, which then finds a device added meanwhile.
  fs::remove_all(root.path / osc / "fs-OST0000-osc-ffff1");
  EXPECT_EQ(read_one(reader, kOscStats).size(), 2u);
  root.write(osc + "fs-OST0003-osc-ffff1/stats", "three\n");
  auto after = read_one(reader, kOscStats);
  EXPECT_EQ(after.size(), 3u);
  EXPECT_EQ(after.count("fs-OST0003-osc-ffff1"), 1u);
}
