// Switchable defects (the bug zoo of SPEC.md §12 and the code-reading hazards after it). Each
// component lists the defects it can plant, with the upstream reference and the invariant that
// should catch it; a run switches some on by name. Off by default, always.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace storsim::api {

struct DefectInfo {
  std::string name;          // "validate-trusts-memory": lower-case, dash-separated, unique
  std::string component;     // "controller", "pageserver", ...
  std::string upstream;      // "PR #8784" or "code-reading hazard (SPEC §3.3)"
  std::string invariant;     // invariant ids that should trip, e.g. "S8 S9"
  std::string summary;       // one line: what the defect does
};

// The defects switched on for one run. Components keep a copy and ask On(name) at the site.
class Defects {
 public:
  Defects() = default;
  explicit Defects(std::set<std::string, std::less<>> enabled) : enabled_(std::move(enabled)) {}
  bool On(std::string_view name) const { return enabled_.find(name) != enabled_.end(); }
  void Enable(std::string name) { enabled_.insert(std::move(name)); }
  const std::set<std::string, std::less<>>& enabled() const { return enabled_; }

 private:
  std::set<std::string, std::less<>> enabled_;
};

}  // namespace storsim::api
