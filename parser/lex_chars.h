// Characters as parser/'s files read and write them: the classes of psql's
// lexer (psqlscan.l), hex digits, UTF-8 from a code point; internal to
// parser/.
#ifndef PGMERGE_PARSER_LEX_CHARS_H_
#define PGMERGE_PARSER_LEX_CHARS_H_

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"

namespace pgmerge::parser::internal {

inline bool IsIdentChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}
inline bool IsIdentStart(unsigned char c) {
  return absl::ascii_isalpha(c) || c == '_' || c >= 0x80;
}
inline bool IsHorizSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }
inline bool IsLexSpace(char c) { return IsHorizSpace(c) || c == '\n' || c == '\r'; }

// A hex digit's value, or -1.
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends code point `cp` (at most 0x10FFFF) as UTF-8.
inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace pgmerge::parser::internal

#endif  // PGMERGE_PARSER_LEX_CHARS_H_
