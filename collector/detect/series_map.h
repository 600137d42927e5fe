// State per series for the detection engine, keyed by a 128-bit hash of the series identity (node, name,
// labels) instead of its text: a collector with millions of series keeps 24-32 bytes a series here rather
// than a ~100-byte string key in a node-based map. Two series collide with probability ~n²/2^129 (far
// below one in 10^20 at 10^7 series), which the engine accepts: the worst case is one wrong increase.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "common/sample.h"

namespace ss::collector::detect {

struct SeriesId {
  uint64_t a = 0, b = 0;
  bool operator==(const SeriesId&) const = default;
};

// The identity of a series as a batch has it (labels without "node").
inline SeriesId series_id(std::string_view node, std::string_view name, const Labels& labels) {
  Hasher a(0x5eed0001), b(0x5eed0002);
  a.add(node).add(name);
  b.add(node).add(name);
  for (const auto& [k, v] : labels) {
    a.add(k).add(v);
    b.add(k).add(v);
  }
  SeriesId id{a.finish(), b.finish()};
  if (id.a == 0 && id.b == 0) id.a = 1;  // 0/0 marks an empty slot
  return id;
}

// Open addressing with linear probing; entries are never removed.
template <class T>
class SeriesMap {
 public:
  // The entry of `id`, default-constructed when new (second: true).
  std::pair<T*, bool> try_emplace(const SeriesId& id) {
    if ((used_ + 1) * 5 > slots_.size() * 4) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = id.a & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.id == id) return {&s.value, false};
      if (s.id == SeriesId{}) {
        s.id = id;
        ++used_;
        return {&s.value, true};
      }
    }
  }
  size_t size() const { return used_; }

 private:
  struct Slot {
    SeriesId id;
    T value{};
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 1024 : old.size() * 2);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id == SeriesId{}) continue;
      size_t i = s.id.a & mask;
      while (!(slots_[i].id == SeriesId{})) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

}  // namespace ss::collector::detect
