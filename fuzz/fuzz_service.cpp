// Stage 05's HTTP service on any bytes: the input is what a client sends on one connection to
// `hang_ten serve`'s routes before it closes its side, answered by otp::http::answer_bytes, the
// connection process's own code without its socket: Beast's parser under the server's limits
// (small ones here, so that 413 and 431 are reached), pipelining, HEAD, 100-continue, routing,
// JSON bodies, and the live session processes behind the handlers.
//
// Findings: a crash or a sanitizer report; an answer that is not a sequence of well-formed HTTP
// responses, or has more of them than there were requests; any 5xx (bad input must get a 4xx).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/otp.hpp"
#include "service.hpp"

namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::size_t body_limit = 1024;
constexpr std::size_t header_limit = 1024;

[[noreturn]] void finding(const std::string& what, std::string_view sent, std::string_view got) {
  fmt::print(stderr, "{}\n--- sent ({} bytes)\n{}\n--- received ({} bytes)\n{}\n", what,
             sent.size(), sent.substr(0, 2000), got.size(), got.substr(0, 2000));
  std::abort();
}

struct Service {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::http::Router routes = hang_ten::routes();
  otp::http::Options options;

  Service() {
    otp::log::set_level(otp::Level::none);
    hang_ten::Config config;
    config.timeouts = {.inactive = 200ms, .absolute = 2s};  // sessions come and go
    if (!me.await(hang_ten::Application::start(config))) std::abort();
    options.body_limit = body_limit;
    options.header_limit = header_limit;
  }

  std::string exchange(std::string bytes) {
    return me.await(otp::http::answer_bytes(routes, options, std::move(bytes)));
  }
};

// The methods of the requests in `sent`, parsed as the server parses them (same limits), up to
// the first one it would refuse: a HEAD's response has no body, which the checks must know.
std::vector<bool> head_requests(std::string_view sent) {
  std::vector<bool> heads;
  while (!sent.empty()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    parser.eager(true);
    boost::beast::error_code ec;
    const auto n = parser.put(boost::asio::buffer(sent.data(), sent.size()), ec);
    if (ec || !parser.is_done()) {
      // Refused (4xx) or never complete: a HEAD's rule holds once its head was read.
      heads.push_back(parser.is_header_done() && parser.get().method() == bhttp::verb::head);
      break;
    }
    heads.push_back(parser.get().method() == bhttp::verb::head);
    sent.remove_prefix(n);
  }
  return heads;
}

void check_answer(std::string_view sent, std::string_view got) {
  const std::vector<bool> heads = head_requests(sent);
  std::size_t answered = 0;
  std::string_view rest = got;
  while (!rest.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(16 << 20);
    if (answered < heads.size() && heads[answered]) parser.skip(true);
    boost::beast::error_code ec;
    const auto n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec || !parser.is_done())
      finding(fmt::format("malformed response: {}", ec.message()), sent, got);
    const int status = parser.get().result_int();
    if (status >= 500) finding(fmt::format("answered {}", status), sent, got);
    if (status >= 200) ++answered;  // 100 Continue comes before the response it announces
    rest.remove_prefix(n);
  }
  if (answered > heads.size()) finding("more responses than requests", sent, got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* service = new Service;  // one application for the whole run, as in production
  const std::string_view sent(reinterpret_cast<const char*>(data), size);
  const std::string got = service->exchange(std::string(sent));
  check_answer(sent, got);
  return 0;
}
