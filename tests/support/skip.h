// The only skips scripts/test.sh accepts (tests/support/test_main.cpp): every other GTEST_SKIP() fails there.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

// Hardware this machine lacks (a GPU): the test cannot run here, and the run lists it at the end.
#define SS_SKIP_NO_HARDWARE() GTEST_SKIP() << "[allowed skip: no such hardware] "
// The real format samples of ../shared/formats, which a user's clone does not have.
#define SS_SKIP_NO_SHARED_SAMPLES() GTEST_SKIP() << "[allowed skip: no ../shared samples] "

namespace ss::test {
// Under scripts/test.sh: a check that would be left out for a missing tool must fail instead.
inline bool strict_skips() {
  const char* v = std::getenv("STORMSCOPE_STRICT_SKIPS");
  return v && std::strcmp(v, "1") == 0;
}
}  // namespace ss::test
