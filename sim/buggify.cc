// Per-site BUGGIFY decisions from forked streams.
#include "sim/buggify.h"

namespace storsim::sim {

Buggify::Site& Buggify::SiteFor(std::string_view site) {
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    Random stream = random_.Fork(site);
    const bool on = stream.Chance(kSiteEnabledPercent, 100);
    it = sites_.emplace(std::string(site), Site{on, stream}).first;
  }
  return it->second;
}

bool Buggify::Fires(std::string_view site) {
  if (!enabled_) return false;
  Site& s = SiteFor(site);
  return s.on && s.stream.Chance(kFirePercent, 100);
}

void Buggify::Force(std::string_view site, bool on) { SiteFor(site).on = on; }

std::vector<std::string> Buggify::EnabledSites() const {
  std::vector<std::string> sites;
  for (const auto& [name, site] : sites_) {
    if (site.on) sites.push_back(name);
  }
  return sites;
}

}  // namespace storsim::sim
