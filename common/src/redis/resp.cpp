// RESP2 parser, encoder and formatting (design: otp/redis/resp.hpp).
#include "otp/redis/resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace otp::redis {

namespace {

constexpr std::size_t compact_at = 4096;     // drop a consumed prefix at least this long...
constexpr std::size_t array_reserve = 1024;  // ...and never trust an array length for memory

// A whole line as a decimal int64 (optional leading '-'), or nullopt.
std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("'{}' (0x{:02x})", c, byte);
  return fmt::format("0x{:02x}", byte);
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          out += fmt::format("\\x{:02x}", byte);
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_reply(std::string& out, const Reply& reply) {
  switch (reply.kind()) {
    case Reply::Kind::nil:
      out += "(nil)";
      break;
    case Reply::Kind::simple_string:
      out += reply.as_string();
      break;
    case Reply::Kind::error:
      out += "(error) ";
      out += reply.as_string();
      break;
    case Reply::Kind::integer:
      out += fmt::format("(integer) {}", reply.as_integer());
      break;
    case Reply::Kind::bulk_string:
      append_quoted(out, reply.as_string());
      break;
    case Reply::Kind::array: {
      out += '[';
      bool first = true;
      for (const Reply& item : reply.as_array()) {
        if (!first) out += ", ";
        first = false;
        append_reply(out, item);
      }
      out += ']';
      break;
    }
  }
}

[[noreturn]] void wrong_kind(const char* wanted, const Reply& reply) {
  throw std::logic_error(
      fmt::format("otp::redis::Reply: wanted {}, the reply is {}", wanted, to_string(reply)));
}

}  // namespace

// --- Reply -------------------------------------------------------------------------------------

const std::string& Reply::as_string() const {
  if (const auto* s = std::get_if<SimpleString>(&value_)) return s->value;
  if (const auto* e = std::get_if<Error>(&value_)) return e->message;
  if (const auto* b = std::get_if<std::string>(&value_)) return *b;
  wrong_kind("a string", *this);
}

std::int64_t Reply::as_integer() const {
  if (const auto* i = std::get_if<std::int64_t>(&value_)) return *i;
  wrong_kind("an integer", *this);
}

const Reply::Array& Reply::as_array() const {
  if (const auto* a = std::get_if<Array>(&value_)) return *a;
  wrong_kind("an array", *this);
}

std::string to_string(const Reply& reply) {
  std::string out;
  append_reply(out, reply);
  return out;
}

// --- Parser ------------------------------------------------------------------------------------

void Parser::feed(std::string_view bytes) {
  if (error_) return;
  if (state_ == State::bulk_body) {
    // parse() stopped here only with the buffer used up: these bytes go straight to the string.
    const auto take = static_cast<std::size_t>(
        std::min<std::int64_t>(bulk_left_, static_cast<std::int64_t>(bytes.size())));
    bulk_.append(bytes.data(), take);
    bulk_left_ -= static_cast<std::int64_t>(take);
    dropped_ += take;
    bytes.remove_prefix(take);
    if (bulk_left_ > 0) return;
    state_ = State::bulk_end;
  }
  buffer_.append(bytes);
  parse();
}

std::optional<Reply> Parser::next() {
  if (!ready_.empty()) {
    Reply reply = std::move(ready_.front());
    ready_.pop_front();
    return reply;
  }
  if (error_) throw *error_;
  return std::nullopt;
}

void Parser::parse() {
  while (!error_) {
    if (state_ == State::header) {
      if (!parse_header()) break;
    } else if (state_ == State::bulk_body) {
      const std::size_t available = buffer_.size() - read_;
      const auto take = static_cast<std::size_t>(
          std::min<std::int64_t>(bulk_left_, static_cast<std::int64_t>(available)));
      bulk_.append(buffer_, read_, take);
      read_ += take;
      scan_ = read_;
      bulk_left_ -= static_cast<std::int64_t>(take);
      if (bulk_left_ > 0) break;
      state_ = State::bulk_end;
    } else {  // bulk_end
      if (buffer_.size() - read_ < 2) break;
      if (buffer_[read_] != '\r' || buffer_[read_ + 1] != '\n') {
        fail("bulk string not followed by CRLF", read_);
        break;
      }
      read_ += 2;
      scan_ = read_;
      state_ = State::header;
      complete(Reply(std::exchange(bulk_, std::string())));
    }
  }
  // Drop the consumed prefix: all of it when nothing is left (the common case: whole replies),
  // else once it outweighs the rest, so that each byte is moved O(1) times on average.
  if (read_ == buffer_.size()) {
    dropped_ += read_;
    buffer_.clear();
    read_ = scan_ = 0;
  } else if (read_ >= compact_at && read_ > buffer_.size() / 2) {
    dropped_ += read_;
    buffer_.erase(0, read_);
    scan_ = scan_ > read_ ? scan_ - read_ : 0;
    read_ = 0;
  }
}

// Parses one header line at read_; false when it is not complete yet (or on a fault).
bool Parser::parse_header() {
  if (read_ == buffer_.size()) return false;
  const char type = buffer_[read_];
  if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*') {
    fail(fmt::format("unknown reply type byte {}", describe_byte(type)), read_);
    return false;
  }
  const std::size_t cr = buffer_.find('\r', std::max(scan_, read_ + 1));
  if (cr == std::string::npos || cr + 1 == buffer_.size()) {
    scan_ = cr == std::string::npos ? buffer_.size() : cr;
    if (scan_ - read_ > limits_.max_line) fail("line longer than the limit", read_);
    return false;
  }
  // The length first: had the line come in pieces, its length would have been found over the
  // limit before its CR arrived, and the error must not depend on how the bytes came.
  if (cr - read_ > limits_.max_line) {
    fail("line longer than the limit", read_);
    return false;
  }
  if (buffer_[cr + 1] != '\n') {
    fail("CR not followed by LF", cr);
    return false;
  }
  const std::size_t at = read_;
  const std::string_view body(buffer_.data() + read_ + 1, cr - read_ - 1);
  read_ = scan_ = cr + 2;

  switch (type) {
    case '+':
      complete(SimpleString{std::string(body)});
      return true;
    case '-':
      complete(Error{std::string(body)});
      return true;
    case ':': {
      const auto value = parse_int(body);
      if (!value) {
        fail(fmt::format("bad integer reply \":{}\"", body.substr(0, 32)), at);
        return false;
      }
      complete(*value);
      return true;
    }
    case '$': {
      const auto length = parse_int(body);
      if (!length || *length < -1 || *length > limits_.max_bulk) {
        fail(fmt::format("bad bulk string length \"${}\"", body.substr(0, 32)), at);
        return false;
      }
      if (*length == -1) {
        complete(Nil{});
        return true;
      }
      bulk_.clear();
      bulk_.reserve(static_cast<std::size_t>(*length));
      bulk_left_ = *length;
      state_ = State::bulk_body;
      return true;
    }
    default: {  // '*'
      const auto length = parse_int(body);
      if (!length || *length < -1 || *length > limits_.max_array) {
        fail(fmt::format("bad array length \"*{}\"", body.substr(0, 32)), at);
        return false;
      }
      if (*length == -1) {
        complete(Nil{});
      } else if (*length == 0) {
        complete(Reply::Array{});
      } else if (stack_.size() >= limits_.max_depth) {
        fail("arrays nested deeper than the limit", at);
        return false;
      } else {
        Frame frame{Reply::Array{}, *length};
        frame.items.reserve(static_cast<std::size_t>(
            std::min<std::int64_t>(*length, static_cast<std::int64_t>(array_reserve))));
        stack_.push_back(std::move(frame));
      }
      return true;
    }
  }
}

void Parser::complete(Reply reply) {
  while (!stack_.empty()) {
    Frame& frame = stack_.back();
    frame.items.push_back(std::move(reply));
    if (static_cast<std::int64_t>(frame.items.size()) < frame.expected) return;
    reply = Reply(std::move(frame.items));
    stack_.pop_back();
  }
  ready_.push_back(std::move(reply));
}

void Parser::fail(const std::string& what, std::size_t at) {
  const std::uint64_t offset = stream_offset(at);
  error_.emplace(fmt::format("RESP protocol error at byte {}: {}", offset, what), offset);
  buffer_.clear();
  read_ = scan_ = 0;
  state_ = State::header;
  bulk_.clear();
  stack_.clear();
}

// --- encoding ----------------------------------------------------------------------------------

namespace detail {

namespace {
void append_header(std::string& out, char type, std::size_t n) {
  char digits[std::numeric_limits<std::size_t>::digits10 + 2];
  auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), n);
  (void)ec;  // cannot fail: the buffer holds any size_t
  out += type;
  out.append(digits, end);
  out += "\r\n";
}

std::size_t decimal_digits(std::size_t n) {
  std::size_t digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}
}  // namespace

void append_array_header(std::string& out, std::size_t count) { append_header(out, '*', count); }

void append_bulk(std::string& out, std::string_view arg) {
  append_header(out, '$', arg.size());
  out.append(arg);
  out += "\r\n";
}

std::size_t encoded_bulk_size(std::size_t length) {
  return 1 + decimal_digits(length) + 2 + length + 2;
}

}  // namespace detail

}  // namespace otp::redis
