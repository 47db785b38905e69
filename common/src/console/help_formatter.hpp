// CLI11's help, laid out as the console's always was: the usage line first, each option's
// default in words after its help, and the console's commands at the end (the footer).
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace otp::detail {

class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() { column_width(34); }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::string out = make_usage(app, std::move(name));
    if (std::string d = make_description(app); !d.empty()) out += "\n" + d;
    out += make_positionals(app) + make_groups(app, mode) + make_subcommands(app, mode);
    std::string footer = app->get_footer();
    if (const auto end = footer.find_last_not_of('\n'); end != std::string::npos)
      out += "\n" + footer.substr(0, end + 1) + "\n";
    return out;
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0 || opt->get_type_name().empty()) return "";
    return " " + opt->get_type_name();
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0 || opt->get_default_str().empty()) return opt->get_description();
    return fmt::format("{} (default {})", opt->get_description(), opt->get_default_str());
  }
};

}  // namespace otp::detail
