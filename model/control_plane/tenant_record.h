// What the control plane keeps per tenant, and how it lies on the control plane's sim Disk: one
// file per tenant ("cplane/tenant/<tenant_id>"), replaced and synced as a whole on every change,
// so a crash leaves either the old or the new record, never a mix.
//
// Three-state knowledge, spelled out: `spec` absent = the tenant was never placed (GetSpec 404);
// `applied_version` 0 = no spec ever reached the compute; `last_applied` absent = no notification
// was ever answered 2xx.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/api/compute_api.h"

namespace storsim::control_plane {

struct TenantRecord {
  std::optional<api::ComputeSpec> spec;  // the stored (newest) spec computes pull
  uint64_t spec_seq = 0;                 // notification that produced `spec`
  std::optional<api::NotifyAttachRequest> spec_notification;  // ... and its content
  uint64_t applied_version = 0;  // newest spec version the compute runs
  uint64_t received_seq = 0;     // notifications received so far
  std::optional<api::NotifyAttachRequest> last_received;
  uint64_t last_applied_seq = 0;
  std::optional<api::NotifyAttachRequest> last_applied;  // placement the compute runs
  bool apply_later = false;  // persisted under 423: the applier pushes it when unlocked

  bool operator==(const TenantRecord&) const = default;
};

inline constexpr char kTenantFilePrefix[] = "cplane/tenant/";

std::vector<std::string> EncodeTenantRecord(const TenantRecord& record);
// Inverse of EncodeTenantRecord. Precondition: the records came from EncodeTenantRecord (the
// disk is ours); a malformed record is a model bug and fails a SIM_CHECK.
TenantRecord DecodeTenantRecord(const std::string& tenant_id,
                                const std::vector<std::string>& records);

}  // namespace storsim::control_plane
