// Alerts pushed to a real Alertmanager (Debian's prometheus-alertmanager) on loopback, delivered to a webhook
// receiver in this test: an open incident fires, its close resolves it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/ports.h"
#include "collector/incidents/alerts.h"
#include "common/time.h"

extern char** environ;

using namespace ss;
using namespace ss::collector;
using namespace ss::collector::incidents;

namespace {

using ss::testing::free_port;

std::string find_alertmanager() {
  for (const char* p : {"/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

struct Webhook {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<nlohmann::json> received;
  Webhook() {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      received.push_back(nlohmann::json::parse(req.body, nullptr, false));
      res.status = 200;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Webhook() {
    server.stop();
    thread.join();
  }
  // The first notification with this status for the incident, waiting up to `ms`.
  std::optional<nlohmann::json> wait_for(const std::string& id, const std::string& status, int ms) {
    for (int waited = 0; waited < ms; waited += 50) {
      {
        std::lock_guard lock(mu);
        for (const auto& n : received)
          if (n.is_object() && n.value("status", "") == status)
            for (const auto& a : n["alerts"])
              if (a["labels"].value("incident_id", "") == id && a.value("status", "") == status) return a;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }
};

struct AlertmanagerProcess {
  pid_t pid = -1;
  ~AlertmanagerProcess() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st;
      waitpid(pid, &st, 0);
    }
  }
};

}  // namespace

TEST(IncidentsAlertmanager, OpenFiresAndCloseResolves) {
  std::string am = find_alertmanager();
  if (am.empty()) GTEST_SKIP() << "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)";
  std::string tmpl = (std::filesystem::temp_directory_path() / "ss-am-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());

  Webhook hook;
  std::ofstream(dir + "/am.yml") << fmt::format(R"(route:
  receiver: sink
  group_by: [alertname, incident_id]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{}/hook
        send_resolved: true
)", hook.port);

  int port = free_port();
  std::string listen = fmt::format("--web.listen-address=127.0.0.1:{}", port);
  std::string config = "--config.file=" + dir + "/am.yml", storage = "--storage.path=" + dir + "/data";
  std::vector<std::string> args = {am, config, storage, listen, "--cluster.listen-address=", "--log.level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  AlertmanagerProcess proc;
  ASSERT_EQ(posix_spawn(&proc.pid, am.c_str(), nullptr, nullptr, argv.data(), environ), 0);

  std::string url = fmt::format("http://127.0.0.1:{}", port);
  httplib::Client probe(url);
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    auto r = probe.Get("/-/ready");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ready) << "Alertmanager did not become ready on " << url;

  detect::AlertParams params;
  params.urls = {url};
  params.resend_ms = 1000;
  params.external_url = "http://collector.test:9480";
  AlertPusher pusher(params);

  Incident inc;
  inc.id = "metadata_storm-1-abc";
  inc.kind = "metadata_storm";
  inc.key = "metadata_storm/ai0";
  inc.fs = "ai0";
  inc.target = "ai0-MDT0000";
  inc.severity = "critical";
  inc.summary = "stat/open storm on ai0-MDT0000 (vfs): 32.8k ops/s (baseline 5.7k)";
  inc.start_ms = now_ms() - 30'000;
  inc.last_seen_ms = now_ms();
  detect::Culprit c;
  c.job = "4711";
  c.node = "gpu017";
  c.comm = "find";
  c.path = "/lustre/ai0/datasets/shard7";
  c.share = 0.83;
  inc.culprits.push_back(c);
  pusher.on_change(inc, Change::Opened);

  auto firing = hook.wait_for(inc.id, "firing", 15'000);
  ASSERT_TRUE(firing) << "no firing notification reached the webhook";
  EXPECT_EQ((*firing)["labels"]["kind"], "metadata_storm");
  EXPECT_EQ((*firing)["labels"]["fs"], "ai0");
  EXPECT_EQ((*firing)["labels"]["severity"], "critical");
  EXPECT_EQ((*firing)["labels"]["alertname"], "StormscopeIncident");
  EXPECT_NE((*firing)["annotations"]["description"].get<std::string>().find("job 4711 on gpu017"), std::string::npos);
  EXPECT_EQ((*firing)["generatorURL"], "http://collector.test:9480/api/v1/incidents/metadata_storm-1-abc");

  inc.end_ms = now_ms();
  pusher.on_change(inc, Change::Closed);
  auto resolved = hook.wait_for(inc.id, "resolved", 15'000);
  ASSERT_TRUE(resolved) << "no resolved notification reached the webhook";
  EXPECT_GT(pusher.sent(), 0u);
  std::filesystem::remove_all(dir);
}

TEST(IncidentsAlertmanager, OldIncidentsOfAReplayAreNotPushed) {
  // No Alertmanager needed: nothing must even be attempted for an incident a day old.
  detect::AlertParams params;
  params.urls = {"http://127.0.0.1:1"};
  params.resend_ms = 100;
  AlertPusher pusher(params);
  Incident inc;
  inc.id = "x";
  inc.kind = "metadata_storm";
  inc.start_ms = now_ms() - 86'400'000;
  inc.last_seen_ms = inc.start_ms + 60'000;
  pusher.on_change(inc, Change::Opened);
  inc.end_ms = inc.last_seen_ms;
  pusher.on_change(inc, Change::Closed);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(pusher.sent() + pusher.failures(), 0u);
}

TEST(IncidentsAlertmanager, AlertShape) {
  Incident inc;
  inc.id = "id1";
  inc.kind = "waittime_spike";
  inc.target = "ai0-OST0003";
  inc.start_ms = 1763683200000;
  auto a = alert_for(inc, false, 1763683300000, "");
  EXPECT_EQ(a["startsAt"], "2025-11-21T00:00:00Z");
  EXPECT_FALSE(a.contains("endsAt"));
  EXPECT_FALSE(a["labels"].contains("fs"));  // empty labels are left out
  EXPECT_EQ(a["labels"]["target"], "ai0-OST0003");
  auto r = alert_for(inc, true, 1763683300000, "");
  EXPECT_EQ(r["endsAt"], "2025-11-21T00:01:40Z");
}
