#include "collector/api/ingest.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <fstream>

#include "collector/modules.h"
#include "common/log.h"

namespace ss::collector {

IngestOptions read_ingest_options(const config::Section& s) {
  s.allow_only({"max_body_bytes", "max_decoded_bytes", "max_pending_points", "tokens", "token_file"});
  IngestOptions o;
  o.max_body_bytes = s.bytes("max_body_bytes", o.max_body_bytes);
  o.max_decoded_bytes = s.bytes("max_decoded_bytes", o.max_decoded_bytes);
  o.max_pending_points = s.integer("max_pending_points", o.max_pending_points);
  if (o.max_body_bytes <= 0) s.fail("max_body_bytes", "must be positive");
  if (o.max_decoded_bytes <= 0) s.fail("max_decoded_bytes", "must be positive");
  if (o.max_pending_points <= 0) s.fail("max_pending_points", "must be positive");
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

namespace {

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
                            "overloaded, failed).")
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
        pending_gauge_(prometheus::BuildGauge()
                           .Name("stormscope_collector_ingest_pending_points")
                           .Help("Points decoded and not yet answered (waiting for the store or the ingest observers).")
                           .Register(ctx.registry)
                           .Add({})) {
    for (const char* o : {"accepted", "duplicate", "invalid", "unauthorized", "too_large", "overloaded", "failed"})
      outcome(o);  // every outcome is visible from the start, at 0
    ctx.router.post_stream("/api/v1/ingest", "/api/v1/ingest",
                           [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) { handle(req, res, reader); });
  }

 private:
  prometheus::Counter& outcome(const std::string& o) { return outcomes_.Add({{"outcome", o}}); }

  // An answer before the whole body was read: the connection cannot be reused.
  void reject_early(httplib::Response& res, int status, const std::string& why, const char* what) {
    res.set_header("Connection", "close");
    reply_error(res, status, why);
    outcome(what).Increment();
  }

  bool authorized(const httplib::Request& req) const {
    if (o_.tokens.empty()) return true;
    std::string auth = req.get_header_value("Authorization");
    if (!auth.starts_with("Bearer ")) return false;
    std::string token = auth.substr(7);
    bool ok = false;
    for (const auto& t : o_.tokens) ok = same_secret(token, t) || ok;
    return ok;
  }

  void handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    if (!authorized(req)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"stormscope\"");
      return reject_early(res, 401, "missing or unknown bearer token", "unauthorized");
    }
    std::string encoding = req.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "gzip" && encoding != "identity")
      return reject_early(res, 415, "Content-Encoding \"" + encoding + "\" is not supported (gzip or none)",
                          "invalid");
    if (req.has_header("Content-Length")) {
      uint64_t len = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
      if (len > static_cast<uint64_t>(o_.max_body_bytes))
        return reject_early(res, 413, fmt::format("body of {} bytes exceeds the limit of {} bytes", len,
                                                  o_.max_body_bytes), "too_large");
    }
    if (pending_.load() >= o_.max_pending_points) {
      res.set_header("Retry-After", "1");
      return reject_early(res, 503, "overloaded: the write queue is full, retry later", "overloaded");
    }

    // httplib inflates gzip bodies chunk by chunk into this receiver; stopping at the limit means a
    // gzip bomb is never inflated beyond max_decoded_bytes in memory.
    std::string body;
    bool too_large = false;
    bool read_ok = reader([&](const char* data, size_t n) {
      if (body.size() + n > static_cast<size_t>(o_.max_decoded_bytes)) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    bytes_.Increment(static_cast<double>(body.size()));
    if (too_large)
      return reject_early(res, 413,
                          fmt::format("decoded body exceeds the limit of {} bytes{}", o_.max_decoded_bytes,
                                      encoding == "gzip" ? " (after gzip decompression)" : ""),
                          "too_large");
    if (!read_ok) {
      if (res.status == 413)
        return reject_early(res, 413, fmt::format("body exceeds the limit of {} bytes", o_.max_body_bytes),
                            "too_large");
      return reject_early(res, 400,
                          encoding == "gzip" ? "body could not be read: invalid gzip data or truncated"
                                             : "body could not be read: truncated",
                          "invalid");
    }

    auto decoded = decode_batch(body, o_.limits);
    if (!decoded) {
      reply_error(res, 400, decoded.error().message);
      outcome("invalid").Increment();
      return;
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
    reply_json(res, 200, {{"accepted", r->accepted}, {"duplicate", r->duplicate}});
  }

  IngestOptions o_;
  Store& store_;
  IngestObservers& observers_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Counter& points_;
  prometheus::Counter& bytes_;
  prometheus::Gauge& pending_gauge_;
  std::atomic<int64_t> pending_{0};
};

}  // namespace

Result<std::unique_ptr<RunningModule>> start_ingest_api(const config::Section& section, CollectorContext& ctx) {
  IngestOptions o = read_ingest_options(section);
  if (!o.tokens.empty()) log::info("ingest requires a bearer token ({} configured)", o.tokens.size());
  return std::unique_ptr<RunningModule>(std::make_unique<IngestApi>(std::move(o), ctx));
}

}  // namespace ss::collector
