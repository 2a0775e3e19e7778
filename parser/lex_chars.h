// Character classes of psql's lexer (psqlscan.l), shared by the segmenter's
// files; internal to parser/.
#ifndef PGMERGE_PARSER_LEX_CHARS_H_
#define PGMERGE_PARSER_LEX_CHARS_H_

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

}  // namespace pgmerge::parser::internal

#endif  // PGMERGE_PARSER_LEX_CHARS_H_
