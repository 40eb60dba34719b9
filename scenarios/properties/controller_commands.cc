// The stateful property's commands and their postconditions (see controller_commands.h).
#include "scenarios/properties/controller_commands.h"

#include <algorithm>
#include <string>

#include "model/api/controller_api.h"
#include "model/api/upcall_api.h"
#include "sim/check.h"

namespace storsim::scenarios::properties {
namespace {

using api::Http;

// RC_FAIL with a message (RC_ASSERT would only print the expression).
void Expect(bool condition, const std::string& message) {
  if (!condition) RC_FAIL(message);
}

std::string HttpString(Http status) {
  return std::to_string(static_cast<int>(status)) + " " + api::HttpName(status);
}

void SettleOrFail(ControllerSut& sut, const std::string& after) {
  const absl::Status settled = sut.harness.Settle();
  Expect(settled.ok(), "after " + after + ": " + settled.ToString());
}

// Node ids the model knows plus one it does not (a typo'd node id: 404).
std::vector<api::NodeId> NodeChoices(const PlacementModel& model) {
  std::vector<api::NodeId> ids = model.NodeIds();
  SIM_CHECK(!ids.empty());
  std::vector<api::NodeId> choices = ids;
  choices.insert(choices.end(), ids.begin(), ids.end());  // known nodes twice as likely
  choices.push_back(ids.back() + 1);
  return choices;
}

void CheckSlots(const api::TenantShardId& id, const ShardModel& expected, ControllerSut& sut) {
  bool attached_seen = false;
  for (size_t index = 0; index < sut.harness.pageserver_count(); ++index) {
    const pageserver::PageserverSnapshot snapshot = sut.harness.PageserverSnapshot(index);
    const bool secondary = std::count(expected.secondaries.begin(), expected.secondaries.end(),
                                      snapshot.node_id) > 0;
    for (const pageserver::SlotSnapshot& slot : snapshot.slots) {
      if (slot.shard != id) continue;
      const std::string where = id.ToString() + " on n" + std::to_string(snapshot.node_id) + ": " +
                                api::LocationModeName(slot.mode) + " g" +
                                (slot.generation.is_none() ? std::string("-")
                                                           : std::to_string(slot.generation.value()));
      if (snapshot.node_id == expected.attached) {
        Expect(slot.mode == api::LocationMode::kAttachedSingle &&
                   slot.generation == api::Generation(expected.generation),
               "pageserver slot " + where + ", model g" + std::to_string(expected.generation));
        attached_seen = true;
      } else if (secondary) {
        Expect(slot.mode == api::LocationMode::kSecondary, "secondary slot " + where);
      } else {
        Expect(!api::IsAttached(slot.mode), "attached slot outside the intent: " + where);
      }
    }
  }
  Expect(attached_seen, id.ToString() + ": no slot on its attached node n" +
                            std::to_string(expected.attached));
}

}  // namespace

void CheckAgainstModel(const PlacementModel& model, ControllerSut& sut) {
  std::map<api::TenantShardId, api::ShardPlacement> described;
  for (const std::string& tenant : sut.harness.cluster().tenant_ids()) {
    absl::StatusOr<api::TenantDescribeResponse> response =
        sut.harness.Call(api::kTenantDescribe, api::TenantDescribeRequest{tenant});
    Expect(response.ok(), "describe " + tenant + ": " + response.status().ToString());
    Expect(response->status == Http::kOk, "describe " + tenant + ": " + HttpString(response->status));
    for (const api::ShardPlacement& placement : response->shards) {
      described[placement.shard] = placement;
    }
  }
  Expect(described.size() == model.shards.size(),
         "describe lists " + std::to_string(described.size()) + " shards, model has " +
             std::to_string(model.shards.size()));
  for (const auto& [id, expected] : model.shards) {
    auto it = described.find(id);
    Expect(it != described.end(), "describe lacks " + id.ToString());
    const api::ShardPlacement& placement = it->second;
    Expect(!placement.generation.is_none(), id.ToString() + " described without a generation");
    const uint32_t generation = placement.generation.value();
    uint32_t& highest = sut.highest_generation[id];
    Expect(generation >= highest, id.ToString() + " generation went back from " +
                                      std::to_string(highest) + " to " + std::to_string(generation));
    highest = generation;
    const std::string got = "n" + (placement.attached ? std::to_string(*placement.attached)
                                                       : std::string("-")) +
                            " " + NodesString(placement.secondaries) + " g" +
                            std::to_string(generation);
    const std::string want = "n" + std::to_string(expected.attached) + " " +
                             NodesString(expected.secondaries) + " g" +
                             std::to_string(expected.generation);
    Expect(placement.attached == expected.attached && placement.secondaries == expected.secondaries &&
               generation == expected.generation,
           "describe " + id.ToString() + ": " + got + ", model " + want);
    CheckSlots(id, expected, sut);
    const std::optional<int64_t> db = sut.harness.cluster().ShardGenerationGroundTruth(id.ToString());
    Expect(db.has_value() && *db == static_cast<int64_t>(expected.generation),
           id.ToString() + ": database generation " + (db ? std::to_string(*db) : "none") +
               ", model g" + std::to_string(expected.generation));
  }
  for (const auto& [node, policy] : model.nodes) {
    absl::StatusOr<api::NodeStatusResponse> status =
        sut.harness.Call(api::kNodeStatus, api::NodeRequest{node});
    Expect(status.ok() && status->status == Http::kOk, "node status n" + std::to_string(node));
    Expect(status->scheduling_policy == policy,
           "n" + std::to_string(node) + " policy " +
               persistence::NodeSchedulingPolicyName(status->scheduling_policy) + ", model " +
               persistence::NodeSchedulingPolicyName(policy));
  }
}

// ----- Migrate -----

MigrateCommand::MigrateCommand(const PlacementModel& model)
    : shard_(*rc::gen::elementOf(model.ShardIds())), node_(*rc::gen::elementOf(NodeChoices(model))) {}

void MigrateCommand::apply(PlacementModel& model) const { (void)model.Migrate(shard_, node_); }

void MigrateCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  PlacementModel next = model;
  const Http expected = next.Migrate(shard_, node_);
  absl::StatusOr<api::StatusResponse> response =
      sut.harness.Call(api::kTenantShardMigrate, api::TenantShardMigrateRequest{shard_, node_});
  Expect(response.ok(), "migrate: " + response.status().ToString());
  Expect(response->status == expected, "migrate " + shard_.ToString() + " -> n" +
                                           std::to_string(node_) + ": " +
                                           HttpString(response->status) + ", model " +
                                           HttpString(expected));
  SettleOrFail(sut, "migrate");
}

void MigrateCommand::show(std::ostream& os) const {
  os << "Migrate(" << shard_.ToString() << " -> n" << node_ << ")";
}

// ----- Describe -----

void DescribeCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  CheckAgainstModel(model, sut);
}

// ----- Validate -----

ValidateCommand::ValidateCommand(const PlacementModel& model) {
  std::vector<api::TenantShardId> ids = model.ShardIds();
  ids.push_back(api::TenantShardId{"t-unknown", 0, 0});
  shard_ = *rc::gen::elementOf(ids);
  auto it = model.shards.find(shard_);
  const uint32_t current = it == model.shards.end() ? 1 : it->second.generation;
  // The current generation half the time, else a neighbour (stale ones most of all).
  const int delta = *rc::gen::elementOf(std::vector<int>{0, 0, 0, -1, -2, 1});
  generation_ = static_cast<uint32_t>(std::max<int64_t>(1, int64_t{current} + delta));
}

void ValidateCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  const std::optional<bool> expected = model.Validate(shard_, generation_);
  api::ValidateRequest request;
  request.tenants.push_back({shard_, api::Generation(generation_)});
  absl::StatusOr<api::ValidateResponse> response = sut.harness.Call(api::kValidate, request);
  Expect(response.ok() && response->status == Http::kOk,
         "validate: " + (response.ok() ? HttpString(response->status) : response.status().ToString()));
  std::optional<bool> answered;
  for (const api::ValidateResult& result : response->tenants) {
    Expect(result.id == shard_, "validate answered for a shard not asked: " + result.id.ToString());
    Expect(!answered.has_value(), "validate answered twice for " + shard_.ToString());
    answered = result.valid;
  }
  const auto text = [](std::optional<bool> value) {
    return std::string(!value ? "omitted" : *value ? "valid" : "invalid");
  };
  Expect(answered == expected, "validate " + shard_.ToString() + " g" + std::to_string(generation_) +
                                   ": " + text(answered) + ", model " + text(expected));
}

void ValidateCommand::show(std::ostream& os) const {
  os << "Validate(" << shard_.ToString() << " g" << generation_ << ")";
}

// ----- Restart -----

RestartCommand::RestartCommand(const PlacementModel& model)
    : node_(*rc::gen::elementOf(model.NodeIds())), crash_(*rc::gen::arbitrary<bool>()) {}

void RestartCommand::apply(PlacementModel& model) const { model.ReAttach(node_); }

void RestartCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  SIM_CHECK(node_ >= 1 && node_ <= sut.harness.pageserver_count());
  const absl::Status restarted = sut.harness.RestartPageserver(static_cast<size_t>(node_ - 1), crash_);
  Expect(restarted.ok(), restarted.ToString());
  SettleOrFail(sut, "restart");
}

void RestartCommand::show(std::ostream& os) const {
  os << (crash_ ? "Crash+Start(n" : "Kill+Start(n") << node_ << ")";
}

// ----- Drain -----

DrainCommand::DrainCommand(const PlacementModel& model)
    : node_(*rc::gen::elementOf(model.NodeIds())) {}

void DrainCommand::apply(PlacementModel& model) const { (void)model.Drain(node_); }

void DrainCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  PlacementModel next = model;
  const Http expected = next.Drain(node_);
  absl::StatusOr<api::StatusResponse> response =
      sut.harness.Call(api::kNodeDrain, api::NodeRequest{node_});
  Expect(response.ok(), "drain: " + response.status().ToString());
  Expect(response->status == expected, "drain n" + std::to_string(node_) + ": " +
                                           HttpString(response->status) + ", model " +
                                           HttpString(expected));
  SettleOrFail(sut, "drain");  // settled includes "no node operation running"
}

// ----- Configure -----

ConfigureCommand::ConfigureCommand(const PlacementModel& model)
    : node_(*rc::gen::elementOf(model.NodeIds())),
      policy_(*rc::gen::element(api::NodeSchedulingPolicy::kActive,
                                api::NodeSchedulingPolicy::kPause)) {}

void ConfigureCommand::apply(PlacementModel& model) const { (void)model.Configure(node_, policy_); }

void ConfigureCommand::run(const PlacementModel& model, ControllerSut& sut) const {
  PlacementModel next = model;
  const Http expected = next.Configure(node_, policy_);
  api::NodeConfigureRequest request;
  request.node_id = node_;
  request.scheduling_policy = policy_;
  absl::StatusOr<api::StatusResponse> response = sut.harness.Call(api::kNodeConfigure, request);
  Expect(response.ok() && response->status == expected,
         "configure n" + std::to_string(node_) + ": " +
             (response.ok() ? HttpString(response->status) : response.status().ToString()));
  SettleOrFail(sut, "configure");
}

void ConfigureCommand::show(std::ostream& os) const {
  os << "Configure(n" << node_ << " " << persistence::NodeSchedulingPolicyName(policy_) << ")";
}

// ----- the property -----

void ControllerStateProperty(const api::Defects& defects) {
  HarnessOptions options;
  options.seed = *rc::gen::noShrink(
      rc::gen::resize(rc::kNominalSize, rc::gen::inRange<uint64_t>(1, uint64_t{1} << 32)));
  options.pageservers = *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(2, 4));
  options.tenants = *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(1, 3));
  options.defects = defects;
  ControllerSut sut(options);
  const absl::Status started = sut.harness.Start();
  Expect(started.ok(), "cluster start: " + started.ToString());
  const std::optional<controller::ControllerSnapshot> leader = sut.harness.LeaderSnapshot();
  Expect(leader.has_value(), "no leader after start");
  const PlacementModel initial = PlacementModel::FromSnapshot(*leader);
  Expect(initial.shards.size() == static_cast<size_t>(options.tenants) &&
             initial.nodes.size() == static_cast<size_t>(options.pageservers),
         "initial model: " + initial.ToString());
  CheckAgainstModel(initial, sut);
  const auto commands = *rc::state::gen::commands(initial, ControllerCommandGen());
  rc::state::runAll(commands, initial, sut);
  PlacementModel final_model = initial;
  rc::state::applyAll(commands, final_model);
  CheckAgainstModel(final_model, sut);
}

}  // namespace storsim::scenarios::properties
