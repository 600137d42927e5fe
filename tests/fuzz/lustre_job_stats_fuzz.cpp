// libFuzzer target: job_stats, whole and fed in arbitrary chunks, must give the same jobs.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/sources/lustre/job_stats_format.h"
#include "agent/sources/lustre/job_top.h"

using namespace ss::agent::lustre;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto whole = parse_job_stats(text);
  size_t step = size == 0 ? 1 : (data[0] % 13) + 1;
  std::vector<Job> chunked;
  JobStatsParser p([&](Job&& j) {
    chunked.push_back(std::move(j));
    return true;
  });
  for (size_t i = 0; i < text.size(); i += step) p.feed(text.substr(i, step));
  p.finish();
  if (chunked.size() != whole.size()) __builtin_trap();
  for (size_t i = 0; i < whole.size(); ++i)
    if (chunked[i].id != whole[i].id || chunked[i].counters.size() != whole[i].counters.size()) __builtin_trap();
  JobTopK top(2);
  for (const auto& j : whole) top.add(j, 1);
  top.finish(1);
  return 0;
}
