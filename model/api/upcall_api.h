// Pageserver -> controller upcalls: re-attach at start-up and validate before deletions
// (SPEC.md §4.1, §4.2). Pageservers retry both forever (sleep <= 3 s between tries).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "sim/rpc.h"

namespace storsim::api {

struct NodeRegisterRequest {
  NodeId node_id = 0;
  std::string listen_http_addr;
  uint16_t listen_http_port = 0;
  std::string availability_zone_id;
};

// POST /upcall/v1/re-attach
struct ReAttachRequest {
  NodeId node_id = 0;
  std::optional<NodeRegisterRequest> register_node;
  bool empty_local_disk = false;
};
struct ReAttachTenant {
  TenantShardId id;
  std::optional<Generation> generation;  // set for attached, absent for secondary
  LocationMode mode = LocationMode::kAttachedSingle;  // AttachedSingle or Secondary only
  uint32_t stripe_size = 0;
};
struct ReAttachResponse {
  // 200; 503 from a candidate or when the leader row says the responder stepped down; 500 when
  // the database failed (e.g. the node was deleted).
  Http status = Http::kOk;
  std::vector<ReAttachTenant> tenants;
  uint64_t controller_term = 0;  // lease-fenced protocol only
};

// POST /upcall/v1/validate
struct ValidateTenant {
  TenantShardId id;
  Generation generation;
};
struct ValidateRequest {
  std::vector<ValidateTenant> tenants;  // at most 128 per request
};
struct ValidateResult {
  TenantShardId id;
  bool valid = false;
};
struct ValidateResponse {
  Http status = Http::kOk;
  // Shards unknown to the controller are omitted; the pageserver treats omission as invalid.
  std::vector<ValidateResult> tenants;
};

inline constexpr sim::RpcMethod<ReAttachRequest, ReAttachResponse> kReAttach{"upcall.re_attach"};
inline constexpr sim::RpcMethod<ValidateRequest, ValidateResponse> kValidate{"upcall.validate"};

}  // namespace storsim::api
