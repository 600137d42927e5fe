#include "agent/shipper.h"

#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <random>

#include "common/batch_writer.h"
#include "common/codec.h"
#include "common/http_failure.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::agent {
namespace {

bool labels_acceptable(const Labels& labels) {
  DecodeLimits limits;
  if (labels.size() > limits.max_labels_per_series) return false;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& [k, v] = labels[i];
    if (!valid_label_name(k) || k.starts_with("__") || k == "node") return false;
    if (v.size() > limits.max_label_value_bytes) return false;
    if (i > 0 && labels[i - 1].first == k) return false;
  }
  return true;
}

bool time_acceptable(int64_t t) { return t >= kMinTimestampMs && t <= kMaxTimestampMs; }

}  // namespace

void write_cycle(const Outputs& outputs, const std::string& node, const std::string& stream, uint64_t seq,
                 const std::function<void(std::string_view)>& sink, size_t* skipped) {
  // Pass 1: the samples the collector would accept, each with its series' hash. Consecutive samples often
  // share a name and a label set (a source shares one set between a target's samples): checks and hashes of
  // both are reused while they repeat.
  struct Accepted {
    const Sample* s;
    uint64_t hash;
  };
  std::vector<Accepted> accepted;
  size_t total = 0, bad = 0;
  for (const auto& c : outputs) total += c->samples().size();
  accepted.reserve(total);
  std::hash<std::string_view> h;
  std::string_view last_name;
  bool name_ok = false;
  uint64_t name_hash = 0;
  const Labels* last_labels = nullptr;
  bool labels_ok = false;
  uint64_t set_hash = 0;
  for (const auto& c : outputs) {
    for (const Sample& s : c->samples()) {
      if (last_name.data() == nullptr || s.name != last_name) {
        last_name = s.name;
        name_ok = valid_metric_name(s.name);
        name_hash = h(s.name);
      }
      if (s.labels.get() != last_labels) {
        last_labels = s.labels.get();
        labels_ok = labels_acceptable(*s.labels);
        set_hash = labels_hash(*s.labels);
      }
      if (!name_ok || !labels_ok || !time_acceptable(s.t_ms) || (s.type == SeriesType::Counter && s.value < 0)) {
        ++bad;
        continue;
      }
      accepted.push_back({&s, combine_series_hash(name_hash, set_hash)});
    }
  }

  // Pass 2: group the samples of each series (open addressing on the hash, a chain of samples per series),
  // in the order series first appear.
  struct Group {
    uint32_t first, last;
  };
  std::vector<Group> groups;
  groups.reserve(accepted.size());
  std::vector<uint32_t> next(accepted.size(), UINT32_MAX);
  size_t slots = 16;
  while (slots < accepted.size() * 2) slots *= 2;
  std::vector<uint32_t> table(slots, UINT32_MAX);  // group index
  for (uint32_t i = 0; i < accepted.size(); ++i) {
    const Accepted& a = accepted[i];
    size_t at = a.hash & (slots - 1);
    while (true) {
      uint32_t g = table[at];
      if (g == UINT32_MAX) {
        table[at] = static_cast<uint32_t>(groups.size());
        groups.push_back({i, i});
        break;
      }
      const Accepted& head = accepted[groups[g].first];
      if (head.hash == a.hash && same_series(*head.s, *a.s)) {
        next[groups[g].last] = i;
        groups[g].last = i;
        break;
      }
      at = (at + 1) & (slots - 1);
    }
  }

  // The text goes to the sink in pieces, so a 3 MB cycle never sits in memory whole.
  constexpr size_t kPiece = 64 * 1024;
  std::string out;
  out.reserve(kPiece + 4096);
  BatchWriter w(out, node, stream, seq);
  auto drain = [&](size_t at_least) {
    if (out.size() < at_least) return;
    sink(out);
    out.clear();
  };
  std::vector<Point> points;
  for (const Group& g : groups) {
    const Sample& s = *accepted[g.first].s;
    points.clear();
    for (uint32_t i = g.first; i != UINT32_MAX; i = next[i]) points.push_back({accepted[i].s->t_ms, accepted[i].s->value});
    if (points.size() > 1) {
      // The same series twice at one time keeps the last value, as the exporter does.
      std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.t_ms < b.t_ms; });
      size_t n = 0;
      for (size_t k = 0; k < points.size(); ++k) {
        if (n > 0 && points[n - 1].t_ms == points[k].t_ms) points[n - 1] = points[k];
        else points[n++] = points[k];
      }
      points.resize(n);
    }
    w.series(s.name, s.type, *s.labels, points.data(), points.size());
    drain(kPiece);
  }
  for (const auto& c : outputs) {
    for (const Event& e : c->events()) {
      if (!valid_label_name(e.kind) || !labels_acceptable(e.labels) || !time_acceptable(e.t_ms)) {
        ++bad;
        continue;
      }
      w.event(e);
      drain(kPiece);
    }
  }
  w.finish();
  drain(0);
  if (skipped) *skipped = bad;
}

std::string encode_cycle(const Outputs& outputs, const std::string& node, const std::string& stream, uint64_t seq,
                         size_t* skipped) {
  std::string json;
  write_cycle(outputs, node, stream, seq, [&](std::string_view piece) { json += piece; }, skipped);
  return json;
}

GzipWriter::GzipWriter() {
  // Fastest level: JSON batches still shrink ~15x, at a fraction of the default level's CPU.
  // windowBits 15 + 16: a gzip header and trailer rather than a bare zlib stream.
  ok_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipWriter::~GzipWriter() {
  if (ok_) deflateEnd(&zs_);
}

void GzipWriter::deflate_some(std::string_view data, int flush) {
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs_.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  do {
    if (out_.size() - zs_.total_out < 16 * 1024) out_.resize(std::max<size_t>(64 * 1024, out_.size() * 2));
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data() + zs_.total_out);
    zs_.avail_out = static_cast<uInt>(out_.size() - zs_.total_out);
    rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) ok_ = false;
  } while (ok_ && (zs_.avail_in > 0 || zs_.avail_out == 0) && rc != Z_STREAM_END);
  if (flush == Z_FINISH && rc != Z_STREAM_END) ok_ = false;
}

void GzipWriter::add(std::string_view data) {
  if (ok_ && !data.empty()) deflate_some(data, Z_NO_FLUSH);
}

std::string GzipWriter::finish() {
  if (ok_) deflate_some({}, Z_FINISH);
  if (!ok_) return {};
  out_.resize(zs_.total_out);
  return std::move(out_);
}

std::string gzip_compress(std::string_view data) {
  GzipWriter gz;
  gz.add(data);
  return gz.finish();
}

struct Shipper::Target {
  std::string url;
  std::string base;         // scheme://host:port
  std::string ingest_path;  // /prefix/api/v1/ingest
  std::unique_ptr<httplib::Client> client;
  size_t reader = 0;  // the spool reader of this collector
  std::thread thread;
  std::atomic<uint64_t> shipped_batches{0}, shipped_points{0}, failures{0};
  std::atomic<int64_t> last_success_ms{0};
};

Result<std::unique_ptr<Shipper>> Shipper::create(Spool& spool, ShipperOptions options) {
  if (options.collector_urls.empty()) return Error{"no collector URL given"};
  std::unique_ptr<Shipper> shipper(new Shipper(spool, options));
  for (const std::string& url : options.collector_urls) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos || (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https"))
      return errorf("collector URL \"{}\" must start with http:// or https://", url);
    auto path_start = url.find('/', scheme_end + 3);
    std::string base = url.substr(0, path_start);
    std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (base.size() <= scheme_end + 3) return errorf("collector URL \"{}\" has no host", url);
    if (prefix.find_first_of("?#") != std::string::npos)
      return errorf("collector URL \"{}\" must not have a query or fragment", url);
    for (const auto& t : shipper->targets_)
      if (t->url == url) return errorf("collector URL \"{}\" is given twice", url);
    auto t = std::make_unique<Target>();
    t->url = url;
    t->base = base;
    t->ingest_path = prefix + "/api/v1/ingest";
    t->client = std::make_unique<httplib::Client>(base);
    t->client->set_tcp_nodelay(true);
    t->client->set_keep_alive(true);
    auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
    t->client->set_connection_timeout(timeout);
    t->client->set_read_timeout(timeout);
    t->client->set_write_timeout(timeout);
    if (!options.token.empty()) t->client->set_bearer_token_auth(options.token);
    // The cursor's file is named after the collector, so that a reordered list keeps each one's place.
    std::string name;
    for (char c : url.substr(scheme_end + 3)) name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    t->reader = spool.add_reader(name);
    shipper->targets_.push_back(std::move(t));
  }
  return shipper;
}

Shipper::Shipper(Spool& spool, ShipperOptions options) : spool_(spool), options_(std::move(options)) {}

Shipper::~Shipper() { stop(); }

Result<uint64_t> Shipper::enqueue(const Collection& c) {
  return enqueue(Outputs{std::shared_ptr<const Collection>(&c, [](const Collection*) {})});
}

Result<uint64_t> Shipper::enqueue(const Outputs& c) {
  auto seq = spool_.next_seq();
  if (!seq) {
    ++spool_errors_;
    return seq.error();
  }
  size_t skipped = 0;
  GzipWriter gz;
  write_cycle(c, options_.node, spool_.stream(), *seq, [&](std::string_view piece) { gz.add(piece); }, &skipped);
  if (skipped) {
    invalid_samples_ += skipped;
    log::warn("{} samples or events of this cycle were left out of batch {}: the collector would reject them",
              skipped, *seq);
  }
  std::string body = gz.finish();
  if (body.empty()) {
    ++spool_errors_;
    return errorf("cannot compress batch {}", *seq);
  }
  if (auto r = spool_.append(*seq, body); !r) {
    ++spool_errors_;
    return r.error();
  }
  { std::lock_guard lk(mu_); }  // the sender is either before its check or waiting: no lost wake-up
  cv_.notify_all();
  return *seq;
}

void Shipper::start() {
  std::lock_guard lk(mu_);
  stop_ = false;
  for (auto& t : targets_)
    if (!t->thread.joinable()) t->thread = std::thread([this, p = t.get()] { run(*p); });
}

void Shipper::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : targets_) t->client->stop();  // aborts a request in flight; its batch stays in the spool
  for (auto& t : targets_)
    if (t->thread.joinable()) t->thread.join();
}

bool Shipper::wait_until_drained(int64_t timeout_ms) {
  int64_t deadline = monotonic_ms() + timeout_ms;
  auto pending = [&] {
    for (const auto& t : targets_)
      if (spool_.next_after(spool_.reader_cursor(t->reader))) return true;
    return false;
  };
  while (pending()) {
    if (monotonic_ms() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Shipper::Outcome Shipper::send(Target& t, uint64_t seq, const std::string& body, uint64_t& accepted, std::string& why) {
  httplib::Headers headers{{"Content-Encoding", "gzip"}};
  auto res = t.client->Post(t.ingest_path, headers, body, "application/json");
  if (!res) {
    why = transport_failure(res.error(), t.base);
    log::debug("batch {}: {}{}: {}", seq, t.base, t.ingest_path, why);
    return Outcome::Retry;
  }
  if (res->status == 200) {
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    accepted = (!j.is_discarded() && j.is_object() && j.contains("accepted") && j["accepted"].is_number_unsigned())
                   ? j["accepted"].get<uint64_t>()
                   : 0;
    return Outcome::Stored;
  }
  std::string detail = res->body.substr(0, 500);
  if (res->status == 400 || res->status == 413) {
    log::error("batch {} was refused by the collector {} with {} ({}); moved to {}/rejected/", seq, t.base, res->status,
               detail, spool_.dir());
    return Outcome::Rejected;
  }
  log::debug("batch {}: collector answered {} {}", seq, res->status, detail);
  why = fmt::format("HTTP {}{}{}", res->status, detail.empty() ? "" : ": ", detail.substr(0, 200));
  if (res->status == 401 || res->status == 403)
    log::warn("collector {} refused the agent's token ({}): check the token; retrying", t.base, res->status);
  return Outcome::Retry;
}

void Shipper::run(Target& t) {
  std::mt19937_64 rng(std::random_device{}());
  int64_t backoff_ms = 0;
  uint64_t streak = 0;  // consecutive failed attempts
  // While the collector is down the log says so once, then when the cause changes, and every
  // kDownSummaryMs a summary; and once when it is up again, with what waited.
  constexpr int64_t kDownSummaryMs = 60'000;
  int64_t down_since_ms = 0, last_summary_ms = 0;
  std::string last_why;
  if (options_.first_send_jitter_ms > 0) {
    auto wait_ms = std::uniform_int_distribution<int64_t>(0, options_.first_send_jitter_ms)(rng);
    std::unique_lock lk(mu_);
    if (cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stop_; })) return;
  }
  for (;;) {
    std::optional<SpoolEntry> entry;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || (entry = spool_.next_after(spool_.reader_cursor(t.reader))).has_value(); });
      if (stop_) return;
    }
    auto body = spool_.read(entry->seq);
    if (!body) {
      // Dropped by a full spool between next_after() and read(): nothing to send.
      log::debug("{}", body.error().message);
      spool_.done(t.reader, entry->seq, false);
      continue;
    }
    uint64_t accepted = 0;
    std::string why;
    Outcome outcome = send(t, entry->seq, *body, accepted, why);
    if (outcome == Outcome::Stored) {
      size_t waiting = spool_.batches_after(entry->seq - 1);  // this batch among them
      // Counted before the cursor moves: whoever sees the batch done (wait_until_drained) sees it counted.
      ++t.shipped_batches;
      t.shipped_points += accepted;
      t.last_success_ms = now_ms();
      spool_.done(t.reader, entry->seq, false);
      if (streak > 0)
        log::info("collector {} is up again after {} down ({} failed attempts); {} batches waited in the spool "
                  "for it and are being shipped",
                  t.base, format_duration((monotonic_ms() - down_since_ms) / 1000 * 1000), streak, waiting);
      streak = 0;
      backoff_ms = 0;
      continue;
    }
    if (outcome == Outcome::Rejected) {
      spool_.done(t.reader, entry->seq, true);
      continue;
    }
    ++t.failures;
    ++streak;
    backoff_ms = backoff_ms == 0 ? options_.min_backoff_ms : std::min(options_.max_backoff_ms, backoff_ms * 2);
    // Full jitter (a random 0..backoff): a fleet of agents that lost a restarted collector together comes
    // back spread over the whole backoff, not in waves.
    auto wait_ms = std::uniform_int_distribution<int64_t>(0, backoff_ms)(rng);
    int64_t now = monotonic_ms();
    if (streak == 1) {
      down_since_ms = last_summary_ms = now;
      log::warn("collector {} is down: {}; batch {} and {} more wait for it in the spool ({}); retrying with "
                "backoff up to {}", t.base, why, entry->seq, spool_.batches_after(entry->seq), spool_.dir(),
                format_duration(options_.max_backoff_ms));
    } else if (why != last_why) {
      log::warn("collector {} still down, now: {}", t.base, why);
    } else if (now - last_summary_ms >= kDownSummaryMs) {
      last_summary_ms = now;
      log::warn("collector {} down for {}: {} failed attempts, {} batches waiting for it in the spool ({} bytes "
                "spooled in all); last: {}", t.base, format_duration((now - down_since_ms) / 1000 * 1000), streak,
                spool_.batches_after(entry->seq - 1), spool_.stats().bytes, why);
    }
    last_why = why;
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stop_; });
    if (stop_) return;
  }
}

void Shipper::add_metrics(Collection& out) const {
  auto spool = spool_.stats();
  out.describe("stormscope_agent_spool_bytes", MetricKind::Gauge, "Bytes of batches waiting in the spool.");
  out.describe("stormscope_agent_spool_batches", MetricKind::Gauge, "Batches waiting in the spool.");
  out.describe("stormscope_agent_spool_dropped_batches_total", MetricKind::Counter,
               "Oldest batches dropped unsent because the spool reached its size limit.");
  out.describe("stormscope_agent_spool_errors_total", MetricKind::Counter,
               "Cycles whose batch could not be written to the spool (disk full, permissions).");
  out.describe("stormscope_agent_batches_rejected_total", MetricKind::Counter,
               "Batches the collector refused as malformed or too large (400/413), moved to rejected/.");
  out.describe("stormscope_agent_batches_shipped_total", MetricKind::Counter,
               "Batches the collector acknowledged as stored, per collector.");
  out.describe("stormscope_agent_points_shipped_total", MetricKind::Counter,
               "Points the collector acknowledged as stored, per collector.");
  out.describe("stormscope_agent_ship_failures_total", MetricKind::Counter,
               "Attempts to send a batch that failed and will be retried (no connection, 401, 5xx), per collector.");
  out.describe("stormscope_agent_ship_pending_batches", MetricKind::Gauge,
               "Batches in the spool that a collector has not yet stored.");
  out.describe("stormscope_agent_invalid_samples_total", MetricKind::Counter,
               "Samples and events left out of batches because the collector would reject them.");
  out.describe("stormscope_agent_last_ship_success_timestamp_seconds", MetricKind::Gauge,
               "When the collector last acknowledged a batch (0 when never), per collector.");
  out.add("stormscope_agent_spool_bytes", {}, static_cast<double>(spool.bytes));
  out.add("stormscope_agent_spool_batches", {}, static_cast<double>(spool.batches));
  out.add("stormscope_agent_spool_dropped_batches_total", {}, static_cast<double>(spool.dropped_batches));
  out.add("stormscope_agent_spool_errors_total", {}, static_cast<double>(spool_errors_.load()));
  out.add("stormscope_agent_batches_rejected_total", {}, static_cast<double>(spool.rejected_batches));
  out.add("stormscope_agent_invalid_samples_total", {}, static_cast<double>(invalid_samples_.load()));
  for (const auto& t : targets_) {
    Labels l{{"collector", t->url}};
    out.add("stormscope_agent_batches_shipped_total", l, static_cast<double>(t->shipped_batches.load()));
    out.add("stormscope_agent_points_shipped_total", l, static_cast<double>(t->shipped_points.load()));
    out.add("stormscope_agent_ship_failures_total", l, static_cast<double>(t->failures.load()));
    out.add("stormscope_agent_ship_pending_batches", l,
            static_cast<double>(spool_.batches_after(spool_.reader_cursor(t->reader))));
    out.add("stormscope_agent_last_ship_success_timestamp_seconds", l, t->last_success_ms.load() / 1000.0);
  }
}

}  // namespace ss::agent
