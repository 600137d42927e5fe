// The collector's HTTP request and answer, independent of the server that carries them: handlers (the
// router's routes) see only these. The accessors keep the names handlers used with cpp-httplib.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ss::collector::http {

// Header names compare without case (RFC 9110 §5.1).
struct NoCase {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, NoCase>;
using Params = std::multimap<std::string, std::string>;

struct Request {
  std::string method;   // "GET", "POST", …
  std::string target;   // as received: path and query
  std::string path;     // percent-decoded, without the query
  Params params;        // the query's parameters, decoded, in order
  Headers headers;
  std::string body;     // as received (a gzip body stays gzip: the route decides)
  std::vector<std::string> matches;  // the route pattern's match and its groups
  std::string remote;   // peer address, for logs

  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string get_header_value(const std::string& name) const;
  bool has_param(const std::string& key) const { return params.count(key) > 0; }
  size_t get_param_value_count(const std::string& key) const { return params.count(key); }
  std::string get_param_value(const std::string& key, size_t i = 0) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  void set_header(const std::string& name, const std::string& value);
  std::string get_header_value(const std::string& name) const;
  void set_content(std::string content, const std::string& content_type);
  void set_redirect(const std::string& location, int code = 302);
};

// Splits a request target into its decoded path and parameters ('+' is a space in the query).
// False when the target is not an origin-form path ("/…").
bool parse_target(std::string_view target, std::string& path, Params& params);

}  // namespace ss::collector::http
