// Fault and fault-plan generators (see fault_plan_gen.h). Every field is an integer drawn with
// rc::gen::inRange, which shrinks towards its lower bound, so the lower bound of each field is
// chosen to be its "simplest" value: time 0, the shortest duration, the first target, the
// mildest drift or loss.
#include "scenarios/properties/fault_plan_gen.h"

#include <algorithm>
#include <memory>

#include "model/cluster/cluster.h"
#include "sim/check.h"
#include "sim/simulation.h"

namespace storsim::scenarios::properties {
namespace {

bool TwoProcessKind(sim::FaultKind kind) {
  return kind == sim::FaultKind::kPartition || kind == sim::FaultKind::kPartitionOneWay ||
         kind == sim::FaultKind::kClog || kind == sim::FaultKind::kLinkDegrade;
}

// RapidCheck scales integer ranges by `size`; faults are drawn at full size (see the header).
constexpr int kFullSize = rc::kNominalSize;

// Clock drift in whole milliseconds per second (ppm * 1000 = ppb), up to the chaos draw's 50 ms/s.
constexpr int64_t kDriftStepPpb = 1'000'000;
constexpr int64_t kDriftSteps = 50;
// Link loss in 1% steps, from 1% to 50% (the chaos draw's 10'000..500'000 ppm).
constexpr int64_t kLossStepPpm = 10'000;
constexpr int64_t kLossSteps = 50;

void CheckSpace(const FaultSpace& space) {
  SIM_CHECK_MSG(space.targets.size() >= 2, "a fault space needs two targets");
  SIM_CHECK_MSG(!space.kinds.empty(), "a fault space needs a kind");
  SIM_CHECK(space.phase >= kFaultGrid);
  SIM_CHECK(space.faults_min >= 0 && space.faults_min <= space.faults_max && space.faults_max <= 64);
  for (sim::FaultKind kind : space.kinds) {
    SIM_CHECK_MSG(kind != sim::FaultKind::kHealAll && kind != sim::FaultKind::kKindCount,
                  "a fault space holds faults, not heals");
  }
}

}  // namespace

std::vector<sim::FaultKind> ChaosFaultKinds() {
  return {sim::FaultKind::kCrash,     sim::FaultKind::kKill,
          sim::FaultKind::kPause,     sim::FaultKind::kPartition,
          sim::FaultKind::kIsolate,   sim::FaultKind::kPartitionOneWay,
          sim::FaultKind::kClog,      sim::FaultKind::kLinkDegrade,
          sim::FaultKind::kClockDrift};
}

FaultSpace StorageFaultSpace() {
  sim::Simulation simulation({.seed = 1});
  cluster::ClusterOptions options;
  options.pageservers = 2;
  options.tenants = 1;
  FaultSpace space;
  {
    // Built, never started: the constructor only adds processes, in model/cluster's fixed order.
    cluster::Cluster cluster(simulation, options);
    space.targets = {cluster.postgres_id(), cluster.s3_id(), cluster.safekeeper_id(),
                     cluster.control_plane_id()};
    for (sim::ProcessId id : cluster.pageserver_ids()) space.targets.push_back(id);
  }
  SIM_CHECK(space.targets.size() == 6);
  space.kinds = ChaosFaultKinds();
  return space;
}

rc::Gen<sim::Fault> GenFault(const FaultSpace& space) {
  CheckSpace(space);
  const auto space_ptr = std::make_shared<const FaultSpace>(space);
  const int64_t slots = space.phase.nanos() / kFaultGrid.nanos();
  const int64_t duration_steps =
      (kFaultDurationMax.nanos() - kFaultDurationMin.nanos()) / kFaultGrid.nanos();
  const auto targets = static_cast<int>(space.targets.size());
  auto fault = rc::gen::apply(
      [space_ptr](int kind_index, int a_index, int b_offset, int64_t at_slot,
                  int64_t duration_step, int64_t magnitude, bool negative) {
        const FaultSpace& s = *space_ptr;
        sim::Fault fault;
        fault.kind = s.kinds[static_cast<size_t>(kind_index)];
        fault.at = sim::Duration::Nanos(at_slot * kFaultGrid.nanos());
        fault.a = s.targets[static_cast<size_t>(a_index)];
        if (TwoProcessKind(fault.kind)) {
          // b is any target but a: the offset skips a, so it shrinks towards the first other one.
          const int b_index = b_offset >= a_index ? b_offset + 1 : b_offset;
          fault.b = s.targets[static_cast<size_t>(b_index)];
        }
        if (fault.kind != sim::FaultKind::kClockDrift) {
          fault.duration = kFaultDurationMin + sim::Duration::Nanos(duration_step * kFaultGrid.nanos());
        }
        if (fault.kind == sim::FaultKind::kClockDrift) {
          fault.value = (negative ? -1 : 1) * (magnitude + 1) * kDriftStepPpb;
        } else if (fault.kind == sim::FaultKind::kLinkDegrade) {
          fault.value = (magnitude + 1) * kLossStepPpm;
        }
        SIM_CHECK(fault.at < s.phase);
        return fault;
      },
      rc::gen::inRange<int>(0, static_cast<int>(space.kinds.size())),
      rc::gen::inRange<int>(0, targets), rc::gen::inRange<int>(0, targets - 1),
      rc::gen::inRange<int64_t>(0, slots), rc::gen::inRange<int64_t>(0, duration_steps + 1),
      rc::gen::inRange<int64_t>(0, std::min(kDriftSteps, kLossSteps)), rc::gen::arbitrary<bool>());
  return rc::gen::resize(kFullSize, fault);
}

rc::Gen<sim::FaultPlan> GenFaultPlan(const FaultSpace& space) {
  CheckSpace(space);
  const int faults_min = space.faults_min;
  const int faults_max = space.faults_max;
  const rc::Gen<sim::Fault> fault = GenFault(space);
  using Faults = std::vector<rc::Shrinkable<sim::Fault>>;
  // Like rc::gen::container, but the length is drawn in [faults_min, faults_max scaled by
  // size] rather than [0, size]; shrinking is RapidCheck's container shrinking (remove chunks of
  // faults, then shrink each fault) and may go below faults_min.
  return [faults_min, faults_max, fault](const rc::Random& random, int size) {
    rc::Random r = random;
    const int scaled = (std::clamp(size, 0, rc::kNominalSize) * faults_max + rc::kNominalSize - 1) /
                       rc::kNominalSize;
    const int length_max = std::max(faults_min, scaled);
    const auto length = static_cast<int>(
        faults_min + r.split().next() % static_cast<uint64_t>(length_max - faults_min + 1));
    Faults faults;
    for (int k = 0; k < length; ++k) faults.push_back(fault(r.split(), size));
    return rc::shrinkable::map(
        rc::shrinkable::shrinkRecur(std::move(faults),
                                    [](const Faults& elements) {
                                      return rc::seq::concat(
                                          rc::shrink::removeChunks(elements),
                                          rc::shrink::eachElement(
                                              elements, [](const rc::Shrinkable<sim::Fault>& f) {
                                                return f.shrinks();
                                              }));
                                    }),
        [](const Faults& elements) {
          sim::FaultPlan plan;
          for (const auto& element : elements) plan.faults.push_back(element.value());
          return plan;
        });
  };
}

std::string ShowPlan(const sim::FaultPlan& plan) {
  if (plan.faults.empty()) return "(no faults)";
  std::string out;
  for (const sim::Fault& fault : plan.faults) {
    if (!out.empty()) out += "; ";
    out += fault.ToString();
  }
  return out;
}

}  // namespace storsim::scenarios::properties

namespace storsim::sim {

void showValue(const FaultPlan& plan, std::ostream& os) {
  os << plan.faults.size() << " fault(s): " << scenarios::properties::ShowPlan(plan);
}

}  // namespace storsim::sim
