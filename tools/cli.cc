#include "tools/cli.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {
namespace {

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

// The app's name as the user types it: "" for the default merge.
std::string Spelled(const CLI::App& app) {
  const std::string& name = app.get_name();
  return name.size() > 8 && name.compare(0, 8, "pgmerge ") == 0 ? name.substr(8) : "";
}

// The flag of `app` closest to `typed`, if it is close.
std::string Closest(const CLI::App& app, std::string_view typed) {
  std::string best;
  size_t best_d = 3;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& n : o->get_lnames()) {
      size_t d = EditDistance(typed, "--" + n);
      if (d < best_d) best_d = d, best = "--" + n;
    }
  }
  return best;
}

}  // namespace

std::unique_ptr<CLI::App> NewApp(const std::string& command, const std::string& description,
                                 const std::string& footer) {
  auto app = std::make_unique<CLI::App>(description + "\n",
                                        command.empty() ? "pgmerge" : "pgmerge " + command);
  app->set_help_flag("-?,--help", "show this help and exit");
  // A flag given twice: the last one counts, as in getopt tools (scripts
  // append overrides). Repeatable flags say TakeAll themselves.
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app->footer(footer + "\n");
  app->get_formatter()->column_width(32);
  app->get_formatter()->label("OPTIONS", "OPTION");
  return app;
}

CLI::Option* Repeatable(CLI::Option* option) {
  return option->expected(1)->allow_extra_args(false)->multi_option_policy(
      CLI::MultiOptionPolicy::TakeAll);
}

int Usage(std::string_view command, std::string_view message) {
  std::string see = command.empty() ? "pgmerge --help" : absl::StrCat("pgmerge ", AsAbsl(command), " --help");
  std::fprintf(stderr, "pgmerge: %s%s%.*s (see %s)\n", std::string(command).c_str(),
               command.empty() ? "" : ": ", static_cast<int>(message.size()), message.data(),
               see.c_str());
  return kExitUsage;
}

std::optional<int> Parse(CLI::App& app, const std::vector<std::string>& args) {
  const std::string command = Spelled(app);
  // A flag that takes a value, given last or followed by another flag,
  // is named here: CLI11 would call it by its long name and its type.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-' || a.find('=') != std::string::npos) continue;
    if (a == "-?" || a == "--help") continue;
    const CLI::Option* opt = app.get_option_no_throw(a);
    if (opt == nullptr || opt->get_items_expected_min() == 0) continue;  // A switch.
    bool next_is_flag = i + 1 < args.size() && args[i + 1].size() > 1 && args[i + 1][0] == '-' &&
                        app.get_option_no_throw(args[i + 1].substr(0, args[i + 1].find('='))) != nullptr;
    if (i + 1 >= args.size() || next_is_flag) {
      return Usage(command, absl::StrCat(a, " needs a value"));
    }
    ++i;
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back.
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitDone;
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extra = app.remaining();
    std::string first = extra.empty() ? "?" : extra.front();
    if (first.size() > 1 && first[0] == '-') {
      std::string name = first.substr(0, first.find('='));
      std::string near = Closest(app, name);
      return Usage(command, absl::StrCat("unknown option ", name,
                                         near.empty() ? "" : absl::StrCat("; did you mean ", near, "?")));
    }
    return Usage(command, absl::StrCat("unexpected argument ", first));
  } catch (const CLI::ArgumentMismatch& e) {
    std::string what = e.what();
    return Usage(command, absl::StrCat(what.substr(0, what.find(':')), " needs a value"));
  } catch (const CLI::ParseError& e) {
    return Usage(command, e.what());
  }
  return std::nullopt;
}

std::optional<long> ParseCount(const std::string& text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno != 0 || n < min || n > max) {
    return std::nullopt;
  }
  return n;
}

std::optional<double> ParseSeconds(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(v >= 0) || v > 86400) return std::nullopt;
  return v;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

void AddConnectionFlags(CLI::App& app, ConnectionFlags* flags) {
  app.add_option("-h,--host", flags->host, "server host or socket directory (PGHOST)")
      ->type_name("HOST");
  app.add_option("-p,--port", flags->port, "server port (PGPORT)")->type_name("PORT");
  app.add_option("-U,--username", flags->username, "role to connect as (PGUSER)")
      ->type_name("NAME");
  app.add_flag("-w,--no-password", flags->no_password,
               "never prompt for a password (.pgpass, PGPASSWORD or none)");
  app.add_flag("-W,--password", flags->prompt_password,
               "prompt for the password on the terminal first");
}

absl::Status ApplyConnectionFlags(const ConnectionFlags& flags) {
  if (!flags.host.empty()) setenv("PGHOST", flags.host.c_str(), 1);
  if (!flags.port.empty()) {
    if (!ParseCount(flags.port, 1, 65535)) {
      return absl::InvalidArgumentError(absl::StrCat("-p/--port takes a port number, not ", flags.port));
    }
    setenv("PGPORT", flags.port.c_str(), 1);
  }
  if (!flags.username.empty()) setenv("PGUSER", flags.username.c_str(), 1);
  if (flags.prompt_password && flags.no_password) {
    return absl::InvalidArgumentError("-W/--password and -w/--no-password contradict each other");
  }
  if (!flags.prompt_password) return absl::OkStatus();
  // As psql: the prompt and the answer go through the terminal, never
  // stdin (which may carry a dump) or stdout (which carries SQL).
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    return absl::FailedPreconditionError(
        "-W/--password: no terminal to prompt on; use PGPASSWORD, a .pgpass file or a service file");
  }
  const char prompt[] = "Password: ";
  ssize_t ignored = write(tty, prompt, sizeof prompt - 1);
  (void)ignored;
  termios saved;
  bool restore = tcgetattr(tty, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  std::string password;
  char c;
  while (read(tty, &c, 1) == 1 && c != '\n' && c != '\r') password.push_back(c);
  if (restore) tcsetattr(tty, TCSAFLUSH, &saved);
  ignored = write(tty, "\n", 1);
  close(tty);
  setenv("PGPASSWORD", password.c_str(), 1);
  std::fill(password.begin(), password.end(), '\0');
  return absl::OkStatus();
}

std::optional<std::string> ReadWhole(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  if (!ok) return std::nullopt;
  return text;
}

void CatchInterrupts() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted.load(); }

void LogLine(std::string_view line) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace pgmerge::tools
