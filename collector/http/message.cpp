#include "collector/http/message.h"

#include <strings.h>

namespace ss::collector::http {

bool NoCase::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

namespace {
std::string first_of(const Headers& h, const std::string& name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}
}  // namespace

std::string Request::get_header_value(const std::string& name) const { return first_of(headers, name); }

std::string Request::get_param_value(const std::string& key, size_t i) const {
  auto [lo, hi] = params.equal_range(key);
  for (auto it = lo; it != hi; ++it, --i)
    if (i == 0) return it->second;
  return {};
}

void Response::set_header(const std::string& name, const std::string& value) {
  headers.erase(name);
  headers.emplace(name, value);
}

std::string Response::get_header_value(const std::string& name) const { return first_of(headers, name); }

void Response::set_content(std::string content, const std::string& content_type) {
  body = std::move(content);
  set_header("Content-Type", content_type);
}

void Response::set_redirect(const std::string& location, int code) {
  status = code;
  set_header("Location", location);
}

bool parse_target(std::string_view target, std::string& path, Params& params) {
  if (target.empty() || target[0] != '/') return false;
  auto q = target.find('?');
  path = decode(target.substr(0, q), false);
  params.clear();
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    params.emplace(decode(pair.substr(0, eq), true),
                   eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1), true));
  }
  return true;
}

}  // namespace ss::collector::http
