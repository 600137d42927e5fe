#include <gtest/gtest.h>

#include <string>

#include "collector/store/series_catalog.h"

using namespace ss;
using namespace ss::collector;

namespace {

Labels target_labels(int i) { return {{"fs", "ai0"}, {"op", i % 2 ? "read" : "write"}, {"target", std::to_string(i)}}; }

uint32_t add(SeriesCatalog& c, const std::string& name, const Labels& labels, const std::string& node) {
  SeriesCatalog::Identity id{name, labels, node};
  return c.add(SeriesCatalog::hash(id), id, SeriesType::Counter);
}

uint32_t find(const SeriesCatalog& c, const std::string& name, const Labels& labels, const std::string& node) {
  SeriesCatalog::Identity id{name, labels, node};
  return c.find(SeriesCatalog::hash(id), id);
}

}  // namespace

TEST(SeriesCatalog, FindsEverySeriesItAddedThroughIndexGrowth) {
  SeriesCatalog c;
  // Enough series for the index to double several times.
  for (int i = 0; i < 20000; ++i) {
    EXPECT_EQ(find(c, "ops_total", target_labels(i), "n1"), 0u);
    EXPECT_EQ(add(c, "ops_total", target_labels(i), "n1"), static_cast<uint32_t>(i + 1));
  }
  c.publish(c.last_id());
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(find(c, "ops_total", target_labels(i), "n1"), static_cast<uint32_t>(i + 1));
  // Any difference in name, node, a label's name or value is another series.
  EXPECT_EQ(find(c, "ops_total", target_labels(1), "n2"), 0u);
  EXPECT_EQ(find(c, "ops", target_labels(1), "n1"), 0u);
  EXPECT_EQ(find(c, "ops_total", {{"fs", "ai0"}, {"op", "read"}, {"target", "1"}, {"x", ""}}, "n1"), 0u);
  EXPECT_EQ(find(c, "ops_total", {{"fs", "ai0"}, {"op", "read"}}, "n1"), 0u);
  EXPECT_EQ(find(c, "ops_total", {{"fs", "ai0"}, {"op", "read"}, {"target", "1"}}, "n1"), 2u);
}

TEST(SeriesCatalog, PlacesTheNodeAmongTheLabelsAndReadsThemBack) {
  SeriesCatalog c;
  uint32_t id = add(c, "m", {{"a", "1"}, {"z", "2"}}, "gpu7");
  EXPECT_EQ(c.published(), 0u);
  SeriesInfo info;
  EXPECT_FALSE(c.info(id, info)) << "unpublished series are not visible";
  c.publish(id);
  ASSERT_TRUE(c.info(id, info));
  EXPECT_EQ(info.name, "m");
  EXPECT_EQ(info.type, SeriesType::Counter);
  Labels want = {{"a", "1"}, {"node", "gpu7"}, {"z", "2"}};
  EXPECT_EQ(info.labels, want);
  // A series read back from the database (labels with "node") is the same identity.
  SeriesCatalog loaded;
  loaded.load(5, "m", want, SeriesType::Gauge);
  EXPECT_EQ(find(loaded, "m", {{"a", "1"}, {"z", "2"}}, "gpu7"), 5u);
  EXPECT_EQ(loaded.published(), 5u);
  EXPECT_FALSE(loaded.info(3, info)) << "ids the database skipped are no series";
  EXPECT_EQ(loaded.select("", [](const SeriesCatalog::View&) { return true; }).size(), 1u);
}

TEST(SeriesCatalog, ForgetsSeriesOfARolledBackGroup) {
  SeriesCatalog c;
  for (int i = 0; i < 100; ++i) add(c, "kept", target_labels(i), "n");
  c.publish(c.last_id());
  for (int i = 0; i < 3000; ++i) add(c, "lost", target_labels(i), "n");
  c.forget_after(100);
  EXPECT_EQ(c.last_id(), 100u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(find(c, "kept", target_labels(i), "n"), static_cast<uint32_t>(i + 1));
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(find(c, "lost", target_labels(i), "n"), 0u);
  // The ids are given again.
  EXPECT_EQ(add(c, "lost", target_labels(7), "n"), 101u);
  c.publish(101);
  auto lost = c.select("lost", [](const SeriesCatalog::View&) { return true; });
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(label_value(lost[0].labels, "target"), "7");
}

TEST(SeriesCatalog, SelectsByNameAndLabels) {
  SeriesCatalog c;
  for (int i = 0; i < 10; ++i) add(c, i < 6 ? "a_total" : "b_total", target_labels(i), "n" + std::to_string(i % 3));
  c.publish(c.last_id());
  auto reads = c.select("a_total", [](const SeriesCatalog::View& v) { return v.label("op") == "read"; });
  ASSERT_EQ(reads.size(), 3u);
  for (const auto& s : reads) EXPECT_EQ(s.name, "a_total");
  auto node1 = c.select("", [](const SeriesCatalog::View& v) { return v.label("node") == "n1"; });
  EXPECT_EQ(node1.size(), 3u);  // i = 1, 4, 7
  EXPECT_TRUE(c.select("nope", [](const SeriesCatalog::View&) { return true; }).empty());
}
