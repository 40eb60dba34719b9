// HTTP-like status codes that travel inside responses between simulated components. The RPC
// layer's absl errors only ever mean transport trouble (timeout, connection refused); what a
// server decides (400 lower generation, 412 precondition, 503 not leader ...) is one of these.
#pragma once

#include <cstdint>

namespace storsim::api {

enum class Http : int32_t {
  kOk = 200,
  kAccepted = 202,
  kBadRequest = 400,
  kUnauthorized = 401,
  kForbidden = 403,
  kNotFound = 404,
  kRequestTimeout = 408,
  kConflict = 409,
  kPreconditionFailed = 412,
  kLocked = 423,
  kTooManyRequests = 429,
  kInternalError = 500,
  kBadGateway = 502,
  kServiceUnavailable = 503,
  kGatewayTimeout = 504,
};

inline bool IsSuccess(Http status) {
  return static_cast<int32_t>(status) >= 200 && static_cast<int32_t>(status) < 300;
}
const char* HttpName(Http status);

}  // namespace storsim::api
