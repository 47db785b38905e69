// ParallelEnum: each and map over a list, one process per element, on top of Async.
//
//   co_await lab::ParallelEnum::each(urls, [](const std::string& url) { fetch(url); });
//   std::vector<int> squares = co_await lab::ParallelEnum::map(
//       std::vector<int>{1, 2, 3}, [](int n) { return n * n; });             // {1, 4, 9}
//
// Every job is started before the first is awaited, so they all run at once; the results are
// then awaited in the list's order, which keeps map's order whatever order the jobs finish in.
// (A job that crashes makes await wait forever, as in step 1 of Async: this is the lab's
// simplest version, not a library's.)
#pragma once

#include <type_traits>
#include <vector>

#include "async.hpp"

namespace lab {

struct ParallelEnum {
  template <class E, class F>
  static otp::Co<void> each(std::vector<E> list, F fun) {
    std::vector<Job<bool>> jobs;
    for (E& element : list) {
      jobs.push_back(execute_async([fun, element] {
        fun(element);
        return true;
      }));
    }
    for (const Job<bool>& job : jobs) co_await await(job);
  }

  template <class E, class F,
            class T = typename detail::Unwrap<std::invoke_result_t<F&, const E&>>::type>
  static otp::Co<std::vector<T>> map(std::vector<E> list, F fun) {
    std::vector<Job<T>> jobs;
    for (E& element : list) jobs.push_back(execute_async([fun, element] { return fun(element); }));
    std::vector<T> results;
    for (const Job<T>& job : jobs) {
      T value = co_await await(job);
      results.push_back(std::move(value));
    }
    co_return results;
  }
};

}  // namespace lab
