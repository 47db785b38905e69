// Tab completion while a prompt runs: the first word of a line is a command, the others its
// arguments (the console's completions, live logins say). The line editor calls back through
// plain functions, so the two lists are globals, set for the life of one TabCompletion.
#pragma once

#include <string>
#include <vector>

namespace otp::detail {

class TabCompletion {
 public:
  // Installs the completion on the line editor, over these lists (which must outlive it); the
  // caller refills `arguments` before each line.
  TabCompletion(const std::vector<std::string>& command_names,
                const std::vector<std::string>& arguments);
  ~TabCompletion();
  TabCompletion(const TabCompletion&) = delete;
  TabCompletion& operator=(const TabCompletion&) = delete;
};

}  // namespace otp::detail
