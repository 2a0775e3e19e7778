// Releases the pages of a mapped input behind a reader's cursor.
#ifndef PGMERGE_BASE_PAGE_RELEASER_H_
#define PGMERGE_BASE_PAGE_RELEASER_H_

#include <cstddef>

#include "base/mapped_file.h"

namespace pgmerge {

// Call Advance(offset) as a reader moves through [start, ...) of `file`;
// every kStep bytes the pages behind it are handed back. A null file makes
// it a no-op (inputs held in memory, as in tests and fuzzers).
class PageReleaser {
 public:
  PageReleaser(const MappedFile* file, size_t start)
      : file_(file), released_(start) {}
  void Advance(size_t offset) {
    if (file_ != nullptr && offset >= released_ + kStep) {
      file_->Release(released_, offset);
      released_ = offset;
    }
  }
  // Hands back everything up to `offset`, whatever the distance.
  void Finish(size_t offset) {
    if (file_ != nullptr && offset > released_) {
      file_->Release(released_, offset);
      released_ = offset;
    }
  }

 private:
  static constexpr size_t kStep = size_t{8} << 20;
  const MappedFile* file_;
  size_t released_;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_PAGE_RELEASER_H_
