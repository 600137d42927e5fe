// The collector's own HTTP parsing never crashes: the request target (path and query, percent- and
// '+'-decoding) and the gzip body inflater, which never writes past its limit whatever the input.
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/http/gunzip.h"
#include "collector/http/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string path;
  ss::collector::http::Params params;
  if (ss::collector::http::parse_target(text, path, params) && (path.empty() || path[0] != '/')) abort();

  constexpr size_t kLimit = 1 << 20;
  std::string out;
  auto r = ss::collector::http::gunzip(text, kLimit, out);
  if (r == ss::collector::http::Gunzip::ok && out.size() > kLimit) abort();
  return 0;
}
