#include "swap/journal.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "swap/swap.h"

namespace pgmerge::swap {
namespace internal {

using Json = nlohmann::json;

std::string UtcNow(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

namespace {

// mkdir -p of the directory holding `path`, private to the user (0700):
// the journal names databases and the report.
absl::Status MakeParentDirectories(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string dir = path.substr(0, slash);
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string part = dir.substr(0, end);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the state directory ", part, ": ", std::strerror(errno)));
    }
    if (end == std::string::npos) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Journal::Write(const std::string& step) {
  state["step"] = step;
  state["updated"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  PGM_RETURN_IF_ERROR(MakeParentDirectories(path));
  // The rename below would replace whatever is there: a device (as root,
  // --state /dev/null would replace /dev/null itself), a FIFO, a link.
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the state file ", path, " is not a regular file"));
  }
  std::string text = state.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  // A new file, never one planted there (O_EXCL does not follow a link);
  // a crash's leftover is removed first.
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("cannot write the state file ", path));
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write the state file ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ReadJournal(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no state file ", path));
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || j.value("format", "") != "pgmerge-swap-state") {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a pgmerge swap state file"));
  }
  return j;
}

bool Finished(const std::string& step) {
  return step == "done" || step == "aborted" || step == "rolled_back" || step.empty();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace internal

std::string DefaultStatePath(std::string_view main) {
  std::string safe;
  for (char c : main) {
    safe.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
                       ? c
                       : '_');
  }
  // One place whatever the working directory, so `cd /tmp; pgmerge
  // rollback --main app` finds the swap made elsewhere (XDG base directory
  // spec: state that survives restarts). A relative XDG_STATE_HOME is
  // ignored, as the spec says.
  std::string dir;
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    dir = absl::StrCat(xdg, "/pgmerge");
  } else if (home != nullptr && home[0] == '/') {
    dir = absl::StrCat(home, "/.local/state/pgmerge");
  } else {
    return absl::StrCat("pgmerge-swap-", safe, ".json");
  }
  return absl::StrCat(dir, "/pgmerge-swap-", safe, ".json");
}

}  // namespace pgmerge::swap
