#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/fs_names.h"
#include "agent/mounts.h"

using namespace ss::agent;

TEST(Mountinfo, ParsesLustreBeegfsAndEscapes) {
  const char* text =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "101 22 0:52 / /lustre/ai0 rw,relatime shared:55 - lustre 10.0.0.1@o2ib:10.0.0.2@o2ib:/ai0 rw,flock\n"
      "102 22 0:53 / /mnt/beegfs rw,relatime - beegfs beegfs_nodev rw,cfgFile=/etc/beegfs/beegfs-client.conf\n"
      "103 22 0:54 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
      "garbage line\n";
  auto t = parse_mountinfo(text);
  ASSERT_EQ(t.mounts.size(), 4u);
  EXPECT_EQ(t.skipped_lines, 1u);
  EXPECT_EQ(t.mounts[1].fstype, "lustre");
  EXPECT_EQ(t.mounts[1].mount_point, "/lustre/ai0");
  EXPECT_EQ(lustre_fsname(t.mounts[1]), "ai0");
  EXPECT_EQ(t.mounts[1].minor, 52u);
  EXPECT_EQ(t.mounts[2].fstype, "beegfs");
  EXPECT_EQ(t.mounts[3].mount_point, "/mnt/with space");
  EXPECT_TRUE(is_watched_fstype("wekafs"));
  EXPECT_FALSE(is_watched_fstype("tmpfs"));
}

// The `fs` rule (agent/fs_names.h): every node derives the same name for the same file system.
TEST(FsNames, DerivedFromTheMount) {
  auto t = parse_mountinfo(
      "101 22 0:52 / /lustre/ai0 rw - lustre 10.0.0.1@o2ib:10.0.0.2@o2ib:/ai0 rw,flock\n"
      "102 22 0:53 / /mnt/beegfs rw - beegfs beegfs_nodev rw,cfgFile=/etc/beegfs/scratch.d/beegfs-client.conf\n"
      "103 22 0:54 / /mnt/weka rw - wekafs backend01/default rw\n"
      "104 22 0:55 / /mnt/weka2 rw - wekafs projects rw\n"
      "105 22 0:56 / /home/ rw - nfs4 filer:/export/home rw\n"
      "106 22 0:57 / /mnt/beegfs2 rw - beegfs beegfs_nodev rw\n");
  ASSERT_EQ(t.mounts.size(), 6u);
  EXPECT_EQ(mount_fs_name(t.mounts[0], ""), "ai0");
  EXPECT_EQ(beegfs_conf_of_mount(t.mounts[1]), "/etc/beegfs/scratch.d/beegfs-client.conf");
  EXPECT_EQ(mount_fs_name(t.mounts[1], "mgmt01"), "mgmt01");
  EXPECT_EQ(mount_fs_name(t.mounts[1], ""), "beegfs");  // management host unknown
  EXPECT_EQ(mount_fs_name(t.mounts[2], ""), "default");
  EXPECT_EQ(mount_fs_name(t.mounts[3], ""), "projects");
  EXPECT_EQ(mount_fs_name(t.mounts[4], ""), "home");
  EXPECT_EQ(beegfs_conf_of_mount(t.mounts[5]), "");
}

TEST(FsNames, BeegfsManagementHost) {
  EXPECT_EQ(parse_beegfs_mgmt_host("# sysMgmtdHost = commented\n"
                                   "connClientPortUDP = 8004\n"
                                   "sysMgmtdHost                 = mgmt01   # the management host\n"),
            "mgmt01");
  EXPECT_EQ(parse_beegfs_mgmt_host("sysMgmtdHost =\n"), "");
  EXPECT_EQ(parse_beegfs_mgmt_host("sysMgmtdHostX = a\nsysMgmtdHost=b\r\nsysMgmtdHost = c\n"), "c");  // last wins
  EXPECT_EQ(parse_beegfs_mgmt_host(""), "");

  auto a = beegfs_address_of_args({"--mgmtd-addr", "mgmt02:8010", "--tls-disable"});
  EXPECT_EQ(a.mgmt_host, "mgmt02");
  EXPECT_EQ(beegfs_address_of_args({"--mgmtd-addr=[fd00::2]:8010"}).mgmt_host, "fd00::2");
  EXPECT_EQ(beegfs_address_of_args({"--mgmtd-addr=fd00::2"}).mgmt_host, "fd00::2");
  EXPECT_EQ(beegfs_address_of_args({"--sysMgmtdHost=mgmt03"}).mgmt_host, "mgmt03");
  auto c = beegfs_address_of_args({"--cfgFile=/etc/beegfs/p.conf"});
  EXPECT_EQ(c.mgmt_host, "");
  EXPECT_EQ(c.conf_path, "/etc/beegfs/p.conf");
  EXPECT_EQ(beegfs_address_of_args({"--mgmtd-addr"}).mgmt_host, "");  // no value: nothing
}

TEST(FsNames, ReadsTheMountsClientConfigurationAndRenames) {
  std::string dir = ::testing::TempDir() + "/fs_names_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/beegfs-client.conf") << "sysMgmtdHost = mgmt01\n";
  auto t = parse_mountinfo("102 22 0:53 / /mnt/beegfs rw - beegfs beegfs_nodev rw,cfgFile=" + dir +
                           "/beegfs-client.conf\n"
                           "105 22 0:56 / /home rw - nfs4 filer:/export/home rw\n");
  ASSERT_EQ(t.mounts.size(), 2u);
  EXPECT_EQ(read_beegfs_mgmt_host(dir + "/none.conf"), "");
  EXPECT_EQ(fs_of_mount(t.mounts[0], {}), "mgmt01");
  FsNames names{{{"mgmt01", "scratch"}, {"/home", "homes"}, {"home", "unused"}}};
  EXPECT_EQ(fs_of_mount(t.mounts[0], names), "scratch");  // by management host
  EXPECT_EQ(fs_of_mount(t.mounts[1], names), "homes");    // the mount point wins over the derived name
  EXPECT_EQ(names.name("other"), "other");
}
