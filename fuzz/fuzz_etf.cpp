// The External Term Format decoder (otp/dist/etf.hpp) on any bytes, as a peer node would send
// them. Decoding must give a term or an error, nothing else; a decoded term must encode (both
// minor versions, plain and compressed), and each encoding must decode to an equal term; its
// rendering and its comparison with itself must hold up. The first byte picks small limits for
// half the runs, so the depth and size checks see input that reaches them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "otp/dist/etf.hpp"

namespace {

[[noreturn]] void finding(const char* what, const otp::Term& term) {
  fmt::print(stderr, "{}: {}\n", what, term.to_string());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  otp::etf::Limits limits;
  if (seed & 1) limits = {.max_depth = 8, .max_uncompressed = 4096};

  // The same bytes with no version byte, as a control message reads them.
  std::size_t offset = 0;
  (void)otp::etf::decode_one(input, offset, limits);

  auto decoded = otp::etf::decode(input, limits);
  if (!decoded.ok()) {
    if (decoded.reason().to_string().empty()) std::abort();
    return 0;
  }
  const otp::Term& term = decoded.value();
  if (!(term == term) || (term <=> term) != 0) finding("not equal to itself", term);
  (void)term.to_string();
  const int level = (seed & 2) ? 1 : 0;
  for (int minor : {1, 2}) {
    const std::string bytes = otp::etf::encode(term, {.minor_version = minor, .compressed = level});
    auto again = otp::etf::decode(bytes);  // default limits: our own output must always pass
    if (!again.ok()) {
      fmt::print(stderr, "{}\n", again.reason().to_string());
      finding("its encoding does not decode", term);
    }
    if (!(again.value() == term)) finding("its encoding decodes to another term", term);
  }
  return 0;
}
