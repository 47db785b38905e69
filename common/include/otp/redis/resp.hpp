// RESP2, the Redis serialization protocol: a Reply value type, an incremental Parser and an
// encoder for commands. No sockets here: the connection process feeds the Parser whatever bytes
// its socket delivered and sends what the encoder wrote.
//
// Parser design. Bytes arrive in arbitrary pieces (half a header, three replies and a bit, the
// middle of a 100 MB bulk string). `feed` parses as far as the bytes go and queues every complete
// reply; `next` hands them out in order. The parser keeps one input buffer and a read offset into
// it, plus the position up to which the current header line has been searched for its CR, so no
// byte is scanned twice and the total work is O(bytes fed). The consumed prefix of the buffer is
// dropped once it is more than half of the buffer (amortised O(1) per byte). Arrays under
// construction live on an explicit stack of frames (no recursion, nesting depth limited by
// `Limits::max_depth`, which also bounds the recursion of a Reply's destructor and formatter).
// A bulk string's bytes are copied once into the reply's own string, reserved at its announced
// length; while a bulk string is incomplete, `feed` appends the new bytes straight to it, without
// passing them through the input buffer.
//
// Errors. A reply of type Error (`-ERR ...`) is a value like any other. Malformed input (a type
// byte that is none of `+ - : $ *`, a bad length or integer, a missing CRLF, a line or bulk string
// over the limits) breaks the stream for good: replies completed before the fault are still handed
// out, after them `next` throws ProtocolError (every time), and further input is ignored. The
// connection that owns the parser should be closed.
//
// Thread-safety: none; a Parser belongs to one process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

namespace otp::redis {

// `+OK`: a status line (never contains CR or LF).
struct SimpleString {
  std::string value;
  friend bool operator==(const SimpleString&, const SimpleString&) = default;
};

// `-ERR unknown command`: the message, the error kind (ERR, WRONGTYPE, ...) included.
struct Error {
  std::string message;
  friend bool operator==(const Error&, const Error&) = default;
};

// `$-1` and `*-1`: RESP2 has two nils; both parse to this one.
struct Nil {
  friend bool operator==(Nil, Nil) = default;
};

// One reply: nil, simple string, error, integer (`:42`), bulk string (binary-safe, any bytes) or
// array (of replies, nested to any depth the parser allows).
class Reply {
 public:
  using Array = std::vector<Reply>;
  using Value = std::variant<Nil, SimpleString, Error, std::int64_t, std::string, Array>;
  // The alternatives of Value, in order.
  enum class Kind : std::uint8_t { nil, simple_string, error, integer, bulk_string, array };

  Reply() = default;  // nil
  Reply(Nil) {}
  Reply(SimpleString s) : value_(std::move(s)) {}
  Reply(Error e) : value_(std::move(e)) {}
  Reply(std::int64_t i) : value_(i) {}
  Reply(std::string bulk) : value_(std::move(bulk)) {}
  Reply(Array items) : value_(std::move(items)) {}

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  bool is_nil() const { return kind() == Kind::nil; }
  bool is_error() const { return kind() == Kind::error; }
  bool is_array() const { return kind() == Kind::array; }

  // The text of a simple string, an error or a bulk string. Throws std::logic_error for the
  // other kinds, as do the two accessors below.
  const std::string& as_string() const;
  std::int64_t as_integer() const;
  const Array& as_array() const;

  const Value& value() const& { return value_; }
  Value& value() & { return value_; }
  Value&& value() && { return std::move(value_); }

  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Value value_;
};

// For humans and logs, one line, in redis-cli's words: `OK`, `(error) ERR ...`, `(integer) 42`,
// `"bulk\r\n"` (non-printable bytes escaped), `(nil)`, `["a", (integer) 1, (nil)]`.
std::string to_string(const Reply& reply);

// Malformed input; `offset` is the position in the stream (bytes since the parser was created)
// where the fault was found.
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(const std::string& what, std::uint64_t offset)
      : std::runtime_error(what), offset_(offset) {}
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

class Parser {
 public:
  struct Limits {
    std::size_t max_line = std::size_t{64} << 20;      // a header, simple string or error line
    std::int64_t max_bulk = 512LL * 1024 * 1024;       // Redis's own proto-max-bulk-len
    std::int64_t max_array = (std::int64_t{1} << 32);  // elements of one array
    std::size_t max_depth = 512;                       // arrays within arrays
  };

  Parser() = default;
  explicit Parser(Limits limits) : limits_(limits) {}

  // Takes the next bytes of the stream, in any piece size, and parses as far as they go.
  void feed(std::string_view bytes);

  // The next complete reply, or nullopt until more bytes arrive. Throws ProtocolError once the
  // replies that preceded a fault have been taken.
  std::optional<Reply> next();

  // Complete replies waiting to be taken.
  std::size_t ready() const { return ready_.size(); }
  // The stream is broken (see ProtocolError).
  bool failed() const { return error_.has_value(); }
  // A reply has begun but is not complete yet.
  bool partial() const {
    return state_ != State::header || !stack_.empty() || read_ != buffer_.size();
  }

 private:
  enum class State : std::uint8_t { header, bulk_body, bulk_end };
  struct Frame {
    Reply::Array items;
    std::int64_t expected;
  };

  void parse();
  bool parse_header();
  void complete(Reply reply);
  void fail(const std::string& what, std::size_t at);
  std::uint64_t stream_offset(std::size_t at) const { return dropped_ + at; }

  Limits limits_;
  std::string buffer_;         // input not yet consumed starts at read_
  std::size_t read_ = 0;       // first unconsumed byte of buffer_
  std::size_t scan_ = 0;       // where the search for the header's CR resumes (>= read_)
  std::uint64_t dropped_ = 0;  // bytes of the stream before buffer_[0]
  State state_ = State::header;
  std::string bulk_;            // the bulk string being read
  std::int64_t bulk_left_ = 0;  // its bytes still to come
  std::vector<Frame> stack_;    // arrays being filled, innermost last
  std::deque<Reply> ready_;
  std::optional<ProtocolError> error_;
};

// --- encoding: commands are RESP arrays of bulk strings -----------------------------------------

namespace detail {
void append_array_header(std::string& out, std::size_t count);
void append_bulk(std::string& out, std::string_view arg);
std::size_t encoded_bulk_size(std::size_t length);
}  // namespace detail

template <class R>
concept CommandArgs = std::ranges::input_range<R> &&
    std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

// Appends one command to `out`: encode(out, {"SET", key, value}) or encode(out, args) for any
// range of strings, so that a pipeline is several calls on the same buffer.
template <CommandArgs R>
void encode(std::string& out, const R& args) {
  std::size_t count = 0;
  std::size_t size = 0;
  for (std::string_view arg : args) {
    ++count;
    size += detail::encoded_bulk_size(arg.size());
  }
  out.reserve(out.size() + size + 16);
  detail::append_array_header(out, count);
  for (std::string_view arg : args) detail::append_bulk(out, arg);
}

inline void encode(std::string& out, std::initializer_list<std::string_view> args) {
  encode<std::initializer_list<std::string_view>>(out, args);
}

// One command as a new string.
inline std::string encode(std::initializer_list<std::string_view> args) {
  std::string out;
  encode(out, args);
  return out;
}

// Appends every command of `commands` (a range of ranges of strings) to `out`.
template <std::ranges::input_range Rs>
requires CommandArgs<std::ranges::range_value_t<Rs>>
void encode_pipeline(std::string& out, const Rs& commands) {
  for (const auto& command : commands) encode(out, command);
}

inline void encode_pipeline(
    std::string& out, std::initializer_list<std::initializer_list<std::string_view>> commands) {
  for (auto command : commands) encode(out, command);
}

}  // namespace otp::redis

template <>
struct fmt::formatter<otp::redis::Reply> : fmt::formatter<std::string_view> {
  auto format(const otp::redis::Reply& reply, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(otp::redis::to_string(reply), ctx);
  }
};
