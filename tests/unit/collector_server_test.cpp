// The collector's HTTP server on loopback: keep-alive, early answers, 100-continue, and clients that
// stall (closed by the header and body deadlines, counted by reason, while others are still served).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/router.h"
#include "collector/http/gunzip.h"
#include "collector/http/message.h"
#include "collector/http/server.h"

using namespace ss::collector;

namespace {

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads until the peer closes or `wait_ms` passes; returns what came and whether the peer closed.
std::pair<std::string, bool> read_until_closed(int fd, int wait_ms) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {out, false};
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {out, true};
    out.append(buf, static_cast<size_t>(n));
  }
}

class Server : public ::testing::Test {
 protected:
  void start(http::ServerOptions o = {}) {
    router_.get("/hello", "/hello", [](const http::Request& req, http::Response& res) {
      res.set_content("hello " + req.get_param_value("who"), "text/plain");
    });
    router_.post(
        "/echo/([a-z]+)", "/echo/:x",
        [](const http::Request& req, http::Response& res) { res.set_content(req.matches[1] + ":" + req.body, "text/plain"); },
        {1024, [](const http::Request& req, http::Response& res) {
           if (req.get_header_value("X-Refuse") != "yes") return true;
           reply_error(res, 401, "refused");
           return false;
         }});
    o.host = "127.0.0.1";
    o.port = 0;
    auto s = http::Server::listen(o, registry_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
    server_->serve(router_);
  }

  std::string metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }
  double closed(const std::string& reason) {
    std::string m = metrics();
    std::string key = "stormscope_collector_http_connections_closed_total{reason=\"" + reason + "\"} ";
    auto at = m.find(key);
    return at == std::string::npos ? -1 : std::stod(m.substr(at + key.size()));
  }

  prometheus::Registry registry_;
  Router router_{registry_};
  std::unique_ptr<http::Server> server_;
};

TEST(HttpMessage, TargetsAreDecoded) {
  std::string path;
  http::Params params;
  ASSERT_TRUE(http::parse_target("/a%20b/c?match=x%7By%3D%22z%22%7D&from=1+2&flag&from=3", path, params));
  EXPECT_EQ(path, "/a b/c");
  EXPECT_EQ(params.count("from"), 2u);
  http::Request r;
  r.params = params;
  EXPECT_EQ(r.get_param_value("match"), "x{y=\"z\"}");
  EXPECT_EQ(r.get_param_value("from", 0), "1 2");
  EXPECT_EQ(r.get_param_value("from", 1), "3");
  EXPECT_TRUE(r.has_param("flag"));
  EXPECT_EQ(r.get_param_value("none"), "");
  EXPECT_FALSE(http::parse_target("http://host/x", path, params));
  http::Response res;
  res.set_header("Retry-After", "1");
  EXPECT_EQ(res.get_header_value("retry-after"), "1");
}

TEST(HttpGunzip, StopsAtTheLimitAndRejectsGarbage) {
  std::string out;
  EXPECT_EQ(http::gunzip("not gzip", 100, out), http::Gunzip::invalid);
  // "hello" gzip-compressed (gzip -c | xxd), then the same stream cut short.
  const unsigned char hello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd,
                                 0xc9, 0xc9, 0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00};
  std::string gz(reinterpret_cast<const char*>(hello), sizeof hello);
  EXPECT_EQ(http::gunzip(gz, 100, out), http::Gunzip::ok);
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(http::gunzip(gz + gz, 100, out), http::Gunzip::ok);  // two members
  EXPECT_EQ(out, "hellohello");
  EXPECT_EQ(http::gunzip(gz, 4, out), http::Gunzip::too_large);
  EXPECT_EQ(http::gunzip(gz.substr(0, 12), 100, out), http::Gunzip::invalid);
}

TEST_F(Server, KeepAliveRoutesAndErrors) {
  start();
  httplib::Client c("127.0.0.1", server_->port());
  c.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/hello?who=you");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello you");
  }
  auto e = c.Post("/echo/abc", "body", "text/plain");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->body, "abc:body");
  EXPECT_EQ(server_->port() > 0, true);
  EXPECT_EQ(metrics().find("stormscope_collector_http_connections_accepted_total 1\n") != std::string::npos, true)
      << metrics();
  auto missing = c.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"error\""), std::string::npos);
}

TEST_F(Server, EarlyAnswersReachClientsStillSendingTheirBody) {
  start();
  httplib::Client c("127.0.0.1", server_->port());
  // Refused by the route's check before the body is read, and too large for the route: both answered.
  auto refused = c.Post("/echo/abc", {{"X-Refuse", "yes"}}, std::string(512, 'x'), "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto big = c.Post("/echo/abc", std::string(4 << 20, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("exceeds the limit"), std::string::npos) << big->body;
}

TEST_F(Server, ExpectContinueGetsAnInterimAnswer) {
  start();
  int fd = connect_to(server_->port());
  ASSERT_GE(fd, 0);
  send_all(fd, "POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 100 Continue", 0), 0u);
  send_all(fd, "abc");
  n = recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  std::string answer(buf, static_cast<size_t>(n));
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("x:abc"), std::string::npos) << answer;
  close(fd);
}

TEST_F(Server, StalledClientsAreClosedByTheirDeadlinesAndDelayNobody) {
  http::ServerOptions o;
  o.header_timeout_ms = 500;
  o.body_timeout_ms = 500;
  o.idle_timeout_ms = 500;
  start(o);
  constexpr int kEach = 25;  // per kind of stall
  std::vector<int> silent, partial_line, trickle, body;
  for (int i = 0; i < kEach; ++i) {
    silent.push_back(connect_to(server_->port()));
    partial_line.push_back(connect_to(server_->port()));
    send_all(partial_line.back(), "GET /hel");
    trickle.push_back(connect_to(server_->port()));
    send_all(trickle.back(), "GET /hello HTTP/1.1\r\n");
    body.push_back(connect_to(server_->port()));
    send_all(body.back(), "POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part");
  }
  // While they stall, a well-behaved client is answered.
  httplib::Client c("127.0.0.1", server_->port());
  auto r = c.Get("/hello?who=me");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello me");
  // Trickled headers keep arriving, but the header deadline counts from the first byte.
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int fd : trickle) send_all(fd, "X-Slow: 1\r\n");
  }
  for (auto* group : {&silent, &partial_line, &trickle, &body})
    for (int fd : *group) {
      auto [data, was_closed] = read_until_closed(fd, 10'000);
      EXPECT_TRUE(was_closed);
      close(fd);
    }
  EXPECT_GE(closed("header_timeout"), 3 * kEach) << metrics();
  EXPECT_GE(closed("body_timeout"), kEach) << metrics();
  auto again = c.Get("/hello?who=me");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(Server, ConnectionsAboveTheLimitAreClosedAndCounted) {
  http::ServerOptions o;
  o.max_connections = 2;
  start(o);
  int a = connect_to(server_->port()), b = connect_to(server_->port());
  // Make sure both are accepted before the third arrives.
  send_all(a, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
  send_all(b, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
  char buf[512];
  ASSERT_GT(recv(a, buf, sizeof buf, 0), 0);
  ASSERT_GT(recv(b, buf, sizeof buf, 0), 0);
  int extra = connect_to(server_->port());
  auto [data, was_closed] = read_until_closed(extra, 10'000);
  EXPECT_TRUE(was_closed);
  EXPECT_TRUE(data.empty());
  EXPECT_EQ(closed("limit"), 1) << metrics();
  for (int fd : {a, b, extra}) close(fd);
}

TEST_F(Server, StopAnswersRequestsInProgress) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  router_.get("/slow", "/slow", [&](const http::Request&, http::Response& res) {
    entered.set_value();
    released.wait();
    res.set_content("done", "text/plain");
  });
  start();
  int port = server_->port();
  auto slow = std::async(std::launch::async, [port] {
    httplib::Client c("127.0.0.1", port);
    return c.Get("/slow");
  });
  entered.get_future().wait();
  auto stopping = std::async(std::launch::async, [&] { server_->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release.set_value();
  stopping.get();
  auto r = slow.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->get_header_value("Connection"), "close");
}

}  // namespace
