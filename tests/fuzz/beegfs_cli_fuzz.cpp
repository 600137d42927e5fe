// libFuzzer target: the BeeGFS 8 JSON parsers (beegfs stats server|client|user, beegfs target list).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/beegfs/clientstats.h"
#include "agent/sources/beegfs/history.h"
#include "agent/sources/beegfs/serverstats.h"
#include "agent/sources/beegfs/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = ss::agent::beegfs::parse_cli_stats_server(text)) {
    ss::agent::beegfs::ServerHistory h;
    h.absorb(r->rows);
  }
  (void)ss::agent::beegfs::parse_cli_stats_clients(text, "client");
  (void)ss::agent::beegfs::parse_cli_stats_clients(text, "user");
  (void)ss::agent::beegfs::parse_cli_targets(text);
  return 0;
}
