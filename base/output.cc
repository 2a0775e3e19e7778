#include "base/output.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pgmerge {

void OutputBuffer::AppendInt(int64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
  Append(std::string_view(tmp, end - tmp));
}

void OutputBuffer::Drain() {
  std::string_view rest = buf_;
  written_ += buf_.size();
  if (sink_ != nullptr && !rest.empty()) {
    if (sink_->Adopt(&buf_)) {
      buf_.clear();
      buf_.reserve(kCapacity);
      return;
    }
    sink_->Write(rest);
  }
  while (fd_ >= 0 && status_.ok() && !rest.empty()) {
    ssize_t n = write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = absl::UnavailableError(
          absl::StrCat("cannot write output: ", std::strerror(errno)));
      break;
    }
    rest.remove_prefix(n);
  }
  buf_.clear();
}

absl::Status OutputBuffer::Flush() {
  Drain();
  return status_;
}

}  // namespace pgmerge
