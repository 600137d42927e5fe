#include "collector/remote/remote_write.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "collector/modules.h"
#include "collector/remote/disk_queue.h"
#include "collector/remote/queue_record.h"
#include "collector/remote/wire.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector::remote {

namespace {

std::string read_secret_file(const config::Section& s, std::string_view key) {
  std::string path = s.string(key, "");
  std::ifstream in(path);
  if (!in) s.fail(key, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string default_name(const std::string& url) {
  std::string out;
  for (char c : url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3))
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out;
}

}  // namespace

std::vector<EndpointOptions> read_remote_write(const YAML::Node& list) {
  std::vector<EndpointOptions> out;
  if (!list || list.IsNull()) return out;
  if (!list.IsSequence()) throw config::Invalid{"remote_write: expected a list of endpoints ({url: ...})"};
  for (size_t i = 0; i < list.size(); ++i) {
    config::Section s(list[i], fmt::format("remote_write[{}]", i));
    s.allow_only({"url", "name", "headers", "basic_auth", "bearer_token", "bearer_token_file", "tls_config",
                  "remote_timeout", "queue_config", "write_relabel_configs"});
    EndpointOptions e;
    e.url = s.string("url", "");
    if (!(e.url.starts_with("http://") || e.url.starts_with("https://")))
      s.fail("url", "expected an http:// or https:// URL");
    e.name = s.string("name", default_name(e.url));
    if (e.name.empty() || e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                              std::string::npos)
      s.fail("name", "expected letters, digits, '_', '.' or '-'");
    for (const auto& o : out)
      if (o.name == e.name) s.fail("name", fmt::format("\"{}\" is used twice; give each endpoint its own name", e.name));
    if (s.has("headers")) {
      auto h = s.node()["headers"];
      if (!h.IsMap()) s.fail("headers", "expected a mapping of header names to values");
      for (const auto& kv : h) e.headers.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
    }
    auto basic = s.child("basic_auth");
    basic.allow_only({"username", "password", "password_file"});
    e.basic_username = basic.string("username", "");
    e.basic_password = basic.string("password", "");
    if (basic.has("password_file")) e.basic_password = read_secret_file(basic, "password_file");
    e.bearer_token = s.string("bearer_token", "");
    e.bearer_token_file = s.string("bearer_token_file", "");
    if (!e.bearer_token_file.empty()) (void)read_secret_file(s, "bearer_token_file");  // readable now, re-read per request
    if (!e.basic_username.empty() && (!e.bearer_token.empty() || !e.bearer_token_file.empty()))
      s.fail("basic_auth", "basic_auth and bearer_token cannot both be set");
    auto tls = s.child("tls_config");
    tls.allow_only({"ca_file", "cert_file", "key_file", "insecure_skip_verify"});
    e.ca_file = tls.string("ca_file", "");
    e.cert_file = tls.string("cert_file", "");
    e.key_file = tls.string("key_file", "");
    e.insecure_skip_verify = tls.boolean("insecure_skip_verify", false);
    if (e.cert_file.empty() != e.key_file.empty()) tls.fail("cert_file", "cert_file and key_file go together");
    e.remote_timeout_ms = s.duration_ms("remote_timeout", e.remote_timeout_ms);
    auto q = s.child("queue_config");
    q.allow_only({"max_samples_per_send", "batch_send_deadline", "min_backoff", "max_backoff", "retry_on_http_429",
                  "max_backlog_bytes"});
    int64_t per_send = q.integer("max_samples_per_send", int64_t(e.max_samples_per_send));
    if (per_send < 1 || per_send > 1'000'000) q.fail("max_samples_per_send", "must be between 1 and 1000000");
    e.max_samples_per_send = size_t(per_send);
    e.batch_send_deadline_ms = q.duration_ms("batch_send_deadline", e.batch_send_deadline_ms);
    e.min_backoff_ms = q.duration_ms("min_backoff", e.min_backoff_ms);
    e.max_backoff_ms = q.duration_ms("max_backoff", e.max_backoff_ms);
    if (e.min_backoff_ms <= 0 || e.max_backoff_ms < e.min_backoff_ms)
      q.fail("max_backoff", "backoffs must be positive, max_backoff at least min_backoff");
    e.retry_on_http_429 = q.boolean("retry_on_http_429", e.retry_on_http_429);
    e.max_backlog_bytes = q.bytes("max_backlog_bytes", e.max_backlog_bytes);
    if (e.max_backlog_bytes < (int64_t(1) << 20)) q.fail("max_backlog_bytes", "must be at least 1MiB");
    e.relabel = read_relabel_rules(s.node()["write_relabel_configs"], s.path_of("write_relabel_configs"));
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

struct SplitUrl {
  std::string origin;  // scheme://host:port
  std::string path;
};

SplitUrl split_url(const std::string& url) {
  size_t start = url.find("://") + 3;
  size_t slash = url.find('/', start);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

class Sender {
 public:
  Sender(EndpointOptions o, DiskQueue& queue, size_t consumer, prometheus::Registry& registry)
      : o_(std::move(o)), queue_(queue), consumer_(consumer) {
    prometheus::Labels l{{"remote_name", o_.name}, {"url", o_.url}};
    auto& sent = prometheus::BuildCounter()
                     .Name("stormscope_remote_write_samples_total")
                     .Help("Samples sent to a remote-write endpoint and accepted by it.")
                     .Register(registry);
    sent_ = &sent.Add(l);
    auto& dropped = prometheus::BuildCounter()
                        .Name("stormscope_remote_write_samples_dropped_total")
                        .Help("Samples not sent to a remote-write endpoint, by reason: rejected (a 4xx answer), "
                              "queue_full (the backlog outgrew max_backlog_bytes), relabel (dropped by "
                              "write_relabel_configs), queue_error (the queue could not be written).")
                        .Register(registry);
    for (const char* r : {"rejected", "queue_full", "relabel", "queue_error"}) {
      auto labels = l;
      labels["reason"] = r;
      dropped_[r] = &dropped.Add(labels);
    }
    requests_ = &prometheus::BuildCounter()
                     .Name("stormscope_remote_write_requests_total")
                     .Help("Remote-write requests by answer code (\"error\": no answer).")
                     .Register(registry);
    bytes_ = &prometheus::BuildCounter()
                  .Name("stormscope_remote_write_sent_bytes_total")
                  .Help("Compressed request bytes accepted by a remote-write endpoint.")
                  .Register(registry)
                  .Add(l);
    lag_ = &prometheus::BuildGauge()
                .Name("stormscope_remote_write_lag_seconds")
                .Help("Age of the oldest acknowledged batch not yet sent to the endpoint (0 when caught up).")
                .Register(registry)
                .Add(l);
    pending_ = &prometheus::BuildGauge()
                    .Name("stormscope_remote_write_pending_bytes")
                    .Help("Queue bytes on disk not yet sent to the endpoint.")
                    .Register(registry)
                    .Add(l);
    highest_ = &prometheus::BuildGauge()
                    .Name("stormscope_remote_write_highest_sent_timestamp_seconds")
                    .Help("Newest sample timestamp the endpoint accepted.")
                    .Register(registry)
                    .Add(l);
    labels_ = l;
    auto [origin, path] = split_url(o_.url);
    path_ = path;
    client_ = o_.cert_file.empty() ? std::make_unique<httplib::Client>(origin)
                                   : std::make_unique<httplib::Client>(origin, o_.cert_file, o_.key_file);
    client_->set_connection_timeout(std::chrono::milliseconds(o_.remote_timeout_ms));
    client_->set_read_timeout(std::chrono::milliseconds(o_.remote_timeout_ms));
    client_->set_write_timeout(std::chrono::milliseconds(o_.remote_timeout_ms));
    client_->set_keep_alive(true);
    if (!o_.ca_file.empty()) client_->set_ca_cert_path(o_.ca_file);
    if (o_.url.starts_with("https://")) client_->enable_server_certificate_verification(!o_.insecure_skip_verify);
    if (!o_.basic_username.empty()) client_->set_basic_auth(o_.basic_username, o_.basic_password);
    thread_ = std::thread([this] { run(); });
  }

  ~Sender() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }

  void count_queue_error(uint64_t points) { dropped_["queue_error"]->Increment(double(points)); }

 private:
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Sleeps unless stop() is called first; false when stopping.
  bool sleep_ms(int64_t ms) {
    std::unique_lock lock(mu_);
    return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  }

  void update_gauges() {
    uint64_t skipped = queue_.dropped_points(consumer_);
    if (skipped > queue_dropped_seen_) {
      dropped_["queue_full"]->Increment(double(skipped - queue_dropped_seen_));
      queue_dropped_seen_ = skipped;
    }
    pending_->Set(double(queue_.bytes_behind(consumer_)));
    int64_t oldest = queue_.oldest_pending_ms(consumer_);
    lag_->Set(oldest > 0 ? std::max<double>(0, double(now_ms() - oldest) / 1000.0) : 0.0);
  }

  void run() {
    while (!stopping()) {
      update_gauges();
      QueuePosition pos = queue_.cursor(consumer_);
      auto records = queue_.read(pos, o_.max_samples_per_send);
      if (!records) {
        log::error("remote write {}: {}", o_.name, records.error().message);
        if (!sleep_ms(1000)) return;
        continue;
      }
      if (records->empty()) {
        queue_.wait(pos, 1000);
        continue;
      }
      size_t points = 0;
      for (const auto& r : *records) points += r.points;
      // Few samples and young: wait for more, up to batch_send_deadline after the oldest was queued.
      int64_t due = records->front().enqueued_ms + o_.batch_send_deadline_ms;
      if (points < o_.max_samples_per_send && now_ms() < due) {
        queue_.wait(records->back().next, std::min<int64_t>(due - now_ms(), 1000));
        if (stopping()) return;
        auto more = queue_.read(pos, o_.max_samples_per_send);
        if (more && more->size() > records->size()) continue;  // read again from the top with the new records
        if (now_ms() < due) continue;
      }
      if (!send(*records)) return;  // stopping: what was not sent stays queued for the next start
      if (auto r = queue_.commit(consumer_, records->back().next); !r)
        log::error("remote write {}: {}", o_.name, r.error().message);
    }
  }

  const std::optional<Labels>& labels_of(std::string_view node, const Series& s) {
    key_.assign(node);
    key_ += '\x01';
    key_ += s.name;
    for (const auto& [k, v] : s.labels) {
      key_ += '\x01';
      key_ += k;
      key_ += '\x02';
      key_ += v;
    }
    auto it = cache_.find(key_);
    if (it != cache_.end()) return it->second;
    if (cache_.size() > 2'000'000) cache_.clear();  // bounded: series churn must not grow it forever
    Labels l = s.labels;
    l.emplace_back("__name__", s.name);
    if (label_value(l, "node").empty()) l.emplace_back("node", std::string(node));
    std::sort(l.begin(), l.end());
    return cache_.emplace(key_, relabel(std::move(l), o_.relabel)).first->second;
  }

  // Sends the records' samples; true once they are accepted or dropped, false when stopping first.
  bool send(const std::vector<QueueRecord>& records) {
    prometheus::WriteRequest req;
    size_t samples = 0, relabel_dropped = 0;
    int64_t newest = 0;
    for (const auto& r : records) {
      auto ok = decode_queue_record(r.payload, [&](std::string_view node, const Series& s) {
        const auto& labels = labels_of(node, s);
        if (!labels) {
          relabel_dropped += s.points.size();
          return;
        }
        auto* ts = req.add_timeseries();
        for (const auto& [k, v] : *labels) {
          auto* l = ts->add_labels();
          l->set_name(k);
          l->set_value(v);
        }
        for (const auto& p : s.points) {
          auto* smp = ts->add_samples();
          smp->set_timestamp(p.t_ms);
          smp->set_value(p.value);
          newest = std::max(newest, p.t_ms);
        }
        samples += s.points.size();
      });
      if (!ok) log::error("remote write {}: skipping a damaged queue record: {}", o_.name, ok.error().message);
    }
    if (relabel_dropped) dropped_["relabel"]->Increment(double(relabel_dropped));
    if (samples == 0) return true;
    std::string body = snappy_message(req);
    httplib::Headers headers{{"Content-Encoding", "snappy"},
                             {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                             {"User-Agent", std::string("stormscope-collector/") + STORMSCOPE_VERSION}};
    for (const auto& [k, v] : o_.headers) headers.emplace(k, v);
    int64_t backoff = o_.min_backoff_ms;
    while (true) {
      std::string token = o_.bearer_token;
      if (!o_.bearer_token_file.empty()) {
        std::ifstream in(o_.bearer_token_file);
        std::getline(in, token);
      }
      if (!token.empty()) client_->set_bearer_token_auth(token);
      auto res = client_->Post(path_, headers, body, "application/x-protobuf");
      std::string code = res ? std::to_string(res->status) : "error";
      auto l = labels_;
      l["code"] = code;
      requests_->Add(l).Increment();
      if (res && res->status / 100 == 2) {
        if (failing_) log::info("remote write {}: {} accepts requests again", o_.name, o_.url);
        failing_ = false;
        sent_->Increment(double(samples));
        bytes_->Increment(double(body.size()));
        highest_->Set(double(newest) / 1000.0);
        return true;
      }
      bool retry = !res || res->status / 100 == 5 || (res->status == 429 && o_.retry_on_http_429);
      if (!retry) {
        log::error("remote write {}: {} rejected {} samples with {}: {}", o_.name, o_.url, samples, res->status,
                   res->body.substr(0, 300));
        dropped_["rejected"]->Increment(double(samples));
        return true;
      }
      if (!failing_)
        log::warn("remote write {}: {} failed ({}); retrying with backoff up to {} ms", o_.name, o_.url,
                  res ? std::to_string(res->status) + " " + res->body.substr(0, 200) : httplib::to_string(res.error()),
                  o_.max_backoff_ms);
      failing_ = true;
      update_gauges();
      if (!sleep_ms(backoff)) return false;
      backoff = std::min(backoff * 2, o_.max_backoff_ms);
    }
  }

  EndpointOptions o_;
  DiskQueue& queue_;
  size_t consumer_;
  prometheus::Labels labels_;
  prometheus::Counter* sent_;
  std::map<std::string, prometheus::Counter*> dropped_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Counter* bytes_;
  prometheus::Gauge *lag_, *pending_, *highest_;
  std::string path_;
  std::unique_ptr<httplib::Client> client_;
  std::unordered_map<std::string, std::optional<Labels>> cache_;
  std::string key_;
  uint64_t queue_dropped_seen_ = 0;
  bool failing_ = false;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

class RemoteWrite final : public RunningModule {
 public:
  RemoteWrite(std::unique_ptr<DiskQueue> queue) : queue_(std::move(queue)) {}
  void stop() override {
    queue_->close();
    for (auto& s : senders_) s->stop();
    senders_.clear();
  }
  ~RemoteWrite() override { stop(); }

  std::unique_ptr<DiskQueue> queue_;
  std::vector<std::unique_ptr<Sender>> senders_;
};

}  // namespace

Result<std::unique_ptr<RunningModule>> start_remote_write(CollectorContext& ctx) {
  auto endpoints = config::read([&] { return read_remote_write(ctx.config.root["remote_write"]); });
  if (!endpoints) return endpoints.error();
  if (endpoints->empty()) return std::unique_ptr<RunningModule>();
  DiskQueueOptions qo;
  qo.dir = ctx.config.db_path + "-remote-write";
  qo.max_bytes = 0;
  std::vector<std::string> names;
  for (const auto& e : *endpoints) {
    qo.max_bytes = std::max(qo.max_bytes, e.max_backlog_bytes);
    names.push_back(e.name);
  }
  qo.segment_bytes = std::min<int64_t>(int64_t(64) << 20, qo.max_bytes / 8);
  auto queue = DiskQueue::open(qo, names);
  if (!queue) return queue.error();
  auto module = std::make_unique<RemoteWrite>(std::move(*queue));
  for (size_t i = 0; i < endpoints->size(); ++i)
    module->senders_.push_back(std::make_unique<Sender>((*endpoints)[i], *module->queue_, i, ctx.registry));
  auto& queue_bytes = prometheus::BuildGauge()
                          .Name("stormscope_remote_write_queue_bytes")
                          .Help("Size of the remote-write queue on disk (every endpoint's backlog).")
                          .Register(ctx.registry)
                          .Add({});
  DiskQueue* q = module->queue_.get();
  RemoteWrite* m = module.get();
  ctx.observers.add([q, m, &queue_bytes](const Batch& batch) {
    size_t points = batch.point_count();
    if (points == 0) return;
    auto r = q->append(encode_queue_record(batch), static_cast<uint32_t>(std::min<size_t>(points, UINT32_MAX)));
    if (!r) {
      for (auto& s : m->senders_) s->count_queue_error(points);
      throw std::runtime_error(r.error().message);
    }
    queue_bytes.Set(double(q->bytes_on_disk()));
  });
  log::info("remote write: {} endpoint(s), queue in {}", endpoints->size(), qo.dir);
  return std::unique_ptr<RunningModule>(std::move(module));
}

}  // namespace ss::collector::remote
