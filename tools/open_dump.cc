#include "tools/open_dump.h"

#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"
#include "parser/dump_reader.h"

namespace pgmerge::tools {
namespace {

// pg_restore on PATH, else the newest in Debian's versioned directories.
std::string FindPgRestore() {
  if (const char* path = getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string dir(rest.substr(0, colon));
      std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/pg_restore");
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  glob_t g;
  std::string found;
  if (glob("/usr/lib/postgresql/*/bin/pg_restore", 0, nullptr, &g) == 0) {
    if (g.gl_pathc > 0) found = g.gl_pathv[g.gl_pathc - 1];
  }
  globfree(&g);
  return found;
}

absl::StatusOr<MappedFile> ConvertWithPgRestore(const std::string& path,
                                                std::string_view kind) {
  std::string pg_restore = FindPgRestore();
  if (pg_restore.empty()) {
    return InputError(path, 1,
                      absl::StrCat("a ", AsAbsl(kind),
                                   " dump; pgmerge reads plain SQL: convert "
                                   "it with  pg_restore -f dump.sql ",
                                   path));
  }
  const char* tmpdir = getenv("TMPDIR");
  std::string out = absl::StrCat(tmpdir ? tmpdir : "/tmp",
                                 "/pgmerge-restore-XXXXXX");
  int fd = mkstemp(out.data());
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  close(fd);
  // pg_restore's messages are kept and the first one quoted in ours, so
  // the user sees one error line, and stdout stays clean.
  std::string errors = out + ".err";
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
    }
    execl(pg_restore.c_str(), "pg_restore", "-f", out.c_str(), path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  bool ok = pid > 0 && waitpid(pid, &status, 0) >= 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0;
  std::string first_error;
  if (FILE* f = fopen(errors.c_str(), "r")) {
    char line[512];
    if (fgets(line, sizeof line, f) != nullptr) first_error = line;
    fclose(f);
  }
  unlink(errors.c_str());
  while (!first_error.empty() && first_error.back() == '\n') first_error.pop_back();
  if (!ok) {
    unlink(out.c_str());
    return InputError(path, 1,
                      absl::StrCat("a ", AsAbsl(kind), " dump that ", pg_restore,
                                   " could not convert to plain SQL (",
                                   first_error, ")"));
  }
  absl::StatusOr<MappedFile> mapped = MappedFile::Open(out);
  unlink(out.c_str());  // The mapping keeps the data alive.
  if (!mapped.ok()) return mapped.status();
  return mapped;
}

}  // namespace

absl::StatusOr<MappedFile> OpenDump(const std::string& path) {
  struct stat st;
  if (path != "-" && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::string toc = path + "/toc.dat";
    if (access(toc.c_str(), R_OK) == 0) {
      return ConvertWithPgRestore(path, "directory-format (pg_dump -Fd)");
    }
    return InputError(path, 1, "is a directory, not a pg_dump file");
  }
  PGM_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  switch (parser::DetectDumpFormat(file.data())) {
    case parser::DumpFormat::kCustom:
      if (path == "-") break;  // pg_restore needs a file; say so below.
      return ConvertWithPgRestore(path, "custom-format (pg_dump -Fc)");
    case parser::DumpFormat::kTar:
      if (path == "-") break;
      return ConvertWithPgRestore(path, "tar-format (pg_dump -Ft)");
    default:
      break;
  }
  return file;
}

}  // namespace pgmerge::tools
