// Command-line parsing shared by the three programs: a usage error exits 2, as a configuration error does
// (CLI11's own exit codes, 105-114, say nothing to a shell script).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace ss {

// Parses argv into `app`. Returns the status to exit with (0 after --help or --version, 2 after a usage error,
// whose message CLI11 has printed), or nullopt to go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
}

}  // namespace ss
