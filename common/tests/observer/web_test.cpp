// The web observer's page and its checks, over HTTP (otp/observer/web.hpp); the page itself is
// tested in a browser (common/tests/browser/observer_test.py).
#include "otp/observer/web.hpp"

#include <regex>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "otp/testing/http_client.hpp"

namespace {

using otp::testing::HttpClient;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Observer {
  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  std::uint16_t port = 0;
  std::string url;

  explicit Observer(bool readonly = false) {
    otp::observer::WebOptions options;
    options.readonly = readonly;
    auto started = me.await(otp::observer::Web::start(options));
    if (!started) throw std::runtime_error(started.to_string());
    url = started.value().url;
    port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  }
};

Headers upgrade(std::string origin) {
  Headers h{{"Upgrade", "websocket"},
            {"Connection", "Upgrade"},
            {"Sec-WebSocket-Version", "13"},
            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!origin.empty()) h.emplace_back("Origin", std::move(origin));
  return h;
}

std::string token_of(const std::string& page) {
  std::smatch m;
  if (!std::regex_search(page, m, std::regex("token: \"([0-9a-f]{32})\""))) return "";
  return m[1];
}

TEST(ObserverWeb, StartListensOnLoopbackAndServesThePageWithAToken) {
  Observer o;
  EXPECT_EQ(o.url.rfind("http://127.0.0.1:", 0), 0u) << o.url;
  EXPECT_TRUE(o.url.ends_with("/observer")) << o.url;
  auto page = HttpClient("127.0.0.1", o.port).get("/observer");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>Observer</title>"), std::string::npos);
  EXPECT_NE(page.body.find("function connect()"), std::string::npos);  // the JS, embedded
  EXPECT_NE(page.body.find("--accent"), std::string::npos);            // the CSS
  const std::string token = token_of(page.body);
  EXPECT_EQ(token.size(), 32u);
  auto again = HttpClient("127.0.0.1", o.port).get("/observer/");
  EXPECT_NE(token_of(again.body), token);  // one per page load
}

TEST(ObserverWeb, AForeignHostGets403) {
  Observer o;
  auto reply = HttpClient("127.0.0.1", o.port)
                   .request("GET", "/observer", {}, Headers{{"Host", "evil.example:80"}});
  EXPECT_EQ(reply.status, 403);
}

TEST(ObserverWeb, TheSocketNeedsItsOwnOriginAndAPageToken) {
  Observer o;
  HttpClient http("127.0.0.1", o.port);
  const std::string token = token_of(http.get("/observer").body);
  const std::string target = "/observer/ws?token=" + token;
  EXPECT_EQ(http.request("GET", target, {}, upgrade("http://evil.example")).status, 403);
  EXPECT_EQ(http.request("GET", target, {}, upgrade("")).status, 403);
  EXPECT_EQ(http.request("GET", "/observer/ws?token=" + std::string(32, '0'), {},
                         upgrade("http://127.0.0.1"))
                .status,
            403);
  // The right origin and token: the upgrade goes through.
  std::string raw = "GET " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  HttpClient fresh("127.0.0.1", o.port, std::chrono::milliseconds(500));
  const std::string answer = fresh.raw(raw);
  EXPECT_EQ(answer.rfind("HTTP/1.1 101", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"hello\""), std::string::npos);  // the first message, unmasked text
}

TEST(ObserverWeb, ReadOnlyTellsThePage) {
  Observer o(true);
  auto page = HttpClient("127.0.0.1", o.port).get("/observer");
  EXPECT_NE(page.body.find("readonly: true"), std::string::npos);
}

TEST(ObserverWeb, MountPutsThePageBesideOtherRoutes) {
  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  otp::http::Router router;
  router.get("/hello", [](otp::http::Request&) { return otp::http::Response::text(200, "hi"); });
  otp::observer::Web::mount(router, {});
  auto server = me.await(otp::http::Server::start(std::move(router), {.port = 0}));
  ASSERT_TRUE(server.ok());
  auto port = me.await(otp::http::Server::port(server.pid()));
  HttpClient http("127.0.0.1", port.value());
  EXPECT_EQ(http.get("/hello").status, 200);
  EXPECT_EQ(http.get("/observer").status, 200);
  otp::exit(server.pid(), otp::Reason::shutdown());
}

}  // namespace
