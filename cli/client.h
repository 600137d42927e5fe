// An HTTP client for a collector URL ("http://host:port", "https://…"), with the bearer token set.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace ss::cli {

Result<std::unique_ptr<httplib::Client>> collector_client(const std::string& url, const std::string& token);

// "URL+path: what went wrong" for a failed request: the cause of a transport error (connection refused, unknown
// host, timeout, TLS) or the collector's {"error": …}.
std::string describe_failure(const httplib::Result& r, const std::string& url, const std::string& path);

}  // namespace ss::cli
