#include "collector/cost/prices.h"

#include <cctype>

namespace ss::collector::cost {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// True when `key` occurs in `text` (any case) with no letter or digit right before or after it.
bool contains_word(std::string_view text, std::string_view key) {
  if (key.empty() || key.size() > text.size()) return false;
  for (size_t i = 0; i + key.size() <= text.size(); ++i) {
    if (!iequals(text.substr(i, key.size()), key)) continue;
    bool left = i == 0 || !alnum(text[i - 1]);
    size_t end = i + key.size();
    bool right = end == text.size() || !alnum(text[end]);
    if (left && right) return true;
  }
  return false;
}

GpuPrice read_price(const config::Section& s) {
  s.allow_only({"spot", "on_demand"});
  if (!s.has("spot") || !s.has("on_demand")) s.fail("", "needs both spot and on_demand ($/GPU-hour)");
  GpuPrice p{s.number("spot", 0), s.number("on_demand", 0)};
  if (p.spot_per_hour < 0) s.fail("spot", "must not be negative");
  if (p.on_demand_per_hour < 0) s.fail("on_demand", "must not be negative");
  return p;
}

}  // namespace

Result<Pricing> parse_pricing(std::string_view text) {
  if (text == "spot") return Pricing::Spot;
  if (text == "on_demand" || text == "on-demand") return Pricing::OnDemand;
  return errorf("unknown pricing \"{}\" (spot or on_demand)", text);
}

std::string_view pricing_name(Pricing p) { return p == Pricing::Spot ? "spot" : "on_demand"; }

PriceTable PriceTable::defaults() {
  PriceTable t;
  // The reference article (Spheron, 18 May 2026): H200 $1.924 spot, $4.62 on-demand per GPU-hour.
  t.set("H200", {1.924, 4.62});
  // gridstackhub.ai, "Reserved vs spot vs on-demand GPU" (2026): H100 on-demand $2.23 (CoreWeave),
  // spot ~$1.49 (Vast.ai).
  t.set("H100", {1.49, 2.23});
  // No sourced figure for other models: they get the H200 prices, so the default never under-reports.
  t.set_unknown({1.924, 4.62});
  return t;
}

void PriceTable::set(std::string model, GpuPrice price) {
  for (auto& e : entries_) {
    if (iequals(e.model, model)) {
      e.price = price;
      return;
    }
  }
  entries_.push_back({std::move(model), price});
}

const PriceEntry* PriceTable::find(std::string_view model) const {
  const PriceEntry* best = nullptr;
  for (const auto& e : entries_) {
    if (iequals(e.model, model)) return &e;
    if (contains_word(model, e.model) && (!best || e.model.size() > best->model.size())) best = &e;
  }
  return best;
}

GpuPrice PriceTable::price_of(std::string_view model) const {
  const PriceEntry* e = find(model);
  return e ? e->price : unknown_;
}

Result<CostConfig> read_cost_config(const config::Section& cost) {
  return config::read([&]() {
    cost.allow_only({"pricing", "prices", "unknown_model", "baseline_window", "max_gap", "default_baseline"});
    CostConfig c;
    auto pricing = parse_pricing(cost.string("pricing", "spot"));
    if (!pricing) cost.fail("pricing", pricing.error().message);
    c.pricing = *pricing;
    auto prices = cost.child("prices");
    for (const auto& kv : prices.node()) {
      auto model = kv.first.as<std::string>();
      if (model.empty()) prices.fail("", "a GPU model name must not be empty");
      c.prices.set(model, read_price(prices.child(model)));
    }
    if (cost.has("unknown_model")) c.prices.set_unknown(read_price(cost.child("unknown_model")));
    c.baseline_window_ms = cost.duration_ms("baseline_window", c.baseline_window_ms);
    if (c.baseline_window_ms == 0) cost.fail("baseline_window", "must be longer than 0");
    c.max_gap_ms = cost.duration_ms("max_gap", c.max_gap_ms);
    if (c.max_gap_ms == 0) cost.fail("max_gap", "must be longer than 0");
    c.default_baseline = cost.number("default_baseline", c.default_baseline);
    if (c.default_baseline < 0 || c.default_baseline > 1) cost.fail("default_baseline", "must be within 0..1");
    return c;
  });
}

}  // namespace ss::collector::cost
