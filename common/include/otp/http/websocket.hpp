// otp::http::WebSocket — a WebSocket (RFC 6455) served by a connection's process.
//
//   router.websocket("/echo", [](otp::http::WebSocket& ws, otp::http::Request&) -> otp::Co<void> {
//     for (;;) {
//       auto msg = co_await ws.receive();
//       if (!msg) co_return;  // closed, or a protocol error (the library has closed it)
//       if (msg->text) ws.send_text(msg->data); else ws.send_binary(msg->data);
//     }
//   });
//
// A GET to a websocket route with `Upgrade: websocket`, `Connection: upgrade`,
// `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key` is answered 101 Switching Protocols;
// the connection's process then runs the handler, and closes the connection (close 1000) when
// it returns, or 1011 when it throws (logged; the listener and other connections go on). The
// same GET without the upgrade headers answers 426 Upgrade Required; another version, 426 with
// `Sec-WebSocket-Version: 13`; a missing key, 400.
//
// Waiting. receive() is a selective receive on the process's mailbox, the socket in
// active::once: it takes only this socket's Tcp, TcpClosed and TcpError messages, and leaves
// every other message in the mailbox, in order. The handler may use otp::receive for its own
// messages (say, updates to push); while it waits there, the client's frames wait in the
// socket (pings too, until the next receive). A handler that pushes and listens alternates:
//
//   for (;;) {
//     auto update = co_await otp::receive<Update>(1s);   // its own messages
//     if (update) ws.send_text(update->json);
//     auto msg = co_await ws.receive(0ms);               // the client's, without waiting
//     if (!msg && msg.reason() != otp::Reason::timeout()) co_return;
//   }
//
// Not checked: that a text message is valid UTF-8 (it is delivered as it came). No extension
// (permessage-deflate) or subprotocol is negotiated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otp/co.hpp"
#include "otp/http/server.hpp"
#include "otp/net/tcp.hpp"
#include "otp/result.hpp"
#include "otp/runtime.hpp"

namespace otp::http {

struct WsMessage {
  bool text = true;  // false: binary
  std::string data;
};

namespace detail {
struct WsAccess;
}

// One WebSocket, owned by its connection's process; a handler gets it by reference.
class WebSocket {
 public:
  // The next text or binary message: fragments reassembled, pings answered with pongs, pongs
  // ignored, a close frame answered (then `closed`). Errors: closed, timeout, einval (a
  // protocol error: the library closes with 1002), emsgsize (a message over
  // Options::websocket_message_limit: close 1009).
  Co<Result<WsMessage>> receive(Duration timeout = infinity);
  // One unfragmented frame each. Errors: closed (also once close() was called), enobufs.
  Result<void> send_text(std::string_view data);
  Result<void> send_binary(std::string_view data);
  // Sends a close frame; the connection closes once the peer answers it or after a short
  // timeout, when the handler returns. receive() then answers `closed` (after reading the
  // peer's close frame, if it comes).
  void close(std::uint16_t code = 1000, std::string_view reason = {});
  // True once a close frame was sent or received.
  bool closing() const { return state_ != State::open; }
  const net::Socket& socket() const { return socket_; }

  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

 private:
  friend struct detail::WsAccess;
  enum class State : unsigned char {
    open,     // frames both ways
    closing,  // we sent a close frame; waiting for the peer's
    closed,   // the close handshake is over, or the connection failed
  };
  WebSocket(net::Socket socket, std::string buffered, std::size_t message_limit);
  Result<void> send_frame(unsigned char opcode, std::string_view payload);
  // Decodes what the buffer holds: a message, an error, or nothing yet (need more bytes).
  std::optional<Result<WsMessage>> take_buffered();
  void fail(std::uint16_t code);

  net::Socket socket_;
  std::string buffer_;  // received, not yet decoded
  std::size_t limit_;
  State state_ = State::open;
  bool peer_closed_ = false;  // the peer's close frame (or the end of the stream) arrived
  bool in_message_ = false;   // a fragmented message is being reassembled
  WsMessage partial_;         // its fragments so far
};

}  // namespace otp::http
