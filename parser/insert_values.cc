#include "parser/insert_values.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "base/strings.h"
#include "parser/copy_text.h"
#include "parser/lex_chars.h"

namespace pgmerge::parser {
namespace {

void SkipSpaces(std::string_view* t) {
  size_t i = 0;
  while (i < t->size() && absl::ascii_isspace((*t)[i])) ++i;
  t->remove_prefix(i);
}

// Consumes `word` (case-insensitive) followed by a non-identifier char.
bool ConsumeKeyword(std::string_view* t, std::string_view word) {
  SkipSpaces(t);
  if (t->size() < word.size() ||
      !EqualsIgnoreCase(t->substr(0, word.size()), word)) {
    return false;
  }
  if (t->size() > word.size()) {
    unsigned char c = static_cast<unsigned char>((*t)[word.size()]);
    if (absl::ascii_isalnum(c) || c == '_' || c >= 0x80) return false;
  }
  t->remove_prefix(word.size());
  return true;
}

using internal::AppendUtf8;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The closing quote of a literal with no backslash escapes, searched from
// `i`, in *end; false when there is none. A doubled quote makes *plain false.
bool FindClosingQuote(std::string_view text, size_t i, size_t* end, bool* plain) {
  const char* base = text.data();
  for (;;) {
    const void* q = i < text.size() ? std::memchr(base + i, '\'', text.size() - i) : nullptr;
    if (q == nullptr) return false;
    i = static_cast<const char*>(q) - base;
    if (i + 1 < text.size() && text[i + 1] == '\'') {
      *plain = false;
      i += 2;
      continue;
    }
    *end = i;
    return true;
  }
}

// The same for an E'' literal: a backslash escapes the next byte, and a
// backslash or a control character COPY escapes makes *plain false.
bool FindClosingQuoteEscaped(std::string_view text, size_t i, size_t* end, bool* plain) {
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      if (i + 1 < text.size() && text[i + 1] == '\'') {
        *plain = false;
        ++i;
        continue;
      }
      break;
    }
    if (c == '\\') {
      *plain = false;
      ++i;
    } else if (c == '\t' || c == '\n' || c == '\r' || c == '\b' ||
               c == '\f' || c == '\v') {
      *plain = false;
    }
  }
  if (i >= text.size()) return false;
  *end = i;
  return true;
}

// The body of a standard literal (between its quotes) COPY-encoded onto
// *out with its doubled quotes undone, a run between quotes at a time.
void AppendUndoubled(std::string_view body, std::string* out) {
  size_t k = 0;
  while (k < body.size()) {
    size_t q = body.find('\'', k);
    if (q == std::string_view::npos) q = body.size();
    AppendCopyEscaped(body.substr(k, q - k), out);
    if (q < body.size()) out->push_back('\'');
    k = q + 2;  // Past the doubled quote.
  }
}

// One backslash escape of an E'' literal's body: body[*k] is the byte after
// the backslash; *k is left on the escape's last byte. False for a \u or
// \U that is not a code point.
bool DecodeEscape(std::string_view body, size_t* k, std::string* decoded) {
  const size_t end = body.size();
  char e = body[*k];
  switch (e) {
    case 'b': decoded->push_back('\b'); break;
    case 'f': decoded->push_back('\f'); break;
    case 'n': decoded->push_back('\n'); break;
    case 'r': decoded->push_back('\r'); break;
    case 't': decoded->push_back('\t'); break;
    case 'x': {
      int v = 0, digits = 0;
      while (digits < 2 && *k + 1 < end && Hex(body[*k + 1]) >= 0) {
        v = v * 16 + Hex(body[++*k]);
        ++digits;
      }
      if (digits == 0) {
        decoded->push_back('x');
      } else {
        decoded->push_back(static_cast<char>(v));
      }
      break;
    }
    case 'u':
    case 'U': {
      int want = e == 'u' ? 4 : 8;
      uint32_t cp = 0;
      for (int d = 0; d < want; ++d) {
        if (*k + 1 >= end || Hex(body[*k + 1]) < 0) return false;
        cp = cp * 16 + Hex(body[++*k]);
      }
      if (cp > 0x10FFFF) return false;
      AppendUtf8(cp, decoded);
      break;
    }
    default:
      if (e >= '0' && e <= '7') {
        int v = e - '0';
        for (int d = 0; d < 2 && *k + 1 < end && body[*k + 1] >= '0' && body[*k + 1] <= '7';
             ++d) {
          v = v * 8 + (body[++*k] - '0');
        }
        decoded->push_back(static_cast<char>(v & 0xff));
      } else {
        decoded->push_back(e);
      }
  }
  return true;
}

// An E'' literal's body decoded into *decoded (appended).
bool DecodeEscapedBody(std::string_view body, std::string* decoded) {
  for (size_t k = 0; k < body.size(); ++k) {
    char c = body[k];
    if (c == '\'') {
      decoded->push_back('\'');
      ++k;  // The second quote of a doubled pair.
      continue;
    }
    if (c != '\\' || k + 1 >= body.size()) {
      decoded->push_back(c);
      continue;
    }
    ++k;
    if (!DecodeEscape(body, &k, decoded)) return false;
  }
  return true;
}

}  // namespace

bool SplitInsertPrefix(std::string_view sql, std::string_view* prefix,
                       std::string_view* tuples) {
  // pg_dump writes " VALUES " (one row per statement) or " VALUES\n"
  // (--rows-per-insert) right before the first tuple. A quoted identifier
  // holding " VALUES" could fool this; then the header parse fails and the
  // caller falls back to libpg_query.
  for (size_t v = sql.find(" VALUES"); v != std::string_view::npos;
       v = sql.find(" VALUES", v + 1)) {
    size_t after = v + 7;
    const bool default_values =
        v >= 8 && sql.substr(v - 8, 8) == " DEFAULT" && after < sql.size() && sql[after] == ';';
    if (after < sql.size() &&
        (absl::ascii_isspace(sql[after]) || sql[after] == '(' || default_values)) {
      *prefix = sql.substr(0, after);
      *tuples = sql.substr(after);
      return true;
    }
  }
  return false;
}

bool ParseInsertHeader(std::string_view sql, InsertHeader* out) {
  std::string_view prefix, tuples;
  if (!SplitInsertPrefix(sql, &prefix, &tuples)) return false;
  std::string_view t = prefix;
  if (!ConsumeKeyword(&t, "INSERT") || !ConsumeKeyword(&t, "INTO")) {
    return false;
  }
  SkipSpaces(&t);
  if (!ConsumeTableName(&t, &out->table)) return false;
  out->columns.clear();
  SkipSpaces(&t);
  if (!t.empty() && t[0] == '(') {
    t.remove_prefix(1);
    for (;;) {
      SkipSpaces(&t);
      std::string col;
      if (!ConsumeIdentifier(&t, &col)) return false;
      out->columns.push_back(std::move(col));
      SkipSpaces(&t);
      if (t.empty()) return false;
      if (t[0] == ')') {
        t.remove_prefix(1);
        break;
      }
      if (t[0] != ',') return false;
      t.remove_prefix(1);
    }
  }
  out->overriding_system_value = false;
  std::string_view save = t;
  if (ConsumeKeyword(&t, "OVERRIDING")) {
    if (!ConsumeKeyword(&t, "SYSTEM") || !ConsumeKeyword(&t, "VALUE")) {
      return false;
    }
    out->overriding_system_value = true;
  } else {
    t = save;
  }
  save = t;
  out->default_values = ConsumeKeyword(&t, "DEFAULT");
  if (!out->default_values) t = save;
  if (out->default_values && !out->columns.empty()) return false;
  if (!ConsumeKeyword(&t, "VALUES")) return false;
  SkipSpaces(&t);
  if (!t.empty()) return false;
  out->prefix = prefix;
  out->tuples = tuples;
  return true;
}

void InsertTupleReader::Reset(std::string_view tuples, bool standard_strings,
                              bool default_values) {
  text_ = tuples;
  pos_ = 0;
  standard_strings_ = standard_strings;
  done_ = false;
  default_values_ = default_values;
  // Re-encoding at most doubles a value (one raw byte -> "\n" etc.), so
  // twice the statement bounds every tuple in it.
  scratch_.clear();
  if (scratch_.capacity() < 2 * tuples.size() + 16) {
    scratch_.reserve(2 * tuples.size() + 16);
  }
}

void InsertTupleReader::SkipSpace() {
  while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
}

int InsertTupleReader::Next(std::vector<std::string_view>* fields,
                            std::vector<int>* defaults) {
  fields->clear();
  if (defaults != nullptr) defaults->clear();
  if (done_) return 0;
  scratch_.clear();
  SkipSpace();
  if (default_values_) return EndOfStatement() ? 1 : -1;  // One row, no value.
  if (pos_ >= text_.size() || text_[pos_] != '(') return -1;
  ++pos_;
  for (int position = 0;; ++position) {
    SkipSpace();
    std::string_view value;
    bool is_default = false;
    if (!ReadValue(&value, &is_default)) return -1;
    if (is_default) {
      if (defaults == nullptr) return -1;
      defaults->push_back(position);
    } else {
      fields->push_back(value);
    }
    SkipSpace();
    if (pos_ >= text_.size()) return -1;
    char c = text_[pos_++];
    if (c == ')') break;
    if (c != ',') return -1;
  }
  SkipSpace();
  if (pos_ < text_.size() && text_[pos_] == ',') {
    ++pos_;
    return 1;
  }
  return EndOfStatement() ? 1 : -1;
}

bool InsertTupleReader::EndOfStatement() {
  // pg_dump --on-conflict-do-nothing ends the statement with this; the
  // merge writes its rows into empty tables, where it changes nothing.
  static constexpr std::string_view kOnConflict = "ON CONFLICT DO NOTHING";
  if (text_.substr(pos_, kOnConflict.size()) == kOnConflict) {
    pos_ += kOnConflict.size();
    SkipSpace();
  }
  if (pos_ >= text_.size() || text_[pos_] != ';') return false;
  ++pos_;
  SkipSpace();
  done_ = true;
  return pos_ == text_.size();
}

bool InsertTupleReader::ReadValue(std::string_view* out, bool* is_default) {
  std::string_view rest = text_.substr(pos_);
  if (rest.empty()) return false;
  char c = rest[0];
  if (c == '\'') {
    ++pos_;
    return ReadString(!standard_strings_, out);
  }
  if ((c == 'E' || c == 'e') && rest.size() > 1 && rest[1] == '\'') {
    pos_ += 2;
    return ReadString(true, out);
  }
  if ((c == 'B' || c == 'b') && rest.size() > 1 && rest[1] == '\'') {
    pos_ += 2;  // Bit strings: COPY shows just the digits.
    return ReadString(false, out);
  }
  if (absl::ascii_isdigit(c) || c == '-' || c == '+' || c == '.') {
    size_t i = 0;
    while (i < rest.size() &&
           (absl::ascii_isalnum(rest[i]) || rest[i] == '.' || rest[i] == '-' ||
            rest[i] == '+')) {
      ++i;
    }
    *out = rest.substr(0, i);
    pos_ += i;
    return true;
  }
  std::string_view t = rest;
  if (ConsumeKeyword(&t, "NULL")) {
    *out = kCopyNull;
  } else if (ConsumeKeyword(&t, "true")) {
    *out = "t";  // COPY's spelling, so both dump forms hash alike.
  } else if (ConsumeKeyword(&t, "false")) {
    *out = "f";
  } else if (ConsumeKeyword(&t, "DEFAULT")) {
    // Only a whole value: "DEFAULT" before ',' or ')'. The caller checks it
    // stands where the table has a generated column.
    std::string_view after = t;
    SkipSpaces(&after);
    if (after.empty() || (after[0] != ',' && after[0] != ')')) return false;
    *is_default = true;
    *out = {};
  } else {
    return false;  // Casts, function calls: not pg_dump's shape.
  }
  pos_ += rest.size() - t.size();
  return true;
}

bool InsertTupleReader::ReadString(bool escapes, std::string_view* out) {
  const size_t start = pos_;
  // Find the closing quote; the value is "plain" (a zero-copy view) when it
  // holds no doubled quote and nothing COPY must escape.
  size_t end = 0;  // The closing quote.
  bool plain = true;
  if (!escapes) {
    if (!FindClosingQuote(text_, start, &end, &plain)) return false;
    const char* base = text_.data();
    if (plain && FindCopySpecial(base + start, base + end) != base + end) {
      plain = false;
    }
  } else if (!FindClosingQuoteEscaped(text_, start, &end, &plain)) {
    return false;
  }
  pos_ = end + 1;
  if (pos_ + 1 < text_.size() && text_[pos_] == ':' && text_[pos_ + 1] == ':') {
    return false;  // A cast: not pg_dump's shape.
  }
  const std::string_view body = text_.substr(start, end - start);
  if (plain) {
    *out = body;
    return true;
  }
  const size_t at = scratch_.size();
  if (!escapes) {
    // Only doubled quotes to undo: COPY-encode straight into scratch_.
    AppendUndoubled(body, &scratch_);
  } else {
    // Decode the literal, then COPY-encode it into scratch_.
    decoded_.clear();
    if (!DecodeEscapedBody(body, &decoded_)) return false;
    AppendCopyEscaped(decoded_, &scratch_);
  }
  *out = std::string_view(scratch_).substr(at);
  return true;
}

}  // namespace pgmerge::parser
