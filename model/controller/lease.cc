// The shared lease record (see lease.h).
#include "model/controller/lease.h"

#include "sim/check.h"

namespace storsim::controller {

bool LeaseStore::Update(uint64_t expected_version, LeaseRecord next, LeaseRecord* stored) {
  if (record_.resource_version != expected_version) return false;
  const bool holder_changed = next.holder != record_.holder && !next.holder.empty();
  next.resource_version = record_.resource_version + 1;
  next.term = holder_changed ? record_.term + 1 : record_.term;
  SIM_CHECK(next.term >= record_.term);
  record_ = std::move(next);
  ++updates_;
  if (stored != nullptr) *stored = record_;
  return true;
}

}  // namespace storsim::controller
