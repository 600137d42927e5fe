#include <gtest/gtest.h>

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
