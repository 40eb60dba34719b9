// Names of the API enums, for traces and messages.
#include "model/api/compute_api.h"
#include "model/api/controller_api.h"
#include "model/api/http.h"
#include "model/api/location.h"

namespace storsim::api {

const char* HttpName(Http status) {
  switch (status) {
    case Http::kOk: return "200 OK";
    case Http::kAccepted: return "202 Accepted";
    case Http::kBadRequest: return "400 Bad Request";
    case Http::kUnauthorized: return "401 Unauthorized";
    case Http::kForbidden: return "403 Forbidden";
    case Http::kNotFound: return "404 Not Found";
    case Http::kRequestTimeout: return "408 Request Timeout";
    case Http::kConflict: return "409 Conflict";
    case Http::kPreconditionFailed: return "412 Precondition Failed";
    case Http::kLocked: return "423 Locked";
    case Http::kTooManyRequests: return "429 Too Many Requests";
    case Http::kInternalError: return "500 Internal Server Error";
    case Http::kBadGateway: return "502 Bad Gateway";
    case Http::kServiceUnavailable: return "503 Service Unavailable";
    case Http::kGatewayTimeout: return "504 Gateway Timeout";
  }
  return "unknown status";
}

const char* LocationModeName(LocationMode mode) {
  switch (mode) {
    case LocationMode::kAttachedSingle: return "AttachedSingle";
    case LocationMode::kAttachedMulti: return "AttachedMulti";
    case LocationMode::kAttachedStale: return "AttachedStale";
    case LocationMode::kSecondary: return "Secondary";
    case LocationMode::kDetached: return "Detached";
  }
  return "unknown";
}

std::string LocationConfig::ToString() const {
  std::string out = LocationModeName(mode);
  if (!generation.is_none()) out += " g" + generation.ToString();
  if (mode == LocationMode::kSecondary) out += secondary_warm ? " warm" : " cold";
  if (controller_term != 0) out += " term" + std::to_string(controller_term);
  return out;
}

const char* ComputeStatusName(ComputeStatus status) {
  switch (status) {
    case ComputeStatus::kEmpty: return "Empty";
    case ComputeStatus::kConfigurationPending: return "ConfigurationPending";
    case ComputeStatus::kInit: return "Init";
    case ComputeStatus::kRunning: return "Running";
    case ComputeStatus::kConfiguration: return "Configuration";
    case ComputeStatus::kFailed: return "Failed";
    case ComputeStatus::kTerminationPendingFast: return "TerminationPendingFast";
    case ComputeStatus::kTerminationPendingImmediate: return "TerminationPendingImmediate";
    case ComputeStatus::kTerminated: return "Terminated";
    case ComputeStatus::kRefreshConfigurationPending: return "RefreshConfigurationPending";
    case ComputeStatus::kRefreshConfiguration: return "RefreshConfiguration";
  }
  return "unknown";
}

const char* NodeAvailabilityName(NodeAvailability availability) {
  switch (availability) {
    case NodeAvailability::kOffline: return "Offline";
    case NodeAvailability::kWarmingUp: return "WarmingUp";
    case NodeAvailability::kActive: return "Active";
  }
  return "unknown";
}

}  // namespace storsim::api
