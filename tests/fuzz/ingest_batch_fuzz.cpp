// libFuzzer target: the collector's ingest decoder (DESIGN.md §4), the one parser that reads the network.
// Besides not crashing, a batch it accepts must survive a round trip: what encode_batch writes decodes again,
// and encoding that gives the same text (the agent's spool and the collector's replays rely on both).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ss::DecodeLimits limits;
  limits.max_series = 1'000;
  limits.max_points = 10'000;
  auto batch = ss::decode_batch(text, limits);
  if (!batch) return 0;
  std::string once = ss::encode_batch(*batch);
  auto again = ss::decode_batch(once, limits);
  if (!again) __builtin_trap();  // the encoder wrote what the decoder refuses
  if (ss::encode_batch(*again) != once) __builtin_trap();  // the round trip changed the batch
  return 0;
}
