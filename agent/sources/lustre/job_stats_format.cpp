#include "agent/sources/lustre/job_stats_format.h"

#include "agent/sources/lustre/stats_format.h"
#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

const JobCounter* Job::find(std::string_view op) const {
  for (const auto& c : counters)
    if (c.op == op) return &c;
  return nullptr;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "32" → 32, "4K" → 4096, "1M", "2G"; nullopt for anything else.
std::optional<uint64_t> hist_bucket(std::string_view key) {
  uint64_t mult = 1;
  if (!key.empty()) {
    char s = key.back();
    if (s == 'K') mult = 1ull << 10;
    else if (s == 'M') mult = 1ull << 20;
    else if (s == 'G') mult = 1ull << 30;
    if (mult != 1) key.remove_suffix(1);
  }
  auto v = to_u64(key);
  if (!v || *v > (UINT64_MAX / mult)) return std::nullopt;
  return *v * mult;
}

bool parse_hist(std::string_view body, JobCounter& out) {
  while (true) {
    body = trim(body);
    if (body.empty()) return true;
    size_t comma = body.find(',');
    std::string_view item = body.substr(0, comma);
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return false;
    auto bucket = hist_bucket(trim(item.substr(0, colon)));
    auto count = to_u64(trim(item.substr(colon + 1)));
    if (!bucket || !count) return false;
    out.hist.emplace_back(*bucket, *count);
    if (comma == std::string_view::npos) return true;
    body.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string unquote_job_id(std::string_view raw) {
  raw = trim(raw);
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::string(raw);
  raw = raw.substr(1, raw.size() - 2);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == 'x' && i + 3 < raw.size() && hex_digit(raw[i + 2]) >= 0 && hex_digit(raw[i + 3]) >= 0) {
        out.push_back(static_cast<char>(hex_digit(raw[i + 2]) * 16 + hex_digit(raw[i + 3])));
        i += 3;
        continue;
      }
      if (n == '\\' || n == '"') {
        out.push_back(n);
        ++i;
        continue;
      }
    }
    out.push_back(raw[i]);
  }
  return out;
}

bool parse_job_counter_value(std::string_view value, JobCounter& out) {
  value = trim(value);
  if (value.size() < 2 || value.front() != '{' || value.back() != '}') return false;
  value = value.substr(1, value.size() - 2);
  bool have_samples = false;
  while (true) {
    value = trim(value);
    if (value.empty()) break;
    size_t colon = value.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view key = trim(value.substr(0, colon));
    value.remove_prefix(colon + 1);
    value = trim(value);
    if (key == "hist") {
      if (value.empty() || value.front() != '{') return false;
      size_t close = value.find('}');
      if (close == std::string_view::npos) return false;
      if (!parse_hist(value.substr(1, close - 1), out)) return false;
      value.remove_prefix(close + 1);
      value = trim(value);
      if (!value.empty() && value.front() == ',') value.remove_prefix(1);
      continue;
    }
    size_t comma = value.find(',');
    std::string_view v = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (key == "unit") {
      out.unit = std::string(normalize_unit(v));
      continue;
    }
    auto n = to_u64(v);
    if (!n) return false;
    if (key == "samples") {
      out.samples = *n;
      have_samples = true;
    } else if (key == "min") {
      out.min = *n;
      out.has_sum = true;
    } else if (key == "max") {
      out.max = *n;
    } else if (key == "sum") {
      out.sum = *n;
      out.has_sum = true;
    } else if (key == "sumsq") {
      out.sumsq = *n;
      out.has_sumsq = true;
    }  // unknown numeric keys from future versions are ignored
  }
  return have_samples;
}

void JobStatsParser::feed(std::string_view chunk) {
  if (stopped_) return;
  while (!chunk.empty() && !stopped_) {
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(chunk);
      return;
    }
    if (partial_.empty()) {
      line(chunk.substr(0, nl));
    } else {
      partial_.append(chunk.substr(0, nl));
      line(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

void JobStatsParser::finish() {
  if (!stopped_ && !partial_.empty()) line(partial_);
  partial_.clear();
  if (!stopped_) emit();
}

void JobStatsParser::emit() {
  if (!job_) return;
  ++jobs_;
  Job j = std::move(*job_);
  job_.reset();
  if (!sink_(std::move(j))) stopped_ = true;
}

void JobStatsParser::line(std::string_view raw) {
  std::string_view l = trim(raw);
  if (l.empty() || l == "job_stats:") return;
  if (l.starts_with("- job_id:")) {
    emit();
    if (stopped_) return;
    job_.emplace();
    job_->id = unquote_job_id(l.substr(9));
    return;
  }
  size_t colon = l.find(':');
  if (colon == std::string_view::npos || !job_) {
    ++skipped_;
    return;
  }
  std::string_view key = trim(l.substr(0, colon));
  std::string_view value = trim(l.substr(colon + 1));
  if (key == "snapshot_time" || key == "start_time" || key == "elapsed_time") {
    StatsHeader h;
    std::string header_line = std::string(key) + " " + std::string(value);
    parse_stats_header_line(header_line, &h);
    auto& field = key == "snapshot_time" ? job_->snapshot_s : key == "start_time" ? job_->start_s : job_->elapsed_s;
    field = key == "snapshot_time" ? h.snapshot_s : key == "start_time" ? h.start_s : h.elapsed_s;
    if (!field) ++skipped_;
    return;
  }
  JobCounter c;
  if (!parse_job_counter_value(value, c)) {
    ++skipped_;
    return;
  }
  c.op = std::string(key);
  job_->counters.push_back(std::move(c));
}

std::vector<Job> parse_job_stats(std::string_view text, size_t* skipped_lines) {
  std::vector<Job> jobs;
  JobStatsParser p([&](Job&& j) {
    jobs.push_back(std::move(j));
    return true;
  });
  p.feed(text);
  p.finish();
  if (skipped_lines) *skipped_lines = p.skipped_lines();
  return jobs;
}

}  // namespace ss::agent::lustre
