// An HTTP client for a collector URL ("http://host:port", "https://…"), with the bearer token set.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace ss::cli {

Result<std::unique_ptr<httplib::Client>> collector_client(const std::string& url, const std::string& token);

// "what went wrong" for a failed request: the transport error or the collector's {"error": …}.
std::string describe_failure(const httplib::Result& r);

}  // namespace ss::cli
