// DumpSegmenter's COPY data paths: rows in batches of raw lines, a whole
// block skimmed (line ends counted 16 bytes at a time), and one row at a time.
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "parser/copy_text.h"
#include "parser/segmenter.h"

namespace pgmerge::parser {
namespace {

// Whether a COPY block's terminator starts at `at`: a line holding exactly
// "\." (an escaped "\." in data is "\\.").
bool IsTerminatorAt(std::string_view s, size_t at) {
  const size_t n = s.size();
  const size_t after = at + 2;
  return after <= n && s.substr(at, 2) == "\\." &&
         (after == n || s[after] == '\n' ||
          (s[after] == '\r' && (after + 1 == n || s[after + 1] == '\n')));
}

}  // namespace

size_t DumpSegmenter::NextCopyRows(std::vector<std::string_view>* rows, size_t max) {
  const std::string_view s = input_;
  const size_t n = s.size();
  LineAt(pos_);
  size_t got = 0;
  while (got < max && pos_ < n) {
    const void* nl = std::memchr(s.data() + pos_, '\n', n - pos_);
    if (nl == nullptr) break;  // Next reports the row cut short.
    const size_t end = static_cast<const char*>(nl) - s.data();
    std::string_view row = s.substr(pos_, end - pos_);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row == "\\.") break;  // Next returns the block's end.
    rows->push_back(row);
    ++got;
    pos_ = end + 1;
    line_pos_ = pos_;
    ++line_;
  }
  return got;
}

absl::StatusOr<int64_t> DumpSegmenter::SkipCopyBlock() {
  const std::string_view s = input_;
  const size_t n = s.size();
  LineAt(pos_);  // Lines up to the first data row.
  auto is_terminator = [&](size_t at) { return IsTerminatorAt(s, at); };
  constexpr size_t kProgressStep = size_t{16} << 20;
  size_t end = std::string_view::npos;  // Start of the "\." line.
  int64_t rows = 0;
  size_t i = pos_;
  size_t next_progress = pos_ + kProgressStep;
  if (is_terminator(i)) end = i;
  // Looks closer at a block where a line starts with a backslash: counts
  // its line ends up to the terminator, if it holds one.
  auto slow_block = [&](size_t width) {
    for (size_t k = 0; k < width; ++k) {
      if (s[i + k] != '\n') continue;
      ++rows;
      if (is_terminator(i + k + 1)) {
        end = i + k + 1;
        return;
      }
    }
  };
#ifdef __SSE2__
  // One pass, sixteen bytes at a time: line ends counted in byte lanes
  // (at most 255 blocks between sums), and a closer look only where a line
  // starts with a backslash.
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end == std::string_view::npos && i + 16 <= n) {
    __m128i lanes = _mm_setzero_si128();
    bool closer = false;
    for (int blocks = 0; blocks < 255 && i + 16 <= n; ++blocks) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      const __m128i nl = _mm_cmpeq_epi8(v, newline);
      const unsigned nl_mask = static_cast<unsigned>(_mm_movemask_epi8(nl));
      if (nl_mask != 0) {
        const unsigned bs_mask =
            static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash)));
        const bool edge = (nl_mask & 0x8000) != 0 && i + 16 < n && s[i + 16] == '\\';
        if (((nl_mask << 1) & bs_mask) != 0 || edge) {
          closer = true;
          break;
        }
      }
      lanes = _mm_sub_epi8(lanes, nl);  // A match is -1: one more a lane.
      i += 16;
    }
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    rows += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    if (closer) {
      slow_block(16);
      i += 16;
    }
    if (i >= next_progress) {
      if (progress_) progress_(i);
      next_progress = i + kProgressStep;
    }
  }
#endif
  for (; end == std::string_view::npos && i < n; ++i) {
    if (s[i] != '\n') continue;
    ++rows;
    if (is_terminator(i + 1)) end = i + 1;
  }
  if (end == std::string_view::npos) {
    return InputError(file_name_, copy_start_line_,
                      "COPY data block has no terminating \\. line (file "
                      "truncated?)");
  }
  line_ += rows;
  line_pos_ = end;
  // Past the "\." line and its line end.
  const void* nl = std::memchr(s.data() + end, '\n', n - end);
  pos_ = nl ? static_cast<const char*>(nl) - s.data() + 1 : n;
  if (nl) {
    ++line_;
    line_pos_ = pos_;
  }
  in_copy_ = false;
  return rows;
}

bool DumpSegmenter::JumpToCopyEnd(size_t offset, int64_t line) {
  const std::string_view s = input_;
  if (!in_copy_ || offset < pos_ || !IsTerminatorAt(s, offset)) return false;
  if (offset > pos_ && s[offset - 1] != '\n') return false;  // Not a line's start.
  pos_ = offset;
  line_pos_ = offset;
  line_ = line;
  return true;
}

bool DumpSegmenter::JumpToCopyRow(size_t offset, int64_t line) {
  const std::string_view s = input_;
  if (!in_copy_ || offset <= pos_ || offset >= s.size() || s[offset - 1] != '\n' ||
      IsTerminatorAt(s, offset) || line <= line_) {
    return false;
  }
  // Nor just past the block's end (further on, the caller vouches).
  const size_t before = offset >= 2 ? s.rfind('\n', offset - 2) : std::string_view::npos;
  if (IsTerminatorAt(s, before == std::string_view::npos ? 0 : before + 1)) return false;
  pos_ = offset;
  line_pos_ = offset;
  line_ = line;
  return true;
}

absl::StatusOr<bool> DumpSegmenter::NextCopyRow(Segment* out) {
  const std::string_view s = input_;
  const size_t n = s.size();
  if (pos_ >= n) {
    return InputError(file_name_, copy_start_line_,
                      "COPY data block has no terminating \\. line (file "
                      "truncated?)");
  }
  LineAt(pos_);
  const void* nl = std::memchr(s.data() + pos_, '\n', n - pos_);
  size_t end = nl ? static_cast<const char*>(nl) - s.data() : n;
  std::string_view row = s.substr(pos_, end - pos_);
  // A CRLF file: PostgreSQL itself writes a raw CR inside data as "\r", so a
  // CR just before the LF can only be part of the line end.
  if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
  out->offset = pos_;
  out->line = line_;
  out->text = row;
  if (row == "\\.") {
    out->kind = SegmentKind::kCopyEnd;
    in_copy_ = false;
  } else {
    out->kind = SegmentKind::kCopyRow;
    if (nl == nullptr) {
      return InputError(file_name_, line_,
                        "COPY data ends mid-row without a terminating \\. "
                        "line (file truncated?)");
    }
  }
  if (nl != nullptr) {
    pos_ = end + 1;
    line_pos_ = pos_;
    ++line_;
  } else {
    pos_ = n;
    line_pos_ = n;
  }
  return true;
}

}  // namespace pgmerge::parser
