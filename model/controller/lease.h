// A Kubernetes-Lease-like record for the lease leadership protocols (SPEC.md §3.7): holder
// identity, lease duration, the holder's renew time (its wall clock, informational only), a
// resource version for optimistic concurrency, and a term bumped on every change of holder.
//
// Owned by the harness and shared by every controller instance, like the API server's object.
// Reads and writes are atomic (one API-server request each). Following client-go's
// leaderelection, no instance ever compares renew_time with its own clock: a candidate remembers
// when (on its *local monotonic* clock) it last saw the record change and treats the lease as
// expired once `lease_duration` has passed locally without a change. Clock *rate* differences
// therefore shrink or stretch the lease, and nothing fences a paused holder.
#pragma once

#include <cstdint>
#include <string>

namespace storsim::controller {

struct LeaseRecord {
  std::string holder;          // "" when released
  int64_t lease_duration_ns = 0;
  int64_t renew_time_wall_ns = 0;  // the holder's wall clock at its last renew
  uint64_t resource_version = 0;   // bumped on every successful write
  uint64_t term = 0;               // bumped whenever the holder changes

  bool operator==(const LeaseRecord&) const = default;
};

class LeaseStore {
 public:
  LeaseRecord Get() const { return record_; }
  // Optimistic update: succeeds iff the stored resource_version equals `expected_version`; the
  // stored record becomes `next` with resource_version + 1 (and term + 1 when the holder
  // changes to a non-empty one). Returns the stored record on success, nothing on conflict.
  bool Update(uint64_t expected_version, LeaseRecord next, LeaseRecord* stored);
  uint64_t updates() const { return updates_; }

 private:
  LeaseRecord record_;
  uint64_t updates_ = 0;
};

}  // namespace storsim::controller
