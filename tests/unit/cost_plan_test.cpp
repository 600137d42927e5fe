// `stormscope plan` against the figures of the reference article (shared/seeds/000_*.txt, DESIGN.md §7):
// 70B parameters in bf16 = 140 GB, checkpoints every 10 minutes, 32 H200 at $1.924/GPU-hour spot.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/plan.h"
#include "tools/plan.h"

using namespace ss;
using namespace ss::collector::cost;

namespace {

PlanInput article(std::vector<double> gb_per_s) {
  PlanInput in;
  in.parameters = 70e9;
  in.bytes_per_parameter = 2;
  in.checkpoint_bytes = 140e9;
  in.gpus = 32;
  in.gpu_model = "H200";
  in.pricing = "spot";
  in.price_per_gpu_hour = 1.924;
  in.interval_seconds = 600;
  for (double g : gb_per_s) in.write_bytes_per_second.push_back(g * 1e9);
  return in;
}

std::string effective(const PlanRow& r) {
  // The table's effective utilization column: 100 − the idle percentage as shown.
  std::string idle = format_percent(r.idle_fraction);
  double shown = std::stod(idle);
  std::string s = fmt::format("{:.1f}", 100 - shown);
  if (s.ends_with(".0")) s.resize(s.size() - 2);
  return s + " %";
}

int run(std::vector<std::string> args, std::string& out, std::string& err) {
  CLI::App app("stormscope");
  cli::PlanOptions options;
  int code = -1;
  std::ostringstream o, e;
  auto* cmd = app.add_subcommand("plan", cli::kPlanHelp);
  cli::define_plan_options(*cmd, options);
  cmd->callback([&] { code = cli::run_plan(options, o, e); });
  args.insert(args.begin(), "plan");
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& pe) {
    err = pe.what();
    return app.exit(pe, o, e) == 0 ? 0 : 2;
  }
  out = o.str();
  err = e.str();
  return code;
}

}  // namespace

TEST(Plan, ArticleStorageTierTable) {
  // "GPU Utilization Impact": NFS 1 GB/s 140s 23% 77%; Lustre 20 GB/s 7s 1.2% 98.8%; WekaIO 40 GB/s 3.5s 0.6% 99.4%.
  auto p = compute_plan(article({1, 20, 40}));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->rows.size(), 3u);
  EXPECT_EQ(format_seconds(p->rows[0].checkpoint_seconds), "140 s");
  EXPECT_EQ(format_percent(p->rows[0].idle_fraction), "23 %");
  EXPECT_EQ(effective(p->rows[0]), "77 %");
  EXPECT_EQ(format_seconds(p->rows[1].checkpoint_seconds), "7 s");
  EXPECT_EQ(format_percent(p->rows[1].idle_fraction), "1.2 %");
  EXPECT_EQ(effective(p->rows[1]), "98.8 %");
  EXPECT_EQ(format_seconds(p->rows[2].checkpoint_seconds), "3.5 s");
  EXPECT_EQ(format_percent(p->rows[2].idle_fraction), "0.6 %");
  EXPECT_EQ(effective(p->rows[2]), "99.4 %");
  EXPECT_DOUBLE_EQ(p->rows[0].checkpoint_seconds, 140.0);
  EXPECT_NEAR(p->rows[0].idle_fraction, 140.0 / 600, 1e-12);
}

TEST(Plan, ArticleBenchmarkTable) {
  // "Checkpoint Write Throughput (70B Model, 32 GPUs)": 1.1 GB/s 127s 21%; 28 GB/s 5s 0.8%;
  // 38 GB/s 3.7s 0.6%; 44 GB/s 3.2s 0.5%.
  auto p = compute_plan(article({1.1, 28, 38, 44}));
  ASSERT_TRUE(p.ok());
  const char* seconds[] = {"127 s", "5 s", "3.7 s", "3.2 s"};
  const char* idle[] = {"21 %", "0.8 %", "0.6 %", "0.5 %"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(format_seconds(p->rows[i].checkpoint_seconds), seconds[i]) << i;
    EXPECT_EQ(format_percent(p->rows[i].idle_fraction), idle[i]) << i;
  }
}

TEST(Plan, ArticleDollarFigures) {
  auto in = article({1});
  in.measured_utilization = 0.77;
  auto p = compute_plan(in);
  ASSERT_TRUE(p.ok());
  // "a 32-GPU cluster costs $61.57/hr"
  EXPECT_EQ(format_dollars(p->cluster_dollars_per_hour), "$61.57");
  // "At 77% effective utilization with NFS, you're paying for $14.16/hr of GPU compute that's idle":
  // the article multiplies the rounded 23 %; from the unrounded 140/600 the figure is $14.37.
  EXPECT_EQ(format_dollars(*p->measured_idle_dollars_per_hour), "$14.16");
  EXPECT_EQ(format_dollars(p->rows[0].idle_dollars_per_hour), "$14.37");
  EXPECT_NEAR(p->rows[0].idle_gpu_hours_per_hour, 32 * 140.0 / 600, 1e-12);
  // "15-30% of GPU utilization ... between $9 and $18 worth of wasted GPU time every hour"
  in.measured_utilization = 0.85;
  EXPECT_EQ(fmt::format("{:.0f}", *compute_plan(in)->measured_idle_dollars_per_hour), "9");
  in.measured_utilization = 0.70;
  EXPECT_EQ(fmt::format("{:.0f}", *compute_plan(in)->measured_idle_dollars_per_hour), "18");
}

TEST(Plan, ArticleBreakEven) {
  // "$2/hr overhead, 8% net gain: recovered 0.08 x $61.57 = $4.93/hr; break-even 0.41 hours (about 24
  // minutes); after that $2.93/hr".
  auto in = article({1.1, 44});
  in.storage_overhead_per_hour = 2;
  in.utilization_gain = 0.08;
  auto p = compute_plan(in);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->break_even.has_value());
  EXPECT_EQ(format_dollars(p->break_even->recovered_per_hour), "$4.93");
  EXPECT_EQ(fmt::format("{:.2f}", *p->break_even->hours), "0.41");
  EXPECT_EQ(fmt::format("{:.0f}", *p->break_even->hours * 60), "24");
  EXPECT_EQ(format_dollars(p->break_even->net_per_hour), "$2.93");
  EXPECT_NEAR(break_even_hours(2, 61.568, 0.08), 2 / (61.568 * 0.08), 1e-12);
}

TEST(Plan, ArticleThroughputFigures) {
  // "140 GB / 60s = 2.3 GB/s minimum aggregate write throughput"
  auto in = article({120, 64});
  in.target_checkpoint_seconds = 60;
  auto p = compute_plan(in);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(format_rate(*p->required_bytes_per_second), "2.3 GB/s");
  // "140 GB / 120 GB/s = 1.2 seconds"; BeeOND at 64 GB/s: "about 2.2 seconds".
  EXPECT_EQ(format_seconds(p->rows[0].checkpoint_seconds), "1.2 s");
  EXPECT_EQ(format_seconds(p->rows[1].checkpoint_seconds), "2.2 s");
  // "At 500 MB/s S3 throughput, a 500 GB fetch takes 1,000 seconds"
  EXPECT_EQ(format_seconds(500e9 / *parse_rate("500MB/s")), "1000 s");
}

TEST(Plan, BreakEvenPerRowAgainstTheFirstWithoutAnExplicitGain) {
  auto in = article({1, 40});
  in.storage_overhead_per_hour = 2;
  auto p = compute_plan(in);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->break_even.has_value());
  EXPECT_FALSE(p->rows[0].gain_over_first.has_value());
  double gain = 140.0 / 600 - 3.5 / 600;
  EXPECT_NEAR(*p->rows[1].gain_over_first, gain, 1e-12);
  EXPECT_NEAR(*p->rows[1].break_even_hours, 2 / (32 * 1.924 * gain), 1e-12);
}

TEST(Plan, IdleFractionIsCappedWhenCheckpointsRunBackToBack) {
  auto p = compute_plan(article({0.1}));  // 1400 s per checkpoint, every 600 s
  ASSERT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(p->rows[0].idle_fraction, 1.0);
  EXPECT_NEAR(p->rows[0].idle_dollars_per_hour, 32 * 1.924, 1e-9);
}

TEST(Plan, RejectsBadInput) {
  auto in = article({1});
  in.gpus = 0;
  EXPECT_FALSE(compute_plan(in).ok());
  in = article({});
  EXPECT_FALSE(compute_plan(in).ok());
  in = article({1});
  in.utilization_gain = 8;  // 8 instead of 0.08
  in.storage_overhead_per_hour = 2;
  EXPECT_FALSE(compute_plan(in).ok());
  in = article({1});
  in.interval_seconds = 0;
  EXPECT_FALSE(compute_plan(in).ok());
}

TEST(Plan, ParsesCountsAndRates) {
  EXPECT_DOUBLE_EQ(*parse_count("70B"), 70e9);
  EXPECT_DOUBLE_EQ(*parse_count("1.5T"), 1.5e12);
  EXPECT_DOUBLE_EQ(*parse_count("7e9"), 7e9);
  EXPECT_FALSE(parse_count("70X").ok());
  EXPECT_FALSE(parse_count("B").ok());
  EXPECT_DOUBLE_EQ(*parse_rate("1GB/s"), 1e9);
  EXPECT_DOUBLE_EQ(*parse_rate("1.1GB/s"), 1.1e9);
  EXPECT_DOUBLE_EQ(*parse_rate("500MB/s"), 500e6);
  EXPECT_DOUBLE_EQ(*parse_rate("2GiB/s"), 2.0 * 1024 * 1024 * 1024);
  EXPECT_FALSE(parse_rate("fast").ok());
  EXPECT_FALSE(parse_rate("1GB/h").ok());
  EXPECT_FALSE(parse_rate("0GB/s").ok());
}

TEST(PlanCommand, PrintsTheArticleTable) {
  std::string out, err;
  int code = run({"--params", "70B", "--gpus", "32", "--gpu-model", "H200", "--interval", "10m", "--write", "1GB/s",
                  "--write", "20GB/s", "--write", "40GB/s", "--target", "60s", "--overhead", "2", "--gain", "8%",
                  "--utilization", "77%"},
                 out, err);
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("140 GB (70B parameters x 2 bytes) every 10m"), std::string::npos) << out;
  EXPECT_NE(out.find("32 x H200 at $1.924/GPU-hour (spot) = $61.57/hour"), std::string::npos) << out;
  EXPECT_NE(out.find("1 GB/s            140 s       23 %      77 %"), std::string::npos) << out;
  EXPECT_NE(out.find("20 GB/s           7 s         1.2 %     98.8 %"), std::string::npos) << out;
  EXPECT_NE(out.find("40 GB/s           3.5 s       0.6 %     99.4 %"), std::string::npos) << out;
  EXPECT_NE(out.find("for a 60 s checkpoint: 2.3 GB/s"), std::string::npos) << out;
  EXPECT_NE(out.find("$14.16/hour of GPU time is idle"), std::string::npos) << out;
  EXPECT_NE(out.find("0.41 hours (24 minutes), then $2.93/hour net"), std::string::npos) << out;
}

TEST(PlanCommand, PrintsJson) {
  std::string out, err;
  int code = run({"--checkpoint-size", "140GB", "--gpus", "32", "--pricing", "on_demand", "--write", "1GB/s", "--json"},
                 out, err);
  ASSERT_EQ(code, 0) << err;
  auto j = nlohmann::json::parse(out);
  EXPECT_DOUBLE_EQ(j["checkpoint_bytes"].get<double>(), 140e9);
  EXPECT_DOUBLE_EQ(j["price_per_gpu_hour"].get<double>(), 4.62);
  EXPECT_EQ(j["pricing"], "on_demand");
  EXPECT_DOUBLE_EQ(j["rows"][0]["checkpoint_seconds"].get<double>(), 140.0);
  EXPECT_NEAR(j["rows"][0]["idle_dollars_per_hour"].get<double>(), 32 * 4.62 * 140 / 600, 1e-9);
}

TEST(PlanCommand, ExplainsBadInput) {
  std::string out, err;
  EXPECT_EQ(run({"--gpus", "32", "--write", "1GB/s"}, out, err), 2);
  EXPECT_NE(err.find("--params or --checkpoint-size"), std::string::npos) << err;
  EXPECT_EQ(run({"--params", "70B", "--gpus", "32", "--write", "fast"}, out, err), 2);
  EXPECT_NE(err.find("--write"), std::string::npos) << err;
  EXPECT_EQ(run({"--params", "70B", "--gpus", "32", "--write", "1GB/s", "--gain", "8%"}, out, err), 2);
  EXPECT_NE(err.find("--overhead"), std::string::npos) << err;
  EXPECT_EQ(run({"--params", "70B", "--gpus", "32", "--write", "1GB/s", "--pricing", "reserved"}, out, err), 2);
  EXPECT_NE(err.find("reserved"), std::string::npos) << err;
}

TEST(PlanCommand, PricesFromACostSection) {
  char tmpl[] = "/tmp/ss_plan_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/c.yaml") << "listen: 0.0.0.0:9480\ncost:\n  prices:\n    B200: {spot: 3, on_demand: 6}\n";
  std::ofstream(dir + "/bad.yaml") << "cost:\n  prices:\n    B200: {spot: 3}\n";
  std::string out, err;
  int code = run({"--params", "70B", "--gpus", "8", "--gpu-model", "NVIDIA B200", "--write", "1GB/s", "--prices",
                  dir + "/c.yaml", "--json"},
                 out, err);
  ASSERT_EQ(code, 0) << err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(out)["price_per_gpu_hour"].get<double>(), 3.0);
  EXPECT_EQ(run({"--params", "70B", "--gpus", "8", "--write", "1GB/s", "--prices", dir + "/bad.yaml"}, out, err), 2);
  EXPECT_NE(err.find("cost.prices.B200"), std::string::npos) << err;
  EXPECT_EQ(run({"--params", "70B", "--gpus", "8", "--write", "1GB/s", "--prices", dir + "/absent.yaml"}, out, err), 2);
  EXPECT_NE(err.find("absent.yaml"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}
