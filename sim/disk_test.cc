// Disk durability rules.
#include "sim/disk.h"

#include <gtest/gtest.h>

namespace storsim::sim {
namespace {

using Records = std::vector<std::string>;

TEST(DiskTest, AppendsAfterSyncAreLostOnCrash) {
  Disk disk;
  disk.Append("log", "a");
  disk.Sync();
  disk.Append("log", "b");
  EXPECT_EQ(disk.Read("log"), (Records{"a", "b"}));
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("log"), (Records{"a"}));
}

TEST(DiskTest, ReplaceAndRemoveRevertToTheSyncedContents) {
  Disk disk;
  disk.Replace("meta", {"v1"});
  disk.Append("gone", "x");
  disk.Sync();
  disk.Replace("meta", {"v2"});
  disk.Remove("gone");
  disk.Append("new", "y");
  EXPECT_FALSE(disk.Exists("gone"));
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("meta"), (Records{"v1"}));
  EXPECT_EQ(disk.Read("gone"), (Records{"x"}));
  EXPECT_FALSE(disk.Exists("new"));
}

TEST(DiskTest, SyncFileMakesOnlyThatFileDurable) {
  Disk disk;
  disk.Append("a", "1");
  disk.Append("b", "2");
  disk.SyncFile("a");
  disk.DropUnsynced();
  EXPECT_TRUE(disk.Exists("a"));
  EXPECT_FALSE(disk.Exists("b"));
}

TEST(DiskTest, RemoveThenRecreateRevertsToOriginal) {
  Disk disk;
  disk.Append("f", "old");
  disk.Sync();
  disk.Remove("f");
  disk.Append("f", "new");
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("f"), (Records{"old"}));
  disk.Remove("f");
  disk.Sync();
  disk.DropUnsynced();
  EXPECT_FALSE(disk.Exists("f"));
}

TEST(DiskTest, ListByPrefixInNameOrder) {
  Disk disk;
  disk.Append("tenants/b", "");
  disk.Append("tenants/a", "");
  disk.Append("other", "");
  EXPECT_EQ(disk.List("tenants/"), (Records{"tenants/a", "tenants/b"}));
}

}  // namespace
}  // namespace storsim::sim
