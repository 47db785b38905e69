// The External Term Format: Erlang's term_to_binary and binary_to_term for otp::Term.
//
//   std::string bytes = otp::etf::encode(otp::Term::tuple({otp::Term::atom("ok"), 1}));
//   // bytes == "\x83\x64\x00\x02ok\x61\x01", as term_to_binary({ok, 1}) on OTP 25
//   otp::Result<otp::Term> back = otp::etf::decode(bytes);
//   if (!back) fmt::print("{}\n", back.reason());  // {bad_etf, Offset, "what was wrong"}
//
// encode writes what the BEAM's term_to_binary writes, byte for byte: the version byte 131, then
// SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT or LARGE_BIG_EXT as the value needs,
// NEW_FLOAT_EXT, STRING_EXT for a proper list of 1 to 65535 integers in 0..255, NIL_EXT,
// LIST_EXT, SMALL_TUPLE_EXT or LARGE_TUPLE_EXT, MAP_EXT (keys in map-key order, which is the
// BEAM's order for maps of up to 32 keys; larger maps are in hash order there, so bytes differ
// but decode equal), BINARY_EXT, BIT_BINARY_EXT, NEW_PID_EXT, NEWER_REFERENCE_EXT, and
// NEW_PORT_EXT for a port id that fits 32 bits, V4_PORT_EXT otherwise. Atoms follow
// `minor_version`: 1 (OTP 25's default) writes an atom whose characters are all Latin-1 as
// ATOM_EXT and any other as SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT; 2 (OTP 26's default, and what
// the distribution sends) writes every atom as UTF-8. `compressed` (0 = off, 1..9 = zlib level,
// as term_to_binary(T, [{compressed, Level}])) writes COMPRESSED (tag 80) when that is shorter,
// as the BEAM does.
//
// decode reads all of that and the older forms (ATOM_EXT, SMALL_ATOM_EXT, FLOAT_EXT, PID_EXT,
// REFERENCE_EXT, NEW_REFERENCE_EXT, PORT_EXT, NEW_PORT_EXT); a fun (NEW_FUN_EXT, EXPORT_EXT) is
// kept as its bytes (otp::Term::fun) and written back unchanged. Bytes after the term are an
// error, as for binary_to_term. Atom cache references (tag 82) exist only inside a distribution
// header and are refused here.
//
// Hostile input. Any bytes give a Term or an error naming the offset and the fault; never a
// crash. Every length is checked against the bytes that remain before anything is allocated (an
// element takes at least one byte, so a count claiming 4 billion elements fails at once); the
// size a COMPRESSED term claims is checked against the most zlib can expand its data (1032 to 1)
// and against `Limits::max_uncompressed`; nesting deeper than `Limits::max_depth` is an error,
// which bounds the decoder's recursion (and a decoded Term's destructor's).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "otp/dist/term.hpp"
#include "otp/result.hpp"

namespace otp::etf {

inline constexpr unsigned char version_byte = 131;

struct EncodeOptions {
  int minor_version = 1;  // 1: OTP 25's term_to_binary; 2: UTF-8 atoms always (OTP 26's)
  int compressed = 0;     // 0: never; 1..9: the zlib level, as term_to_binary's {compressed, N}
};

struct Limits {
  std::size_t max_depth = 512;                // tuples, lists, maps nested in each other
  std::size_t max_uncompressed = 256u << 20;  // what a COMPRESSED term may expand to
};

// term_to_binary(term): the version byte, then the term.
std::string encode(const Term& term, EncodeOptions options = {});
// The term alone, no version byte, appended to `out` (for the distribution's messages).
void encode_to(std::string& out, const Term& term, EncodeOptions options = {});

// binary_to_term(bytes): the error is {bad_etf, Offset, "what"}, Offset counting from the
// first byte of `bytes`.
Result<Term> decode(std::string_view bytes, Limits limits = {});
// One term with no version byte at `bytes[offset]`; `offset` moves past it. For the
// distribution's control messages, which are terms one after another.
Result<Term> decode_one(std::string_view bytes, std::size_t& offset, Limits limits = {});

}  // namespace otp::etf
