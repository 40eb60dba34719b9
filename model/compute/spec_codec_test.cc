// Round trips and malformed inputs of the spec / notification / placement text forms.
#include "model/compute/spec_codec.h"

#include <gtest/gtest.h>

namespace storsim::compute {
namespace {

TEST(SpecCodecTest, SpecRoundTrips) {
  api::ComputeSpec spec;
  spec.tenant_id = "t1";
  spec.version = 7;
  spec.shard_count = 2;
  spec.stripe_size = 8;
  spec.shards = {{3, 0}, {5, 1}};
  EXPECT_EQ(EncodeSpec(spec), "v=7;count=2;stripe=8;shards=0@3,1@5");
  auto decoded = DecodeSpec("t1", EncodeSpec(spec));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, spec);
}

TEST(SpecCodecTest, NotificationRoundTripsWithAndWithoutOptionals) {
  api::NotifyAttachRequest request;
  request.tenant_id = "t2";
  request.shards = {{9, 0}};
  auto decoded = DecodeNotification("t2", EncodeNotification(request));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, request);
  request.stripe_size = 32;
  request.preferred_az = "az-1";
  request.shards = {{1, 0}, {2, 1}, {3, 2}};
  decoded = DecodeNotification("t2", EncodeNotification(request));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, request);
}

TEST(SpecCodecTest, MalformedTextIsRejected) {
  EXPECT_FALSE(DecodeSpec("t", "v=x;count=0;stripe=0;shards=0@1").has_value());
  EXPECT_FALSE(DecodeSpec("t", "v=1;count=0;stripe=0").has_value());
  EXPECT_FALSE(DecodeSpec("t", "garbage").has_value());
  EXPECT_FALSE(ParseShards("0@").has_value());
  EXPECT_FALSE(ParseShards("300@1").has_value());
  EXPECT_FALSE(DecodeNotification("t", "stripe=-;shards=0@1").has_value());
  auto empty = ParseShards("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(SpecCodecTest, SameConninfoIgnoresVersionOnly) {
  api::ComputeSpec a;
  a.tenant_id = "t";
  a.version = 1;
  a.shards = {{1, 0}};
  api::ComputeSpec b = a;
  b.version = 2;
  EXPECT_TRUE(SameConninfo(a, b));
  b.shards = {{2, 0}};
  EXPECT_FALSE(SameConninfo(a, b));
  EXPECT_EQ(NodeOfShard(a, 0), std::optional<api::NodeId>(1));
  EXPECT_FALSE(NodeOfShard(a, 1).has_value());
}

}  // namespace
}  // namespace storsim::compute
