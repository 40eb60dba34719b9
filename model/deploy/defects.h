// The switchable defects the deploy orchestrators can plant (SPEC.md §12 style). Off by default;
// a run switches them on by name through api::Defects.
#pragma once

#include <vector>

#include "model/api/defects.h"

namespace storsim::deploy {

// Every defect ControllerDeployment and PageserverDeploy implement.
std::vector<api::DefectInfo> DeployDefects();

}  // namespace storsim::deploy
