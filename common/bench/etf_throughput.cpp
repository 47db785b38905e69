// etf_throughput: the External Term Format codec (otp/dist/etf.hpp) in MB/s of encoded bytes,
// beside the BEAM's term_to_binary and binary_to_term on the same terms.
//
//   build/release/bench/etf_throughput [erl=erl] [erlc=erlc]
//
// The terms are written once, in Erlang (below). The BEAM side (etf_beam.erl, compiled with
// erlc into a temporary folder) times term_to_binary and binary_to_term on each and prints the
// bytes; this side decodes those bytes, checks that encoding them gives the same bytes, and
// times its own encode and decode of them. Each figure is batches of calls, doubling, until
// 300 ms have been timed. One line per figure:
//   RESULT etf_<term> <encode|decode>_mb_per_s_<ours|beam> <value> MB/s
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/dist/etf.hpp"

#ifndef OTP_ETF_BEAM_SOURCE
#error "OTP_ETF_BEAM_SOURCE: the path of etf_beam.erl"
#endif

namespace {

const std::vector<std::pair<const char*, const char*>> terms{
    {"gen_call",
     "{'$gen_call', {list_to_pid(\"<0.80.0>\"), erlang:list_to_ref(\"#Ref<0.1.2.3>\")}, "
     "{get, <<\"session-42\">>}}"},
    {"maps",
     "[#{id => N, name => <<\"user\">>, score => 1.5, tags => [a, b]} || "
     "N <- lists:seq(1, 1000)]"},
    {"integers", "lists:seq(1, 100000)"},
    {"binaries",
     "[<<\"line number \", (integer_to_binary(N))/binary>> || N <- lists:seq(1, 10000)]"},
    {"binary_1mb", "binary:copy(<<\"x\">>, 1048576)"},
    {"atoms_tuples", "[{N, ok, 'hello world', [x, y, z]} || N <- lists:seq(1, 10000)]"},
};

template <class F>
double rate(F&& f, std::size_t bytes) {
  using clock = std::chrono::steady_clock;
  std::size_t calls = 0;
  std::chrono::nanoseconds spent{0};
  for (std::size_t batch = 1; spent < std::chrono::milliseconds(300); batch *= 2) {
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < batch; ++i) f();
    spent += clock::now() - t0;
    calls += batch;
  }
  return static_cast<double>(bytes) * static_cast<double>(calls) /
         std::chrono::duration<double>(spent).count() / 1e6;
}

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"erl", "erl"}, {"erlc", "erlc"}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos || !args.contains(a.substr(0, eq))) {
      fmt::print("ERROR etf unknown argument {} (erl=..., erlc=...)\n", a);
      return 2;
    }
    args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("otp-etf-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto list = dir / "terms.txt";
  {
    std::ofstream out(list);
    for (const auto& [name, erlang] : terms) out << name << " " << erlang << "\n";
  }
  run(fmt::format("{} -o {} {} 2>&1", args["erlc"], dir.string(), OTP_ETF_BEAM_SOURCE));
  const std::string beam =
      run(fmt::format("{} -noshell -pa {} -eval 'etf_beam:run(\"{}\")' -s init stop 2>&1",
                      args["erl"], dir.string(), list.string()));
  std::filesystem::remove_all(dir);

  int status = 0;
  std::istringstream in(beam);
  std::map<std::string, std::string> bytes;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string kind, name;
    fields >> kind >> name;
    if (kind == "term") {
      std::string hex;
      fields >> hex;
      bytes[name] = unhex(hex);
      continue;
    }
    if (kind != "beam") continue;
    double beam_encode = 0, beam_decode = 0;
    fields >> beam_encode >> beam_decode;
    const std::string& encoded = bytes[name];
    auto term = otp::etf::decode(encoded);
    if (!term.ok() || otp::etf::encode(term.value()) != encoded) {
      fmt::print("ERROR etf_{} the BEAM's bytes do not round-trip: {}\n", name, term.to_string());
      status = 1;
      continue;
    }
    std::size_t sink = 0;
    const double encode =
        rate([&] { sink += otp::etf::encode(term.value()).size(); }, encoded.size());
    const double decode = rate([&] { sink += otp::etf::decode(encoded).ok(); }, encoded.size());
    fmt::print("INFO etf_{} bytes={} checksum={}\n", name, encoded.size(), sink % 7);
    fmt::print("RESULT etf_{} encode_mb_per_s_ours {:.1f} MB/s\n", name, encode);
    fmt::print("RESULT etf_{} encode_mb_per_s_beam {:.1f} MB/s\n", name, beam_encode);
    fmt::print("RESULT etf_{} decode_mb_per_s_ours {:.1f} MB/s\n", name, decode);
    fmt::print("RESULT etf_{} decode_mb_per_s_beam {:.1f} MB/s\n", name, beam_decode);
  }
  if (bytes.size() != terms.size()) {
    fmt::print("ERROR etf the BEAM side gave {} terms of {}: {}\n", bytes.size(), terms.size(),
               beam.substr(0, 500));
    status = 1;
  }
  return status;
}
