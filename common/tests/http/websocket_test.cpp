// WebSockets: the frame codec, the handshake's accept value, and a Server on real sockets
// driven by Boost.Beast's synchronous WebSocket client.
#include "otp/http/websocket.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "otp/testing/http_client.hpp"
#include "ws_frame.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
namespace ws = otp::http::detail::ws;
using asio::ip::tcp;
using otp::http::Request;
using otp::http::Response;
using otp::http::Router;
using otp::http::WebSocket;

// --- the frame codec -----------------------------------------------------------------------

constexpr ws::Mask mask{0x37, 0xfa, 0x21, 0x3d};

TEST(WsFrame, MaskedHelloIsTheRfcExample) {
  // RFC 6455 5.7: a masked "Hello" from a client.
  const std::string bytes = ws::encode(ws::Opcode::text, "Hello", true, mask);
  EXPECT_EQ(bytes, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  auto d = ws::decode(bytes, true, 1 << 20);
  ASSERT_EQ(d.status, ws::Status::frame);
  EXPECT_EQ(d.consumed, bytes.size());
  EXPECT_TRUE(d.frame.fin);
  EXPECT_EQ(d.frame.opcode, ws::Opcode::text);
  EXPECT_EQ(d.frame.payload, "Hello");
  // The server's frames are unmasked.
  EXPECT_EQ(ws::encode(ws::Opcode::text, "Hello"), std::string("\x81\x05Hello"));
}

TEST(WsFrame, UnmaskedClientFrameIsAProtocolError) {
  EXPECT_EQ(ws::decode(ws::encode(ws::Opcode::text, "hi"), true, 100).status, ws::Status::protocol);
  EXPECT_EQ(ws::decode(ws::encode(ws::Opcode::text, "hi", true, mask), false, 100).status,
            ws::Status::protocol);
}

TEST(WsFrame, LengthsOf7And16And64Bits) {
  for (std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                        std::size_t{65536}}) {
    const std::string payload(n, 'x');
    const auto bytes = ws::encode(ws::Opcode::binary, payload, true, mask);
    const std::size_t header = n <= 125 ? 2 : n <= 65535 ? 4 : 10;
    EXPECT_EQ(bytes.size(), header + 4 + n) << n;
    auto d = ws::decode(bytes, true, 1 << 20);
    ASSERT_EQ(d.status, ws::Status::frame) << n;
    EXPECT_EQ(d.frame.payload, payload);
    // Every proper prefix needs more.
    for (std::size_t cut : {std::size_t{1}, header, header + 3, bytes.size() - 1}) {
      if (cut >= bytes.size()) continue;
      EXPECT_EQ(ws::decode(std::string_view(bytes).substr(0, cut), true, 1 << 20).status,
                ws::Status::need_more)
          << n << " cut at " << cut;
    }
  }
  EXPECT_EQ(static_cast<unsigned char>(ws::encode(ws::Opcode::text, std::string(125, 'a'))[1]),
            125);
  EXPECT_EQ(static_cast<unsigned char>(ws::encode(ws::Opcode::text, std::string(126, 'a'))[1]),
            126);
  EXPECT_EQ(static_cast<unsigned char>(ws::encode(ws::Opcode::text, std::string(65536, 'a'))[1]),
            127);
}

TEST(WsFrame, OverTheLimitIsTooBig) {
  const auto bytes = ws::encode(ws::Opcode::binary, std::string(200, 'x'), true, mask);
  EXPECT_EQ(ws::decode(bytes, true, 199).status, ws::Status::too_big);
  EXPECT_EQ(ws::decode(bytes.substr(0, 4), true, 199).status, ws::Status::too_big);
}

TEST(WsFrame, FragmentsAndTwoFramesInOneBuffer) {
  std::string bytes = ws::encode(ws::Opcode::text, "Hel", false, mask);
  bytes += ws::encode(ws::Opcode::continuation, "lo", true, mask);
  auto first = ws::decode(bytes, true, 100);
  ASSERT_EQ(first.status, ws::Status::frame);
  EXPECT_FALSE(first.frame.fin);
  EXPECT_EQ(first.frame.payload, "Hel");
  auto second = ws::decode(std::string_view(bytes).substr(first.consumed), true, 100);
  ASSERT_EQ(second.status, ws::Status::frame);
  EXPECT_TRUE(second.frame.fin);
  EXPECT_EQ(second.frame.opcode, ws::Opcode::continuation);
  EXPECT_EQ(second.frame.payload, "lo");
  EXPECT_EQ(first.consumed + second.consumed, bytes.size());
}

TEST(WsFrame, ControlFrames) {
  auto ping = ws::decode(ws::encode(ws::Opcode::ping, "abc", true, mask), true, 100);
  ASSERT_EQ(ping.status, ws::Status::frame);
  EXPECT_EQ(ping.frame.opcode, ws::Opcode::ping);
  EXPECT_TRUE(ws::is_control(ws::Opcode::close));
  EXPECT_FALSE(ws::is_control(ws::Opcode::binary));
  // Over 125 bytes, or fragmented: protocol errors.
  EXPECT_EQ(ws::decode(ws::encode(ws::Opcode::ping, std::string(126, 'x'), true, mask), true, 1000)
                .status,
            ws::Status::protocol);
  EXPECT_EQ(ws::decode(ws::encode(ws::Opcode::close, "", false, mask), true, 100).status,
            ws::Status::protocol);
  // A reserved opcode, a reserved bit.
  std::string bad = ws::encode(ws::Opcode::text, "x", true, mask);
  bad[0] = static_cast<char>(0x83);
  EXPECT_EQ(ws::decode(bad, true, 100).status, ws::Status::protocol);
  bad[0] = static_cast<char>(0xC1);
  EXPECT_EQ(ws::decode(bad, true, 100).status, ws::Status::protocol);
  EXPECT_EQ(ws::close_payload(1002, "bye"), std::string("\x03\xea"
                                                        "bye",
                                                        5));
  EXPECT_EQ(ws::close_payload(1000, std::string(200, 'r')).size(), 125u);
}

TEST(WsHandshake, AcceptOfTheRfcExampleKey) {
  EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// --- end to end ----------------------------------------------------------------------------

otp::Co<void> echo(WebSocket& socket, Request&) {
  for (;;) {
    auto msg = co_await socket.receive();
    if (!msg) co_return;
    const auto sent = msg->text ? socket.send_text(msg->data) : socket.send_binary(msg->data);
    if (!sent) co_return;
  }
}

struct Push {
  std::string text;
};

Router app(otp::Pid test) {
  Router router;
  router.websocket("/echo", echo);
  router.websocket("/bye/{name}", [](WebSocket& socket, Request& req) -> otp::Co<void> {
    socket.send_text("bye " + std::string(req.param("name")));
    co_return;
  });
  router.websocket("/boom", [](WebSocket& socket, Request&) -> otp::Co<void> {
    auto msg = co_await socket.receive();
    throw std::runtime_error("boom: " + (msg ? msg->data : std::string("?")));
  });
  // Pushes what its own mailbox gets, and echoes what the client sends.
  router.websocket("/push", [test](WebSocket& socket, Request&) -> otp::Co<void> {
    otp::send(test, otp::self());
    for (;;) {
      auto push = co_await otp::receive<Push>(20ms);
      if (push) socket.send_text(push->text);
      auto msg = co_await socket.receive(0ms);
      if (msg) socket.send_text("echo " + msg->data);
      if (!msg && msg.reason() != otp::Reason::timeout()) co_return;
    }
  });
  router.get("/hello", [](Request&) { return Response::text(200, "hello"); });
  return router;
}

struct Fixture {
  explicit Fixture(otp::http::Options options = {}) {
    options.port = 0;
    auto started = me.await(otp::http::Server::start_link(app(me.pid()), options));
    EXPECT_TRUE(started.ok()) << started.to_string();
    server = started.pid();
    port = me.await(otp::http::Server::port(server)).value();
  }

  // A connected, upgraded client.
  bws::stream<tcp::socket> client(const std::string& target) {
    bws::stream<tcp::socket> stream(ioc);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    stream.next_layer().connect(endpoint);
    stream.handshake("127.0.0.1", target);
    return stream;
  }

  tcp::socket raw_socket() {
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return s;
  }

  static std::string read(bws::stream<tcp::socket>& stream) {
    beast::flat_buffer buffer;
    stream.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }

  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid server;
  std::uint16_t port = 0;
  asio::io_context ioc;
};

std::string upgrade_request(std::string_view target, std::string_view version = "13") {
  return fmt::format(
      "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: {}\r\n\r\n",
      target, version);
}

TEST(WebSocket, EchoesTextAndBinary) {
  Fixture f;
  auto c = f.client("/echo");
  c.text(true);
  c.write(asio::buffer(std::string("hello")));
  EXPECT_EQ(Fixture::read(c), "hello");
  EXPECT_TRUE(c.got_text());
  c.binary(true);
  const std::string bytes("\x00\x01\xff", 3);
  c.write(asio::buffer(bytes));
  EXPECT_EQ(Fixture::read(c), bytes);
  EXPECT_TRUE(c.got_binary());
  c.close(bws::close_code::normal);
}

TEST(WebSocket, LargeMessageInFragments) {
  Fixture f;
  auto c = f.client("/echo");
  c.auto_fragment(true);
  c.write_buffer_bytes(4096);  // 70,000 bytes go as 18 frames
  std::string big(70000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  c.write(asio::buffer(big));
  EXPECT_EQ(Fixture::read(c), big);
  c.auto_fragment(false);
  c.write(asio::buffer(big));  // and as one frame with a 64-bit length
  EXPECT_EQ(Fixture::read(c), big);
}

TEST(WebSocket, PingIsAnsweredWithPong) {
  Fixture f;
  auto c = f.client("/echo");
  std::string pong;
  c.control_callback([&](bws::frame_type kind, beast::string_view payload) {
    if (kind == bws::frame_type::pong) pong = std::string(payload);
  });
  c.ping("are you there");
  c.write(asio::buffer(std::string("after the ping")));
  EXPECT_EQ(Fixture::read(c), "after the ping");
  EXPECT_EQ(pong, "are you there");
}

TEST(WebSocket, ClientCloseHandshake) {
  Fixture f;
  auto c = f.client("/echo");
  c.close(bws::close_reason(bws::close_code::going_away));
  EXPECT_FALSE(c.is_open());
  EXPECT_EQ(c.reason().code, 1001);  // the server echoed the code
}

TEST(WebSocket, HandlerReturnClosesWith1000AndParamsAreSet) {
  Fixture f;
  auto c = f.client("/bye/eric");
  EXPECT_EQ(Fixture::read(c), "bye eric");
  beast::flat_buffer buffer;
  beast::error_code ec;
  c.read(buffer, ec);
  EXPECT_EQ(ec, bws::error::closed);
  EXPECT_EQ(c.reason().code, 1000);
}

TEST(WebSocket, UnmaskedFrameGetsClose1002) {
  Fixture f;
  auto s = f.raw_socket();
  asio::write(s, asio::buffer(upgrade_request("/echo")));
  std::string head;
  asio::read_until(s, asio::dynamic_buffer(head), "\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos)
      << head;
  asio::write(s, asio::buffer(std::string("\x81\x02hi", 4)));  // unmasked
  std::string rest = head.substr(head.find("\r\n\r\n") + 4);
  beast::error_code ec;
  asio::read(s, asio::dynamic_buffer(rest), ec);  // to the end of the stream
  EXPECT_EQ(rest, std::string("\x88\x02\x03\xea", 4));
}

TEST(WebSocket, MessageOverTheLimitGetsClose1009) {
  otp::http::Options options;
  options.websocket_message_limit = 1000;
  Fixture f(options);
  auto c = f.client("/echo");
  c.write(asio::buffer(std::string(1000, 'a')));
  EXPECT_EQ(Fixture::read(c).size(), 1000u);
  c.auto_fragment(true);
  c.write_buffer_bytes(600);  // fragments of 600: each under the limit, the message over it
  c.write(asio::buffer(std::string(1001, 'a')));
  beast::flat_buffer buffer;
  beast::error_code ec;
  c.read(buffer, ec);
  EXPECT_EQ(ec, bws::error::closed);
  EXPECT_EQ(c.reason().code, 1009);
}

TEST(WebSocket, PlainGetIs426AndWrongVersionIs426WithVersion) {
  Fixture f;
  otp::testing::HttpClient http("127.0.0.1", f.port);
  auto r = http.get("/echo");
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.json()["error"], "upgrade required: a WebSocket endpoint");
  EXPECT_EQ(http.get("/hello").body, "hello");  // the connection goes on
  auto raw = http.raw(upgrade_request("/echo", "8") +
                      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 426")) << raw;
  EXPECT_NE(raw.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << raw;
}

TEST(WebSocket, ThrowingHandlerEndsItsConnectionOnly) {
  Fixture f;
  auto other = f.client("/echo");
  {
    auto c = f.client("/boom");
    c.write(asio::buffer(std::string("now")));
    beast::flat_buffer buffer;
    beast::error_code ec;
    c.read(buffer, ec);
    EXPECT_EQ(ec, bws::error::closed);
    EXPECT_EQ(c.reason().code, 1011);
  }
  other.write(asio::buffer(std::string("still here")));
  EXPECT_EQ(Fixture::read(other), "still here");
  auto fresh = f.client("/echo");
  fresh.write(asio::buffer(std::string("new")));
  EXPECT_EQ(Fixture::read(fresh), "new");
  EXPECT_EQ(otp::testing::HttpClient("127.0.0.1", f.port).get("/hello").status, 200);
}

TEST(WebSocket, HandlerReceivesItsOwnMessagesToo) {
  Fixture f;
  auto c = f.client("/push");
  auto handler = f.me.receive<otp::Pid>(5s);
  ASSERT_TRUE(handler.has_value());
  otp::send(*handler, Push{"tick"});
  EXPECT_EQ(Fixture::read(c), "tick");
  c.write(asio::buffer(std::string("hi")));
  EXPECT_EQ(Fixture::read(c), "echo hi");
  c.close(bws::close_code::normal);
}

}  // namespace
