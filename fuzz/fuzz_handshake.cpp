// The distribution handshake's state machine (otp/dist/handshake.hpp) on any bytes, as either
// side. A connection feeds it whatever pieces the socket delivers, so the pieces must not matter:
// the input is fed whole and then cut at points drawn from its first byte, and both give the same
// state, error, output, peer and rest. The first byte also picks the role, the acceptor's status
// and, half the time, a small message limit. Then the machine that ran must not have accepted
// what it should refuse: done only with a peer that has the mandatory flags and a valid name.
// Any other outcome (a crash, a sanitizer report, a broken property) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "otp/dist/handshake.hpp"

namespace {

using otp::dist::AcceptStatus;
using otp::dist::Handshake;

struct Outcome {
  Handshake::State state;
  std::string error;
  std::string output;
  std::string peer;
  std::uint64_t flags;
  std::string rest;
  bool operator==(const Outcome&) const = default;
};

Handshake make(std::uint8_t seed) {
  Handshake::Options o{.name = "cpp@127.0.0.1", .cookie = "fuzz", .creation = 3};
  if (seed & 2) o.max_message = 40;
  if (seed & 4) o.expected_peer = "erl@127.0.0.1";
  return (seed & 1) ? Handshake::initiate(o, 0x01020304) : Handshake::accept(o, 0x01020304);
}

Outcome run(std::string_view input, const std::vector<std::size_t>& cuts, std::uint8_t seed) {
  auto hs = make(seed);
  std::string output = hs.take_output();
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    hs.feed(input.substr(from, cut - from));
    from = cut;
    if (hs.state() == Handshake::State::needs_status)
      hs.answer(static_cast<AcceptStatus>((seed >> 3) % 5));
    output += hs.take_output();
  }
  return {hs.state(), hs.error(), output, hs.peer().name, hs.peer().flags, hs.take_rest()};
}

std::vector<std::size_t> cuts_for(std::size_t size, std::uint8_t seed) {
  std::vector<std::size_t> cuts;
  std::uint32_t x = seed + 1u;
  for (std::size_t at = 0; at < size;) {
    x = x * 1103515245u + 12345u;
    at = std::min(size, at + 1 + (x >> 16) % 7);
    cuts.push_back(at);
  }
  return cuts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = run(input, {input.size()}, seed);
  const Outcome pieces = run(input, cuts_for(input.size(), seed), seed);
  if (!(whole == pieces)) {
    fmt::print(stderr, "whole: state {} error '{}'\npieces: state {} error '{}'\n",
               static_cast<int>(whole.state), whole.error, static_cast<int>(pieces.state),
               pieces.error);
    std::abort();
  }
  if (whole.state == Handshake::State::done &&
      (!otp::dist::has_mandatory_flags(whole.flags) || whole.peer.find('@') == std::string::npos)) {
    fmt::print(stderr, "done with peer '{}' flags {:#x}\n", whole.peer, whole.flags);
    std::abort();
  }
  return 0;
}
