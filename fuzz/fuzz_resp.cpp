// The RESP decoder (otp/redis/resp.hpp) on any bytes. A connection feeds the parser whatever
// pieces the socket delivers, so the pieces must not matter: the input is decoded whole and then
// cut at points drawn from its first byte, and both give the same replies and the same error at
// the same offset. Half the runs use small limits, so the limit checks see input that reaches
// them. Any other outcome than a reply or a ProtocolError (a crash, a sanitizer report, another
// exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "otp/redis/resp.hpp"

namespace {

using otp::redis::Parser;

struct Outcome {
  std::vector<std::string> replies;
  std::optional<std::uint64_t> error_at;
  std::string error;
  bool partial = false;
  bool operator==(const Outcome&) const = default;
};

Outcome decode(std::string_view input, const std::vector<std::size_t>& cuts,
               Parser::Limits limits) {
  Parser parser(limits);
  Outcome out;
  std::size_t from = 0;
  auto take = [&] {
    while (!out.error_at) {
      try {
        auto reply = parser.next();
        if (!reply) return;
        out.replies.push_back(otp::redis::to_string(*reply));
      } catch (const otp::redis::ProtocolError& e) {
        out.error_at = e.offset();
        out.error = e.what();
      }
    }
  };
  for (std::size_t cut : cuts) {
    parser.feed(input.substr(from, cut - from));
    from = cut;
    take();
  }
  out.partial = !out.error_at && parser.partial();
  return out;
}

// The cut points: a pseudo-random walk seeded by the first byte (so a crash reproduces).
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
  Parser::Limits limits;
  if (seed & 1) limits = {.max_line = 32, .max_bulk = 32, .max_array = 8, .max_depth = 4};

  const Outcome whole = decode(input, {input.size()}, limits);
  const Outcome pieces = decode(input, cuts_for(input.size(), seed), limits);
  if (!(whole == pieces)) {
    fmt::print(stderr, "whole: {} replies, error {} at {}\npieces: {} replies, error {} at {}\n",
               whole.replies.size(), whole.error, whole.error_at.value_or(0), pieces.replies.size(),
               pieces.error, pieces.error_at.value_or(0));
    std::abort();
  }
  return 0;
}
