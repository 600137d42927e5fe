#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "agent/exporter.h"
#include "common/exec.h"

using namespace ss;
using namespace ss::agent;

namespace {

Collection sample_collection() {
  Collection c(1763700000000);
  c.describe("lustre_client_rpcs_total", MetricKind::Counter, "RPCs sent.\nSecond line with a \\ backslash.");
  c.add("lustre_client_rpcs_total", {{"target", "ai0-OST0001"}, {"fs", "ai0"}}, 12);
  c.add("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}, 10);
  c.describe("stormscope_mount_info", MetricKind::Gauge, "Mounted file systems.");
  c.add("stormscope_mount_info", {{"mount", "/mnt/a \"quoted\" \\ dir\nx"}, {"fstype", "lustre"}}, 1);
  c.describe("vfs_op_duration_seconds", MetricKind::Histogram, "Latency of file-system calls.");
  c.add_histogram("vfs_op_duration_seconds", {{"op", "stat"}}, {0.001, 0.01}, {5, 8, 9}, 0.02);
  // Another label set, added with buckets out of order: the renderer groups and sorts them.
  c.add("vfs_op_duration_seconds_count", {{"op", "open"}}, 3);
  c.add("vfs_op_duration_seconds_bucket", {{"op", "open"}, {"le", "+Inf"}}, 3);
  c.add("vfs_op_duration_seconds_bucket", {{"op", "open"}, {"le", "0.01"}}, 2);
  c.add("vfs_op_duration_seconds_sum", {{"op", "open"}}, 0.5);
  c.add("vfs_op_duration_seconds_bucket", {{"op", "open"}, {"le", "0.001"}}, 1);
  c.describe("weka_op_rate", MetricKind::Gauge, "Ops per second.");
  c.add("weka_op_rate", {{"op", "read"}}, std::nan(""));
  c.add("weka_op_rate", {{"op", "write"}}, 1.5);
  c.add("weka_op_rate", {{"op", "write"}}, 2.5);  // repeated series: the last value wins
  return c;
}

}  // namespace

TEST(AgentExporter, RendersFamiliesWithHelpTypeAndEscaping) {
  std::string text = render_prometheus(sample_collection());
  EXPECT_NE(text.find("# HELP lustre_client_rpcs_total RPCs sent.\\nSecond line with a \\\\ backslash.\n"
                      "# TYPE lustre_client_rpcs_total counter\n"
                      "lustre_client_rpcs_total{fs=\"ai0\",target=\"ai0-OST0001\"} 12\n"
                      "lustre_client_rpcs_total{fs=\"ai0\",target=\"ai0-OST0000\"} 10\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stormscope_mount_info{fstype=\"lustre\",mount=\"/mnt/a \\\"quoted\\\" \\\\ dir\\nx\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("weka_op_rate{op=\"read\"} NaN\n"), std::string::npos);
  EXPECT_NE(text.find("weka_op_rate{op=\"write\"} 2.5\n"), std::string::npos);
  EXPECT_EQ(text.find("weka_op_rate{op=\"write\"} 1.5\n"), std::string::npos);
  // Families appear once each, sorted.
  EXPECT_LT(text.find("# TYPE lustre_client_rpcs_total"), text.find("# TYPE stormscope_mount_info"));
  EXPECT_EQ(text.find("# TYPE weka_op_rate"), text.rfind("# TYPE weka_op_rate"));
}

TEST(AgentExporter, GroupsHistogramSeries) {
  std::string text = render_prometheus(sample_collection());
  // Labels are sorted by name (le before op); each label set's buckets ascend, then _sum and _count.
  EXPECT_NE(text.find("# TYPE vfs_op_duration_seconds histogram\n"
                      "vfs_op_duration_seconds_bucket{le=\"0.001\",op=\"stat\"} 5\n"
                      "vfs_op_duration_seconds_bucket{le=\"0.01\",op=\"stat\"} 8\n"
                      "vfs_op_duration_seconds_bucket{le=\"+Inf\",op=\"stat\"} 9\n"
                      "vfs_op_duration_seconds_sum{op=\"stat\"} 0.02\n"
                      "vfs_op_duration_seconds_count{op=\"stat\"} 9\n"
                      "vfs_op_duration_seconds_bucket{le=\"0.001\",op=\"open\"} 1\n"
                      "vfs_op_duration_seconds_bucket{le=\"0.01\",op=\"open\"} 2\n"
                      "vfs_op_duration_seconds_bucket{le=\"+Inf\",op=\"open\"} 3\n"
                      "vfs_op_duration_seconds_sum{op=\"open\"} 0.5\n"
                      "vfs_op_duration_seconds_count{op=\"open\"} 3\n"),
            std::string::npos)
      << text;
}

TEST(AgentExporter, PromtoolAcceptsTheText) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed (package prometheus)";
  char dir[] = "/tmp/ss_exporter_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/metrics.txt";
  std::ofstream(path) << render_prometheus(sample_collection());
  auto r = run_command({"/bin/sh", "-c", "promtool check metrics < " + path});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->succeeded()) << r->describe() << "\n" << r->out << r->err;
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(AgentExporter, ParsesListenAddresses) {
  auto a = parse_host_port("127.0.0.1:9479");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9479);
  auto b = parse_host_port(":0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "0.0.0.0");
  auto c = parse_host_port("[::1]:80");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_FALSE(parse_host_port("localhost").ok());
  EXPECT_FALSE(parse_host_port("localhost:http").ok());
  EXPECT_FALSE(parse_host_port("localhost:70000").ok());
}

TEST(AgentExporter, ServesMetricsAndHealth) {
  Exporter e;
  auto port = e.start({"127.0.0.1", 0});
  ASSERT_TRUE(port.ok()) << port.error().message;
  e.publish(sample_collection());
  httplib::Client cli("127.0.0.1", *port);
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m->body.find("lustre_client_rpcs_total{fs=\"ai0\",target=\"ai0-OST0000\"} 10"), std::string::npos);
  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  // A second exporter on the same port fails with a clear error.
  Exporter other;
  auto clash = other.start({"127.0.0.1", *port});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("cannot listen"), std::string::npos);
  e.stop();
}
