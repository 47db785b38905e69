// The EPMD requests (otp/dist/epmd.hpp has the protocol's shape). Each request is 2-byte length
// framed; the answers are not: their sizes follow from their first bytes, or they run to EOF.
#include "otp/dist/epmd.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace otp::dist {

namespace {

constexpr char alive2_req = 120;
constexpr unsigned char alive2_x_resp = 118;
constexpr unsigned char alive2_resp = 121;
constexpr char port_please2_req = 122;
constexpr unsigned char port2_resp = 119;
constexpr char names_req = 110;

constexpr std::uint16_t protocol_version = 6;

Reason epmd_error(std::string_view what) {
  return Reason::other("{epmd, " + std::string(what) + "}");
}

void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t read_be(std::string_view s, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::string request(std::string_view body) {
  std::string out;
  put_be(out, body.size(), 2);
  out += body;
  return out;
}

// Everything EPMD sends until it closes the connection.
Co<Result<std::string>> read_to_end(net::Socket s, Duration timeout) {
  std::string all;
  for (;;) {
    auto got = co_await net::recv(s, 0, timeout);
    if (!got) {
      if (got.reason() == net::error("closed")) co_return all;
      co_return got.reason();
    }
    all += got.value();
    if (all.size() > (std::size_t{1} << 20)) co_return epmd_error("answer_too_long");
  }
}

}  // namespace

Epmd Epmd::from_environment() {
  Epmd epmd;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read where a node starts, as erl reads it
  if (const char* text = std::getenv("ERL_EPMD_PORT")) {
    std::string_view s(text);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
    if (ec == std::errc{} && end == s.data() + s.size() && port > 0 && port < 65536)
      epmd.port = static_cast<std::uint16_t>(port);
  }
  return epmd;
}

Co<Result<Registration>> register_node(Epmd epmd, std::string alive, std::uint16_t port) {
  auto s = co_await net::connect(epmd.host, epmd.port, epmd.timeout);
  if (!s) co_return s.reason();
  std::string body(1, alive2_req);
  put_be(body, port, 2);
  body.push_back(77);  // a normal node
  body.push_back(0);   // TCP/IPv4
  put_be(body, protocol_version, 2);
  put_be(body, protocol_version, 2);
  put_be(body, alive.size(), 2);
  body += alive;
  put_be(body, 0, 2);  // no extra
  if (auto sent = net::send(s.value(), request(body)); !sent) co_return sent.reason();
  auto head = co_await net::recv(s.value(), 2, epmd.timeout);
  if (!head) co_return head.reason();
  const auto tag = static_cast<unsigned char>(head.value()[0]);
  const auto result = static_cast<unsigned char>(head.value()[1]);
  if (tag != alive2_x_resp && tag != alive2_resp) {
    net::close(s.value());
    co_return epmd_error("bad_answer");
  }
  if (result != 0) {
    net::close(s.value());
    co_return epmd_error("{alive2, " + std::to_string(result) + "}");
  }
  const std::size_t n = tag == alive2_x_resp ? 4 : 2;
  auto creation = co_await net::recv(s.value(), n, epmd.timeout);
  if (!creation) co_return creation.reason();
  co_return Registration{s.value(), static_cast<std::uint32_t>(read_be(creation.value(), 0, n))};
}

Co<Result<NodePort>> port_please(Epmd epmd, std::string alive) {
  auto s = co_await net::connect(epmd.host, epmd.port, epmd.timeout);
  if (!s) co_return s.reason();
  if (auto sent = net::send(s.value(), request(std::string(1, port_please2_req) + alive)); !sent)
    co_return sent.reason();
  auto all = co_await read_to_end(s.value(), epmd.timeout);
  net::close(s.value());
  if (!all) co_return all.reason();
  const std::string& a = all.value();
  if (a.size() < 2 || static_cast<unsigned char>(a[0]) != port2_resp)
    co_return epmd_error("bad_answer");
  if (a[1] != 0) co_return epmd_error("not_registered");
  if (a.size() < 12) co_return epmd_error("bad_answer");
  NodePort p;
  p.port = static_cast<std::uint16_t>(read_be(a, 2, 2));
  p.hidden = a[4] == 72;
  p.highest_version = static_cast<std::uint16_t>(read_be(a, 6, 2));
  p.lowest_version = static_cast<std::uint16_t>(read_be(a, 8, 2));
  co_return p;
}

Co<Result<std::vector<RegisteredName>>> names(Epmd epmd) {
  auto s = co_await net::connect(epmd.host, epmd.port, epmd.timeout);
  if (!s) co_return s.reason();
  if (auto sent = net::send(s.value(), request(std::string(1, names_req))); !sent)
    co_return sent.reason();
  auto all = co_await read_to_end(s.value(), epmd.timeout);
  net::close(s.value());
  if (!all) co_return all.reason();
  if (all.value().size() < 4) co_return epmd_error("bad_answer");
  // After EPMD's own port, one line per node: "name <name> at port <port>\n".
  std::vector<RegisteredName> out;
  std::string_view text(all.value());
  text.remove_prefix(4);
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    constexpr std::string_view prefix = "name ";
    constexpr std::string_view middle = " at port ";
    const auto at = line.rfind(middle);
    if (!line.starts_with(prefix) || at == std::string_view::npos) continue;
    RegisteredName entry{std::string(line.substr(prefix.size(), at - prefix.size())), 0};
    const auto digits = line.substr(at + middle.size());
    unsigned port = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    entry.port = static_cast<std::uint16_t>(port);
    out.push_back(std::move(entry));
  }
  co_return out;
}

}  // namespace otp::dist
