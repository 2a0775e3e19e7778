// Buffered output to a file descriptor, for the merge's SQL stream.
#ifndef PGMERGE_BASE_OUTPUT_H_
#define PGMERGE_BASE_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace pgmerge {

// What the bytes written since the previous mark were (pgmerge --into cuts
// the stream by these instead of lexing it again). Marks add no bytes: the
// stream is the same with or without a sink.
enum class OutputMark {
  kStatement,   // One SQL statement (or a few of ours), comments before it.
  kMeta,        // A psql meta-command line (\restrict): not for a server.
  kCopyHeader,  // "COPY ... FROM stdin;": rows follow until kCopyRows.
  kCopyRows,    // The rows of the open COPY block (streamed as they come).
  kCopyEnd,     // Its "\." line.
  kDataBegin,   // Nothing written: the data section starts here...
  kDataEnd,     // ...and ends here.
};

// Where an OutputBuffer drains to instead of a descriptor.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void Write(std::string_view bytes) = 0;
  // The bytes written since the previous mark were `mark`.
  virtual void Mark(OutputMark mark) = 0;
  // False for a sink that only passes bytes on: marks then neither reach
  // it nor cut the buffer short.
  virtual bool wants_marks() const { return true; }
  // May take the bytes by swapping *bytes with an empty buffer of its own
  // (true), instead of a copy by Write.
  virtual bool Adopt(std::string* bytes) { return false; }
};

// Appends into a large buffer and writes it out when full. A descriptor of
// -1 discards everything (dry runs). The first write error sticks and is
// returned by Flush(). Not thread-safe.
class OutputBuffer {
 public:
  explicit OutputBuffer(int fd) : fd_(fd) { buf_.reserve(kCapacity); }
  explicit OutputBuffer(OutputSink* sink)
      : fd_(-1), sink_(sink), marks_(sink->wants_marks()) {
    buf_.reserve(kCapacity);
  }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  void Append(std::string_view s) {
    if (buf_.size() + s.size() > kCapacity) Drain();
    buf_.append(s.data(), s.size());
  }
  void Append(char c) {
    if (buf_.size() + 1 > kCapacity) Drain();
    buf_.push_back(c);
  }
  void AppendInt(int64_t v);
  // Tells the sink, if any, what was written since the previous mark.
  void Mark(OutputMark mark) {
    if (!marks_) return;
    Drain();
    sink_->Mark(mark);
  }
  absl::Status Flush();
  uint64_t bytes_written() const { return written_ + buf_.size(); }

 private:
  static constexpr size_t kCapacity = size_t{1} << 20;
  void Drain();

  int fd_;
  OutputSink* sink_ = nullptr;
  bool marks_ = false;
  std::string buf_;
  uint64_t written_ = 0;
  absl::Status status_;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_OUTPUT_H_
