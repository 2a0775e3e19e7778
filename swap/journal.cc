#include "swap/journal.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

absl::Status Journal::Write(const std::string& step) {
  state["step"] = step;
  state["updated"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  std::string text = state.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
  return absl::StrCat("pgmerge-swap-", safe, ".json");
}

}  // namespace pgmerge::swap
