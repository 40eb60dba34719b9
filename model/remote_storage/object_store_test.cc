// ObjectStore on a bare sim Disk: semantics, listing, exact recovery of the synced log, batch
// deletes with repeated keys, binary-safe records and log compaction.
#include "model/remote_storage/object_store.h"

#include <gtest/gtest.h>

#include "sim/check.h"
#include "sim/hash.h"

namespace storsim::remote_storage {
namespace {

std::map<std::string, std::string> Contents(const ObjectStore& store) {
  std::map<std::string, std::string> contents;
  for (const auto& [key, object] : store.objects()) contents[key] = object.bytes;
  return contents;
}

TEST(ObjectStoreTest, PutOverwriteFindDelete) {
  sim::Disk disk;
  ObjectStore store(disk, {});
  store.Recover();
  EXPECT_EQ(store.Put("a", "one", 5), sim::HashBytes("one"));
  EXPECT_EQ(store.Put("a", "three", 6), sim::HashBytes("three"));
  ASSERT_NE(store.Find("a"), nullptr);
  EXPECT_EQ(store.Find("a")->bytes, "three");
  EXPECT_EQ(store.Find("a")->last_modified_wall_nanos, 6);
  EXPECT_EQ(store.bytes_stored(), 5u);
  EXPECT_EQ(store.Find("b"), nullptr);
  EXPECT_EQ(store.Delete({"a", "b"}), (std::vector<bool>{true, false}));
  EXPECT_EQ(store.Find("a"), nullptr);
  EXPECT_EQ(store.bytes_stored(), 0u);
  EXPECT_EQ(store.log_records(), 3u);  // two puts and one delete; the absent key wrote nothing
}

TEST(ObjectStoreTest, DeleteBatchRemovesARepeatedKeyOnce) {
  sim::Disk disk;
  ObjectStore store(disk, {});
  store.Recover();
  store.Put("k", "v", 1);
  EXPECT_EQ(store.Delete({"k", "k", "x"}), (std::vector<bool>{true, false, false}));
  EXPECT_TRUE(store.objects().empty());
}

TEST(ObjectStoreTest, ListFiltersByPrefixStartsAfterAndTruncates) {
  sim::Disk disk;
  ObjectStore store(disk, {});
  store.Recover();
  for (const char* key : {"a/1", "a/2", "a/3", "a0", "b/1", "a/", "a"}) store.Put(key, key, 0);
  ObjectPage page = store.List("a/", "", 10);
  EXPECT_EQ(page.keys, (std::vector<std::string>{"a/", "a/1", "a/2", "a/3"}));
  EXPECT_FALSE(page.truncated);
  page = store.List("a/", "a/1", 2);
  EXPECT_EQ(page.keys, (std::vector<std::string>{"a/2", "a/3"}));
  EXPECT_FALSE(page.truncated);  // exactly full, nothing after: not truncated
  page = store.List("a/", "", 2);
  EXPECT_EQ(page.keys, (std::vector<std::string>{"a/", "a/1"}));
  EXPECT_TRUE(page.truncated);
  page = store.List("", "a0", 10);
  EXPECT_EQ(page.keys, (std::vector<std::string>{"b/1"}));
  page = store.List("a/", "0", 10);  // a start key below the prefix starts at the prefix
  EXPECT_EQ(page.keys.size(), 4u);
  EXPECT_TRUE(store.List("c", "", 10).keys.empty());
}

TEST(ObjectStoreTest, RecoverRebuildsExactlyTheSyncedLog) {
  sim::Disk disk;
  std::map<std::string, std::string> expected;
  {
    ObjectStore store(disk, {});
    store.Recover();
    store.Put("x", "1", 1);
    store.Put("y", "2", 2);
    store.Delete({"x"});
    store.Put("z", "3", 3);
    expected = Contents(store);
  }
  // An unsynced write of someone else on the same disk must not disturb the log.
  disk.Append("other", "junk");
  disk.DropUnsynced();
  ObjectStore recovered(disk, {});
  recovered.Recover();
  EXPECT_EQ(Contents(recovered), expected);
  ASSERT_NE(recovered.Find("z"), nullptr);
  EXPECT_EQ(recovered.Find("z")->last_modified_wall_nanos, 3);
  EXPECT_EQ(recovered.log_records(), 4u);
}

TEST(ObjectStoreTest, RecordsAreBinarySafe) {
  sim::Disk disk;
  std::string key = std::string("k:1\n2") + '\0' + "9:";
  std::string bytes = std::string("12:ab") + '\0' + std::string(3, '\xff') + ":";
  {
    ObjectStore store(disk, {});
    store.Recover();
    store.Put(key, bytes, -7);
  }
  disk.DropUnsynced();
  ObjectStore recovered(disk, {});
  recovered.Recover();
  ASSERT_NE(recovered.Find(key), nullptr);
  EXPECT_EQ(recovered.Find(key)->bytes, bytes);
  EXPECT_EQ(recovered.Find(key)->content_hash, sim::HashBytes(bytes));
  EXPECT_EQ(recovered.Find(key)->last_modified_wall_nanos, -7);
}

TEST(ObjectStoreTest, CompactionBoundsTheLogAndKeepsContents) {
  sim::Disk disk;
  std::map<std::string, std::string> expected;
  {
    ObjectStore store(disk, ObjectStoreOptions{.log_file = "log", .compact_records_min = 50});
    store.Recover();
    for (int i = 0; i < 2000; ++i) {
      const std::string key = "key" + std::to_string(i % 10);
      if (i % 7 == 0) {
        store.Delete({key});
      } else {
        store.Put(key, "value" + std::to_string(i), i);
      }
      EXPECT_LE(store.log_records(), 51u);
    }
    EXPECT_GT(store.compactions(), 10u);
    expected = Contents(store);
  }
  disk.DropUnsynced();
  ObjectStore recovered(disk, ObjectStoreOptions{.log_file = "log", .compact_records_min = 50});
  recovered.Recover();
  EXPECT_EQ(Contents(recovered), expected);
}

TEST(ObjectStoreTest, MalformedLogFailsACheck) {
  sim::Disk disk;
  disk.Append("log", "P3:abc9:x");
  ObjectStore store(disk, ObjectStoreOptions{.log_file = "log"});
  EXPECT_THROW(store.Recover(), sim::InvariantViolation);
}

}  // namespace
}  // namespace storsim::remote_storage
