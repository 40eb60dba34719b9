// The control plane's per-tenant record survives its disk form exactly.
#include "model/control_plane/tenant_record.h"

#include <gtest/gtest.h>

#include "sim/check.h"

namespace storsim::control_plane {
namespace {

TEST(TenantRecordTest, EmptyRecordRoundTrips) {
  TenantRecord record;
  EXPECT_EQ(DecodeTenantRecord("t", EncodeTenantRecord(record)), record);
}

TEST(TenantRecordTest, FullRecordRoundTrips) {
  TenantRecord record;
  api::NotifyAttachRequest request;
  request.tenant_id = "t";
  request.stripe_size = 8;
  request.shards = {{4, 0}, {6, 1}};
  record.spec = api::ComputeSpec{"t", 2, 8, {{4, 0}, {6, 1}}, 5};
  record.spec_seq = 9;
  record.spec_notification = request;
  record.applied_version = 4;
  record.received_seq = 9;
  record.last_received = request;
  record.last_applied_seq = 7;
  request.shards = {{4, 0}, {5, 1}};
  record.last_applied = request;
  record.apply_later = true;
  EXPECT_EQ(DecodeTenantRecord("t", EncodeTenantRecord(record)), record);
}

TEST(TenantRecordTest, CorruptRecordFailsACheck) {
  EXPECT_THROW(DecodeTenantRecord("t", {"spec_seq|x"}), sim::InvariantViolation);
  EXPECT_THROW(DecodeTenantRecord("t", {"what|1"}), sim::InvariantViolation);
}

}  // namespace
}  // namespace storsim::control_plane
