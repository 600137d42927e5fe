#include "agent/exporter.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <unordered_map>

#include "common/log.h"

namespace ss::agent {
namespace {


std::string escape_help(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string_view type_name(const Family* f) {
  if (!f) return "untyped";
  switch (f->kind) {
    case MetricKind::Counter: return "counter";
    case MetricKind::Gauge: return "gauge";
    case MetricKind::Histogram: return "histogram";
  }
  return "untyped";
}

bool renderable(const Sample& s) {
  for (const auto& [k, v] : *s.labels)
    if (!valid_label_name(k)) return false;
  return true;
}

void write_escaped(std::string& out, std::string_view v) {
  if (v.find_first_of("\\\"\n") == std::string_view::npos) out += v;
  else out += escape_label_value(v);
}

void write_sample(std::string& out, const Sample& s) {
  out += s.name;
  const Labels& labels = *s.labels;
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      out += labels[i].first;
      out += "=\"";
      write_escaped(out, labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  if (std::isnan(s.value)) out += "NaN";
  else if (std::isinf(s.value)) out += s.value > 0 ? "+Inf" : "-Inf";
  else {
    char buf[40];
    out.append(buf, fmt::format_to(buf, "{}", s.value));
  }
  out += '\n';
}

double le_of(const Sample& s) {
  auto le = label_value(*s.labels, "le");
  if (le == "+Inf" || le == "Inf") return INFINITY;
  double v = 0;
  auto [p, ec] = std::from_chars(le.data(), le.data() + le.size(), v);
  return ec == std::errc() ? v : INFINITY;
}

// Orders the series of one histogram: per label set (without le), buckets by le, then _sum, then _count.
std::vector<const Sample*> order_histogram(const std::string& family, const std::vector<const Sample*>& in) {
  struct Group {
    std::vector<const Sample*> buckets;
    const Sample* sum = nullptr;
    const Sample* count = nullptr;
  };
  std::vector<std::string> order;
  std::unordered_map<std::string, Group> groups;
  for (const Sample* s : in) {
    Labels without_le;
    for (const auto& l : *s->labels)
      if (l.first != "le") without_le.push_back(l);
    std::string key = series_key("", without_le);
    auto [it, added] = groups.try_emplace(key);
    if (added) order.push_back(key);
    if (s->name == family + "_bucket") it->second.buckets.push_back(s);
    else if (s->name == family + "_sum") it->second.sum = s;
    else it->second.count = s;
  }
  std::vector<const Sample*> out;
  for (const auto& key : order) {
    auto& g = groups[key];
    std::stable_sort(g.buckets.begin(), g.buckets.end(),
                     [](const Sample* a, const Sample* b) { return le_of(*a) < le_of(*b); });
    out.insert(out.end(), g.buckets.begin(), g.buckets.end());
    if (g.sum) out.push_back(g.sum);
    if (g.count) out.push_back(g.count);
  }
  return out;
}

}  // namespace

std::string render_prometheus(const Outputs& outputs) {
  struct FamilySamples {
    const Family* family = nullptr;
    std::vector<const Sample*> samples;
  };
  std::map<std::string, FamilySamples> families;
  size_t count = 0;
  for (const auto& c : outputs) count += c->samples().size();
  // Series seen so far, by hash (open addressing), so that a repeated series replaces the earlier sample.
  struct Slot {
    FamilySamples* fs = nullptr;
    uint32_t index = 0;
    uint64_t hash = 0;
  };
  size_t slots = 16;
  while (slots < count * 2) slots *= 2;
  std::vector<Slot> table(slots);
  size_t total = 0;
  for (const auto& c : outputs) {
    // Samples of one family come in runs, and a source's families are few: remember each name's family.
    struct Known {
      std::string_view name;
      FamilySamples* fs;
      bool ok;
      uint64_t hash;
    };
    std::vector<Known> known;
    const Known* name = nullptr;
    // Samples often share a label set with the previous one: check and hash it once.
    const Labels* last_labels = nullptr;
    bool labels_ok = false;
    uint64_t labels_hash_value = 0;
    for (const Sample& s : c->samples()) {
      if (s.labels.get() != last_labels) {
        last_labels = s.labels.get();
        labels_ok = renderable(s);
        labels_hash_value = labels_hash(*s.labels);
      }
      if (!name || s.name != name->name) {
        name = nullptr;
        for (const Known& k : known)
          if (k.name == s.name) name = &k;
        if (!name) {
          std::string family_name;
          const Family* f = c->family_of(s.name, &family_name);
          if (!f) family_name = std::string(s.name);
          FamilySamples* fs = &families[family_name];
          if (f) fs->family = f;
          known.push_back({s.name, fs, valid_metric_name(s.name), std::hash<std::string_view>{}(s.name)});
          name = &known.back();
        }
      }
      if (!name->ok || !labels_ok) continue;
      FamilySamples* fs = name->fs;
      uint64_t hash = combine_series_hash(name->hash, labels_hash_value);
      for (size_t at = hash & (slots - 1);; at = (at + 1) & (slots - 1)) {
        Slot& slot = table[at];
        if (!slot.fs) {
          slot = Slot{fs, static_cast<uint32_t>(fs->samples.size()), hash};
          fs->samples.push_back(&s);
          ++total;
          break;
        }
        if (slot.hash == hash && slot.fs == fs && same_series(*fs->samples[slot.index], s)) {
          fs->samples[slot.index] = &s;
          break;
        }
      }
    }
  }
  std::string out;
  out.reserve(total * 96);
  for (auto& [name, fs] : families) {
    if (fs.samples.empty()) continue;
    out += "# HELP " + name + " " + escape_help(fs.family ? fs.family->help : "No description.") + "\n";
    out += "# TYPE " + name + " " + std::string(type_name(fs.family)) + "\n";
    if (fs.family && fs.family->kind == MetricKind::Histogram) {
      for (const Sample* s : order_histogram(name, fs.samples)) write_sample(out, *s);
    } else {
      for (const Sample* s : fs.samples) write_sample(out, *s);
    }
  }
  return out;
}

std::string render_prometheus(const Collection& c) {
  // A non-owning view: the Collection outlives the call.
  return render_prometheus(Outputs{std::shared_ptr<const Collection>(&c, [](const Collection*) {})});
}

Result<HostPort> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return errorf("\"{}\" is not HOST:PORT", text);
  HostPort hp;
  hp.host = std::string(text.substr(0, colon));
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') hp.host = hp.host.substr(1, hp.host.size() - 2);
  if (hp.host.empty()) hp.host = "0.0.0.0";
  auto port = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  if (ec != std::errc() || p != port.data() + port.size() || hp.port < 0 || hp.port > 65535)
    return errorf("\"{}\": port \"{}\" is not a number from 0 to 65535", text, port);
  return hp;
}

Exporter::Exporter() : server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  // Scrapers are few: Prometheus and a curl now and then.
  server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  server_->set_keep_alive_timeout(5);
  // cpp-httplib sets SO_REUSEPORT by default, which would let a second agent bind the same port silently.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(*text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("stormscope-agent: see /metrics and /healthz\n", "text/plain; charset=utf-8");
  });
}

Exporter::~Exporter() { stop(); }

Result<int> Exporter::start(const HostPort& listen) {
  int port = listen.port;
  if (port == 0) {
    port = server_->bind_to_any_port(listen.host);
    if (port < 0) return errorf("cannot listen on {}:0", listen.host);
  } else if (!server_->bind_to_port(listen.host, port)) {
    return errorf("cannot listen on {}:{} (in use, or not an address of this host)", listen.host, port);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void Exporter::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

std::shared_ptr<const std::string> Exporter::text() {
  std::lock_guard lk(mu_);  // concurrent scrapes wait for one rendering rather than each doing it
  if (!text_) text_ = std::make_shared<const std::string>(render_prometheus(outputs_));
  return text_;
}

void Exporter::publish(Outputs outputs) {
  std::lock_guard lk(mu_);
  outputs_ = std::move(outputs);
  text_ = nullptr;
}

void Exporter::publish(const Collection& c) { publish(Outputs{std::make_shared<const Collection>(c)}); }

}  // namespace ss::agent
