// The External Term Format codec (otp/dist/etf.hpp).
//
// Encoding appends to one std::string: each kind picks its tag as the BEAM's term_to_binary
// picks it (the choices are listed in etf.hpp), so the bytes are the BEAM's. Compression encodes
// first, then deflates the body (everything after the version byte) with zlib at the asked level
// and keeps the result only when it is shorter than the plain form, as the BEAM does.
//
// Decoding is a recursive descent over a string_view with a read offset. The input is hostile
// until proven otherwise, so every read checks the bytes that remain first, and the first fault
// stops the decoder with its offset and a message. Counts never allocate more than the input
// can fill: a tuple, list or map announcing N elements must have at least N (2N for a map) bytes
// left, since each element takes one byte at the least; a binary's length must be within the
// input. Recursion is bounded by Limits::max_depth. A COMPRESSED term's announced size is checked
// against zlib's best ratio (1032:1) for the bytes given and against Limits::max_uncompressed
// before its buffer is allocated, and the data must inflate to exactly that size.
#include "otp/dist/etf.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <zlib.h>

#include "otp/dist/detail/etf_tags.hpp"
#include "otp/dist/detail/text.hpp"

namespace otp::etf {

namespace {

using namespace detail;

void put8(std::string& out, std::uint64_t v) { out.push_back(static_cast<char>(v & 0xff)); }
void put16(std::string& out, std::uint64_t v) {
  put8(out, v >> 8);
  put8(out, v);
}
void put32(std::string& out, std::uint64_t v) {
  put16(out, v >> 16);
  put16(out, v);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, v >> 32);
  put32(out, v);
}

// --- encoding -------------------------------------------------------------------------------

class Encoder {
 public:
  Encoder(std::string& out, EncodeOptions options) : out_(out), options_(options) {}

  void atom(std::string_view utf8) {
    if (options_.minor_version < 2) {
      if (auto length = dist::detail::latin1_length(utf8)) {
        put8(out_, atom_ext);
        put16(out_, *length);
        if (*length == utf8.size()) {
          out_ += utf8;  // ASCII: the same bytes
        } else {
          dist::detail::append_latin1(out_, utf8);
        }
        return;
      }
    }
    if (utf8.size() < 256) {
      put8(out_, small_atom_utf8_ext);
      put8(out_, utf8.size());
    } else {
      put8(out_, atom_utf8_ext);
      put16(out_, utf8.size());
    }
    out_ += utf8;
  }

  void magnitude(bool negative, std::string_view mag) {
    if (mag.size() < 256) {
      put8(out_, small_big_ext);
      put8(out_, mag.size());
    } else {
      put8(out_, large_big_ext);
      put32(out_, mag.size());
    }
    put8(out_, negative ? 1 : 0);
    out_ += mag;
  }

  void integer(std::int64_t i) {
    if (i >= 0 && i <= 255) {
      put8(out_, small_integer_ext);
      put8(out_, static_cast<std::uint64_t>(i));
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
      put8(out_, integer_ext);
      put32(out_, static_cast<std::uint32_t>(static_cast<std::int32_t>(i)));
    } else {
      const bool negative = i < 0;
      std::uint64_t u =
          negative ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
      std::string mag;
      for (; u != 0; u >>= 8) mag.push_back(static_cast<char>(u & 0xff));
      magnitude(negative, mag);
    }
  }

  static bool is_byte_string(const Term& t) {
    const auto elems = t.elements();
    if (!t.tail().is_nil() || elems.size() >= 65536) return false;
    for (const auto& e : elems) {
      if (!e.is_integer() || e.is_big() || e.as_int() < 0 || e.as_int() > 255) return false;
    }
    return true;
  }

  void term(const Term& t) {
    switch (t.type()) {
      case Term::Type::integer:
        if (t.is_big()) {
          magnitude(t.big_negative(), t.big_magnitude());
        } else {
          integer(t.as_int());
        }
        return;
      case Term::Type::floating:
        put8(out_, new_float_ext);
        put64(out_, std::bit_cast<std::uint64_t>(t.as_double()));
        return;
      case Term::Type::atom:
        atom(t.atom_name());
        return;
      case Term::Type::binary:
        put8(out_, binary_ext);
        put32(out_, t.bytes().size());
        out_ += t.bytes();
        return;
      case Term::Type::bitstring:
        put8(out_, bit_binary_ext);
        put32(out_, t.bytes().size());
        put8(out_, t.bits_in_last_byte());
        out_ += t.bytes();
        return;
      case Term::Type::nil:
        put8(out_, nil_ext);
        return;
      case Term::Type::list: {
        const auto elems = t.elements();
        if (is_byte_string(t)) {
          put8(out_, string_ext);
          put16(out_, elems.size());
          for (const auto& e : elems) put8(out_, static_cast<std::uint64_t>(e.as_int()));
          return;
        }
        put8(out_, list_ext);
        put32(out_, elems.size());
        for (const auto& e : elems) term(e);
        term(t.tail());
        return;
      }
      case Term::Type::tuple: {
        const auto elems = t.elements();
        if (elems.size() < 256) {
          put8(out_, small_tuple_ext);
          put8(out_, elems.size());
        } else {
          put8(out_, large_tuple_ext);
          put32(out_, elems.size());
        }
        for (const auto& e : elems) term(e);
        return;
      }
      case Term::Type::map:
        put8(out_, map_ext);
        put32(out_, t.entries().size());
        for (const auto& [k, v] : t.entries()) {
          term(k);
          term(v);
        }
        return;
      case Term::Type::pid: {
        const auto& p = t.pid();
        put8(out_, new_pid_ext);
        atom(p.node);
        put32(out_, p.id);
        put32(out_, p.serial);
        put32(out_, p.creation);
        return;
      }
      case Term::Type::port: {
        const auto& p = t.port();
        const bool narrow = p.id <= UINT32_MAX;
        put8(out_, narrow ? new_port_ext : v4_port_ext);
        atom(p.node);
        if (narrow) {
          put32(out_, p.id);
        } else {
          put64(out_, p.id);
        }
        put32(out_, p.creation);
        return;
      }
      case Term::Type::reference: {
        const auto& r = t.reference();
        put8(out_, newer_reference_ext);
        put16(out_, r.ids.size());
        atom(r.node);
        put32(out_, r.creation);
        for (auto id : r.ids) put32(out_, id);
        return;
      }
      case Term::Type::fun:
        out_ += t.fun_bytes();
        return;
    }
  }

 private:
  std::string& out_;
  EncodeOptions options_;
};

// --- decoding -------------------------------------------------------------------------------

class Decoder {
 public:
  Decoder(std::string_view in, std::size_t pos, Limits limits, std::size_t base)
      : in_(in), pos_(pos), limits_(limits), base_(base) {}

  std::size_t pos() const { return pos_; }
  bool failed() const { return error_.has_value(); }
  Reason reason() const {
    return Reason::other(fmt::format("{{bad_etf, {}, \"{}\"}}", base_ + error_at_, *error_));
  }

  bool fail(std::size_t at, std::string what) {
    if (!error_) {
      error_ = std::move(what);
      error_at_ = at;
    }
    return false;
  }

  std::size_t left() const { return in_.size() - pos_; }

  bool need(std::size_t n, const char* what) {
    if (left() < n) return fail(pos_, fmt::format("{} needs {} bytes, {} left", what, n, left()));
    return true;
  }

  std::uint64_t get(std::size_t n) {  // n <= 8, after need()
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_ + i]);
    pos_ += n;
    return v;
  }

  std::string_view take(std::size_t n) {  // after need()
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  // A count of elements that each take at least `min_bytes`: within what is left.
  bool count_fits(std::size_t count, std::size_t min_bytes, std::size_t at, const char* what) {
    if (count > left() / min_bytes)
      return fail(at, fmt::format("{} of {} elements, only {} bytes left", what, count, left()));
    return true;
  }

  bool atom_text(std::uint8_t tag, std::size_t at, std::string& out) {
    const bool small = tag == small_atom_ext || tag == small_atom_utf8_ext;
    if (!need(small ? 1 : 2, "an atom's length")) return false;
    const std::size_t len = get(small ? 1 : 2);
    if (!need(len, "an atom's text")) return false;
    const std::string_view text = take(len);
    if (tag == atom_ext || tag == small_atom_ext) {
      if (len > 255) return fail(at, fmt::format("an atom of {} characters (255 at most)", len));
      out = dist::detail::latin1_to_utf8(text);
      return true;
    }
    const auto length = dist::detail::utf8_length(text);
    if (!length) return fail(at, "an atom's text is not UTF-8");
    if (*length > 255)
      return fail(at, fmt::format("an atom of {} characters (255 at most)", *length));
    out = std::string(text);
    return true;
  }

  // An atom: one Term per name and encoding for the whole decode, so a message that repeats
  // an atom (a list of records, say) shares it instead of allocating it again.
  bool atom(std::uint8_t tag, std::size_t at, Term& out) {
    const bool small = tag == small_atom_ext || tag == small_atom_utf8_ext;
    const bool latin1 = tag == atom_ext || tag == small_atom_ext;
    if (!need(small ? 1 : 2, "an atom's length")) return false;
    const std::size_t len = get(small ? 1 : 2);
    if (!need(len, "an atom's text")) return false;
    const std::string_view raw = in_.substr(pos_, len);
    auto& cache = latin1 ? latin1_atoms_ : utf8_atoms_;
    if (auto it = cache.find(raw); it != cache.end()) {
      pos_ += len;
      out = it->second;
      return true;
    }
    pos_ -= small ? 1 : 2;
    std::string name;
    if (!atom_text(tag, at, name)) return false;
    out = Term::atom(name);
    if (cache.size() < 4096) cache.emplace(raw, out);
    return true;
  }

  // The node of a pid, port or reference: an atom.
  bool node(std::string& out) {
    const std::size_t at = pos_;
    if (!need(1, "a node")) return false;
    const auto tag = static_cast<std::uint8_t>(get(1));
    if (tag != atom_ext && tag != small_atom_ext && tag != atom_utf8_ext &&
        tag != small_atom_utf8_ext)
      return fail(at, fmt::format("a node must be an atom, not tag {}", tag));
    return atom_text(tag, at, out);
  }

  bool elements(std::size_t count, std::size_t depth, std::vector<Term>& out) {
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      Term e;
      if (!term(depth + 1, e)) return false;
      out.push_back(std::move(e));
    }
    return true;
  }

  bool term(std::size_t depth, Term& out) {
    const std::size_t at = pos_;
    if (depth > limits_.max_depth)
      return fail(at, fmt::format("terms nested deeper than {}", limits_.max_depth));
    if (!need(1, "a term")) return false;
    const auto tag = static_cast<std::uint8_t>(get(1));
    switch (tag) {
      case small_integer_ext:
        if (!need(1, "SMALL_INTEGER_EXT")) return false;
        out = Term(static_cast<std::int64_t>(get(1)));
        return true;
      case integer_ext:
        if (!need(4, "INTEGER_EXT")) return false;
        out = Term(static_cast<std::int64_t>(static_cast<std::int32_t>(get(4))));
        return true;
      case small_big_ext:
      case large_big_ext: {
        const std::size_t width = tag == small_big_ext ? 1 : 4;
        if (!need(width + 1, "a big integer's header")) return false;
        const std::size_t n = get(width);
        const bool negative = get(1) != 0;
        if (!need(n, "a big integer's digits")) return false;
        out = Term::big_integer(negative, take(n));
        return true;
      }
      case new_float_ext: {
        if (!need(8, "NEW_FLOAT_EXT")) return false;
        const auto d = std::bit_cast<double>(get(8));
        if (!std::isfinite(d)) return fail(at, "a float that is not finite");
        out = Term::floating(d);
        return true;
      }
      case float_ext: {
        if (!need(31, "FLOAT_EXT")) return false;
        const std::string text(take(31).substr(0, 31));
        char* end = nullptr;
        const double d = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || !std::isfinite(d)) return fail(at, "FLOAT_EXT is not a float");
        out = Term::floating(d);
        return true;
      }
      case atom_ext:
      case small_atom_ext:
      case atom_utf8_ext:
      case small_atom_utf8_ext:
        return atom(tag, at, out);
      case small_tuple_ext:
      case large_tuple_ext: {
        const std::size_t width = tag == small_tuple_ext ? 1 : 4;
        if (!need(width, "a tuple's arity")) return false;
        const std::size_t n = get(width);
        if (!count_fits(n, 1, at, "a tuple")) return false;
        std::vector<Term> elems;
        if (!elements(n, depth, elems)) return false;
        out = Term::tuple(std::move(elems));
        return true;
      }
      case nil_ext:
        out = Term();
        return true;
      case string_ext: {
        if (!need(2, "STRING_EXT's length")) return false;
        const std::size_t n = get(2);
        if (!need(n, "STRING_EXT's characters")) return false;
        std::vector<Term> elems;
        elems.reserve(n);
        for (char c : take(n))
          elems.emplace_back(static_cast<std::int64_t>(static_cast<unsigned char>(c)));
        out = Term::list(std::move(elems));
        return true;
      }
      case list_ext: {
        if (!need(4, "LIST_EXT's length")) return false;
        const std::size_t n = get(4);
        if (!count_fits(n, 1, at, "a list")) return false;
        std::vector<Term> elems;
        if (!elements(n, depth, elems)) return false;
        Term tail;
        if (!term(depth + 1, tail)) return false;
        out = Term::list(std::move(elems), std::move(tail));
        return true;
      }
      case binary_ext: {
        if (!need(4, "BINARY_EXT's length")) return false;
        const std::size_t n = get(4);
        if (!need(n, "BINARY_EXT's bytes")) return false;
        out = Term::binary(std::string(take(n)));
        return true;
      }
      case bit_binary_ext: {
        if (!need(5, "BIT_BINARY_EXT's header")) return false;
        const std::size_t n = get(4);
        const auto bits = static_cast<unsigned>(get(1));
        if (n == 0 ? bits != 0 : (bits < 1 || bits > 8))
          return fail(at,
                      fmt::format("BIT_BINARY_EXT of {} bytes with {} bits in the last", n, bits));
        if (!need(n, "BIT_BINARY_EXT's bytes")) return false;
        out = n == 0 ? Term::binary({}) : Term::bitstring(std::string(take(n)), bits);
        return true;
      }
      case map_ext: {
        if (!need(4, "MAP_EXT's arity")) return false;
        const std::size_t n = get(4);
        if (!count_fits(n, 2, at, "a map")) return false;
        std::vector<Term::Entry> entries;
        entries.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          Term k, v;
          if (!term(depth + 1, k) || !term(depth + 1, v)) return false;
          entries.emplace_back(std::move(k), std::move(v));
        }
        out = Term::map(std::move(entries));
        if (out.entries().size() != n) return fail(at, "a map with a key twice");
        return true;
      }
      case new_pid_ext:
      case pid_ext: {
        ExternalPid p;
        if (!node(p.node)) return false;
        const std::size_t creation = tag == new_pid_ext ? 4 : 1;
        if (!need(8 + creation, "a pid")) return false;
        p.id = static_cast<std::uint32_t>(get(4));
        p.serial = static_cast<std::uint32_t>(get(4));
        p.creation = static_cast<std::uint32_t>(get(creation));
        out = Term::pid(std::move(p));
        return true;
      }
      case new_port_ext:
      case port_ext:
      case v4_port_ext: {
        ExternalPort p;
        if (!node(p.node)) return false;
        const std::size_t id = tag == v4_port_ext ? 8 : 4;
        const std::size_t creation = tag == port_ext ? 1 : 4;
        if (!need(id + creation, "a port")) return false;
        p.id = get(id);
        p.creation = static_cast<std::uint32_t>(get(creation));
        out = Term::port(std::move(p));
        return true;
      }
      case reference_ext: {
        ExternalRef r;
        if (!node(r.node)) return false;
        if (!need(5, "REFERENCE_EXT")) return false;
        r.ids.push_back(static_cast<std::uint32_t>(get(4)));
        r.creation = static_cast<std::uint32_t>(get(1));
        out = Term::reference(std::move(r));
        return true;
      }
      case new_reference_ext:
      case newer_reference_ext: {
        if (!need(2, "a reference's length")) return false;
        const std::size_t n = get(2);
        if (n > 5) return fail(at, fmt::format("a reference of {} ids (5 at most)", n));
        ExternalRef r;
        if (!node(r.node)) return false;
        const std::size_t creation = tag == newer_reference_ext ? 4 : 1;
        if (!need(creation + 4 * n, "a reference")) return false;
        r.creation = static_cast<std::uint32_t>(get(creation));
        for (std::size_t i = 0; i < n; ++i) r.ids.push_back(static_cast<std::uint32_t>(get(4)));
        out = Term::reference(std::move(r));
        return true;
      }
      case new_fun_ext: {
        if (!need(4, "NEW_FUN_EXT's size")) return false;
        const std::size_t size = get(4);  // counts itself
        if (size < 4) return fail(at, "NEW_FUN_EXT's size is too small");
        if (!need(size - 4, "NEW_FUN_EXT")) return false;
        take(size - 4);
        out = Term::fun(std::string(in_.substr(at, pos_ - at)));
        return true;
      }
      case export_ext: {
        Term module, function, arity;
        if (!term(depth + 1, module) || !term(depth + 1, function) || !term(depth + 1, arity))
          return false;
        if (!module.is_atom() || !function.is_atom() || !arity.is_integer() || arity.is_big() ||
            arity.as_int() > 255)
          return fail(at, "EXPORT_EXT is not {module, function, arity}");
        out = Term::fun(std::string(in_.substr(at, pos_ - at)));
        return true;
      }
      case atom_cache_ref:
        return fail(at, "an atom cache reference outside a distribution header");
      case fun_ext:
        return fail(at, "FUN_EXT (removed in OTP 23) is not supported");
      case local_ext:
        return fail(at, "LOCAL_EXT is not supported");
      case compressed:
        return fail(at, "COMPRESSED inside a term");
      default:
        return fail(at, fmt::format("unknown tag {}", tag));
    }
  }

 private:
  std::string_view in_;
  std::size_t pos_;
  Limits limits_;
  std::size_t base_;  // where in_ starts in the caller's bytes (inflated data: 0)
  std::optional<std::string> error_;
  std::size_t error_at_ = 0;
  std::unordered_map<std::string_view, Term> latin1_atoms_;  // keys point into in_
  std::unordered_map<std::string_view, Term> utf8_atoms_;
};

Reason error_at(std::size_t at, std::string_view what) {
  return Reason::other(fmt::format("{{bad_etf, {}, \"{}\"}}", at, what));
}

Result<Term> decode_compressed(std::string_view bytes, Limits limits) {
  // bytes: 131, 80, Size:32, zlib data
  if (bytes.size() < 6) return error_at(2, "COMPRESSED needs 4 bytes of size");
  std::size_t size = 0;
  for (std::size_t i = 2; i < 6; ++i) size = (size << 8) | static_cast<unsigned char>(bytes[i]);
  const std::string_view data = bytes.substr(6);
  if (size > limits.max_uncompressed)
    return error_at(2, fmt::format("COMPRESSED claims {} bytes, over the limit of {}", size,
                                   limits.max_uncompressed));
  if (size > data.size() * 1032 + 64)
    return error_at(
        2, fmt::format("COMPRESSED claims {} bytes from {} bytes of zlib data", size, data.size()));
  std::string plain(size, '\0');
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return error_at(6, "zlib cannot start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(plain.data());
  z.avail_out = static_cast<uInt>(plain.size());
  int rc = inflate(&z, Z_FINISH);
  const std::size_t produced = size - z.avail_out;
  const std::size_t consumed = data.size() - z.avail_in;
  // A full buffer before the stream's end: the data holds more than it claimed.
  if (rc == Z_BUF_ERROR && z.avail_out == 0) rc = Z_DATA_ERROR;
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    return error_at(6,
                    fmt::format("the zlib data is broken after {} bytes (zlib: {})", consumed, rc));
  if (produced != size)
    return error_at(2,
                    fmt::format("COMPRESSED claims {} bytes, the data holds {}", size, produced));
  if (consumed != data.size()) return error_at(6 + consumed, "bytes after the compressed data");
  Decoder d(plain, 0, limits, 0);
  Term t;
  if (!d.term(0, t)) {
    // Offsets inside the inflated data are not offsets in `bytes`: say so.
    auto r = d.reason();
    return Reason::other(fmt::format("{{bad_etf, compressed, {}}}", r.detail()));
  }
  if (d.pos() != plain.size())
    return Reason::other(
        fmt::format("{{bad_etf, compressed, {{bad_etf, {}, \"bytes after the term\"}}}}", d.pos()));
  return t;
}

}  // namespace

void encode_to(std::string& out, const Term& term, EncodeOptions options) {
  Encoder(out, options).term(term);
}

std::string encode(const Term& term, EncodeOptions options) {
  std::string out;
  out.push_back(static_cast<char>(version_byte));
  encode_to(out, term, options);
  if (options.compressed <= 0) return out;
  // Deflated into a buffer no longer than the plain body less the 5 bytes COMPRESSED adds: what
  // does not fit is not worth it, and the plain form stays.
  const std::size_t body = out.size() - 1;
  if (body <= 5) return out;
  std::string packed(6 + body - 5, '\0');
  uLongf packed_len = static_cast<uLongf>(body - 5);
  const int rc = compress2(reinterpret_cast<Bytef*>(packed.data() + 6), &packed_len,
                           reinterpret_cast<const Bytef*>(out.data() + 1), body,
                           std::min(options.compressed, 9));
  if (rc != Z_OK) return out;
  packed[0] = static_cast<char>(version_byte);
  packed[1] = static_cast<char>(detail::compressed);
  for (int i = 0; i < 4; ++i) packed[2 + i] = static_cast<char>((body >> (8 * (3 - i))) & 0xff);
  packed.resize(6 + packed_len);
  return packed;
}

Result<Term> decode_one(std::string_view bytes, std::size_t& offset, Limits limits) {
  Decoder d(bytes, offset, limits, 0);
  Term t;
  if (!d.term(0, t)) return d.reason();
  offset = d.pos();
  return t;
}

Result<Term> decode(std::string_view bytes, Limits limits) {
  if (bytes.empty()) return error_at(0, "no bytes");
  if (static_cast<unsigned char>(bytes[0]) != version_byte)
    return error_at(0,
                    fmt::format("version byte {}, not 131", static_cast<unsigned char>(bytes[0])));
  if (bytes.size() > 1 && static_cast<unsigned char>(bytes[1]) == detail::compressed)
    return decode_compressed(bytes, limits);
  std::size_t offset = 1;
  auto t = decode_one(bytes, offset, limits);
  if (t.ok() && offset != bytes.size()) return error_at(offset, "bytes after the term");
  return t;
}

}  // namespace otp::etf
