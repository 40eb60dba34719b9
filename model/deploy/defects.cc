// The deploy orchestrators' defect list. The names are the constants the code checks
// (controller_deployment.h, pageserver_deploy.h), so a typo cannot make a defect unreachable.
#include "model/deploy/defects.h"

#include "model/deploy/controller_deployment.h"
#include "model/deploy/pageserver_deploy.h"

namespace storsim::deploy {

std::vector<api::DefectInfo> DeployDefects() {
  return {
      api::DefectInfo{
          .name = kDefectLivenessOff,
          .component = "deploy",
          .upstream = "PR #11703 (leadership-aware /live only helps if k8s acts on it)",
          .invariant = "L3",
          .summary = "the kubelet ignores failed liveness probes, so a pod stuck in SteppedDown "
                     "is never restarted",
      },
      api::DefectInfo{
          .name = kDefectNoCancelOnTimeout,
          .component = "deploy",
          .upstream = "RFC 033 \"Orchestrator Fill Times Out\"",
          .invariant = "A1 L4",
          .summary = "the pageserver deploy loop does not cancel a drain or fill that timed out, "
                     "so the node can stay Draining/Filling and its operation refuses the next "
                     "node's drain (412), which is then restarted undrained",
      },
  };
}

}  // namespace storsim::deploy
