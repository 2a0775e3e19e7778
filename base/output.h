// Buffered output to a file descriptor, for the merge's SQL stream.
#ifndef PGMERGE_BASE_OUTPUT_H_
#define PGMERGE_BASE_OUTPUT_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  // Whether marks reach a sink (for an OutputBuffer that feeds this one).
  bool wants_marks() const { return marks_; }

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

// Output written on a second thread while the first still writes to `out`:
// held (whole buffers, and the marks between them) until Release(), at
// most `cap` bytes, past which the writer waits for Release(). After it,
// what was held goes to `out` first, then everything straight through, so
// `out` receives the same stream as one thread writing both in turn. Only
// one thread may write to `out` at a time: the first until Release(), this
// sink's writer after it; Finish() hands over what is still held once the
// writer is done.
class DeferredSink : public OutputSink {
 public:
  DeferredSink(OutputBuffer* out, size_t cap) : out_(out), cap_(cap) {}
  void Write(std::string_view bytes) override;
  void Mark(OutputMark mark) override;
  bool wants_marks() const override { return out_->wants_marks(); }
  bool Adopt(std::string* bytes) override;
  // The first thread is done with `out`; `discard`: drop everything (the
  // stream failed).
  void Release(bool discard = false);
  // On the first thread, after the writer has finished: what is held.
  void Finish();

 private:
  struct Held {
    std::string bytes;
    bool is_mark = false;
    OutputMark mark = OutputMark::kStatement;
  };
  // Waits for Release() when `more` bytes would pass the cap; true when
  // they are to be held.
  bool Hold(std::unique_lock<std::mutex>& lock, size_t more);
  void Replay();  // Hands what is held to `out` (released, locked).

  OutputBuffer* const out_;
  const size_t cap_;
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  bool discard_ = false;
  size_t held_bytes_ = 0;
  std::vector<Held> held_;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_OUTPUT_H_
