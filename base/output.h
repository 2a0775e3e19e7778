// Buffered output to a file descriptor, for the merge's SQL stream.
#ifndef PGMERGE_BASE_OUTPUT_H_
#define PGMERGE_BASE_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace pgmerge {

// Appends into a large buffer and writes it out when full. A descriptor of
// -1 discards everything (dry runs). The first write error sticks and is
// returned by Flush(). Not thread-safe.
class OutputBuffer {
 public:
  explicit OutputBuffer(int fd) : fd_(fd) { buf_.reserve(kCapacity); }
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
  absl::Status Flush();
  uint64_t bytes_written() const { return written_ + buf_.size(); }

 private:
  static constexpr size_t kCapacity = size_t{1} << 20;
  void Drain();

  int fd_;
  std::string buf_;
  uint64_t written_ = 0;
  absl::Status status_;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_OUTPUT_H_
