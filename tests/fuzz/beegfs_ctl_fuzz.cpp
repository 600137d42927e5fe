// libFuzzer target: the BeeGFS 7 text parsers (beegfs-ctl --serverstats, --clientstats/--userstats,
// --listtargets/beegfs-df, --listnodes) must reject or accept any input without crashing or hanging.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/beegfs/clientstats.h"
#include "agent/sources/beegfs/history.h"
#include "agent/sources/beegfs/serverstats.h"
#include "agent/sources/beegfs/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = ss::agent::beegfs::parse_ctl_serverstats(text)) {
    ss::agent::beegfs::ServerHistory h;
    h.absorb(r->rows);
    h.absorb(r->rows);
  }
  (void)ss::agent::beegfs::parse_ctl_clientstats(text);
  (void)ss::agent::beegfs::parse_ctl_targets(text, "storage");
  (void)ss::agent::beegfs::parse_ctl_targets(text, "");
  (void)ss::agent::beegfs::parse_ctl_listnodes(text);
  return 0;
}
