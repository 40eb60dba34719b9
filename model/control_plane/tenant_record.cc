// Disk form of a TenantRecord: "key|value" records, values in spec_codec.h's text forms.
#include "model/control_plane/tenant_record.h"

#include <charconv>

#include "model/compute/spec_codec.h"
#include "sim/check.h"

namespace storsim::control_plane {
namespace {

uint64_t ParseCount(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [pointer, error] = std::from_chars(text.data(), end, value);
  SIM_CHECK_MSG(error == std::errc() && pointer == end && !text.empty(),
                "malformed number in a control plane record: " + text);
  return value;
}

}  // namespace

std::vector<std::string> EncodeTenantRecord(const TenantRecord& record) {
  std::vector<std::string> out;
  if (record.spec) out.push_back("spec|" + compute::EncodeSpec(*record.spec));
  out.push_back("spec_seq|" + std::to_string(record.spec_seq));
  if (record.spec_notification) {
    out.push_back("spec_notification|" + compute::EncodeNotification(*record.spec_notification));
  }
  out.push_back("applied_version|" + std::to_string(record.applied_version));
  out.push_back("received_seq|" + std::to_string(record.received_seq));
  if (record.last_received) {
    out.push_back("last_received|" + compute::EncodeNotification(*record.last_received));
  }
  out.push_back("last_applied_seq|" + std::to_string(record.last_applied_seq));
  if (record.last_applied) {
    out.push_back("last_applied|" + compute::EncodeNotification(*record.last_applied));
  }
  out.push_back(std::string("apply_later|") + (record.apply_later ? "1" : "0"));
  return out;
}

TenantRecord DecodeTenantRecord(const std::string& tenant_id,
                                const std::vector<std::string>& records) {
  TenantRecord record;
  auto notification = [&tenant_id](const std::string& text) {
    auto decoded = compute::DecodeNotification(tenant_id, text);
    SIM_CHECK_MSG(decoded.has_value(), "malformed notification record: " + text);
    return *decoded;
  };
  for (const std::string& line : records) {
    const size_t bar = line.find('|');
    SIM_CHECK_MSG(bar != std::string::npos, "malformed control plane record: " + line);
    const std::string key = line.substr(0, bar);
    const std::string value = line.substr(bar + 1);
    if (key == "spec") {
      record.spec = compute::DecodeSpec(tenant_id, value);
      SIM_CHECK_MSG(record.spec.has_value(), "malformed spec record: " + value);
    } else if (key == "spec_seq") {
      record.spec_seq = ParseCount(value);
    } else if (key == "spec_notification") {
      record.spec_notification = notification(value);
    } else if (key == "applied_version") {
      record.applied_version = ParseCount(value);
    } else if (key == "received_seq") {
      record.received_seq = ParseCount(value);
    } else if (key == "last_received") {
      record.last_received = notification(value);
    } else if (key == "last_applied_seq") {
      record.last_applied_seq = ParseCount(value);
    } else if (key == "last_applied") {
      record.last_applied = notification(value);
    } else if (key == "apply_later") {
      record.apply_later = value == "1";
    } else {
      SIM_CHECK_MSG(false, "unknown control plane record key: " + key);
    }
  }
  return record;
}

}  // namespace storsim::control_plane
