#include "collector/store/chunk_store_impl.h"

#include <nlohmann/json.hpp>

#include "common/codec.h"

namespace ss::collector::chunk_store_impl {

using json = nlohmann::json;

std::string labels_to_json(const Labels& labels) {
  json o = json::object();
  for (const auto& [k, v] : labels) o[k] = v;
  return o.dump();
}

Labels labels_from_json(const std::string& text) {
  Labels labels;
  json o = json::parse(text, nullptr, false);
  if (o.is_object())
    for (const auto& [k, v] : o.items()) labels.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return labels;
}

Labels with_node(const Labels& labels, const std::string& node) {
  Labels out;
  out.reserve(labels.size() + 1);
  bool placed = false;
  for (const auto& l : labels) {
    if (!placed && l.first > "node") {
      out.emplace_back("node", node);
      placed = true;
    }
    if (l.first != "node") out.push_back(l);
  }
  if (!placed) out.emplace_back("node", node);
  return out;
}

// labels_to_json(with_node(labels, node)) without copying the labels or building a JSON document: every
// new series pays it (millions in the first minute of a large cluster).
std::string labels_json_with_node(const Labels& labels, const std::string& node) {
  std::string out;
  out.reserve(16 + node.size() + labels.size() * 24);
  out += '{';
  bool placed = false, first = true;
  auto put = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  };
  for (const auto& l : labels) {
    if (!placed && l.first > "node") {
      put("node", node);
      placed = true;
    }
    if (l.first != "node") put(l.first, l.second);
  }
  if (!placed) put("node", node);
  out += '}';
  return out;
}

}  // namespace ss::collector::chunk_store_impl

namespace ss::collector {

using chunk_store_impl::ChunkStore;

Result<std::unique_ptr<Store>> open_chunk_store(const StoreOptions& options) {
  if (options.path.empty()) return Error{"store: no database path"};
  if (options.out_of_order_ms < 0 || options.out_of_order_ms > kHourMs)
    return errorf("store: out-of-order window {} ms must be between 0 and 1h", options.out_of_order_ms);
  auto store = std::make_unique<ChunkStore>(options);
  if (auto r = store->open(); !r.ok()) {
    store->close();
    return r.error();
  }
  return std::unique_ptr<Store>(std::move(store));
}

// The collector's store is the chunk store.
Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) { return open_chunk_store(options); }

}  // namespace ss::collector
