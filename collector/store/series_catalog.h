// The identity of every series the store holds (metric name, labels with "node", type) in compact form:
// names and label values interned once, each series' labels as pairs of symbol numbers in a shared pool,
// a hash index from identity to id, and the ids of each metric name. At millions of series this costs
// ~50 bytes a series where labels as strings in vectors and a map keyed by the series' text took ~600.
//
// One thread (the store's writer) adds, finds and forgets series; any thread reads published ones.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/store/store.h"
#include "common/sample.h"

namespace ss::collector {

// An append-only array in fixed blocks: elements never move (no reallocation of millions of them, no
// copy of the whole when it grows) and indexing stays O(1). Adding a block reallocates only the block
// list, so readers must not index while the writer adds (the users hold a lock for that).
template <class T, size_t kBlock = 4096>
class BlockArray {
 public:
  size_t size() const { return size_; }
  T& operator[](size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  const T& operator[](size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
  // Whether the next emplace_back() adds a block.
  bool full() const { return size_ == blocks_.size() * kBlock; }
  T& emplace_back() {
    if (full()) blocks_.push_back(std::make_unique<T[]>(kBlock));
    return (*this)[size_++];
  }
  // Drops the last elements (their slots are reset for reuse).
  void truncate(size_t n) {
    for (; size_ > n; --size_) (*this)[size_ - 1] = T{};
  }

 private:
  std::vector<std::unique_ptr<T[]>> blocks_;
  size_t size_ = 0;
};

class SeriesCatalog {
 public:
  // A series as ingest sees it: labels sorted, without "node"; the node takes its sorted place among them.
  struct Identity {
    std::string_view name;
    const Labels& labels;
    std::string_view node;
  };
  // What readers see of a series while the catalog is locked.
  class View {
   public:
    std::string_view name() const;
    // The value of a label ("node" included), "" when absent.
    std::string_view label(std::string_view name) const;
    SeriesInfo info() const;

   private:
    friend class SeriesCatalog;
    View(const SeriesCatalog& c, uint32_t id) : c_(c), id_(id) {}
    const SeriesCatalog& c_;
    uint32_t id_;
  };

  SeriesCatalog();
  SeriesCatalog(const SeriesCatalog&) = delete;
  SeriesCatalog& operator=(const SeriesCatalog&) = delete;

  // The hash find() and add() take (computed by the caller, off the writer thread).
  static uint64_t hash(const Identity& id);

  // Writer thread. Ids are dense and ascending: add() takes the id after the last one added.
  uint32_t find(uint64_t hash, const Identity& id) const;  // 0 when unknown
  // Starts loading the index slot find(hash) reads first: issued for a whole batch before its finds, the
  // cache misses of millions of random slots overlap instead of queueing one behind the other.
  void prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[home(static_cast<uint32_t>(hash >> 32))]); }
  uint32_t add(uint64_t hash, const Identity& id, SeriesType type);
  // A series read back from the database (labels include "node"); ids may skip numbers.
  void load(uint32_t id, std::string_view name, const Labels& labels_with_node, SeriesType type);
  // Readers see series up to `id` from now on.
  void publish(uint32_t id);
  // Forgets the series added after `id`, which were never published (their transaction rolled back).
  void forget_after(uint32_t id);
  uint32_t last_id() const { return static_cast<uint32_t>(entries_.size()) - 1; }

  // Any thread: published series only.
  uint32_t published() const;
  bool info(uint32_t id, SeriesInfo& out) const;
  // Every published series named `name` (every series when empty) that `keep` accepts, as SeriesInfo.
  std::vector<SeriesInfo> select(std::string_view name, const std::function<bool(const View&)>& keep) const;

  // Bytes held, for sizing figures.
  size_t memory_bytes() const;

 private:
  struct Entry {
    uint32_t name = 0;    // symbol
    uint32_t labels = 0;  // offset of its (name, value) symbol pairs in the pool
    uint8_t count = 0;    // label pairs, "node" included
    uint8_t type = 0;     // SeriesType
    bool present = false; // false for ids the database skipped
  };
  struct Slot {
    uint32_t id = 0;   // 0: empty
    uint32_t tag = 0;  // the hash's upper half; the slot's position is derived from it too
  };
  static constexpr uint32_t kPoolBlock = 1u << 16;  // uint32s per pool block; a series' pairs never straddle

  uint32_t intern(std::string_view s);  // writer thread, under the unique lock
  uint32_t symbol_of(std::string_view s) const;  // UINT32_MAX when unknown
  const uint32_t* pairs(const Entry& e) const { return &pool_[e.labels / kPoolBlock][e.labels % kPoolBlock]; }
  uint32_t put_pairs(const std::vector<std::pair<uint32_t, uint32_t>>& pairs);  // under the unique lock
  // Appends the entry of a series (its label symbols interned) as entries_[id]; under the unique lock.
  void append_entry(uint32_t id, std::string_view name, const std::vector<std::pair<uint32_t, uint32_t>>& syms,
                    SeriesType type);
  size_t home(uint32_t tag) const;
  void index_insert(uint32_t id, uint32_t tag);
  void index_erase(uint32_t id, uint32_t tag);
  bool same(const Entry& e, const Identity& id) const;
  SeriesInfo info_of(uint32_t id) const;

  mutable std::shared_mutex mu_;  // writer: unique to change; readers: shared
  std::deque<std::string> strings_;                    // symbol -> text
  std::unordered_map<std::string_view, uint32_t> symbols_;  // text -> symbol
  BlockArray<Entry> entries_;                          // by id; entry 0 unused
  std::vector<std::unique_ptr<uint32_t[]>> pool_;
  uint64_t pool_used_ = 0;
  std::unordered_map<uint32_t, std::vector<uint32_t>> by_name_;  // name symbol -> ids, ascending
  std::vector<uint64_t> hashes_of_unpublished_;  // to forget them from the index
  std::atomic<uint32_t> published_{0};
  // The index: open addressing, linear probing, writer thread only.
  std::vector<Slot> slots_;
  int slot_bits_ = 0;
  size_t used_ = 0;
};

}  // namespace ss::collector
