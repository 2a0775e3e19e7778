#include "base/mapped_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/read_progress.h"
#include "base/status.h"
#include "base/strings.h"

namespace pgmerge {
namespace {

absl::Status Errno(std::string_view what, std::string_view path) {
  return absl::NotFoundError(absl::StrCat(AsAbsl(path), ": ", AsAbsl(what), ": ", std::strerror(errno)));
}

// An unlinked temporary file's descriptor.
absl::StatusOr<int> TemporaryFile(std::string_view what) {
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmpdir ? tmpdir : "/tmp", "/pgmerge-", AsAbsl(what), "-XXXXXX");
  int fd = mkstemp(pattern.data());
  if (fd < 0) return Errno("cannot create spool file", pattern);
  unlink(pattern.c_str());
  return fd;
}

// Copies stdin into an unlinked temporary file and returns its descriptor.
absl::StatusOr<int> SpoolStdin() {
  absl::StatusOr<int> spool = TemporaryFile("stdin");
  if (!spool.ok()) return spool.status();
  const int fd = *spool;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return Errno("cannot read", "<stdin>");
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(fd, buf + done, n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        close(fd);
        return Errno("cannot spool", "<stdin>");
      }
      done += w;
    }
  }
  return fd;
}

}  // namespace

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  int fd;
  std::string name = path;
  if (path == "-") {
    name = "<stdin>";
    absl::StatusOr<int> spooled = SpoolStdin();
    if (!spooled.ok()) return spooled.status();
    fd = *spooled;
  } else {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", path);
  }
  return Map(fd, std::move(name));
}

absl::StatusOr<MappedFile> MappedFile::Spool(
    std::string name, absl::FunctionRef<absl::Status(int fd)> write) {
  PGM_ASSIGN_OR_RETURN(int fd, TemporaryFile("spool"));
  if (absl::Status s = write(fd); !s.ok()) {
    close(fd);
    return s;
  }
  return Map(fd, std::move(name));
}

// Maps and closes `fd`.
absl::StatusOr<MappedFile> MappedFile::Map(int fd, std::string name) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return Errno("cannot stat", name);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        name, ":1: is a directory; a directory-format dump must be converted "
              "first: pg_restore -f dump.sql ", name));
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    close(fd);
    return MappedFile(std::move(name), "", 0);
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return Errno("cannot map", name);
  return MappedFile(std::move(name), static_cast<const char*>(p), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    this->~MappedFile();
    new (this) MappedFile(std::move(other));
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && size_ > 0) munmap(const_cast<char*>(data_), size_);
}

namespace {
ReadProgressHook progress_hook = nullptr;
}  // namespace

void SetReadProgressHook(ReadProgressHook hook) { progress_hook = hook; }

void MappedFile::Release(size_t begin, size_t end) const {
  static const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  end = std::min(end, size_);
  if (progress_hook != nullptr) progress_hook(*this, end);
  size_t first = (begin + kPage - 1) / kPage * kPage;
  size_t last = end / kPage * kPage;
  if (size_ == 0 || last <= first) return;
  madvise(const_cast<char*>(data_) + first, last - first, MADV_DONTNEED);
}

void MappedFile::AdviseSequential() const {
  if (size_ > 0) madvise(const_cast<char*>(data_), size_, MADV_SEQUENTIAL);
}

}  // namespace pgmerge
