// Wiring and driving the register self-test scenario.
#include "scenarios/register/register_scenario.h"

#include <memory>
#include <string>
#include <vector>

#include "scenarios/check/register_checker.h"
#include "scenarios/register/register_model.h"
#include "scenarios/run_context.h"
#include "scenarios/swarm.h"
#include "sim/check.h"
#include "sim/fault_plan.h"
#include "sim/simulation.h"

namespace storsim::scenarios {
namespace {

// Bounds of the "clients" knob, and the "ops" value a run uses unless a token sets it.
constexpr int64_t kRegisterClientsMax = 8;
constexpr int64_t kRegisterOperationsDrawn = 100'000;

// Clients get this long to finish their operation in flight after being asked to stop.
constexpr sim::Duration kClientStopGrace = sim::Duration::Seconds(4);

SwarmRanges RegisterSwarmRanges() {
  SwarmRanges ranges;
  ranges.nodes_min = 3;
  ranges.nodes_max = 5;
  ranges.clients_min = 2;
  ranges.clients_max = 3;
  return AllFaultKinds(ranges);
}

// Ends the fault phase: every partition, clog and degraded link is healed, paused processes
// resume and crashed replicas start again (clients that are down stay down).
void Heal(sim::Simulation& simulation, const std::vector<sim::ProcessId>& replicas,
          const std::vector<sim::ProcessId>& clients) {
  simulation.network().HealAll();
  simulation.network().ResetLinks();
  for (sim::ProcessId id : replicas) {
    sim::Process& process = simulation.process(id);
    if (process.paused()) process.Resume();
    if (!process.up()) process.Start();
  }
  for (sim::ProcessId id : clients) {
    sim::Process& process = simulation.process(id);
    if (process.paused()) process.Resume();
  }
  simulation.Emit("register.heal", {});
}

void RunRegister(ScenarioRun& run) {
  sim::Random swarm_random = run.Fork("swarm");
  SwarmOptions swarm = DrawSwarm(swarm_random, RegisterSwarmRanges());
  // Workload knobs (a token or the shrinker may set them): the number of clients, and how many
  // operations each client incarnation issues. The drawn "ops" is far above the ~600 a client
  // gets through in a run, so an unshrunk run is the seed's run; the shrinker lowers it to cut
  // a failing case down to the operations that matter.
  swarm.clients = static_cast<int>(run.Knob("clients", swarm.clients, 1, kRegisterClientsMax));
  const int64_t operations =
      run.Knob("ops", kRegisterOperationsDrawn, 1,
               static_cast<int64_t>(kRegisterOperationsPerIncarnationMax));
  run.SetSwarm(swarm.ToString());
  sim::SimulationOptions simulation_options;
  simulation_options.link = swarm.link;
  sim::Simulation& simulation = run.CreateSimulation(simulation_options);

  auto config = std::make_shared<RegisterConfig>();
  config->bug_read_one = run.bug(kRegisterBugReadOne);
  config->operations_max = static_cast<uint64_t>(operations);
  run.Keep(config);
  std::vector<sim::ProcessId> replicas;
  std::vector<sim::ProcessId> clients;
  // Ids are dense in the order processes are added: replicas first.
  for (int i = 0; i < swarm.nodes; ++i) config->replicas.push_back(static_cast<sim::ProcessId>(i));
  for (int i = 0; i < swarm.nodes; ++i) {
    sim::Process& replica = simulation.AddProcess("replica" + std::to_string(i),
                                                  [](sim::Env& env) { RegisterReplicaMain(env); });
    SIM_CHECK(replica.id() == config->replicas[static_cast<size_t>(i)]);
    replicas.push_back(replica.id());
  }
  for (int i = 0; i < swarm.clients; ++i) {
    sim::Process& client =
        simulation.AddProcess("client" + std::to_string(i),
                              [config](sim::Env& env) { RegisterClientMain(env, *config); });
    clients.push_back(client.id());
  }
  sim::Process& auditor = simulation.AddProcess(
      "auditor", [config](sim::Env& env) { RegisterAuditorMain(env, *config); });

  RegisterChecker& checker = run.AddChecker(std::make_unique<RegisterChecker>(run.sink()));

  std::vector<sim::ProcessId> targets = replicas;
  targets.insert(targets.end(), clients.begin(), clients.end());
  sim::FaultPlan plan;
  if (run.options().fault_plan.has_value()) {
    plan = *run.options().fault_plan;
  } else {
    sim::Random plan_random = run.Fork("fault_plan");
    plan = RandomFaultPlan(plan_random, swarm, targets, kRegisterFaultPhase);
  }
  run.SetFaultPlan(plan);

  for (sim::ProcessId id : targets) simulation.process(id).Start();
  sim::ApplyFaultPlan(simulation, plan);
  run.RunFor(kRegisterFaultPhase);

  Heal(simulation, replicas, clients);
  for (sim::ProcessId id : clients) simulation.process(id).Stop(kClientStopGrace);
  run.RunFor(kRegisterQuietPeriod);

  auditor.Start();
  run.RunFor(kRegisterFinalReadBound);
  checker.Finish(simulation.Now());
  SIM_CHECK_MSG(checker.reads_checked() > 0, "the register run checked no read at all");
}

}  // namespace

void RegisterRegisterScenario(ScenarioRegistry& registry) {
  Scenario scenario;
  scenario.name = kRegisterScenarioName;
  scenario.summary =
      "kernel self-test: ABD replicated register (3-5 replicas, 2-3 clients) under random "
      "faults; linearizability and final-read liveness";
  scenario.bugs.push_back(BugInfo{
      kRegisterBugReadOne,
      "reads ask one replica and skip the write-back; REG1/REG3 (stale read) must catch it"});
  scenario.body = RunRegister;
  registry.Add(std::move(scenario));
}

}  // namespace storsim::scenarios
