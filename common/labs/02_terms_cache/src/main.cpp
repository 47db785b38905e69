// terms_cache: reads per second of both caches with 1, 2 and 8 reader processes.
//
//   terms_cache [--seconds <s>]      each measurement lasts <s> seconds (default 1)
//
// Every reader reads the keys of a cache of 1000 entries in turn, as fast as it can, until the
// time is up, and reports how many reads it made.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "table_terms_cache.hpp"
#include "terms_cache.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int keys = 1000;

struct Reads {
  long count;
};

std::string key(int i) { return "key" + std::to_string(i % keys); }

otp::Co<void> genserver_reader(otp::Pid report, Clock::time_point until) {
  long count = 0;
  for (int i = 0; Clock::now() < until; ++i, ++count) {
    const std::string k = key(i);
    auto value = co_await lab::TermsCache::get(k);
    if (!value) otp::exit("missing_key");
  }
  otp::send(report, Reads{count});
}

otp::Co<void> table_reader(otp::Pid report, Clock::time_point until) {
  long count = 0;
  for (int i = 0; Clock::now() < until; ++i, ++count) {
    if (!lab::TableTermsCache::get(key(i))) otp::exit("missing_key");
    if (i % 4096 == 0) co_await otp::yield();  // a process shares its thread now and then
  }
  otp::send(report, Reads{count});
}

template <class Reader>
double reads_per_second(otp::Scoped& me, Reader reader, int readers, double seconds) {
  const auto start = Clock::now();
  const auto until =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int r = 0; r < readers; ++r) me.spawn(reader, me.pid(), until);
  long total = 0;
  for (int r = 0; r < readers; ++r) total += me.receive<Reads>().count;
  const std::chrono::duration<double> took = Clock::now() - start;
  return static_cast<double>(total) / took.count();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1;
  if (argc == 3 && std::strcmp(argv[1], "--seconds") == 0) {
    seconds = std::stod(argv[2]);
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: terms_cache [--seconds <s>]\n");
    return 2;
  }
  otp::Runtime rt;
  otp::Scoped me(rt);
  me.await(lab::TermsCache::start_link());
  me.await(lab::TableTermsCache::start_link());
  for (int i = 0; i < keys; ++i) {
    me.await(lab::TermsCache::put(key(i), "value"));
    me.await(lab::TableTermsCache::put(key(i), "value"));
  }
  fmt::print("{} scheduler threads, {} s per measurement\n", rt.threads(), seconds);
  fmt::print("| readers | TermsCache (GenServer) reads/s | TableTermsCache (Table) reads/s |\n");
  fmt::print("|---:|---:|---:|\n");
  for (int readers : {1, 2, 8}) {
    const double genserver = reads_per_second(me, genserver_reader, readers, seconds);
    const double table = reads_per_second(me, table_reader, readers, seconds);
    fmt::print("| {} | {:.0f} | {:.0f} |\n", readers, genserver, table);
  }
  return 0;
}
