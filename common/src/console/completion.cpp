// See completion.hpp.
#include "completion.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <editline/readline.h>

namespace otp::detail {

namespace {

// g_candidates is the list for the word being completed.
const std::vector<std::string>* g_command_names = nullptr;
const std::vector<std::string>* g_arguments = nullptr;
const std::vector<std::string>* g_candidates = nullptr;

char* next_candidate(const char* text, int state) {
  static std::size_t index = 0;
  if (state == 0) index = 0;
  const std::string_view prefix = text;
  while (g_candidates != nullptr && index < g_candidates->size()) {
    const std::string& c = (*g_candidates)[index++];
    if (c.starts_with(prefix))
      return strdup(c.c_str());  // NOLINT(cppcoreguidelines-no-malloc): readline frees it
  }
  return nullptr;
}

}  // namespace

TabCompletion::TabCompletion(const std::vector<std::string>& command_names,
                             const std::vector<std::string>& arguments) {
  g_command_names = &command_names;
  g_arguments = &arguments;
  rl_attempted_completion_function = [](const char* text, int start, int) -> char** {
    rl_attempted_completion_over = 1;  // no file names
    const std::string_view before(rl_line_buffer, static_cast<std::size_t>(start));
    g_candidates =
        before.find_first_not_of(" \t") == std::string_view::npos ? g_command_names : g_arguments;
    return rl_completion_matches(text, next_candidate);
  };
}

TabCompletion::~TabCompletion() { g_command_names = g_arguments = g_candidates = nullptr; }

}  // namespace otp::detail
