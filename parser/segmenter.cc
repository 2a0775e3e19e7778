#include "parser/segmenter.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "base/strings.h"
#include "absl/strings/str_cat.h"

#include "base/status.h"
#include "parser/copy_text.h"

namespace pgmerge::parser {
namespace {

bool IsIdentChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}
bool IsIdentStart(unsigned char c) {
  return absl::ascii_isalpha(c) || c == '_' || c >= 0x80;
}

// Length of a dollar-quote tag ("$$" or "$name$") at s[i], or 0 if there is
// none. Like PostgreSQL's lexer, "$1" and "a$b" are not tags.
size_t DollarTagLength(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] != '$') {
    if (!IsIdentStart(static_cast<unsigned char>(s[j]))) return 0;
    while (j < s.size() && s[j] != '$' &&
           (IsIdentChar(static_cast<unsigned char>(s[j])))) {
      ++j;
    }
  }
  if (j >= s.size() || s[j] != '$') return 0;
  return j - i + 1;
}

// Words that open and close a block inside a SQL-standard routine body
// (CREATE FUNCTION ... BEGIN ATOMIC ... END), where ';' does not end the
// statement. psql applies the same rule.
bool StartsRoutine(std::string_view stmt) {
  auto take_word = [&stmt]() {
    stmt = StripLeadingAsciiWhitespace(stmt);
    size_t n = 0;
    while (n < stmt.size() && absl::ascii_isalpha(stmt[n])) ++n;
    std::string_view w = stmt.substr(0, n);
    stmt.remove_prefix(n);
    return w;
  };
  if (!EqualsIgnoreCase(take_word(), "CREATE")) return false;
  std::string_view w = take_word();
  if (EqualsIgnoreCase(w, "OR")) {
    take_word();  // REPLACE
    w = take_word();
  }
  return EqualsIgnoreCase(w, "FUNCTION") ||
         EqualsIgnoreCase(w, "PROCEDURE");
}

}  // namespace

bool IsCopyFromStdin(std::string_view sql) {
  sql = StripAsciiWhitespace(sql);
  if (!StartsWithIgnoreCase(sql, "COPY") || sql.size() < 5 ||
      !absl::ascii_isspace(sql[4])) {
    return false;
  }
  if (!sql.empty() && sql.back() == ';') sql.remove_suffix(1);
  sql = StripTrailingAsciiWhitespace(sql);
  if (!EndsWithIgnoreCase(sql, "stdin")) return false;
  sql.remove_suffix(5);
  if (sql.empty() || !absl::ascii_isspace(sql.back())) return false;
  sql = StripTrailingAsciiWhitespace(sql);
  return EndsWithIgnoreCase(sql, "FROM");
}

DumpSegmenter::DumpSegmenter(std::string_view input, std::string file_name,
                             int64_t first_line, bool standard_strings)
    : input_(input),
      file_name_(std::move(file_name)),
      line_(first_line),
      standard_strings_(standard_strings) {}

int64_t DumpSegmenter::LineAt(size_t pos) {
  if (pos > line_pos_) {
    line_ += CountNewlines(input_.data() + line_pos_, input_.data() + pos);
    line_pos_ = pos;
  }
  return line_;
}

absl::Status DumpSegmenter::ErrorAt(size_t pos, std::string_view message) {
  return InputError(file_name_, LineAt(pos), message);
}

absl::StatusOr<bool> DumpSegmenter::Next(Segment* out) {
  if (in_copy_) return NextCopyRow(out);
  const std::string_view s = input_;
  const size_t n = s.size();
  // Skip white space and comments between statements.
  while (pos_ < n) {
    char c = s[pos_];
    if (absl::ascii_isspace(c)) {
      ++pos_;
    } else if (c == '-' && pos_ + 1 < n && s[pos_ + 1] == '-') {
      const void* nl = std::memchr(s.data() + pos_, '\n', n - pos_);
      size_t end = nl ? static_cast<const char*>(nl) - s.data() : n;
      if (comment_hook_) comment_hook_(s.substr(pos_, end - pos_));
      pos_ = nl ? end + 1 : n;
    } else if (c == '/' && pos_ + 1 < n && s[pos_ + 1] == '*') {
      size_t end = s.find("*/", pos_ + 2);
      if (end == std::string_view::npos) {
        return ErrorAt(pos_, "unterminated /* comment");
      }
      pos_ = end + 2;
    } else {
      break;
    }
  }
  if (pos_ >= n) return false;

  const size_t start = pos_;
  out->offset = start;
  out->line = LineAt(start);
  if (s[start] == '\\') {
    const void* nl = std::memchr(s.data() + start, '\n', n - start);
    size_t end = nl ? static_cast<const char*>(nl) - s.data() : n;
    out->kind = SegmentKind::kMeta;
    out->text = StripTrailingAsciiWhitespace(s.substr(start, end - start));
    pos_ = end;
    return true;
  }

  size_t end = 0;
  PGM_RETURN_IF_ERROR(ScanStatement(start, &end));
  out->text = s.substr(start, end - start);
  pos_ = end;
  if (IsCopyFromStdin(out->text)) {
    out->kind = SegmentKind::kCopyHeader;
    // Data starts on the line after the header.
    const void* nl = std::memchr(s.data() + pos_, '\n', n - pos_);
    if (nl == nullptr) {
      return ErrorAt(start, "COPY header is not followed by a data block");
    }
    pos_ = static_cast<const char*>(nl) - s.data() + 1;
    in_copy_ = true;
    copy_start_line_ = out->line;
    return true;
  }
  out->kind = SegmentKind::kSql;
  std::string_view t = out->text;
  if (StartsWithIgnoreCase(t, "SET") && t.size() > 3 &&
      absl::ascii_isspace(t[3])) {
    t = StripLeadingAsciiWhitespace(t.substr(3));
    if (StartsWithIgnoreCase(t, "standard_conforming_strings")) {
      // "SET standard_conforming_strings = off;" or "... TO 'off';"
      standard_strings_ = !ContainsIgnoreCase(t, "off");
    }
  }
  return true;
}

absl::StatusOr<int64_t> DumpSegmenter::SkipCopyBlock() {
  const std::string_view s = input_;
  const size_t n = s.size();
  LineAt(pos_);  // Lines up to the first data row.
  // The terminator is a line holding exactly "\." (an escaped "\." in
  // data is "\\.").
  auto is_terminator = [&](size_t at) {
    size_t after = at + 2;
    return s.substr(at, 2) == "\\." &&
           (after == n || s[after] == '\n' ||
            (s[after] == '\r' && (after + 1 == n || s[after + 1] == '\n')));
  };
  // One pass, eight bytes at a time: count line ends, and look closer only
  // where a line starts with a backslash.
  constexpr uint64_t k7f = 0x7F7F7F7F7F7F7F7FULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  auto bytes_equal = [](uint64_t w, uint64_t pattern) {  // Exact, per byte.
    uint64_t t = w ^ pattern;
    return ~(((t & k7f) + k7f) | t) & k80;
  };
  constexpr size_t kProgressStep = size_t{16} << 20;
  size_t end = std::string_view::npos;  // Start of the "\." line.
  int64_t rows = 0;
  size_t i = pos_;
  size_t next_progress = pos_ + kProgressStep;
  if (is_terminator(i)) end = i;
  while (end == std::string_view::npos && i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    uint64_t nl = bytes_equal(w, 0x0A0A0A0A0A0A0A0AULL);
    if (nl != 0) {
      uint64_t bs = bytes_equal(w, 0x5C5C5C5C5C5C5C5CULL);
      bool edge = (nl >> 56) != 0 && i + 8 < n && s[i + 8] == '\\';
      if (((nl << 8) & bs) != 0 || edge) {
        for (size_t k = 0; k < 8; ++k) {
          if (s[i + k] != '\n') continue;
          ++rows;
          if (is_terminator(i + k + 1)) {
            end = i + k + 1;
            break;
          }
        }
        i += 8;
        continue;
      }
      rows += __builtin_popcountll(nl);
    }
    i += 8;
    if (i >= next_progress) {
      if (progress_) progress_(i);
      next_progress = i + kProgressStep;
    }
  }
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

absl::Status DumpSegmenter::ScanStatement(size_t start, size_t* end) {
  const std::string_view s = input_;
  const size_t n = s.size();
  const bool routine = StartsRoutine(s.substr(start, 64));
  int paren_depth = 0;
  int block_depth = 0;
  size_t i = start;
  while (i < n) {
    const char c = s[i];
    switch (c) {
      case '\'': {
        // E'...' always takes backslash escapes; plain '...' only when
        // standard_conforming_strings is off.
        bool escapes = !standard_strings_;
        if (i > start && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
            (i - 1 == start ||
             !IsIdentChar(static_cast<unsigned char>(s[i - 2])))) {
          escapes = true;
        }
        size_t j = i + 1;
        if (!escapes) {
          // Only a quote ends the literal: jump from quote to quote.
          for (;;) {
            const void* q = j < n ? std::memchr(s.data() + j, '\'', n - j) : nullptr;
            if (q == nullptr) return ErrorAt(i, "unterminated quoted string");
            j = static_cast<const char*>(q) - s.data();
            if (j + 1 < n && s[j + 1] == '\'') {
              j += 2;  // A doubled quote is a quote character.
              continue;
            }
            break;
          }
          i = j + 1;
          continue;
        }
        for (;;) {
          if (j >= n) return ErrorAt(i, "unterminated quoted string");
          char d = s[j];
          if (d == '\\') {
            j += 2;
          } else if (d == '\'') {
            if (j + 1 < n && s[j + 1] == '\'') {
              j += 2;
            } else {
              break;
            }
          } else {
            ++j;
          }
        }
        i = j + 1;
        continue;
      }
      case '"': {
        size_t j = i + 1;
        for (;;) {
          size_t q = s.find('"', j);
          if (q == std::string_view::npos) {
            return ErrorAt(i, "unterminated quoted identifier");
          }
          if (q + 1 < n && s[q + 1] == '"') {
            j = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        continue;
      }
      case '$': {
        if (i > start && IsIdentChar(static_cast<unsigned char>(s[i - 1]))) {
          break;
        }
        size_t tag_len = DollarTagLength(s, i);
        if (tag_len == 0) break;
        std::string_view tag = s.substr(i, tag_len);
        size_t close = s.find(tag, i + tag_len);
        if (close == std::string_view::npos) {
          return ErrorAt(i, absl::StrCat("unterminated dollar-quoted string ",
                                         AsAbsl(tag)));
        }
        i = close + tag_len;
        continue;
      }
      case '-':
        if (i + 1 < n && s[i + 1] == '-') {
          const void* nl = std::memchr(s.data() + i, '\n', n - i);
          i = nl ? static_cast<const char*>(nl) - s.data() + 1 : n;
          continue;
        }
        break;
      case '/':
        if (i + 1 < n && s[i + 1] == '*') {
          // PostgreSQL block comments nest.
          int depth = 1;
          size_t j = i + 2;
          while (depth > 0) {
            if (j + 1 >= n) return ErrorAt(i, "unterminated /* comment");
            if (s[j] == '/' && s[j + 1] == '*') {
              ++depth;
              j += 2;
            } else if (s[j] == '*' && s[j + 1] == '/') {
              --depth;
              j += 2;
            } else {
              ++j;
            }
          }
          i = j;
          continue;
        }
        break;
      case '(':
        ++paren_depth;
        break;
      case ')':
        if (paren_depth > 0) --paren_depth;
        break;
      case ';':
        if (paren_depth == 0 && block_depth == 0) {
          *end = i + 1;
          return absl::OkStatus();
        }
        break;
      default:
        if (routine && IsIdentStart(static_cast<unsigned char>(c)) &&
            (i == start || !IsIdentChar(static_cast<unsigned char>(s[i - 1])))) {
          size_t j = i;
          while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
          std::string_view word = s.substr(i, j - i);
          if (EqualsIgnoreCase(word, "BEGIN") ||
              EqualsIgnoreCase(word, "CASE")) {
            ++block_depth;
          } else if (EqualsIgnoreCase(word, "END") && block_depth > 0) {
            --block_depth;
          }
          i = j;
          continue;
        }
        break;
    }
    ++i;
  }
  return ErrorAt(start, "statement is not terminated by ';' (file truncated?)");
}

}  // namespace pgmerge::parser
