// Disk durability rules.
#include "sim/disk.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

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

TEST(DiskTest, ReplaceAfterUnsyncedAppendsKeepsOnlyTheSyncedPrefix) {
  Disk disk;
  disk.Append("wal", "r1");
  disk.Append("wal", "r2");
  disk.SyncFile("wal");
  disk.Append("wal", "r3-unsynced");
  disk.Replace("wal", {"snapshot"});
  EXPECT_EQ(disk.Read("wal"), (Records{"snapshot"}));
  // A second overwrite before any sync must not forget the durable contents.
  disk.Replace("wal", {"snapshot-2"});
  disk.Append("wal", "r4");
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("wal"), (Records{"r1", "r2"}));
  // After a sync the snapshot is what survives, and appends after it are again a prefix.
  disk.Replace("wal", {"snapshot-3"});
  disk.SyncFile("wal");
  disk.Append("wal", "r5");
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("wal"), (Records{"snapshot-3"}));
}

TEST(DiskTest, ReplaceMovesRecordsInAndOutWithoutCopying) {
  Disk disk;
  // Records longer than any small-string buffer, so a copy would show as a new address.
  std::vector<std::string> log{std::string(100, 'a'), std::string(100, 'b')};
  const char* first = log[0].data();
  disk.Replace("wal", std::move(log));
  ASSERT_EQ(disk.Read("wal").size(), 2u);
  EXPECT_EQ(disk.Read("wal")[0].data(), first);  // moved in
  disk.SyncFile("wal");
  disk.Append("wal", std::string(100, 'c'));  // unsynced: lost on crash
  std::vector<std::string> snapshot{std::string(100, 's')};
  const char* snapshot_data = snapshot[0].data();
  disk.Replace("wal", std::move(snapshot));
  EXPECT_EQ(disk.Read("wal")[0].data(), snapshot_data);
  disk.DropUnsynced();
  // The synced records came back, moved aside rather than copied at the Replace.
  ASSERT_EQ(disk.Read("wal"), (Records{std::string(100, 'a'), std::string(100, 'b')}));
  EXPECT_EQ(disk.Read("wal")[0].data(), first);
}

TEST(DiskTest, RemoveAfterUnsyncedAppendsRestoresTheSyncedPrefix) {
  Disk disk;
  disk.Append("f", "kept");
  disk.Sync();
  disk.Append("f", "lost");
  disk.Remove("f");
  EXPECT_FALSE(disk.Exists("f"));
  disk.DropUnsynced();
  EXPECT_EQ(disk.Read("f"), (Records{"kept"}));
}

// The last-file lookup cache must never outlive its entry or follow a copy: writes through a
// copy, through a moved-to disk, and after a crash erased the cached file go to the right file.
TEST(DiskTest, LookupCacheFollowsCopiesMovesAndCrashes) {
  Disk disk;
  disk.Append("a", "1");
  disk.Append("b", "2");
  disk.Append("a", "3");
  disk.SyncFile("a");
  Disk copy = disk;
  copy.Append("a", "copy");
  disk.Append("a", "original");
  EXPECT_EQ(disk.Read("a"), (Records{"1", "3", "original"}));
  EXPECT_EQ(copy.Read("a"), (Records{"1", "3", "copy"}));
  // "b" was never synced: a crash erases it, with the cache pointing at it.
  disk.Append("b", "4");
  disk.DropUnsynced();
  EXPECT_FALSE(disk.Exists("b"));
  disk.Append("b", "5");
  EXPECT_EQ(disk.Read("b"), (Records{"5"}));
  Disk moved = std::move(disk);
  moved.Append("b", "6");
  moved.SyncFile("b");
  moved.DropUnsynced();
  EXPECT_EQ(moved.Read("b"), (Records{"5", "6"}));
  copy = moved;
  copy.Remove("b");
  EXPECT_TRUE(moved.Exists("b"));
  EXPECT_FALSE(copy.Exists("b"));
  moved = std::move(copy);
  moved.Append("c", "7");
  EXPECT_FALSE(moved.Exists("b"));
  EXPECT_EQ(moved.List(""), (Records{"a", "c"}));
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
