// Incident pages: the renderers (report/) and the collector's /ui/ routes on loopback, with hostile text
// in every field a user controls (job ids, directories, process names).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "collector/collector.h"
#include "collector/incidents/incident_store.h"
#include "common/codec.h"
#include "common/config.h"
#include "report/chart.h"
#include "report/html.h"
#include "report/incident_list.h"
#include "report/incident_page.h"

using namespace ss;
using json = nlohmann::json;

namespace {

constexpr int64_t kT0 = 1763700000000;
const std::string kEvil = "<script>alert(1)</script>";

collector::incidents::Incident spike() {
  collector::incidents::Incident i;
  i.id = "waittime_spike-19aa4e6c8a8-00000001";
  i.kind = "waittime_spike";
  i.fs = "ai0";
  i.target = "ai0-OST0001";
  i.key = "waittime_spike/ai0-OST0001";
  i.start_ms = kT0 + 600'000;
  i.end_ms = kT0 + 900'000;
  i.last_seen_ms = *i.end_ms;
  i.severity = "critical";
  i.summary = "req_waittime spike on ai0-OST0001 " + kEvil;
  collector::detect::Culprit c;
  c.job = kEvil;
  c.node = "gpu017";
  c.comm = "py" + kEvil;
  c.path = "/lustre/ai0/" + kEvil + "/shard7";
  c.share = 0.8;
  i.culprits.push_back(c);
  i.nodes = {"gpu017", kEvil};
  i.cost_usd = 2.5;
  i.evidence = {{"peak", {{"mean_wait_ms", 400}, {"baseline_ms", 4}, {"threshold_ms", 100}, {"nodes", {{"gpu017", {{"mean_wait_ms", 400}}}}}}}};
  return i;
}

collector::incidents::Incident storm_before(const collector::incidents::Incident& s) {
  collector::incidents::Incident i = s;
  i.id = "ost_imbalance-19aa4e6c8a8-00000002";
  i.kind = "ost_imbalance";
  i.key = "ost_imbalance/ai0";
  i.target = "ai0-OST0001";
  i.start_ms = s.start_ms - 300'000;
  i.culprits.clear();
  i.evidence = {{"peak", {{"fullest", "ai0-OST0001"}, {"emptiest", "ai0-OST0002"}, {"bytes_to_move", 4e12}}}};
  return i;
}

void expect_escaped(const std::string& html) {
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // Self-contained: nothing to fetch.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

// The list's first line ("From … to …: N incidents, $…"), for failure messages.
std::string headline(const std::string& body) {
  auto at = body.find("<p class=\"muted\">From");
  return at == std::string::npos ? body.substr(0, 400) : body.substr(at, 400);
}

}  // namespace

TEST(ReportHtml, EscapesEverythingAUserControls) {
  EXPECT_EQ(report::escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  report::IncidentView v;
  v.incident = collector::incidents::to_json(spike());
  v.incident["victims"] = json::array({{{"job", kEvil}, {"nodes", {kEvil}}, {"gpu_idle_seconds", 100}, {"cost_usd", 1.5}}});
  report::Chart c;
  c.title = "Wait " + kEvil;
  c.unit = "ms";
  c.from_ms = kT0;
  c.to_ms = kT0 + 3600'000;
  c.series.push_back({kEvil, {{kT0, 1}, {kT0 + 10'000, 2}}});
  v.charts.push_back(c);
  std::string html = report::incident_html(v, {"/ui/incidents/", "/ui/"});
  expect_escaped(html);
  EXPECT_NE(html.find("data-points=\"2\""), std::string::npos);
  EXPECT_NE(html.find("Victims"), std::string::npos);
  EXPECT_NE(html.find("$1.50"), std::string::npos);
  std::string text = report::incident_text(v);
  EXPECT_NE(text.find("▄█"), std::string::npos) << text;  // 1 then 2, from zero

  auto row = report::row_from_json(v.incident);
  auto f = report::parse_list_filters({{"from", std::to_string(kT0)}, {"to", std::to_string(kT0 + 3600'000)}}, kT0);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto s = report::summarize({row}, *f);
  EXPECT_DOUBLE_EQ(s.by_job[kEvil].caused_usd, 2.5);
  EXPECT_DOUBLE_EQ(s.by_job[kEvil].lost_usd, 1.5);
  expect_escaped(report::list_html(s, "/ui/incidents/"));
}

TEST(ReportHtml, ListFiltersAreValidatedLikeTheApi) {
  EXPECT_FALSE(report::parse_list_filters({{"kind", "storm"}}, kT0).ok());
  EXPECT_FALSE(report::parse_list_filters({{"severity", "high"}}, kT0).ok());
  EXPECT_FALSE(report::parse_list_filters({{"from", "yesterday"}}, kT0).ok());
  EXPECT_FALSE(report::parse_list_filters({{"from", "now"}, {"to", "now-1h"}}, kT0).ok());
  EXPECT_FALSE(report::parse_list_filters({{"limit", "5"}}, kT0).ok());
  auto f = report::parse_list_filters({{"kind", ""}, {"job", "4711"}}, kT0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->to_ms, kT0);
  EXPECT_EQ(f->from_ms, kT0 - 7 * 86'400'000LL);
  report::IncidentRow r;
  r.start_ms = kT0 - 1000;
  r.culprit_jobs = {{"4711", 1.0}};
  EXPECT_TRUE(report::matches(r, *f));
  r.culprit_jobs = {{"4712", 1.0}};
  EXPECT_FALSE(report::matches(r, *f));
}

TEST(ReportHtml, SparklineFollowsTheValues) {
  EXPECT_EQ(report::sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 8), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(report::sparkline({}, 8), "");
}

class UiPages : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ss_ui_pages_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = collector::incidents::IncidentStore::open(dir_ + "/incidents.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->put(spike()).ok());
    ASSERT_TRUE((*store)->put(storm_before(spike())).ok());
    store->reset();
    auto root = config::load_string("detect:\n  incidents_db: " + dir_ + "/incidents.db\n");
    ASSERT_TRUE(root.ok());
    (*root)["listen"] = "127.0.0.1:0";
    (*root)["db"] = dir_ + "/db.sqlite";
    auto cfg = collector::read_collector_config(*root);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto c = collector::Collector::start(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().message;
    collector_ = std::move(*c);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
    client_->set_read_timeout(10, 0);
    // The target's RPC counters around the spike, from two nodes.
    for (const char* node : {"gpu017", "gpu018"}) {
      Batch b;
      b.node = node;
      b.seq = 1;
      for (const char* name : {"lustre_client_rpcs_total", "lustre_client_rpc_wait_seconds_total"}) {
        Series s;
        s.name = name;
        s.type = SeriesType::Counter;
        s.labels = {{"fs", "ai0"}, {"target", "ai0-OST0001"}};
        double v = 0;
        for (int64_t t = kT0; t <= kT0 + 1800'000; t += 10'000) {
          bool spiking = t >= kT0 + 600'000 && t <= kT0 + 900'000;
          v += std::string(name) == "lustre_client_rpcs_total" ? 100 : (spiking ? 40 : 0.4);
          s.points.push_back({t, v});
        }
        b.series.push_back(std::move(s));
      }
      auto r = client_->Post("/api/v1/ingest", encode_batch(b), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
    }
  }
  void TearDown() override {
    client_.reset();
    if (collector_) collector_->stop();
    collector_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<collector::Collector> collector_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(UiPages, IncidentPageTellsTheStoryEscaped) {
  auto r = client_->Get("/ui/incidents/" + spike().id);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  expect_escaped(r->body);
  EXPECT_NE(r->body.find("Wait per RPC on ai0-OST0001"), std::string::npos);
  EXPECT_EQ(r->body.find("data-points=\"0\""), std::string::npos) << "a chart without data";
  EXPECT_NE(r->body.find("likely cause"), std::string::npos);
  EXPECT_NE(r->body.find("/ui/incidents/ost_imbalance-19aa4e6c8a8-00000002"), std::string::npos);

  auto v = client_->Get("/api/v1/incidents/" + spike().id + "/view");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->status, 200);
  auto j = json::parse(v->body);
  ASSERT_FALSE(j["charts"].empty());
  // Wait per RPC while spiking: 40 s of wait over 100 RPCs a node per 10 s = 400 ms.
  double peak = 0;
  for (const auto& p : j["charts"][0]["series"][0]["points"]) peak = std::max(peak, p[1].get<double>());
  EXPECT_NEAR(peak, 400, 1);
  EXPECT_EQ(j["chain"], json({"ost_imbalance-19aa4e6c8a8-00000002", spike().id}));
}

TEST_F(UiPages, BadIdsAndParametersGetErrorPages) {
  for (std::string path : {"/ui/incidents/nope", "/ui/incidents/%3Cscript%3E", "/ui/nothing", "/ui/incidents/"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("Not found"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<script>alert"), std::string::npos) << path;
  }
  auto j = client_->Get("/api/v1/incidents/nope/view");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, 404);
  EXPECT_TRUE(json::parse(j->body).contains("error"));
  for (std::string q : {"kind=storm", "severity=bad", "from=yesterday", "color=red", "from=now&to=now-1h"}) {
    auto r = client_->Get("/ui/?" + q);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << q;
  }
}

TEST_F(UiPages, ListFiltersAndRedirect) {
  auto root = client_->Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/ui/");
  std::string range = "from=" + std::to_string(kT0) + "&to=" + std::to_string(kT0 + 3600'000);
  auto all = client_->Get("/ui/?" + range);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200);
  expect_escaped(all->body);
  // Both stored incidents (the detectors may add their own from the ingested spike).
  EXPECT_NE(all->body.find(spike().id), std::string::npos) << headline(all->body);
  EXPECT_NE(all->body.find(storm_before(spike()).id), std::string::npos) << headline(all->body);
  auto one = client_->Get("/ui/?" + range + "&kind=ost_imbalance");
  ASSERT_TRUE(one);
  EXPECT_NE(one->body.find("1 incident,"), std::string::npos);
  auto job = client_->Get("/ui/?" + range + "&job=" + httplib::detail::encode_query_param(kEvil));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, 200);
  EXPECT_NE(job->body.find("1 incident,"), std::string::npos);
  EXPECT_EQ(job->body.find("<script>alert"), std::string::npos);
  auto none = client_->Get("/ui/?" + range + "&kind=ost_imbalance&severity=warning");
  ASSERT_TRUE(none);
  EXPECT_NE(none->body.find("0 incidents"), std::string::npos) << headline(none->body);
}
