#include "tools/open_dump.h"

#include <fcntl.h>
#include <glob.h>
#include <lz4frame.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status.h"
#include "base/strings.h"
#include "parser/dump_reader.h"

namespace pgmerge::tools {
namespace {

constexpr size_t kChunk = size_t{1} << 16;

enum class Codec { kNone, kGzip, kZstd, kLz4, kLz4Legacy };

// Judged by content, as `file` does: the suffix may lie or be absent (a pipe).
Codec DetectCodec(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return Codec::kGzip;
  if (starts("\x28\xb5\x2f\xfd")) return Codec::kZstd;
  if (starts("\x04\x22\x4d\x18")) return Codec::kLz4;
  if (starts("\x02\x21\x4c\x18")) return Codec::kLz4Legacy;
  return Codec::kNone;
}

const char* CodecName(Codec c) {
  switch (c) {
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    case Codec::kLz4: case Codec::kLz4Legacy: return "lz4";
    case Codec::kNone: break;
  }
  return "plain";
}

absl::Status Errno(std::string_view what, std::string_view name) {
  return absl::NotFoundError(absl::StrCat(AsAbsl(name), ": ", AsAbsl(what), ": ", std::strerror(errno)));
}

// A temporary file in $TMPDIR, removed when this goes out of scope (the
// mapping made from it keeps the data alive).
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
  }
  absl::Status Create(std::string_view what) {
    const char* tmpdir = getenv("TMPDIR");
    path_ = absl::StrCat(tmpdir && *tmpdir ? tmpdir : "/tmp", "/pgmerge-", AsAbsl(what), "-XXXXXX");
    fd_ = mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0) {
      std::string p = path_;
      path_.clear();
      return Errno("cannot create a temporary file", p);
    }
    return absl::OkStatus();
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

// Reads `fd` to its end in chunks; the first chunk is the one already read
// to look at the magic bytes.
class Source {
 public:
  Source(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  // Fills the head: at least 512 bytes (tar's magic sits at 257) or all.
  absl::Status ReadHead() {
    head_.resize(kChunk);
    size_t got = 0;
    while (got < 512) {
      ssize_t n = read(fd_, head_.data() + got, head_.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", name_);
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    head_.resize(got);
    return absl::OkStatus();
  }
  std::string_view head() const { return head_; }
  // The next piece: the head first, then reads; empty at the end.
  absl::StatusOr<std::string_view> Next() {
    if (!head_given_) {
      head_given_ = true;
      if (!head_.empty()) return std::string_view(head_);
    }
    buf_.resize(kChunk);
    for (;;) {
      ssize_t n = read(fd_, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", name_);
      return std::string_view(buf_.data(), static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string name_;
  std::string head_;
  std::string buf_;
  bool head_given_ = false;
};

absl::Status WriteAll(int fd, const char* p, size_t n, const std::string& name) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("cannot spool to a temporary file ($TMPDIR)", name);
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status Truncated(const std::string& name, Codec c) {
  return absl::DataLossError(absl::StrCat(name, ": the ", CodecName(c),
                                          " data ends early: the file is truncated"));
}
absl::Status Corrupt(const std::string& name, Codec c, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat(name, ": not valid ", CodecName(c), " data (", AsAbsl(why), ")"));
}

absl::Status Gunzip(Source& in, int out, const std::string& name) {
  z_stream z = {};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("zlib init failed");
  std::vector<unsigned char> buf(kChunk * 4);
  bool ended = false;  // The last member was complete.
  absl::Status status;
  for (;;) {
    absl::StatusOr<std::string_view> piece = in.Next();
    if (!piece.ok()) { status = piece.status(); break; }
    if (piece->empty()) {
      if (!ended) status = Truncated(name, Codec::kGzip);
      break;
    }
    z.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(piece->data()));
    z.avail_in = static_cast<uInt>(piece->size());
    while (z.avail_in > 0 && status.ok()) {
      if (ended) {  // Concatenated members (cat a.gz b.gz) are one stream.
        inflateReset(&z);
        ended = false;
      }
      z.next_out = buf.data();
      z.avail_out = static_cast<uInt>(buf.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        status = Corrupt(name, Codec::kGzip, z.msg ? z.msg : "inflate failed");
        break;
      }
      status = WriteAll(out, reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out, name);
      if (rc == Z_STREAM_END) ended = true;
    }
    if (!status.ok()) break;
  }
  inflateEnd(&z);
  return status;
}

absl::Status Unzstd(Source& in, int out, const std::string& name) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return absl::InternalError("zstd init failed");
  std::vector<char> buf(ZSTD_DStreamOutSize());
  size_t last = 1;  // 0 once a frame is complete.
  bool any = false;
  absl::Status status;
  for (;;) {
    absl::StatusOr<std::string_view> piece = in.Next();
    if (!piece.ok()) { status = piece.status(); break; }
    if (piece->empty()) {
      if (!any || last != 0) status = Truncated(name, Codec::kZstd);
      break;
    }
    any = true;
    ZSTD_inBuffer src = {piece->data(), piece->size(), 0};
    while (src.pos < src.size && status.ok()) {
      ZSTD_outBuffer dst = {buf.data(), buf.size(), 0};
      last = ZSTD_decompressStream(ctx, &dst, &src);
      if (ZSTD_isError(last)) {
        status = Corrupt(name, Codec::kZstd, ZSTD_getErrorName(last));
        break;
      }
      status = WriteAll(out, buf.data(), dst.pos, name);
    }
    // Output may still be buffered inside the context.
    while (status.ok() && last > 0) {
      ZSTD_inBuffer none = {nullptr, 0, 0};
      ZSTD_outBuffer dst = {buf.data(), buf.size(), 0};
      size_t r = ZSTD_decompressStream(ctx, &dst, &none);
      if (ZSTD_isError(r)) { status = Corrupt(name, Codec::kZstd, ZSTD_getErrorName(r)); break; }
      status = WriteAll(out, buf.data(), dst.pos, name);
      last = r;
      if (dst.pos == 0) break;
    }
    if (!status.ok()) break;
  }
  ZSTD_freeDCtx(ctx);
  return status;
}

absl::Status Unlz4(Source& in, int out, const std::string& name) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return absl::InternalError("lz4 init failed");
  }
  std::vector<char> buf(kChunk * 4);
  size_t hint = 1;  // 0 once a frame is complete.
  absl::Status status;
  for (;;) {
    absl::StatusOr<std::string_view> piece = in.Next();
    if (!piece.ok()) { status = piece.status(); break; }
    if (piece->empty()) {
      if (hint != 0) status = Truncated(name, Codec::kLz4);
      break;
    }
    const char* p = piece->data();
    size_t left = piece->size();
    while (left > 0 && status.ok()) {
      size_t dst_size = buf.size();
      size_t src_size = left;
      hint = LZ4F_decompress(ctx, buf.data(), &dst_size, p, &src_size, nullptr);
      if (LZ4F_isError(hint)) {
        status = Corrupt(name, Codec::kLz4, LZ4F_getErrorName(hint));
        break;
      }
      p += src_size;
      left -= src_size;
      status = WriteAll(out, buf.data(), dst_size, name);
      if (src_size == 0 && dst_size == 0) break;  // Needs more input.
    }
    if (!status.ok()) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  return status;
}

absl::Status CopyPlain(Source& in, int out, const std::string& name) {
  for (;;) {
    PGM_ASSIGN_OR_RETURN(std::string_view piece, in.Next());
    if (piece.empty()) return absl::OkStatus();
    PGM_RETURN_IF_ERROR(WriteAll(out, piece.data(), piece.size(), name));
  }
}

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

// Converts the archive at `archive` (the user's path, or a spooled copy of
// it) to plain SQL; every message names `name`, the user's file.
absl::StatusOr<Dump> ConvertWithPgRestore(const std::string& archive, const std::string& name,
                                          std::string_view kind) {
  std::string pg_restore = FindPgRestore();
  if (pg_restore.empty()) {
    return InputError(name, 1,
                      absl::StrCat("a ", AsAbsl(kind),
                                   " dump; pgmerge reads plain SQL: convert "
                                   "it with  pg_restore -f dump.sql ",
                                   name));
  }
  TempFile out, errors;
  PGM_RETURN_IF_ERROR(out.Create("restore"));
  PGM_RETURN_IF_ERROR(errors.Create("restore-err"));
  // pg_restore's messages are kept and the first one quoted in ours, so
  // the user sees one error line, and stdout stays clean.
  pid_t pid = fork();
  if (pid == 0) {
    dup2(errors.fd(), 2);
    dup2(errors.fd(), 1);
    execl(pg_restore.c_str(), "pg_restore", "-f", out.path().c_str(), archive.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  bool ok = pid > 0 && waitpid(pid, &status, 0) >= 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0;
  std::string first_error;
  if (FILE* f = fopen(errors.path().c_str(), "r")) {
    char line[512];
    if (fgets(line, sizeof line, f) != nullptr) first_error = line;
    fclose(f);
  }
  while (!first_error.empty() && first_error.back() == '\n') first_error.pop_back();
  if (archive != name) absl::StrReplaceAll({{archive, name}}, &first_error);
  if (!ok) {
    return InputError(name, 1,
                      absl::StrCat("a ", AsAbsl(kind), " dump that ", pg_restore,
                                   " could not convert to plain SQL (", first_error, ")"));
  }
  PGM_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(out.path()));
  return Dump{std::move(mapped), name};
}

const char* ArchiveKind(parser::DumpFormat f) {
  switch (f) {
    case parser::DumpFormat::kCustom: return "custom-format (pg_dump -Fc)";
    case parser::DumpFormat::kTar: return "tar-format (pg_dump -Ft)";
    default: return nullptr;
  }
}

}  // namespace

absl::StatusOr<Dump> OpenDump(const std::string& path) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "<stdin>" : path;
  struct stat st;
  if (!is_stdin && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (access((path + "/toc.dat").c_str(), R_OK) == 0) {
      return ConvertWithPgRestore(path, name, "directory-format (pg_dump -Fd)");
    }
    return InputError(path, 1, "is a directory, not a pg_dump file");
  }
  int fd = is_stdin ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", name);
  struct FdCloser {
    int fd;
    bool own;
    ~FdCloser() { if (own) close(fd); }
  } closer{fd, !is_stdin};
  if (fstat(fd, &st) != 0) return Errno("cannot stat", name);
  Source source(fd, name);
  PGM_RETURN_IF_ERROR(source.ReadHead());
  const Codec codec = DetectCodec(source.head());
  if (codec == Codec::kLz4Legacy) {
    return absl::DataLossError(absl::StrCat(
        name, ": lz4's legacy format (lz4 -l); recompress it with plain lz4 or decompress it"));
  }
  // A plain regular file is mapped where it is: no copy. (Standard input
  // is spooled even when it is a file: its head is read already.)
  if (codec == Codec::kNone && S_ISREG(st.st_mode) && !is_stdin) {
    PGM_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
    if (const char* kind = ArchiveKind(parser::DetectDumpFormat(file.data()))) {
      return ConvertWithPgRestore(path, name, kind);
    }
    return Dump{std::move(file), name};
  }
  // Anything else is spooled, decompressed, into a temporary file: a pipe
  // can be read once only, and the reader maps its input.
  TempFile spool;
  PGM_RETURN_IF_ERROR(spool.Create("input"));
  switch (codec) {
    case Codec::kGzip: PGM_RETURN_IF_ERROR(Gunzip(source, spool.fd(), name)); break;
    case Codec::kZstd: PGM_RETURN_IF_ERROR(Unzstd(source, spool.fd(), name)); break;
    case Codec::kLz4: PGM_RETURN_IF_ERROR(Unlz4(source, spool.fd(), name)); break;
    default: PGM_RETURN_IF_ERROR(CopyPlain(source, spool.fd(), name)); break;
  }
  spool.CloseFd();
  PGM_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(spool.path()));
  if (const char* kind = ArchiveKind(parser::DetectDumpFormat(file.data()))) {
    return ConvertWithPgRestore(spool.path(), name, kind);
  }
  return Dump{std::move(file), name};
}

}  // namespace pgmerge::tools
