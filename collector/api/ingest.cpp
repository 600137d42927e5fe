#include "collector/api/ingest.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <fstream>

#include "collector/http/gunzip.h"
#include "collector/modules.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector {

IngestOptions read_ingest_options(const config::Section& s) {
  s.allow_only({"max_body_bytes", "max_decoded_bytes", "max_pending_points", "max_future", "tokens", "token_file"});
  IngestOptions o;
  o.max_body_bytes = s.bytes("max_body_bytes", o.max_body_bytes);
  o.max_decoded_bytes = s.bytes("max_decoded_bytes", o.max_decoded_bytes);
  o.max_pending_points = s.integer("max_pending_points", o.max_pending_points);
  if (o.max_body_bytes <= 0) s.fail("max_body_bytes", "must be positive");
  if (o.max_decoded_bytes <= 0) s.fail("max_decoded_bytes", "must be positive");
  if (o.max_pending_points <= 0) s.fail("max_pending_points", "must be positive");
  o.max_future_ms = s.duration_ms("max_future", o.max_future_ms);
  if (o.max_future_ms < 0) s.fail("max_future", "must not be negative");
  o.tokens = s.strings("tokens", {});
  if (s.has("token_file")) {
    std::string path = s.string("token_file", "");
    std::ifstream in(path);
    if (!in) s.fail("token_file", "cannot read " + path);
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') o.tokens.push_back(line);
    }
  }
  for (const auto& t : o.tokens)
    if (t.empty()) s.fail("tokens", "an empty token would accept anything");
  return o;
}

size_t drop_future(Batch& batch, int64_t latest) {
  size_t dropped = 0;
  for (auto& s : batch.series) dropped += std::erase_if(s.points, [&](const Point& p) { return p.t_ms > latest; });
  std::erase_if(batch.series, [](const Series& s) { return s.points.empty(); });
  dropped += std::erase_if(batch.events, [&](const Event& e) { return e.t_ms > latest; });
  return dropped;
}

namespace {

// SQLite's SQLITE_FULL ("database or disk is full") or the system's ENOSPC / EDQUOT.
bool disk_full(const Error& e) {
  const std::string& m = e.message;
  return m.find("disk is full") != std::string::npos || m.find("No space left") != std::string::npos ||
         m.find("quota exceeded") != std::string::npos;
}

// Compares in time independent of where the strings differ.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

class IngestApi final : public RunningModule {
 public:
  IngestApi(IngestOptions options, CollectorContext& ctx)
      : o_(std::move(options)),
        store_(ctx.store),
        observers_(ctx.observers),
        outcomes_(prometheus::BuildCounter()
                      .Name("stormscope_collector_ingest_requests_total")
                      .Help("Ingest requests by outcome (accepted, duplicate, invalid, unauthorized, too_large, "
                            "overloaded, disk_full, failed).")
                      .Register(ctx.registry)),
        points_(prometheus::BuildCounter()
                    .Name("stormscope_collector_ingest_points_total")
                    .Help("Points stored by ingest.")
                    .Register(ctx.registry)
                    .Add({})),
        bytes_(prometheus::BuildCounter()
                   .Name("stormscope_collector_ingest_body_bytes_total")
                   .Help("Decoded (after gzip) ingest body bytes read.")
                   .Register(ctx.registry)
                   .Add({})),
        future_(prometheus::BuildCounter()
                    .Name("stormscope_collector_ingest_future_points_total")
                    .Help("Points and events dropped at ingest because they were stamped more than ingest.max_future "
                          "ahead of the collector's clock (a node whose clock runs ahead).")
                    .Register(ctx.registry)
                    .Add({})),
        pending_gauge_(prometheus::BuildGauge()
                           .Name("stormscope_collector_ingest_pending_points")
                           .Help("Points decoded and not yet answered (waiting for the store or the ingest observers).")
                           .Register(ctx.registry)
                           .Add({})) {
    for (const char* o :
         {"accepted", "duplicate", "invalid", "unauthorized", "too_large", "overloaded", "disk_full", "failed"})
      outcome(o);  // every outcome is visible from the start, at 0
    ctx.router.post(
        "/api/v1/ingest", "/api/v1/ingest", [this](const http::Request& req, http::Response& res) { handle(req, res); },
        {static_cast<size_t>(o_.max_body_bytes),
         [this](const http::Request& req, http::Response& res) { return admit(req, res); }});
  }

 private:
  prometheus::Counter& outcome(const std::string& o) { return outcomes_.Add({{"outcome", o}}); }

  // An answer that closes the connection (the body was not read, or not all of it was usable).
  void reject(http::Response& res, int status, const std::string& why, const char* what) {
    res.set_header("Connection", "close");
    reply_error(res, status, why);
    outcome(what).Increment();
  }

  bool authorized(const http::Request& req) const {
    if (o_.tokens.empty()) return true;
    std::string auth = req.get_header_value("Authorization");
    if (!auth.starts_with("Bearer ")) return false;
    std::string token = auth.substr(7);
    bool ok = false;
    for (const auto& t : o_.tokens) ok = same_secret(token, t) || ok;
    return ok;
  }

  // Before the body is read (on a network thread): what the headers alone decide.
  bool admit(const http::Request& req, http::Response& res) {
    if (!authorized(req)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"stormscope\"");
      reject(res, 401, "missing or unknown bearer token", "unauthorized");
      return false;
    }
    std::string encoding = req.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "gzip" && encoding != "identity") {
      reject(res, 415, "Content-Encoding \"" + encoding + "\" is not supported (gzip or none)", "invalid");
      return false;
    }
    if (req.has_header("Content-Length")) {
      uint64_t len = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
      if (len > static_cast<uint64_t>(o_.max_body_bytes)) {
        reject(res, 413, fmt::format("body of {} bytes exceeds the limit of {} bytes", len, o_.max_body_bytes),
               "too_large");
        return false;
      }
    }
    if (pending_.load() >= o_.max_pending_points) {
      res.set_header("Retry-After", "1");
      reject(res, 503, "overloaded: the write queue is full, retry later", "overloaded");
      return false;
    }
    return true;
  }

  void handle(const http::Request& req, http::Response& res) {
    // Inflated with a running count: a gzip bomb stops at max_decoded_bytes, never inflated in memory.
    std::string inflated;
    bool gzip = req.get_header_value("Content-Encoding") == "gzip";
    const std::string& body = gzip ? inflated : req.body;
    auto limit = static_cast<size_t>(o_.max_decoded_bytes);
    http::Gunzip read = gzip ? http::gunzip(req.body, limit, inflated)
                             : (req.body.size() > limit ? http::Gunzip::too_large : http::Gunzip::ok);
    bytes_.Increment(static_cast<double>(body.size()));
    if (read == http::Gunzip::too_large)
      return reject(res, 413,
                    fmt::format("decoded body exceeds the limit of {} bytes{}", o_.max_decoded_bytes,
                                gzip ? " (after gzip decompression)" : ""),
                    "too_large");
    if (read == http::Gunzip::invalid)
      return reject(res, 400, "body could not be read: invalid gzip data or truncated", "invalid");

    auto decoded = decode_batch(body, o_.limits);
    if (!decoded) {
      reply_error(res, 400, decoded.error().message);
      outcome("invalid").Increment();
      return;
    }
    int64_t now = now_ms();
    size_t future = drop_future(*decoded, now + o_.max_future_ms);
    if (future > 0) {
      future_.Increment(static_cast<double>(future));
      int64_t last = last_future_warning_ms_.load();
      if (now - last >= 60'000 && last_future_warning_ms_.compare_exchange_strong(last, now))
        log::warn("ingest from {} seq {}: dropped {} points or events stamped more than {} ms ahead of this clock "
                  "(is the node's clock right?)", decoded->node, decoded->seq, future, o_.max_future_ms);
    }
    // Shared with observers that queue it (detectors), which then need no copy.
    auto shared = std::make_shared<const Batch>(std::move(*decoded));
    const Batch& batch = *shared;
    int64_t n = static_cast<int64_t>(batch.point_count());
    int64_t before = pending_.fetch_add(n);
    if (before > 0 && before + n > o_.max_pending_points) {  // one oversized batch alone is still taken
      pending_.fetch_sub(n);
      res.set_header("Retry-After", "1");
      reply_error(res, 503, "overloaded: the write queue is full, retry later");
      outcome("overloaded").Increment();
      return;
    }
    pending_gauge_.Set(static_cast<double>(before + n));
    // Points stay pending until observers have seen them too, so slow observers also push back.
    struct Release {
      IngestApi* self;
      int64_t n;
      ~Release() { self->pending_gauge_.Set(static_cast<double>(self->pending_.fetch_sub(n) - n)); }
    } release{this, n};
    auto r = store_.append(batch);
    if (!r && disk_full(r.error())) {
      // Nothing of the batch was stored; the agent keeps it and retries. Space returning needs no restart.
      log::error("ingest from {} seq {}: the store's disk is full: {}", batch.node, batch.seq, r.error().message);
      res.set_header("Retry-After", "10");
      reply_error(res, 503, "the collector's disk is full, retry later: " + r.error().message);
      outcome("disk_full").Increment();
      return;
    }
    if (!r) {
      log::error("ingest from {} seq {}: store failed: {}", batch.node, batch.seq, r.error().message);
      reply_error(res, 500, "store failed: " + r.error().message);
      outcome("failed").Increment();
      return;
    }
    if (!r->duplicate) {
      observers_.notify(shared);
      points_.Increment(static_cast<double>(r->accepted));
    }
    outcome(r->duplicate ? "duplicate" : "accepted").Increment();
    nlohmann::json answer{{"accepted", r->accepted}, {"duplicate", r->duplicate}};
    if (future > 0) answer["dropped_future"] = future;
    reply_json(res, 200, answer);
  }

  IngestOptions o_;
  Store& store_;
  IngestObservers& observers_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Counter& points_;
  prometheus::Counter& bytes_;
  prometheus::Counter& future_;
  prometheus::Gauge& pending_gauge_;
  std::atomic<int64_t> last_future_warning_ms_{0};
  std::atomic<int64_t> pending_{0};
};

}  // namespace

Result<std::unique_ptr<RunningModule>> start_ingest_api(const config::Section& section, CollectorContext& ctx) {
  IngestOptions o = read_ingest_options(section);
  if (!o.tokens.empty()) log::info("ingest requires a bearer token ({} configured)", o.tokens.size());
  return std::unique_ptr<RunningModule>(std::make_unique<IngestApi>(std::move(o), ctx));
}

}  // namespace ss::collector
