// Requests, responses and the Router (otp/http/server.hpp).
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "otp/http/server.hpp"

namespace otp::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    if (i < path.size() && path[i] == '/') ++i;
    const auto end = std::min(path.find('/', i), path.size());
    out.push_back(path.substr(i, end - i));
    if (end >= path.size()) break;
    i = end;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `path` against a pattern's segments; the parameters into `params`.
// A path segment as its sender meant it (RFC 3986, 2.1): each %XX is the byte XX; a '%' not
// followed by two hex digits is kept as it is.
std::string percent_decoded(std::string_view segment) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && hex(segment[i + 1]) >= 0 &&
        hex(segment[i + 2]) >= 0) {
      out += static_cast<char>(hex(segment[i + 1]) * 16 + hex(segment[i + 2]));
      i += 2;
    } else {
      out += segment[i];
    }
  }
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
             std::vector<std::pair<std::string, std::string>>* params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (path[i].empty()) return false;
      if (params)
        params->emplace_back(pattern[i].substr(1, pattern[i].size() - 2), percent_decoded(path[i]));
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

Co<Response> call_plain(PlainHandler h, Request& req) { co_return h(req); }

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

nlohmann::json Request::json() const {
  if (auto type = header("Content-Type")) {
    auto media = type->substr(0, type->find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!iequals(media, "application/json"))
      throw Error(415, "unsupported content type: expected application/json");
  }
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range
    throw Error(400, std::string("malformed JSON: ") + e.what());
  }
}

std::string Request::string_field(std::string_view name) const {
  const nlohmann::json body = json();
  const auto field = body.is_object() ? body.find(std::string(name)) : body.end();
  if (field == body.end() || !field->is_string())
    throw Error(400, fmt::format("\"{}\" must be a string", name));
  return field->get<std::string>();
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

Response Response::json(int status, const nlohmann::json& body) {
  // Bytes that are not UTF-8 (a login from a request's path, say) are replaced, not thrown on.
  return Response{status,
                  {{"Content-Type", "application/json"}},
                  body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response Response::text(int status, std::string body, std::string content_type) {
  return Response{status, {{"Content-Type", std::move(content_type)}}, std::move(body)};
}

Response Response::error(int status, std::string_view message) {
  return json(status, nlohmann::json{{"error", message}});
}

Response Response::no_content() { return Response{204, {}, {}}; }

Error::Error(int status, std::string message)
    : std::runtime_error(std::move(message)), status(status) {}

Router& Router::route(std::string method, std::string pattern, Handler h) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern)) segments.emplace_back(s);
  routes_.push_back(Route{std::move(method), std::move(segments), std::move(h), {}, {}});
  return *this;
}

Router& Router::route(std::string method, std::string pattern, PlainHandler h) {
  return route(std::move(method), std::move(pattern),
               Handler([h = std::move(h)](Request& req) { return call_plain(h, req); }));
}

Router& Router::websocket(std::string pattern, WsHandler h, WsGuard guard) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern)) segments.emplace_back(s);
  routes_.push_back(Route{"GET", std::move(segments), {}, std::move(h), std::move(guard)});
  return *this;
}

std::vector<std::string> Router::endpoints() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) {
    if (r.ws) continue;
    std::string path;
    for (const std::string& s : r.segments) path += "/" + s;
    out.push_back(r.method + " " + (path.empty() ? "/" : path));
  }
  return out;
}

std::optional<Response> Router::websocket_refusal(const Request& req) const {
  const auto path = split_path(req.path);
  for (const auto& r : routes_) {
    if (r.method != req.method || !matches(r.segments, path, nullptr)) continue;
    if (!r.ws || !r.guard) return std::nullopt;
    return r.guard(req);
  }
  return std::nullopt;
}

const WsHandler* Router::websocket_route(Request& req) const {
  const auto path = split_path(req.path);
  for (const auto& r : routes_) {
    if (r.method != req.method || !matches(r.segments, path, nullptr)) continue;
    if (!r.ws) return nullptr;
    req.params.clear();
    matches(r.segments, path, &req.params);
    return &r.ws;
  }
  return nullptr;
}

Co<Response> Router::dispatch(Request& req) const {
  const auto path = split_path(req.path);
  std::set<std::string> allowed;
  const Route* found = nullptr;
  for (const auto& r : routes_) {
    if (!matches(r.segments, path, nullptr)) continue;
    // HEAD is a GET whose answer goes without its body (the connection leaves it out).
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      found = &r;
      break;
    }
    allowed.insert(r.method);
    if (r.method == "GET") allowed.insert("HEAD");
  }
  if (found == nullptr) {
    if (allowed.empty()) co_return Response::error(404, "not found");
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    auto response = Response::error(405, "method not allowed");
    response.headers.emplace_back("Allow", std::move(allow));
    co_return response;
  }
  if (found->ws) {
    auto response = Response::error(426, "upgrade required: a WebSocket endpoint");
    response.headers.emplace_back("Upgrade", "websocket");
    co_return response;
  }
  req.params.clear();
  matches(found->segments, path, &req.params);
  std::exception_ptr thrown;
  try {
    co_return co_await found->handler(req);
  } catch (const Error& e) {
    co_return Response::error(e.status, e.what());
  } catch (...) {
    thrown = std::current_exception();
  }
  for (const auto& answer : errors_)
    if (auto response = answer(thrown)) co_return std::move(*response);
  std::rethrow_exception(thrown);
}

}  // namespace otp::http
