#include "tools/output_files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace pgmerge::tools {
namespace {

mode_t g_umask = 022;

absl::Status Errno(std::string_view what, std::string_view path) {
  return absl::PermissionDeniedError(
      absl::StrCat("cannot ", AsAbsl(what), " ", AsAbsl(path), ": ", std::strerror(errno)));
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool WriteFully(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

void RememberUmask() {
  g_umask = umask(0);
  umask(g_umask);
}

absl::StatusOr<AtomicFile> AtomicFile::Create(const std::string& path) {
  struct stat st;
  // A FIFO or a device (--report /dev/null, /dev/stdout) is written as it
  // is, links to one included: a rename would replace the device itself.
  if (stat(path.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
    int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return Errno("write", path);
    return AtomicFile(path, /*tmp=*/"", fd);
  }
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is a symbolic link; pgmerge neither writes through nor replaces one: give the "
                "path of the file itself"));
    }
    if (S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is a directory"));
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is neither a regular file, a FIFO nor a character device"));
    }
  }
  std::string dir = DirOf(path);
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string tmp = absl::StrCat(dir, "/.", base, ".pgmerge-XXXXXX");
  // mkstemp: O_CREAT|O_EXCL, mode 0600, so nobody else can have the
  // file open, or have planted a link there, before it is renamed.
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Errno("write", path);
  return AtomicFile(path, tmp, fd);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), tmp_(std::move(other.tmp_)), fd_(other.fd_) {
  other.fd_ = -1;
  other.tmp_.clear();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

absl::Status AtomicFile::Write(std::string_view text) {
  if (!WriteFully(fd_, text.data(), text.size())) return Errno("write", path_);
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (tmp_.empty()) {  // Written in place (a FIFO or a device): nothing to rename.
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return Errno("write", path_);
    return absl::OkStatus();
  }
  if (fsync(fd_) != 0) return Errno("write", path_);
  if (fchmod(fd_, 0666 & ~g_umask) != 0) return Errno("set the mode of", path_);
  if (close(fd_) != 0) {
    fd_ = -1;
    return Errno("write", path_);
  }
  fd_ = -1;
  if (rename(tmp_.c_str(), path_.c_str()) != 0) return Errno("write", path_);
  tmp_.clear();
  int dir = open(DirOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);  // The rename itself survives a crash.
    close(dir);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view text) {
  absl::StatusOr<AtomicFile> f = AtomicFile::Create(path);
  if (!f.ok()) return f.status();
  if (absl::Status s = f->Write(text); !s.ok()) return s;
  return f->Commit();
}

absl::StatusOr<std::unique_ptr<SqlOutput>> SqlOutput::Open(const std::string& path,
                                                           bool dry_run) {
  std::unique_ptr<SqlOutput> out(new SqlOutput());
  if (dry_run) return out;
  int sink = STDOUT_FILENO;
  if (!path.empty()) {
    // A FIFO or a device (-o /dev/stdout, /dev/null) is written as it is,
    // links to one included; anything else is a file made atomically.
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
      sink = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (sink < 0) return Errno("write", path);
      out->own_sink_ = true;
    } else {
      absl::StatusOr<AtomicFile> f = AtomicFile::Create(path);
      if (!f.ok()) return f.status();
      out->kind_ = Kind::kFile;
      out->write_fd_ = f->fd();
      out->file_.emplace(std::move(*f));
      return out;
    }
  }
  out->kind_ = Kind::kStream;
  out->sink_fd_ = sink;
  SqlOutput* self = out.get();
  out->forwarder_ = std::thread([self] { self->Forward(); });
  return out;
}

void SqlOutput::Write(std::string_view bytes) {
  std::string piece(bytes);
  Adopt(&piece);
}

bool SqlOutput::Adopt(std::string* bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  // A few pieces ahead at most: memory stays bounded when the reader is slow.
  changed_.wait(lock, [this] { return queue_.size() < 4; });
  std::string spare;
  if (!spare_.empty()) {
    spare = std::move(spare_.back());
    spare_.pop_back();
  }
  std::swap(spare, *bytes);  // The caller writes on into an emptied piece.
  queue_.push_back(std::move(spare));
  changed_.notify_all();
  return true;
}

void SqlOutput::Forward() {
  for (;;) {
    std::string piece;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [this] { return !queue_.empty() || closed_; });
      if (queue_.empty()) break;  // Closed and drained.
      piece = std::move(queue_.front());
      queue_.pop_front();
      changed_.notify_all();
    }
    // Pass on the previous piece; hold this one back.
    if (!held_.empty() && forward_error_ == 0) {
      if (WriteFully(sink_fd_, held_.data(), held_.size())) {
        forwarded_ += held_.size();
      } else {
        forward_error_ = errno ? errno : EIO;  // Keep draining: the merger must not block.
      }
    }
    std::swap(held_, piece);
    piece.clear();
    std::lock_guard<std::mutex> lock(mu_);
    spare_.push_back(std::move(piece));
  }
}

void SqlOutput::Finish() {
  if (finished_) return;
  finished_ = true;
  if (kind_ == Kind::kStream) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;  // The forwarder drains the queue and ends.
    }
    changed_.notify_all();
    forwarder_.join();
  }
}

absl::Status SqlOutput::Commit() {
  Finish();
  switch (kind_) {
    case Kind::kDiscard:
      return absl::OkStatus();
    case Kind::kFile: {
      absl::Status s = file_->Commit();
      file_.reset();
      return s;
    }
    case Kind::kStream:
      if (forward_error_ == 0 && !WriteFully(sink_fd_, held_.data(), held_.size())) {
        forward_error_ = errno ? errno : EIO;
      }
      if (own_sink_ && close(sink_fd_) != 0 && forward_error_ == 0) forward_error_ = errno;
      own_sink_ = false;
      if (forward_error_ != 0) {
        errno = forward_error_;
        return Errno("write the SQL to", sink_fd_ == STDOUT_FILENO ? "standard output" : "the output");
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

void SqlOutput::Abandon() {
  Finish();
  if (kind_ == Kind::kFile) file_.reset();  // Removes the temporary file.
  if (kind_ == Kind::kStream && forwarded_ > 0 && forward_error_ == 0) {
    WriteFully(sink_fd_, kPoison.data(), kPoison.size());
  }
  if (own_sink_) close(sink_fd_);
  own_sink_ = false;
}

SqlOutput::~SqlOutput() {
  if (!finished_) Abandon();
}

}  // namespace pgmerge::tools
