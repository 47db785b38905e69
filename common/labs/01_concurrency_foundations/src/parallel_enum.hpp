// ParallelEnum: each and map over a list, one process per element, on top of Async.
//
//   const std::vector<int> numbers{1, 2, 3};
//   std::vector<int> squares =
//       co_await lab::ParallelEnum::map(numbers, [](int n) { return n * n; });   // {1, 4, 9}
//   co_await lab::ParallelEnum::each(urls, [](const std::string& url) { fetch(url); });
//
// Every job is started at the call, before the first is awaited, so they all run at once; the
// results are then awaited in the list's order, which keeps map's order whatever order the jobs
// finish in. (A job that crashes makes await wait forever, as in step 1 of Async: this is the
// lab's simplest version, not a library's.)
#pragma once

#include <type_traits>
#include <utility>
#include <vector>

#include "async.hpp"

namespace lab {

struct ParallelEnum {
  template <class E, class F,
            class T = typename detail::Unwrap<std::invoke_result_t<F&, const E&>>::type>
  static otp::Co<std::vector<T>> map(const std::vector<E>& list, F fun) {
    std::vector<Job<T>> jobs;
    for (const E& element : list) {
      jobs.push_back(execute_async([fun, element] { return fun(element); }));
    }
    return await_all(std::move(jobs));
  }

  template <class E, class F>
  static otp::Co<void> each(const std::vector<E>& list, F fun) {
    return ignore(map(list, [fun](const E& element) {
      fun(element);
      return true;
    }));
  }

 private:
  template <class T>
  static otp::Co<std::vector<T>> await_all(std::vector<Job<T>> jobs) {
    std::vector<T> results;
    for (const Job<T>& job : jobs) {
      T value = co_await await(job);
      results.push_back(std::move(value));
    }
    co_return results;
  }

  template <class T>
  static otp::Co<void> ignore(otp::Co<T> results) {
    co_await std::move(results);
  }
};

}  // namespace lab
