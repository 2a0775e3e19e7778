// The row hash: the one contract between the merge and the stages that
// check a database against it. The merge's manifest sums RowHash of every
// row it writes; verify and swap sum it over `COPY ... TO STDOUT` of the
// live table. Both ends hash the same bytes: a row's COPY text line, fields
// joined by tabs, without the newline.
#ifndef PGMERGE_BASE_ROW_HASH_H_
#define PGMERGE_BASE_ROW_HASH_H_

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgmerge {

// XXH3-64 of one COPY line (no trailing newline).
inline uint64_t RowHash(std::string_view copy_line) {
  return XXH3_64bits(copy_line.data(), copy_line.size());
}

// Joins fields with tabs as COPY writes a row, then RowHash-es the line.
// Keeps its buffer between rows. Not thread-safe: one per thread.
class RowHasher {
 public:
  // `field(c)` returns column c's COPY text, for each c of `cols` in order.
  template <typename FieldFn>
  uint64_t Hash(const std::vector<int>& cols, FieldFn field) {
    line_.clear();
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) line_.push_back('\t');
      std::string_view v = field(cols[i]);
      line_.append(v.data(), v.size());
    }
    return RowHash(line_);
  }

 private:
  std::string line_;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_ROW_HASH_H_
