// WebSocket messages over a connection's socket: frames decoded by ws_frame.cpp, messages
// reassembled here, control frames answered as they are read.
#include "otp/http/websocket.hpp"

#include <algorithm>
#include <utility>

#include "connection.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "ws_frame.hpp"

namespace otp::http {

namespace {

Reason closed_reason() { return net::error("closed"); }

}  // namespace

WebSocket::WebSocket(net::Socket socket, std::string buffered, std::size_t message_limit)
    : socket_(std::move(socket)), buffer_(std::move(buffered)), limit_(message_limit) {}

Co<Result<WsMessage>> WebSocket::receive(Duration timeout) {
  const Duration deadline = timeout == infinity ? infinity : otp::now() + timeout;
  std::optional<Result<WsMessage>> result;
  while (!result) {
    result = take_buffered();
    if (result) break;
    if (state_ == State::closed || peer_closed_) {
      result = closed_reason();
      break;
    }
    Duration left = infinity;
    if (deadline != infinity) left = std::max(deadline - otp::now(), Duration::zero());
    if (!net::setopts(socket_, net::active::once)) {
      state_ = State::closed;
      result = closed_reason();
      break;
    }
    enum class Got : unsigned char { bytes, end, timeout } got = Got::end;
    const auto mine = [this](const auto& m) { return m.socket == socket_; };
    co_await otp::receive(
        otp::match<net::Tcp>(mine,
                             [&](net::Tcp tcp) {
                               buffer_ += tcp.data;
                               got = Got::bytes;
                             }),
        otp::match<net::TcpClosed>(mine, [&](const net::TcpClosed&) { got = Got::end; }),
        otp::match<net::TcpError>(mine, [&](const net::TcpError&) { got = Got::end; }),
        otp::after(left, [&] { got = Got::timeout; }));
    if (got == Got::end) {
      state_ = State::closed;
      peer_closed_ = true;
      result = closed_reason();
    } else if (got == Got::timeout) {
      result = Reason::timeout();
    }
  }
  co_return std::move(*result);
}

std::optional<Result<WsMessage>> WebSocket::take_buffered() {
  using detail::ws::Opcode;
  using detail::ws::Status;
  while (state_ != State::closed) {
    auto decoded = detail::ws::decode(buffer_, true, limit_);
    if (decoded.status == Status::need_more) return std::nullopt;
    if (decoded.status == Status::protocol) {
      fail(1002);
      return net::error("einval");
    }
    if (decoded.status == Status::too_big) {
      fail(1009);
      return net::error("emsgsize");
    }
    buffer_.erase(0, decoded.consumed);
    auto& frame = decoded.frame;
    switch (frame.opcode) {
      case Opcode::ping:
        if (state_ == State::open)
          (void)send_frame(static_cast<unsigned char>(Opcode::pong), frame.payload);
        continue;
      case Opcode::pong:
        continue;
      case Opcode::close:
        peer_closed_ = true;
        if (frame.payload.size() == 1) {
          fail(1002);
          return net::error("einval");
        }
        if (state_ == State::open)  // echo the peer's code, as RFC 6455 5.5.1 suggests
          (void)send_frame(static_cast<unsigned char>(Opcode::close),
                           std::string_view(frame.payload).substr(0, 2));
        state_ = State::closed;
        return closed_reason();
      case Opcode::continuation:
        if (!in_message_) {
          fail(1002);
          return net::error("einval");
        }
        break;
      case Opcode::text:
      case Opcode::binary:
        if (in_message_) {
          fail(1002);
          return net::error("einval");
        }
        in_message_ = true;
        partial_ = WsMessage{frame.opcode == Opcode::text, {}};
        break;
    }
    if (partial_.data.size() + frame.payload.size() > limit_) {
      fail(1009);
      return net::error("emsgsize");
    }
    partial_.data += frame.payload;
    if (!frame.fin) continue;
    in_message_ = false;
    if (state_ != State::open) continue;  // data after our close frame is dropped
    return std::exchange(partial_, WsMessage{});
  }
  return closed_reason();
}

Result<void> WebSocket::send_text(std::string_view data) {
  return send_frame(static_cast<unsigned char>(detail::ws::Opcode::text), data);
}

Result<void> WebSocket::send_binary(std::string_view data) {
  return send_frame(static_cast<unsigned char>(detail::ws::Opcode::binary), data);
}

void WebSocket::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  (void)send_frame(static_cast<unsigned char>(detail::ws::Opcode::close),
                   detail::ws::close_payload(code, reason));
  state_ = State::closing;
}

Result<void> WebSocket::send_frame(unsigned char opcode, std::string_view payload) {
  if (state_ != State::open) return closed_reason();
  return net::send(socket_, detail::ws::encode(static_cast<detail::ws::Opcode>(opcode), payload));
}

void WebSocket::fail(std::uint16_t code) {
  close(code);
  state_ = State::closed;
  buffer_.clear();
}

namespace detail {

WebSocket WsAccess::make(net::Socket socket, std::string buffered, std::size_t message_limit) {
  return WebSocket(std::move(socket), std::move(buffered), message_limit);
}

Co<void> WsAccess::finish(WebSocket& ws, std::uint16_t code) {
  ws.close(code);
  if (ws.state_ == WebSocket::State::closed && !ws.peer_closed_) {
    // A failure (1002, 1009) sent our close frame while the peer may still be sending: closing
    // now would reset the connection under that frame. What comes is read and dropped until the
    // peer closes too, for close_timeout at most.
    const Duration deadline = otp::now() + close_timeout;
    for (bool open = true; open && net::setopts(ws.socket_, net::active::once);) {
      const auto mine = [&](const auto& m) { return m.socket == ws.socket_; };
      co_await otp::receive(
          otp::match<net::Tcp>(mine, [](const net::Tcp&) {}),
          otp::match<net::TcpClosed>(mine, [&](const net::TcpClosed&) { open = false; }),
          otp::match<net::TcpError>(mine, [&](const net::TcpError&) { open = false; }),
          otp::after(std::max(deadline - otp::now(), Duration::zero()), [&] { open = false; }));
    }
    co_return;
  }
  if (ws.state_ != WebSocket::State::closing) co_return;
  const Duration deadline = otp::now() + close_timeout;
  bool waiting = true;
  while (waiting) {
    const Duration left = deadline - otp::now();
    auto got = co_await ws.receive(std::max(left, Duration::zero()));
    waiting = got.ok();  // messages after our close frame are dropped; closed or timeout ends it
  }
}

}  // namespace detail

}  // namespace otp::http
