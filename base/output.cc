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

bool DeferredSink::Hold(std::unique_lock<std::mutex>& lock, size_t more) {
  if (!released_ && held_bytes_ + more > cap_) {
    released_cv_.wait(lock, [this] { return released_; });
  }
  if (!released_) {
    held_bytes_ += more;
    return true;
  }
  Replay();
  return false;
}

void DeferredSink::Replay() {
  for (Held& h : held_) {
    if (discard_) break;
    if (h.is_mark) {
      out_->Mark(h.mark);
    } else {
      out_->Append(h.bytes);
    }
  }
  held_.clear();
  held_bytes_ = 0;
}

void DeferredSink::Write(std::string_view bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  if (Hold(lock, bytes.size())) {
    held_.push_back({std::string(bytes)});
  } else if (!discard_) {
    out_->Append(bytes);
  }
}

bool DeferredSink::Adopt(std::string* bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!Hold(lock, bytes->size())) return false;  // Written through by Write.
  held_.push_back({std::move(*bytes)});
  return true;
}

void DeferredSink::Mark(OutputMark mark) {
  std::unique_lock<std::mutex> lock(mu_);
  if (Hold(lock, 0)) {
    held_.push_back({"", true, mark});
  } else if (!discard_) {
    out_->Mark(mark);
  }
}

void DeferredSink::Release(bool discard) {
  std::lock_guard<std::mutex> lock(mu_);
  released_ = true;
  discard_ = discard;
  released_cv_.notify_all();
}

void DeferredSink::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  Replay();
}

}  // namespace pgmerge
