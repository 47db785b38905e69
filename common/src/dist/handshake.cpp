// The handshake's state machine (otp/dist/handshake.hpp has the message formats). Input is
// buffered until a whole 2-byte-framed message is there; each message is checked against the
// step the machine is in, and any surprise fails the handshake for good.
#include "otp/dist/handshake.hpp"

#include <string>
#include <utility>

#include "otp/dist/detail/md5.hpp"

namespace otp::dist {

namespace {

std::uint64_t read_be(std::string_view s, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A node's name is alive@host, neither part empty.
bool valid_node_name(std::string_view name) {
  const auto at = name.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < name.size() &&
         name.find('@', at + 1) == std::string_view::npos;
}

}  // namespace

std::string_view to_string(AcceptStatus status) {
  switch (status) {
    case AcceptStatus::ok:
      return "ok";
    case AcceptStatus::ok_simultaneous:
      return "ok_simultaneous";
    case AcceptStatus::nok:
      return "nok";
    case AcceptStatus::not_allowed:
      return "not_allowed";
    case AcceptStatus::alive:
      return "alive";
  }
  return "not_allowed";
}

std::string handshake_digest(std::uint32_t challenge, std::string_view cookie) {
  std::string text(cookie);
  text += std::to_string(challenge);
  const auto d = detail::md5(text);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Handshake::Handshake(Role role, Options options, std::uint32_t challenge)
    : role_(role),
      step_(role == Role::initiator ? Step::status : Step::name),
      options_(std::move(options)),
      challenge_(challenge) {}

Handshake Handshake::initiate(Options options, std::uint32_t challenge) {
  Handshake hs(Role::initiator, std::move(options), challenge);
  std::string m = "N";
  put_be(m, hs.options_.flags, 8);
  put_be(m, hs.options_.creation, 4);
  put_be(m, hs.options_.name.size(), 2);
  m += hs.options_.name;
  hs.write(m);
  return hs;
}

Handshake Handshake::accept(Options options, std::uint32_t challenge) {
  return Handshake(Role::acceptor, std::move(options), challenge);
}

std::string Handshake::take_output() { return std::exchange(out_, {}); }

std::string Handshake::take_rest() {
  if (state_ != State::done) return {};
  return std::exchange(in_, {});
}

void Handshake::write(std::string_view body) {
  put_be(out_, body.size(), 2);
  out_ += body;
}

void Handshake::fail(std::string why) {
  state_ = State::failed;
  error_ = std::move(why);
  in_.clear();
}

void Handshake::feed(std::string_view bytes) {
  if (state_ == State::failed) return;
  in_ += bytes;
  if (state_ != State::running) return;  // done (rest) or waiting for answer()
  while (state_ == State::running && in_.size() >= 2) {
    const std::size_t len = read_be(in_, 0, 2);
    if (len == 0) return fail("empty handshake message");
    if (len > options_.max_message)
      return fail("handshake message of " + std::to_string(len) + " bytes, over the limit of " +
                  std::to_string(options_.max_message));
    if (in_.size() < 2 + len) return;
    std::string m = in_.substr(2, len);
    in_.erase(0, 2 + len);
    message(m);
  }
}

void Handshake::message(std::string_view m) {
  switch (step_) {
    case Step::name:
      return on_name(m);
    case Step::status:
      return on_status(m);
    case Step::alive_answer:
      return on_alive_answer(m);
    case Step::challenge:
      return on_challenge(m);
    case Step::challenge_reply:
      return on_challenge_reply(m);
    case Step::challenge_ack:
      return on_challenge_ack(m);
    case Step::finished:
      return;
  }
}

void Handshake::on_name(std::string_view m) {
  if (m[0] == 'n') return fail("peer uses handshake version 5, which is not supported");
  if (m[0] != 'N' || m.size() < 15) return fail("malformed send_name");
  peer_.flags = read_be(m, 1, 8);
  peer_.creation = static_cast<std::uint32_t>(read_be(m, 9, 4));
  const std::size_t nlen = read_be(m, 13, 2);
  if (m.size() < 15 + nlen) return fail("malformed send_name");
  peer_.name = std::string(m.substr(15, nlen));  // anything after the name is ignored
  if (peer_.flags & flag::name_me) return fail("peer asks for a dynamic name (not supported)");
  if (!valid_node_name(peer_.name)) return fail("peer sent an invalid node name");
  if (!has_mandatory_flags(peer_.flags))
    return fail("peer " + peer_.name + " lacks mandatory distribution flags");
  state_ = State::needs_status;
}

void Handshake::answer(AcceptStatus status) {
  if (state_ != State::needs_status) return;
  state_ = State::running;
  write("s" + std::string(to_string(status)));
  switch (status) {
    case AcceptStatus::ok:
    case AcceptStatus::ok_simultaneous:
      send_challenge();
      break;
    case AcceptStatus::alive:
      step_ = Step::alive_answer;
      break;
    case AcceptStatus::nok:
      return fail("refused: simultaneous connect, ours goes on");
    case AcceptStatus::not_allowed:
      return fail("refused: not allowed");
  }
  feed({});  // what came in while the decision was pending
}

void Handshake::send_challenge() {
  std::string m = "N";
  put_be(m, options_.flags, 8);
  put_be(m, challenge_, 4);
  put_be(m, options_.creation, 4);
  put_be(m, options_.name.size(), 2);
  m += options_.name;
  write(m);
  step_ = Step::challenge_reply;
}

void Handshake::on_alive_answer(std::string_view m) {
  if (m == "strue") return send_challenge();
  if (m == "sfalse") return fail("peer withdrew: its connection to us is still up");
  fail("malformed status answer");
}

void Handshake::on_status(std::string_view m) {
  if (m[0] != 's') return fail("expected a status");
  const std::string_view status = m.substr(1);
  if (status == "ok" || status == "ok_simultaneous") {
    step_ = Step::challenge;
  } else if (status == "alive") {
    write("strue");
    step_ = Step::challenge;
  } else if (status == "nok") {
    fail("refused by peer: simultaneous connect, the peer's goes on");
  } else if (status == "not_allowed") {
    fail("refused by peer: not allowed");
  } else {
    fail("refused by peer: " + std::string(status.substr(0, 64)));
  }
}

void Handshake::on_challenge(std::string_view m) {
  if (m[0] != 'N' || m.size() < 19) return fail("malformed challenge");
  peer_.flags = read_be(m, 1, 8);
  const auto their_challenge = static_cast<std::uint32_t>(read_be(m, 9, 4));
  peer_.creation = static_cast<std::uint32_t>(read_be(m, 13, 4));
  const std::size_t nlen = read_be(m, 17, 2);
  if (m.size() < 19 + nlen) return fail("malformed challenge");
  peer_.name = std::string(m.substr(19, nlen));
  if (!valid_node_name(peer_.name)) return fail("peer sent an invalid node name");
  if (!options_.expected_peer.empty() && peer_.name != options_.expected_peer)
    return fail("connected to " + peer_.name + ", not " + options_.expected_peer);
  if (!has_mandatory_flags(peer_.flags))
    return fail("peer " + peer_.name + " lacks mandatory distribution flags");
  std::string reply = "r";
  put_be(reply, challenge_, 4);
  reply += handshake_digest(their_challenge, options_.cookie);
  write(reply);
  step_ = Step::challenge_ack;
}

void Handshake::on_challenge_reply(std::string_view m) {
  if (m[0] != 'r' || m.size() != 21) return fail("malformed challenge reply");
  const auto their_challenge = static_cast<std::uint32_t>(read_be(m, 1, 4));
  if (m.substr(5) != handshake_digest(challenge_, options_.cookie))
    return fail("wrong cookie: " + peer_.name + "'s digest does not match");
  write("a" + handshake_digest(their_challenge, options_.cookie));
  step_ = Step::finished;
  state_ = State::done;
}

void Handshake::on_challenge_ack(std::string_view m) {
  if (m[0] != 'a' || m.size() != 17) return fail("malformed challenge ack");
  if (m.substr(1) != handshake_digest(challenge_, options_.cookie))
    return fail("wrong cookie: " + peer_.name + "'s digest does not match");
  step_ = Step::finished;
  state_ = State::done;
}

}  // namespace otp::dist
