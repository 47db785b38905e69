// The web observer's page and its checks, over HTTP (otp/observer/web.hpp); the page itself is
// tested in a browser (common/tests/browser/observer_test.py).
#include "otp/observer/web.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "otp/otp.hpp"
#include "otp/testing/http_client.hpp"

namespace {

using otp::testing::HttpClient;
using Headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

// The Host a browser sends to the observer on `port`.
std::string host_of(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Loads the page on `port` as a browser does; its token's cookie, "name=value".
std::string cookie_of(std::uint16_t port) {
  auto page =
      HttpClient("127.0.0.1", port).request("GET", "/observer", {}, {{"Host", host_of(port)}});
  const std::string set = page.header("Set-Cookie").value_or("");
  return set.substr(0, set.find(';'));
}

struct Observer {
  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  std::uint16_t port = 0;
  std::string url;

  explicit Observer(bool readonly = false) : Observer(options(readonly)) {}
  explicit Observer(otp::observer::WebOptions options) {
    auto started = me.await(otp::observer::Web::start(std::move(options)));
    if (!started) throw std::runtime_error(started.to_string());
    url = started.value().url;
    port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  }
  static otp::observer::WebOptions options(bool readonly) {
    otp::observer::WebOptions o;
    o.readonly = readonly;
    return o;
  }
  std::string cookie() const { return cookie_of(port); }
};

// A page's socket, opened as the browser opens it (its Origin, its cookie); every read waits
// up to `wait`.
struct Page {
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws{io};

  Page(const Observer& o, const std::string& cookie, std::chrono::seconds wait = 10s)
      : Page(o.port, cookie, wait) {}
  Page(std::uint16_t port, const std::string& cookie, std::chrono::seconds wait = 10s) {
    ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{static_cast<time_t>(wait.count()), 0};
    ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws.set_option(boost::beast::websocket::stream_base::decorator(
        [origin = "http://" + host_of(port), cookie](boost::beast::websocket::request_type& req) {
          req.set(boost::beast::http::field::origin, origin);
          req.set(boost::beast::http::field::cookie, cookie);
        }));
    ws.handshake(host_of(port), "/observer/ws");
  }
  nlohmann::json read() {
    boost::beast::flat_buffer buffer;
    ws.read(buffer);
    return nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()));
  }
  void write(const nlohmann::json& j) {
    ws.text(true);
    ws.write(boost::asio::buffer(j.dump()));
  }
  // Reads until the server closes the socket; the close code (0: it was still open after
  // `within`, or a read timed out).
  int close_code(std::chrono::seconds within = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    try {
      while (std::chrono::steady_clock::now() < deadline) read();
      return 0;
    } catch (const boost::system::system_error& e) {
      if (e.code() != boost::beast::websocket::error::closed) return 0;
    }
    return ws.reason().code;
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

// The token in the page's Set-Cookie.
std::string token_of(const otp::testing::HttpReply& page) {
  std::smatch m;
  const std::string set = page.header("Set-Cookie").value_or("");
  if (!std::regex_search(set, m, std::regex("^observer_token[_0-9]*=([0-9a-f]{32}); "))) return "";
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
  const std::string token = token_of(page);
  EXPECT_EQ(token.size(), 32u);
  // In a cookie the page's script cannot read and the browser sends to the observer alone;
  // never in the page, and so never in a URL.
  const std::string set = page.header("Set-Cookie").value_or("");
  EXPECT_NE(set.find("; Path=/observer"), std::string::npos) << set;
  EXPECT_NE(set.find("; HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("; SameSite=Strict"), std::string::npos) << set;
  EXPECT_EQ(page.body.find(token), std::string::npos);
  auto again = HttpClient("127.0.0.1", o.port).get("/observer/");
  EXPECT_NE(token_of(again), token);  // one per page load
}

// On its own port, the root leads to the page (a person who opens http://127.0.0.1:4001/); the
// page says it has no icon, so no request for /favicon.ico ends in a 404.
TEST(ObserverWeb, TheRootOfItsOwnPortLeadsToThePage) {
  Observer o;
  auto root = HttpClient("127.0.0.1", o.port).get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.header("Location").value_or(""), "/observer");
  auto page = HttpClient("127.0.0.1", o.port).get("/observer");
  EXPECT_NE(page.body.find(R"(<link rel="icon" href="data:,">)"), std::string::npos);
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
  const std::string token = token_of(http.get("/observer"));
  const std::string cookie = "observer_token=" + token;
  auto with = [](Headers h, const std::string& cookie) {
    h.emplace_back("Cookie", cookie);
    return h;
  };
  const std::string target = "/observer/ws";
  EXPECT_EQ(http.request("GET", target, {}, with(upgrade("http://evil.example"), cookie)).status,
            403);
  EXPECT_EQ(http.request("GET", target, {}, with(upgrade(""), cookie)).status, 403);
  EXPECT_EQ(
      http.request("GET", target, {},
                   with(upgrade("http://127.0.0.1"), "observer_token=" + std::string(32, '0')))
          .status,
      403);
  // A token in the URL is no token.
  EXPECT_EQ(http.request("GET", target + "?token=" + token, {}, upgrade("http://127.0.0.1")).status,
            403);
  // The right origin and cookie: the upgrade goes through.
  std::string raw = "GET " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n"
                    "Cookie: other=1; " +
                    cookie +
                    "\r\n"
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

// However many pages are open, the runtime is read once an interval: the page that finds the
// last snapshot stale takes the next, the others get it.
TEST(ObserverWeb, ManyPagesShareOneSnapshotPerInterval) {
  auto snapshots = std::make_shared<otp::observer::Snapshots>(200ms);
  otp::observer::WebOptions options;
  options.interval = 200ms;
  options.snapshots = snapshots;
  Observer o(options);
  constexpr int pages = 5, updates = 8;
  std::vector<std::unique_ptr<Page>> open;
  for (int i = 0; i < pages; ++i) open.push_back(std::make_unique<Page>(o, o.cookie()));
  for (auto& page : open) ASSERT_TRUE(page->read().contains("hello"));
  const auto start = std::chrono::steady_clock::now();
  const auto before = snapshots->taken();
  for (int k = 0; k < updates; ++k) {
    for (auto& page : open) EXPECT_TRUE(page->read().contains("system"));
  }
  const auto taken = snapshots->taken() - before;
  const auto intervals = (std::chrono::steady_clock::now() - start) / 200ms;
  // One a page and an update would be pages * updates = 40.
  EXPECT_LE(taken, static_cast<std::uint64_t>(intervals) + 2)
      << taken << " snapshots in " << intervals << " intervals";
}

TEST(ObserverWeb, APageThatSendsTooManyMessagesIsClosed) {
  otp::observer::WebOptions options;
  options.messages_per_second = 10;  // bursts of 20
  Observer o(options);
  Page page(o, o.cookie(), 5s);
  ASSERT_TRUE(page.read().contains("hello"));
  try {
    for (int i = 0; i < 100; ++i) page.write({{"op", "select"}, {"pid", ""}});
  } catch (const boost::system::system_error&) {  // closed while writing
  }
  EXPECT_EQ(page.close_code(), 1008);
}

TEST(ObserverWeb, APageWithinTheLimitStaysOpen) {
  Observer o;
  Page page(o, o.cookie(), 2s);
  ASSERT_TRUE(page.read().contains("hello"));
  for (int i = 0; i < 30; ++i) page.write({{"op", "select"}, {"pid", ""}});  // the burst: 40
  EXPECT_EQ(page.close_code(2s), 0);                                         // still open
}

// A peer not allowed gets neither the page (which carries the token's cookie) nor a socket.
TEST(ObserverWeb, ThePageAndTheSocketAreRefusedToAPeerNotAllowed) {
  otp::observer::WebOptions options;
  options.peers = {"192.0.2.1"};  // not loopback
  Observer o(options);
  auto page =
      HttpClient("127.0.0.1", o.port).request("GET", "/observer", {}, {{"Host", host_of(o.port)}});
  EXPECT_EQ(page.status, 403);
  EXPECT_FALSE(page.header("Set-Cookie").has_value());
  EXPECT_THROW(Page(o, o.cookie(), 5s), std::exception);
}

TEST(ObserverWeb, ExpandTakesTheBranchesThePageOpensByItselfInOneMessage) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Leaf : otp::GenServer<Leaf, int> {
    int init(int n) { return n; }
  };
  auto worker = [](const std::string& id) {
    return otp::ChildSpec{.id = id, .start = [] { return Leaf::start_link(0); }};
  };
  auto a = me.await(otp::Supervisor::start_link(otp::Name::local("a"), {worker("w")}));
  auto b = me.await(otp::Supervisor::start_link(otp::Name::local("b"), {worker("w")}));
  ASSERT_TRUE(a.ok() && b.ok());
  otp::observer::View view;
  const nlohmann::json request{{"op", "expand"},
                               {"pids", {a.pid().to_string(), b.pid().to_string(), 3}}};
  EXPECT_TRUE(me.await(
      otp::observer::Web::apply(view, request.dump(), false, [](const nlohmann::json&) {})));
  const auto update = view.update(me.await(otp::observer::snapshot()));
  int open = 0;
  for (const auto& n : update["tree"]["set"]) {
    if (n["pid"] == a.pid().to_string() || n["pid"] == b.pid().to_string())
      open += n["open"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(open, 2) << update.dump();
}

// A search answers from the shared snapshot, and reads the runtime anew when that one has no
// such process: one started since is found at once.
TEST(ObserverWeb, SearchFindsAProcessStartedSinceTheLastSnapshot) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::observer::Snapshots snapshots(std::chrono::hours(1));
  me.await(snapshots.get());
  struct Leaf : otp::GenServer<Leaf, int> {
    int init(int n) { return n; }
  };
  auto late = me.await(Leaf::start_link(otp::Name::local("late_comer"), 1));
  ASSERT_TRUE(late.ok());
  otp::observer::View view;
  nlohmann::json answer;
  me.await(otp::observer::Web::apply(view, R"({"op": "search", "text": "late_comer"})", false,
                                     snapshots, [&](const nlohmann::json& j) { answer = j; }));
  EXPECT_EQ(answer["found"], late.pid().to_string()) << answer.dump();
  EXPECT_EQ(snapshots.taken(), 2u);
}

// Not a check: what five pages cost, sharing their snapshots or each with its own (five Webs in
// one runtime, as every page was before they shared). N processes (20000 unless N is set):
//   N=47000 build/release/common/otp_tests --gtest_also_run_disabled_tests
//     --gtest_filter=ObserverWeb.DISABLED_FivePagesCost
TEST(ObserverWeb, DISABLED_FivePagesCost) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Never {};
  const int n = std::getenv("N") != nullptr ? std::atoi(std::getenv("N")) : 20000;
  for (int i = 0; i < n; ++i) me.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  for (const bool shared : {true, false}) {
    std::vector<std::shared_ptr<otp::observer::Snapshots>> sources;
    std::vector<std::unique_ptr<Page>> pages;
    std::uint16_t port = 0;
    for (int i = 0; i < 5; ++i) {
      if (i == 0 || !shared) {
        sources.push_back(std::make_shared<otp::observer::Snapshots>(500ms));
        otp::observer::WebOptions options;
        options.snapshots = sources.back();
        const std::string url = me.await(otp::observer::Web::start(options)).value().url;
        port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
      }
      pages.push_back(std::make_unique<Page>(port, cookie_of(port), 60s));
    }
    for (auto& page : pages) page->read();  // hello
    const double cpu0 = cpu();
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t taken = 0;
    for (auto& s : sources) taken -= s->taken();
    int updates = 0;
    while (std::chrono::steady_clock::now() - t0 < 10s) {
      for (auto& page : pages) {
        page->read();
        ++updates;
      }
    }
    for (auto& s : sources) taken += s->taken();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double used = cpu() - cpu0;
    std::printf(
        "%d processes, 5 pages, %s: %llu snapshots, %d updates in %.1f s, CPU %.2f s (%.0f%% of a "
        "core)\n",
        n, shared ? "one Snapshots" : "one Snapshots each", static_cast<unsigned long long>(taken),
        updates, seconds, used, 100 * used / seconds);
  }
}

}  // namespace
