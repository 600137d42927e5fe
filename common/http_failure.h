// Why an HTTP request got no answer, in words: cpp-httplib says only "Connection" when a connect fails.
// Header-only, for the programs that link cpp-httplib (the agent's shipper, the command line).
#pragma once

#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ss {

// Connects once more to the URL's host and port, by hand, to learn why a connect failed: "Connection refused",
// "No route to host", an unknown host name, a timeout.
inline std::string connect_failure(const std::string& url) {
  std::string rest = url.substr(url.find("//") == std::string::npos ? 0 : url.find("//") + 2);
  rest = rest.substr(0, rest.find('/'));
  std::string host, port = url.starts_with("https://") ? "443" : "80";
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
  std::string why = "cannot connect";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    int err = errno;
    close(fd);
    if (rc == 0) return "the connection failed, but a new one works: a passing failure";
    why = fmt::format("cannot connect to {}:{}: {}", host, port,
                      err == EINPROGRESS || err == EAGAIN ? "timed out" : std::strerror(err));
  }
  freeaddrinfo(res);
  return why;
}

// The cause of a request that got no answer (httplib::Result without a response), for `url` (scheme://host:port).
inline std::string transport_failure(httplib::Error error, const std::string& url) {
  using E = httplib::Error;
  switch (error) {
    case E::Connection: return connect_failure(url);
    case E::ConnectionTimeout: return "no connection within the connect timeout";
    case E::Read: return "no answer: the connection broke, or the answer took longer than the read timeout";
    case E::Write: return "cannot send the request: the connection broke";
    case E::SSLConnection: return "TLS handshake failed (is it an https:// server? is its certificate's name the host's?)";
    case E::SSLLoadingCerts: return "TLS: cannot load the CA certificates";
    case E::SSLServerVerification: return "TLS: the server's certificate is not trusted";
    default: return "no answer: " + httplib::to_string(error);
  }
}

}  // namespace ss
