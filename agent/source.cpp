#include "agent/source.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <mutex>
#include <unordered_set>

namespace ss::agent {

LabelSet make_label_set(Labels labels) {
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.first < b.first; });
  return std::make_shared<const Labels>(std::move(labels));
}

std::string_view intern_name(std::string_view name) {
  struct Table {
    std::mutex mu;
    std::deque<std::string> storage;  // never moves its strings
    std::unordered_set<std::string_view> names;
  };
  static Table* table = new Table;  // never freed: views may be used until exit
  std::lock_guard lk(table->mu);
  if (auto it = table->names.find(name); it != table->names.end()) return *it;
  return *table->names.insert(table->storage.emplace_back(name)).first;
}

void Collection::describe(const std::string& family, MetricKind kind, std::string help) {
  families_.try_emplace(family, Family{kind, std::move(help)});
}

const Family* Collection::family_of(std::string_view name, std::string* family_name) const {
  if (auto it = families_.find(name); it != families_.end()) {
    if (family_name) *family_name = it->first;
    return it->second.kind == MetricKind::Histogram ? nullptr : &it->second;
  }
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      auto it = families_.find(name.substr(0, name.size() - suffix.size()));
      if (it != families_.end() && it->second.kind == MetricKind::Histogram) {
        if (family_name) *family_name = it->first;
        return &it->second;
      }
    }
  }
  return nullptr;
}

void Collection::add(std::string_view name, Labels labels, double value) {
  add_at(name, std::move(labels), value, t_ms_);
}

void Collection::add_at(std::string_view name, Labels labels, double value, int64_t t_ms) {
  const Family* f = family_of(name);
  // An undescribed family is a programming error; keep the sample as a gauge rather than lose it.
  SeriesType type = (f && f->kind != MetricKind::Gauge) ? SeriesType::Counter : SeriesType::Gauge;
  samples_.push_back(Sample{intern_name(name), make_label_set(std::move(labels)), value, t_ms, type});
}

void Collection::add_histogram(const std::string& family, const Labels& labels, const std::vector<double>& bounds,
                               const std::vector<uint64_t>& cumulative, double sum) {
  auto le = [](double b) {
    if (std::isinf(b)) return std::string("+Inf");
    return fmt::format("{}", b);
  };
  for (size_t i = 0; i < cumulative.size(); ++i) {
    Labels l = labels;
    l.emplace_back("le", i < bounds.size() ? le(bounds[i]) : "+Inf");
    add(family + "_bucket", std::move(l), static_cast<double>(cumulative[i]));
  }
  add(family + "_sum", labels, sum);
  add(family + "_count", labels, cumulative.empty() ? 0.0 : static_cast<double>(cumulative.back()));
}

void Collection::merge(Collection&& other) {
  for (auto& [k, v] : other.families_) families_.try_emplace(k, std::move(v));
  samples_.insert(samples_.end(), std::make_move_iterator(other.samples_.begin()),
                  std::make_move_iterator(other.samples_.end()));
  events_.insert(events_.end(), std::make_move_iterator(other.events_.begin()),
                 std::make_move_iterator(other.events_.end()));
  other.samples_.clear();
  other.events_.clear();
}

}  // namespace ss::agent
