// The shipper turns each cycle's samples into an ingest batch (DESIGN.md §4), writes it to the spool and sends
// the spool to each collector in order, oldest first, with capped exponential backoff. With several
// collectors each has its own sender thread and spool cursor, so one that is down holds back only itself.
// A batch leaves the spool when every collector is done with it: 200 stores it, 400/413 sets it aside (it
// would never succeed), anything else (401, 5xx, no connection) is retried.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zlib.h>

#include "agent/scheduler.h"
#include "agent/source.h"
#include "agent/spool.h"
#include "common/sample.h"

namespace httplib {
class Client;
}

namespace ss::agent {

// The ingest body of one cycle (DESIGN.md §4) written straight from the samples: samples of one series are
// grouped (one point per timestamp, the last), and whatever the collector would reject (invalid names, the
// reserved `node` label, negative counters, out-of-range timestamps) is left out, so that one bad sample
// never costs the whole batch. `skipped` counts what was left out.
std::string encode_cycle(const Outputs& outputs, const std::string& node, const std::string& stream, uint64_t seq,
                         size_t* skipped = nullptr);
// The same text handed to `sink` in pieces of about 64 KiB.
void write_cycle(const Outputs& outputs, const std::string& node, const std::string& stream, uint64_t seq,
                 const std::function<void(std::string_view)>& sink, size_t* skipped = nullptr);

// gzip at the fastest level, fed piece by piece; finish() returns the body ("" when zlib failed).
class GzipWriter {
 public:
  GzipWriter();
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  void add(std::string_view data);
  std::string finish();

 private:
  void deflate_some(std::string_view data, int flush);
  z_stream zs_{};
  bool ok_ = false;
  std::string out_;
};

std::string gzip_compress(std::string_view data);

struct ShipperOptions {
  // http://host:port, optionally with a path prefix; https works too. Each collector gets every batch.
  std::vector<std::string> collector_urls;
  std::string token;          // bearer token, empty for none
  std::string node;
  int64_t request_timeout_ms = 10'000;
  int64_t min_backoff_ms = 500;
  int64_t max_backoff_ms = 60'000;
  // The first send waits a random 0..this: agents started together (a cluster boot, a fleet restart)
  // reach the collector spread out.
  int64_t first_send_jitter_ms = 0;
};

class Shipper {
 public:
  // Fails when a collector URL is not http(s)://HOST[:PORT][/PATH], or none or one twice is given.
  static Result<std::unique_ptr<Shipper>> create(Spool& spool, ShipperOptions options);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Makes a batch of the cycle and writes it to the spool; the sender picks it up. Returns its seq.
  Result<uint64_t> enqueue(const Outputs& outputs);
  Result<uint64_t> enqueue(const Collection& c);

  void start();  // the sender thread
  void stop();   // interrupts a wait or a request in flight; unsent batches stay in the spool

  // True once every collector has every batch (or false after timeout_ms); for tests and shutdown.
  bool wait_until_drained(int64_t timeout_ms);

  void add_metrics(Collection& out) const;

 private:
  struct Target;  // one collector: its client, sender thread, spool reader and counters
  Shipper(Spool& spool, ShipperOptions options);
  void run(Target& t);
  enum class Outcome { Stored, Rejected, Retry };
  // `why` gets the cause of a Retry (the transport failure or the collector's answer).
  Outcome send(Target& t, uint64_t seq, const std::string& body, uint64_t& accepted, std::string& why);

  Spool& spool_;
  ShipperOptions options_;
  std::vector<std::unique_ptr<Target>> targets_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;

  std::atomic<uint64_t> invalid_samples_{0}, spool_errors_{0};
};

}  // namespace ss::agent
