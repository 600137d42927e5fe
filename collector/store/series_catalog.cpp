#include "collector/store/series_catalog.h"

#include <algorithm>
#include <mutex>

#include "common/hash.h"

namespace ss::collector {
namespace {

// Calls f(name, value) for the labels of an ingested series in canonical order, "node" in its sorted
// place (a "node" among the labels is the collector's to set, so it is skipped, as with_node does).
template <class F>
void for_each_label(const SeriesCatalog::Identity& id, F f) {
  bool placed = false;
  for (const auto& [k, v] : id.labels) {
    if (!placed && k > "node") {
      f(std::string_view("node"), id.node);
      placed = true;
    }
    if (k != "node") f(std::string_view(k), std::string_view(v));
  }
  if (!placed) f(std::string_view("node"), id.node);
}

constexpr size_t kMinSlotBits = 10;

}  // namespace

SeriesCatalog::SeriesCatalog() {
  entries_.emplace_back();  // id 0 is no series
  slots_.resize(size_t(1) << kMinSlotBits);
  slot_bits_ = kMinSlotBits;
}

uint64_t SeriesCatalog::hash(const Identity& id) {
  Hasher h;
  h.add(id.name);
  for_each_label(id, [&](std::string_view k, std::string_view v) { h.add(k).add(v); });
  return h.finish();
}

// ------------------------------------------------------------------------------------------ index

size_t SeriesCatalog::home(uint32_t tag) const {
  // Multiplicative hashing: the position depends on every bit of the tag, so slots that collide still
  // tell their series apart by tag most of the time.
  return static_cast<size_t>((tag * 0x9E3779B97F4A7C15ull) >> (64 - slot_bits_));
}

void SeriesCatalog::index_insert(uint32_t id, uint32_t tag) {
  if ((used_ + 1) * 5 > slots_.size() * 4) {  // above 80 % full: double
    std::vector<Slot> old;
    old.swap(slots_);
    ++slot_bits_;
    slots_.assign(size_t(1) << slot_bits_, Slot{});
    used_ = 0;
    for (const Slot& s : old)
      if (s.id) index_insert(s.id, s.tag);
  }
  size_t mask = slots_.size() - 1;
  for (size_t i = home(tag);; i = (i + 1) & mask)
    if (slots_[i].id == 0) {
      slots_[i] = {id, tag};
      ++used_;
      return;
    }
}

// Backward-shift deletion keeps every probe sequence unbroken without tombstones.
void SeriesCatalog::index_erase(uint32_t id, uint32_t tag) {
  size_t mask = slots_.size() - 1;
  size_t i = home(tag);
  while (slots_[i].id != id) {
    if (slots_[i].id == 0) return;
    i = (i + 1) & mask;
  }
  for (size_t j = (i + 1) & mask; slots_[j].id != 0; j = (j + 1) & mask) {
    size_t h = home(slots_[j].tag);
    // Slot j may move back to i when its home is not in (i, j] (cyclically).
    bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --used_;
}

bool SeriesCatalog::same(const Entry& e, const Identity& id) const {
  if (strings_[e.name] != id.name) return false;
  const uint32_t* p = pairs(e);
  uint32_t k = 0;
  bool equal = true;
  for_each_label(id, [&](std::string_view name, std::string_view value) {
    if (!equal) return;
    if (k >= e.count || strings_[p[2 * k]] != name || strings_[p[2 * k + 1]] != value) equal = false;
    ++k;
  });
  return equal && k == e.count;
}

uint32_t SeriesCatalog::find(uint64_t hash, const Identity& id) const {
  auto tag = static_cast<uint32_t>(hash >> 32);
  size_t mask = slots_.size() - 1;
  for (size_t i = home(tag); slots_[i].id != 0; i = (i + 1) & mask)
    if (slots_[i].tag == tag && same(entries_[slots_[i].id], id)) return slots_[i].id;
  return 0;
}

// ------------------------------------------------------------------------------------------ adding

uint32_t SeriesCatalog::intern(std::string_view s) {
  if (auto it = symbols_.find(s); it != symbols_.end()) return it->second;
  auto n = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  symbols_.emplace(strings_.back(), n);  // deque elements never move: the view stays valid
  return n;
}

uint32_t SeriesCatalog::symbol_of(std::string_view s) const {
  auto it = symbols_.find(s);
  return it == symbols_.end() ? UINT32_MAX : it->second;
}

uint32_t SeriesCatalog::put_pairs(const std::vector<std::pair<uint32_t, uint32_t>>& pairs) {
  uint64_t need = 2 * pairs.size();
  if (need == 0) return 0;
  if (pool_used_ % kPoolBlock + need > kPoolBlock) pool_used_ = (pool_used_ / kPoolBlock + 1) * kPoolBlock;
  if (pool_used_ + need > uint64_t(pool_.size()) * kPoolBlock) pool_.push_back(std::make_unique<uint32_t[]>(kPoolBlock));
  auto at = static_cast<uint32_t>(pool_used_);
  uint32_t* out = &pool_[at / kPoolBlock][at % kPoolBlock];
  for (const auto& [k, v] : pairs) {
    *out++ = k;
    *out++ = v;
  }
  pool_used_ += need;
  return at;
}

void SeriesCatalog::append_entry(uint32_t id, std::string_view name,
                                 const std::vector<std::pair<uint32_t, uint32_t>>& syms, SeriesType type) {
  Entry& e = entries_.emplace_back();
  e.name = intern(name);
  e.labels = put_pairs(syms);
  e.count = static_cast<uint8_t>(syms.size());
  e.type = static_cast<uint8_t>(type);
  e.present = true;
  by_name_[e.name].push_back(id);
}

uint32_t SeriesCatalog::add(uint64_t hash, const Identity& id, SeriesType type) {
  std::vector<std::pair<std::string_view, std::string_view>> labels;
  labels.reserve(id.labels.size() + 1);
  for_each_label(id, [&](std::string_view k, std::string_view v) { labels.emplace_back(k, v); });
  std::unique_lock lock(mu_);
  std::vector<std::pair<uint32_t, uint32_t>> syms;
  syms.reserve(labels.size());
  for (const auto& [k, v] : labels) syms.emplace_back(intern(k), intern(v));
  auto n = static_cast<uint32_t>(entries_.size());
  append_entry(n, id.name, syms, type);
  lock.unlock();
  index_insert(n, static_cast<uint32_t>(hash >> 32));
  hashes_of_unpublished_.push_back(hash);
  return n;
}

void SeriesCatalog::load(uint32_t id, std::string_view name, const Labels& labels_with_node, SeriesType type) {
  std::unique_lock lock(mu_);
  while (entries_.size() < id) entries_.emplace_back();  // ids the database skipped
  std::vector<std::pair<uint32_t, uint32_t>> syms;
  syms.reserve(labels_with_node.size());
  Hasher h;
  h.add(name);
  for (const auto& [k, v] : labels_with_node) {
    syms.emplace_back(intern(k), intern(v));
    h.add(k).add(v);
  }
  append_entry(id, name, syms, type);
  lock.unlock();
  index_insert(id, static_cast<uint32_t>(h.finish() >> 32));
  published_ = id;
}

void SeriesCatalog::publish(uint32_t id) {
  hashes_of_unpublished_.clear();
  published_ = id;
}

void SeriesCatalog::forget_after(uint32_t id) {
  std::unique_lock lock(mu_);
  for (uint32_t n = last_id(); n > id; --n) {
    Entry& e = entries_[n];
    auto& ids = by_name_[e.name];
    if (!ids.empty() && ids.back() == n) ids.pop_back();
    index_erase(n, static_cast<uint32_t>(hashes_of_unpublished_[n - id - 1] >> 32));
    pool_used_ = std::min<uint64_t>(pool_used_, e.labels);
  }
  entries_.truncate(id + 1);
  hashes_of_unpublished_.clear();
}

// ------------------------------------------------------------------------------------------ reading

uint32_t SeriesCatalog::published() const { return published_; }

std::string_view SeriesCatalog::View::name() const { return c_.strings_[c_.entries_[id_].name]; }

std::string_view SeriesCatalog::View::label(std::string_view name) const {
  const Entry& e = c_.entries_[id_];
  const uint32_t* p = c_.pairs(e);
  for (uint32_t k = 0; k < e.count; ++k)
    if (c_.strings_[p[2 * k]] == name) return c_.strings_[p[2 * k + 1]];
  return {};
}

SeriesInfo SeriesCatalog::View::info() const { return c_.info_of(id_); }

SeriesInfo SeriesCatalog::info_of(uint32_t id) const {
  const Entry& e = entries_[id];
  SeriesInfo info;
  info.id = id;
  info.name = strings_[e.name];
  info.type = static_cast<SeriesType>(e.type);
  const uint32_t* p = pairs(e);
  info.labels.reserve(e.count);
  for (uint32_t k = 0; k < e.count; ++k) info.labels.emplace_back(strings_[p[2 * k]], strings_[p[2 * k + 1]]);
  return info;
}

bool SeriesCatalog::info(uint32_t id, SeriesInfo& out) const {
  std::shared_lock lock(mu_);
  if (id == 0 || id > published_ || !entries_[id].present) return false;
  out = info_of(id);
  return true;
}

std::vector<SeriesInfo> SeriesCatalog::select(std::string_view name,
                                              const std::function<bool(const View&)>& keep) const {
  std::vector<SeriesInfo> out;
  std::shared_lock lock(mu_);
  uint32_t upto = published_;
  auto consider = [&](uint32_t id) {
    if (id > upto || !entries_[id].present) return;
    View v(*this, id);
    if (keep(v)) out.push_back(info_of(id));
  };
  if (name.empty()) {
    for (uint32_t id = 1; id <= upto; ++id) consider(id);
  } else if (uint32_t sym = symbol_of(name); sym != UINT32_MAX) {
    if (auto it = by_name_.find(sym); it != by_name_.end())
      for (uint32_t id : it->second) consider(id);
  }
  return out;
}

size_t SeriesCatalog::memory_bytes() const {
  std::shared_lock lock(mu_);
  size_t n = entries_.size() * sizeof(Entry) + pool_.size() * kPoolBlock * sizeof(uint32_t) +
             slots_.size() * sizeof(Slot);
  for (const auto& s : strings_) n += sizeof(std::string) + s.capacity() + 48;
  for (const auto& [k, v] : by_name_) n += 48 + v.capacity() * sizeof(uint32_t);
  return n;
}

}  // namespace ss::collector
