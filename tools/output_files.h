// Where the merge's SQL and the reports go, written so that a failed or
// interrupted run never leaves something restorable behind:
// - a file (-o FILE, --report FILE, --review FILE) is written to a
//   temporary file made with mkstemp (O_EXCL, mode 0600) in the target's
//   directory, fsynced, given the mode a new file would get (0666 & ~umask)
//   and renamed into place, then the directory is fsynced;
// - a report onto a FIFO or a device (--report /dev/null) is written to it
//   in place, once the run is done; a device is never renamed over;
// - a stream (stdout, or -o onto a FIFO or a device) gets the SQL as it is
//   made, except its last piece, which is held back until the run has
//   succeeded (the report is on disk): a run that fails after the first
//   byte ends the stream with a line that makes any psql state fail, so a
//   `psql --single-transaction` reading it rolls everything back.
#ifndef PGMERGE_TOOLS_OUTPUT_FILES_H_
#define PGMERGE_TOOLS_OUTPUT_FILES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/output.h"

namespace pgmerge::tools {

// A file being written in place of `path`. Commit() makes it appear whole;
// destroying it uncommitted removes the temporary file.
class AtomicFile {
 public:
  // A FIFO or a character device (links to one included) is written in
  // place, never replaced. Refuses any other `path` that is not a regular
  // file: a symbolic link (a rename would replace the link, a write would
  // follow it), a directory, a block device, a socket.
  static absl::StatusOr<AtomicFile> Create(const std::string& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_; }
  absl::Status Write(std::string_view text);
  // fsync, final mode, rename, fsync of the directory.
  absl::Status Commit();

 private:
  AtomicFile(std::string path, std::string tmp, int fd) : path_(path), tmp_(tmp), fd_(fd) {}
  std::string path_, tmp_;
  int fd_ = -1;
};

// Writes `text` to `path` atomically (AtomicFile).
absl::Status WriteFileAtomically(const std::string& path, std::string_view text);

// The destination of the merge's SQL.
class SqlOutput : public OutputSink {
 public:
  enum class Kind { kDiscard, kFile, kStream };
  // `path` "" is stdout; `dry_run` discards.
  static absl::StatusOr<std::unique_ptr<SqlOutput>> Open(const std::string& path, bool dry_run);
  SqlOutput(const SqlOutput&) = delete;
  SqlOutput& operator=(const SqlOutput&) = delete;
  ~SqlOutput();

  // What the merger writes into: a descriptor (-1 discards), or for a
  // stream, this sink (then fd() is -1).
  int fd() const { return write_fd_; }
  Kind kind() const { return kind_; }
  OutputSink* sink() { return kind_ == Kind::kStream ? this : nullptr; }
  // OutputSink: pieces queue for the forwarder (a few, then Write waits).
  void Write(std::string_view bytes) override;
  bool Adopt(std::string* bytes) override;
  void Mark(OutputMark) override {}
  bool wants_marks() const override { return false; }
  // The merger is done and succeeded, and the report is durable: the SQL
  // becomes visible (rename, or the held-back tail is sent).
  absl::Status Commit();
  // The run failed: a file is removed; a stream that already carried SQL
  // is ended with the poison line.
  void Abandon();
  // Whether writing the stream failed (the reader went away).
  bool failed() const { return forward_error_ != 0; }

  // The line a failed stream ends with. It holds no quote, dollar or
  // backslash after the first line, so: in COPY data "\n\\." ends the
  // block and the SELECT fails; in SQL the `\.` is an invalid command and
  // the SELECT fails; inside an unfinished literal, quoted identifier,
  // dollar quote or comment the text is swallowed and psql sends the
  // unterminated statement at end of input, which fails. Any failure
  // inside --single-transaction rolls back all of it.
  static constexpr std::string_view kPoison =
      "\n\\.\n"
      "SELECT pgmerge_failed_this_stream_is_incomplete_and_must_not_commit;\n";

 private:
  SqlOutput() = default;
  void Forward();  // The thread that passes the stream on, one piece behind.
  void Finish();

  Kind kind_ = Kind::kDiscard;
  int write_fd_ = -1;
  std::optional<AtomicFile> file_;
  // Stream: pieces the merger wrote and the forwarder has not taken, and
  // emptied pieces to reuse.
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::vector<std::string> spare_;
  bool closed_ = false;
  int sink_fd_ = -1;  // Stream: stdout or the FIFO.
  bool own_sink_ = false;
  std::thread forwarder_;
  std::string held_;          // The piece not yet passed on.
  uint64_t forwarded_ = 0;    // Bytes passed on.
  int forward_error_ = 0;
  bool finished_ = false;
};

// The process's umask, read once at start (umask() can only be read by
// setting it).
void RememberUmask();

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_OUTPUT_FILES_H_
