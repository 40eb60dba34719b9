// BUGGIFY-style fault points (FoundationDB): model code asks `env.Buggify("site")` at places where
// misbehaving on purpose (a slow path, a spurious error) is legal. Per run, each site is enabled
// or not, decided from the seed and the site's name only; an enabled site then fires with a fixed
// chance each time it is asked. Each site draws from its own stream, so adding a site never moves
// the choices of another. When the run has buggify off, no site ever fires.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/random.h"

namespace storsim::sim {

class Buggify {
 public:
  Buggify(Random random, bool enabled) : random_(random), enabled_(enabled) {}

  bool Fires(std::string_view site);
  // Forces a site on or off for this run (tests and scripted scenarios).
  void Force(std::string_view site, bool on);
  bool enabled() const { return enabled_; }
  void set_enabled(bool enabled) { enabled_ = enabled; }
  // Sites asked so far that are enabled, in name order.
  std::vector<std::string> EnabledSites() const;

  static constexpr uint64_t kSiteEnabledPercent = 25;
  static constexpr uint64_t kFirePercent = 25;

 private:
  struct Site {
    bool on;
    Random stream;
  };
  Site& SiteFor(std::string_view site);

  Random random_;
  bool enabled_;
  std::map<std::string, Site, std::less<>> sites_;
};

}  // namespace storsim::sim
