// EventFields: an event built from the reused fields must be the very event a braced list of
// fresh TraceFields gives (same hash, same fields for observers), however the fields were used
// before, and its shard text must be TenantShardId::ToString().
#include "model/postgres/event_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/check.h"
#include "sim/time.h"

namespace storsim::postgres {
namespace {

using persistence::TenantShardId;
using sim::TraceField;

TEST(EventFieldsTest, ShardTextIsToString) {
  EventFields<1> fields;
  for (const TenantShardId& id :
       {TenantShardId{"tenant-7", 0, 0}, TenantShardId{"a", 1, 2}, TenantShardId{"b", 0x1f, 0xa0},
        TenantShardId{"0123456789abcdef0123456789abcdef", 255, 255}, TenantShardId{"", 0, 1}}) {
    fields.Clear();
    fields.Shard("shard", id);
    ASSERT_EQ(fields.size(), 1u);
    EXPECT_EQ(fields.span()[0].text, id.ToString());
    EXPECT_TRUE(fields.span()[0].is_text);
  }
}

TEST(EventFieldsTest, ReusedFieldsGiveTheSameEventAsFreshOnes) {
  sim::Trace fresh;
  sim::Trace reused;
  sim::MemoryTraceSink fresh_sink;
  sim::MemoryTraceSink reused_sink;
  fresh.AddObserver(&fresh_sink);
  reused.AddObserver(&reused_sink);
  EventFields<4> fields;
  const sim::Instant at = sim::Instant::FromNanos(1234);
  // First a long text where an integer goes next, then the reverse: stale values must not leak.
  fields.Clear();
  fields.Str("op", "increment_generation");
  fields.Int("client", 3);
  fields.Shard("shard", {"tenant-1", 1, 4});
  reused.Emit(at, 2, "db.commit", fields.span());
  fresh.Emit(at, 2, "db.commit",
             {TraceField::Str("op", "increment_generation"), TraceField::Int("client", 3),
              TraceField::Str("shard", "tenant-1-0104")});
  fields.Clear();
  fields.Int("op", -5);
  fields.Str("client", "");
  reused.Emit(at, 2, "db.commit", fields.span());
  fresh.Emit(at, 2, "db.commit", {TraceField::Int("op", -5), TraceField::Str("client", "")});
  EXPECT_EQ(reused.hash(), fresh.hash());
  ASSERT_EQ(reused_sink.events().size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const sim::TraceEvent& a = reused_sink.events()[i];
    const sim::TraceEvent& b = fresh_sink.events()[i];
    EXPECT_EQ(a.ToString(), b.ToString());
    ASSERT_EQ(a.fields.size(), b.fields.size());
    for (size_t f = 0; f < a.fields.size(); ++f) {
      EXPECT_EQ(a.fields[f].key, b.fields[f].key);
      EXPECT_EQ(a.fields[f].number, b.fields[f].number);
      EXPECT_EQ(a.fields[f].text, b.fields[f].text);
      EXPECT_EQ(a.fields[f].is_text, b.fields[f].is_text);
    }
  }
}

TEST(EventFieldsTest, MoreFieldsThanTheBoundFail) {
  EventFields<2> fields;
  fields.Int("a", 1);
  fields.Int("b", 2);
  EXPECT_THROW(fields.Int("c", 3), sim::InvariantViolation);
  fields.Clear();
  EXPECT_EQ(fields.size(), 0u);
}

}  // namespace
}  // namespace storsim::postgres
