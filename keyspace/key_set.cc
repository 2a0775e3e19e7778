#include "keyspace/key_set.h"

#include <algorithm>

namespace pgmerge::keyspace {

void KeySet::Finalize() {
  // In int64 order, which integer keys are: a range across zero stays one.
  auto signed_less = [](uint64_t a, uint64_t b) {
    return static_cast<int64_t>(a) < static_cast<int64_t>(b);
  };
  std::sort(pending_.begin(), pending_.end(), signed_less);
  pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
  size_ = pending_.size();
  if (!pending_.empty()) {
    const __int128 lo = static_cast<int64_t>(pending_.front());
    const __int128 hi = static_cast<int64_t>(pending_.back());
    const __int128 span = hi - lo + 1;
    // Dense: the bitmap costs at most 64 bits a key plus 8 MiB, about
    // what the hash set would.
    if (span <= 64 * static_cast<__int128>(size_) + (__int128{1} << 26)) {
      low_ = pending_.front();
      span_ = static_cast<uint64_t>(span);
      bits_.assign((span_ + 63) / 64, 0);
      for (uint64_t k : pending_) {
        const uint64_t at = k - low_;
        bits_[at >> 6] |= uint64_t{1} << (at & 63);
      }
    } else {
      hashed_.reserve(size_);
      hashed_.insert(pending_.begin(), pending_.end());
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

}  // namespace pgmerge::keyspace
