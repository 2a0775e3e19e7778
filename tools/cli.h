// What every subcommand shares: its flag table is a CLI::App (CLI11), from
// which both the parsing and `--help` come; usage errors are one line and
// exit 2; connection flags are psql's.
#ifndef PGMERGE_TOOLS_CLI_H_
#define PGMERGE_TOOLS_CLI_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace pgmerge::tools {

// A subcommand's flag table with pgmerge's conventions: `--help` and `-?`
// (-h is psql's --host), values as `--name value` or `--name=value`.
std::unique_ptr<CLI::App> NewApp(const std::string& command, const std::string& description,
                                 const std::string& footer);

// Parses `args` into `app`. Returns nullopt to go on, or the exit status of
// a help text it printed (0) or a usage error it printed (2). A flag given
// without its value is named ("--db needs a value"), an unknown one is
// matched against the table ("did you mean --report?").
std::optional<int> Parse(CLI::App& app, const std::vector<std::string>& args);

// A flag that may be given again, each time with one value, all kept
// (--fill, --rename, ...): `option`, made so.
CLI::Option* Repeatable(CLI::Option* option);

// "pgmerge: COMMAND: MESSAGE (see pgmerge COMMAND --help)" on one line; 2.
int Usage(std::string_view command, std::string_view message);

// Parses a whole number in [min, max] (flags bound as text so the message
// is ours).
std::optional<long> ParseCount(const std::string& text, long min, long max);
// Seconds: a non-negative number up to a day.
std::optional<double> ParseSeconds(const std::string& text);

// Levenshtein distance, for "did you mean".
size_t EditDistance(std::string_view a, std::string_view b);

// psql's connection flags: -d/--dbname, -h/--host, -p/--port,
// -U/--username, -w/--no-password, -W/--password.
struct ConnectionFlags {
  std::string host, port, username;
  bool no_password = false;
  bool prompt_password = false;
};
void AddConnectionFlags(CLI::App& app, ConnectionFlags* flags);
// -h/-p/-U become libpq's PGHOST/PGPORT/PGUSER, so a conninfo string or
// URI given as the database still wins over them, as it does in psql, and
// PG* variables, the service file and .pgpass work as ever. -W prompts on
// the terminal (echo off) and hands the password to libpq as PGPASSWORD:
// it is never on the command line, in a conninfo string or a message.
absl::Status ApplyConnectionFlags(const ConnectionFlags& flags);

// The whole of a small file (a report).
std::optional<std::string> ReadWhole(const std::string& path);

// Ctrl-C and SIGTERM set a flag the long steps poll (swap, rollback,
// mirror) instead of killing the process mid-step.
void CatchInterrupts();
bool Interrupted();
void LogLine(std::string_view line);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_CLI_H_
