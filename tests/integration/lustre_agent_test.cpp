// The real stormscope-agent binary with a YAML config pointing its Lustre source at a generated client tree
// and at the written MDS+OSS tree: /metrics is fetched over loopback and the Lustre metrics are checked by
// name, labels and value; `promtool check metrics` validates the text when promtool is installed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/lustre_tree.h"
#include "tests/support/metrics_seen.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using ss::testing::TempDir;

const fs::path kAgent = fs::path(SS_BINARY_DIR) / "agent/stormscope-agent";

struct Agent {
  pid_t pid = -1;
  fs::path dir, log;
  int port = 0;

  ~Agent() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  }

  void start(const std::string& yaml) {
    std::ofstream(dir / "agent.yaml") << yaml;
    log = dir / "log";
    pid = ::fork();
    if (pid == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      ::dup2(::fileno(stderr), 1);
      std::string cfg = (dir / "agent.yaml").string();
      ::execl(kAgent.c_str(), kAgent.c_str(), "--config", cfg.c_str(), "--listen", "127.0.0.1:0", "--node", "lustre-test",
              "--interval", "200ms", "--spool", (dir / "spool").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::regex re("listening on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 200 && port == 0; ++i) {
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      std::smatch m;
      std::string text = ss.str();
      if (std::regex_search(text, m, re)) port = std::stoi(m[1]);
      else std::this_thread::sleep_for(50ms);
    }
  }

  std::string log_text() const {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

// Parsed /metrics: "name{a="x",b="y"}" (labels as printed, sorted) → value.
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

std::string key(const std::string& name, std::map<std::string, std::string> labels) {
  std::string k = name;
  if (!labels.empty()) {
    k += "{";
    bool first = true;
    for (const auto& [n, v] : labels) {
      k += (first ? "" : ",") + n + "=\"" + v + "\"";
      first = false;
    }
    k += "}";
  }
  return k;
}

// Fetches /metrics until `ready` appears in it (the first cycle may not have run yet).
// The value of one series in parse_metrics' output, if exported.
std::optional<double> value_at(const std::map<std::string, double>& m, const std::string& name,
                               std::map<std::string, std::string> labels) {
  auto it = m.find(key(name, std::move(labels)));
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string fetch_metrics(int port, const std::string& ready) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(5, 0);
  for (int i = 0; i < 100; ++i) {
    if (auto r = cli.Get("/metrics"); r && r->status == 200 && r->body.find(ready) != std::string::npos) return r->body;
    std::this_thread::sleep_for(100ms);
  }
  return {};
}

void promtool_check(const fs::path& dir, const std::string& metrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (ss::test::strict_skips()) ADD_FAILURE() << "promtool is not installed (package prometheus)";
    std::cout << "promtool not installed: metrics text not validated by promtool\n";
    return;
  }
  std::ofstream(dir / "metrics.txt") << metrics;
  std::string cmd = "promtool check metrics < " + (dir / "metrics.txt").string() + " > " + (dir / "promtool.txt").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(dir / "promtool.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  // promtool exits 3 for lint warnings only (for example counters without _total), 1 for errors.
  EXPECT_TRUE(rc == 0 || WEXITSTATUS(rc) == 3) << ss.str();
  EXPECT_EQ(ss.str().find("error"), std::string::npos) << ss.str();
}

}  // namespace

TEST(LustreAgentBinary, ClientTreeThroughMetricsEndpoint) {
  if (!fs::exists(kAgent)) GTEST_SKIP() << kAgent << " is not built";
  TempDir tmp;
  ss::lustre_tree::LustreClientSpec spec;
  spec.osts = 40;
  spec.mdts = 2;
  spec.disconnected_ost = 7;
  ss::lustre_tree::write_lustre_client_tree(tmp.path / "root", spec);
  Agent agent;
  agent.dir = tmp.path;
  agent.start(fmt::format("sources:\n  lustre:\n    root: {}\n    lctl: ''\n", (tmp.path / "root").string()));
  ASSERT_GT(agent.port, 0) << agent.log_text();
  std::string text = fetch_metrics(agent.port, "lustre_client_rpcs_total");
  ASSERT_FALSE(text.empty()) << agent.log_text();
  ss::test::keep_metrics("agent_lustre_client", text);
  auto m = parse_metrics(text);
  auto at = [&](const std::string& name, std::map<std::string, std::string> labels) {
    return value_at(m, name, std::move(labels));
  };
  EXPECT_EQ(at("stormscope_agent_source_up", {{"source", "lustre"}}), 1);
  for (int i : {0, 7, 39}) {
    std::string target = ss::lustre_tree::target_name("ai0", "OST", i);
    EXPECT_EQ(at("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", target}}), ss::lustre_tree::tree_rpcs(i));
    auto wait = at("lustre_client_rpc_wait_seconds_total", {{"fs", "ai0"}, {"target", target}});
    ASSERT_TRUE(wait) << target;
    EXPECT_NEAR(*wait, ss::lustre_tree::tree_wait_us(i) * 1e-6, 1e-9);
    EXPECT_EQ(at("lustre_client_bytes_total", {{"fs", "ai0"}, {"op", "write"}, {"target", target}}),
              ss::lustre_tree::tree_write_bytes(i));
    EXPECT_EQ(at("lustre_target_capacity_bytes", {{"fs", "ai0"}, {"target", target}}),
              ss::lustre_tree::tree_kbytes_total(i) * 1024.0);
    EXPECT_EQ(at("lustre_client_rpcs_in_flight", {{"fs", "ai0"}, {"target", target}}), ss::lustre_tree::tree_inflight(i));
  }
  EXPECT_EQ(at("lustre_client_import_state", {{"fs", "ai0"}, {"target", "ai0-OST0007"}}), 3);
  EXPECT_EQ(at("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-MDT0001"}}), ss::lustre_tree::tree_rpcs(1));
  EXPECT_EQ(at("lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "getattr"}}), 215);
  EXPECT_NE(text.find("# TYPE lustre_client_rpcs_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE lustre_client_import_state gauge"), std::string::npos);
  promtool_check(tmp.path, text);
}

TEST(LustreAgentBinary, MdsOssTreeWithJobStats) {
  if (!fs::exists(kAgent)) GTEST_SKIP() << kAgent << " is not built";
  TempDir tmp;
  fs::path root = fs::path(SS_FIXTURES_DIR) / "lustre/tree_mds_oss";
  Agent agent;
  agent.dir = tmp.path;
  agent.start(fmt::format("sources:\n  lustre:\n    root: {}\n    lctl: ''\n    job_stats: {{enabled: true, top_k: 1}}\n"
                          "    exports: {{mdt: true, top_k: 1, interval: 0s}}\n",
                          root.string()));
  ASSERT_GT(agent.port, 0) << agent.log_text();
  // Two cycles (200 ms apart) give the queue-depth gauge its first interval; the exports are read from the
  // second cycle on, once the targets are known.
  std::string text = fetch_metrics(agent.port, "lustre_service_queue_depth");
  if (text.find("lustre_export_ops_total") == std::string::npos) text = fetch_metrics(agent.port, "lustre_export_ops_total");
  ASSERT_FALSE(text.empty()) << agent.log_text();
  ss::test::keep_metrics("agent_lustre_server", text);
  auto m = parse_metrics(text);
  auto at = [&](const std::string& name, std::map<std::string, std::string> labels) {
    return value_at(m, name, std::move(labels));
  };
  EXPECT_EQ(at("stormscope_agent_source_up", {{"source", "lustre"}}), 1);
  EXPECT_EQ(at("lustre_mdt_ops_total", {{"fs", "ai0"}, {"op", "open"}, {"target", "ai0-MDT0000"}}), 45);
  EXPECT_EQ(at("lustre_ost_bytes_total", {{"fs", "ai0"}, {"op", "write"}, {"target", "ai0-OST0000"}}), 32854);
  EXPECT_EQ(at("lustre_mdt_bytes_total", {{"fs", "ai0"}, {"op", "read"}, {"target", "ai0-MDT0000"}}), 69632);
  EXPECT_EQ(at("lustre_mdt_bytes_total", {{"fs", "ai0"}, {"op", "write"}, {"target", "ai0-MDT0000"}}), 8192);
  // Exports, top 1 client by ops: 10.0.0.1@tcp (130); 10.0.0.2@tcp (45) goes into "other".
  EXPECT_EQ(at("lustre_export_ops_total", {{"client", "10.0.0.1@tcp"}, {"fs", "ai0"}, {"op", "getattr"}, {"target", "ai0-MDT0000"}}), 90);
  EXPECT_EQ(at("lustre_export_ops_total", {{"client", "other"}, {"fs", "ai0"}, {"op", "open"}, {"target", "ai0-MDT0000"}}), 5);
  EXPECT_EQ(at("lustre_service_requests_total", {{"service", "ost_io"}}), 4298835);
  EXPECT_EQ(at("lustre_service_queue_depth", {{"service", "mdt"}}), 0);  // unchanged file: no requests in between
  EXPECT_EQ(at("lustre_target_available_bytes", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}), 4038040 * 1024.0);
  EXPECT_EQ(at("lustre_ldlm_locks", {{"fs", "ai0"}, {"namespace", "mdt-ai0-MDT0000_UUID"}, {"target", "ai0-MDT0000"}}), 24);
  EXPECT_EQ(at("lustre_job_ops_total", {{"fs", "ai0"}, {"job", "4711"}, {"op", "open"}, {"target", "ai0-MDT0000"}}), 400);
  // After the first read "other" holds the totals of the jobs outside the top 1 (50 + 3 + 1 opens).
  EXPECT_EQ(at("lustre_job_ops_total", {{"fs", "ai0"}, {"job", "other"}, {"op", "open"}, {"target", "ai0-MDT0000"}}), 54);
  EXPECT_EQ(at("lustre_job_ops_total", {{"fs", "ai0"}, {"job", "train:bob"}, {"op", "open"}, {"target", "ai0-MDT0000"}}),
            std::nullopt);
  promtool_check(tmp.path, text);
}
