#include "collector/http/gunzip.h"

#include <zlib.h>

#include <algorithm>

namespace ss::collector::http {

Gunzip gunzip(std::string_view in, size_t limit, std::string& out) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Gunzip::invalid;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  Gunzip result = Gunzip::invalid;
  for (;;) {
    // Room for one byte past the limit: producing it proves the output is too large.
    size_t room = std::min<size_t>(limit + 1 - out.size(), 256 << 10);
    size_t used = out.size();
    out.resize(used + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(used + room - zs.avail_out);
    if (out.size() > limit) {
      result = Gunzip::too_large;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        result = Gunzip::ok;
        break;
      }
      if (inflateReset(&zs) != Z_OK) break;  // another gzip member follows
      continue;
    }
    if (rc != Z_OK) break;                                       // corrupt data
    if (zs.avail_in == 0 && zs.avail_out != 0) break;            // truncated
  }
  inflateEnd(&zs);
  if (result != Gunzip::ok) out.clear();
  return result;
}

}  // namespace ss::collector::http
