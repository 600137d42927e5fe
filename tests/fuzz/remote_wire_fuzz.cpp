// The remote-read request body (the one remote-protocol parser that reads the network) and the remote-write
// queue's records (read back from disk) never crash on any input; a decoded queue record encodes again to
// a record that decodes to as many series.
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/remote/queue_record.h"
#include "collector/remote/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  prometheus::ReadRequest read;
  (void)ss::collector::remote::parse_snappy_message(bytes, read);
  prometheus::WriteRequest write;
  (void)ss::collector::remote::parse_snappy_message(bytes, write);
  ss::Batch batch;
  auto r = ss::collector::remote::decode_queue_record(bytes, [&](std::string_view node, const ss::Series& s) {
    batch.node = node;
    batch.series.push_back(s);
  });
  if (!r.ok()) return 0;
  size_t again = 0;
  auto r2 = ss::collector::remote::decode_queue_record(ss::collector::remote::encode_queue_record(batch),
                                                       [&](std::string_view, const ss::Series&) { ++again; });
  if (!r2.ok() || again != batch.series.size()) abort();
  return 0;
}
