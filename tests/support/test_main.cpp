// The main of every GoogleTest program. GoogleTest counts a skipped test as passed and exits 0, so ctest would
// show a program whose every test skipped as passed: here a program with skips (and no failure) exits 77,
// which ctest shows as skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt).
//
// Under scripts/test.sh (STORMSCOPE_STRICT_SKIPS=1) a skip is a failure unless its message starts with
// "[allowed skip" (tests/support/skip.h: hardware the machine lacks, a GPU; or the shared samples, absent
// from a user's clone): a missing package or tool must fail CI, not hide in a green run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

// The message of a skipped test's GTEST_SKIP(), or "".
std::string skip_message(const testing::TestResult& r) {
  for (int i = 0; i < r.total_part_count(); ++i)
    if (r.GetTestPartResult(i).skipped()) return r.GetTestPartResult(i).message();
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int status = RUN_ALL_TESTS();
  const char* strict_env = std::getenv("STORMSCOPE_STRICT_SKIPS");
  bool strict = strict_env && std::strcmp(strict_env, "1") == 0;
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  int skipped = 0, refused = 0;
  for (int s = 0; s < unit.total_test_suite_count(); ++s) {
    const testing::TestSuite& suite = *unit.GetTestSuite(s);
    for (int t = 0; t < suite.total_test_count(); ++t) {
      const testing::TestInfo& test = *suite.GetTestInfo(t);
      if (!test.should_run() || !test.result()->Skipped()) continue;
      ++skipped;
      std::string why = skip_message(*test.result());
      bool allowed = why.starts_with("[allowed skip");
      refused += strict && !allowed;
      std::cout << (strict && !allowed ? "FAILED (a skip under scripts/test.sh): " : "SKIPPED: ") << suite.name() << "."
                << test.name() << ": " << why << "\n";
    }
  }
  if (status != 0) return status;
  if (refused) {
    std::cout << refused << " test(s) skipped for something other than missing hardware or the shared samples: "
              << "install what they need (scripts/install-deps.sh) or fix the machine\n";
    return 1;
  }
  return skipped ? 77 : 0;
}
