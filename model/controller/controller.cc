// The controller process wrapper (see controller.h) and the borrowing Persistence adapter.
#include "model/controller/controller.h"

#include <utility>

#include "model/controller/service.h"

namespace storsim::controller {

std::unique_ptr<persistence::Persistence> BorrowPersistence(persistence::Persistence& target) {
  return std::make_unique<BorrowedPersistence>(target);
}

const char* LeadershipStatusName(LeadershipStatus status) {
  switch (status) {
    case LeadershipStatus::kCandidate: return "Candidate";
    case LeadershipStatus::kLeader: return "Leader";
    case LeadershipStatus::kSteppedDown: return "SteppedDown";
  }
  return "unknown";
}

const char* LeadershipProtocolName(LeadershipProtocol protocol) {
  switch (protocol) {
    case LeadershipProtocol::kStepDown: return "step-down";
    case LeadershipProtocol::kNaive: return "naive";
    case LeadershipProtocol::kLease: return "lease";
    case LeadershipProtocol::kLeaseFenced: return "lease-fenced";
  }
  return "unknown";
}

Controller::Controller(ControllerOptions options, api::Defects defects,
                       PersistenceFactory persistence)
    : options_(std::move(options)), defects_(std::move(defects)),
      persistence_(std::move(persistence)) {
  SIM_CHECK(persistence_ != nullptr);
}

Controller::~Controller() = default;

void Controller::Run(sim::Env& env) {
  SIM_CHECK(env.incarnation() > incarnation_);
  incarnation_ = env.incarnation();
  // The previous incarnation's fibers are gone; drop its memory and start from the database.
  service_.reset();
  service_ = std::make_unique<Service>(env, options_, defects_, persistence_(env));
  service_->Run();
}

ControllerSnapshot Controller::Snapshot() const {
  if (!service_) return ControllerSnapshot{};
  return service_->Snapshot();
}

}  // namespace storsim::controller
