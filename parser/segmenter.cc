#include "parser/segmenter.h"

#include <algorithm>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <optional>
#include <vector>

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

// ---- psql's lexer, modelled (see psql's src/fe_utils/psqlscan.l) ----
//
// psql reads its input line by line and lexes each line on its own, with the
// lexer state carried from one line to the next; the line end itself is not
// seen by the lexer. Tokens therefore never span a '\n', and the only
// newline a rule can see inside a line is '\r'. The model below walks the
// input byte by byte with the same states, treating '\n' as that line break.

enum class LexState {
  kInitial,
  kComment,       // xc: /* ... */, nested.
  kQuote,         // xq: '...' with standard_conforming_strings on; N'...'.
  kExtQuote,      // xe: E'...', or '...' with the setting off.
  kBitQuote,      // xb, xh: B'...', X'...': no escapes, no doubled quotes.
  kUnicodeQuote,  // xus: U&'...': like xq whatever the setting.
  kQuoteStop,     // xqs: just past a closing quote, looking for 'continuation.
  kDollar,        // xdolq: $tag$ ... $tag$.
  kIdent,         // xd, xui: "..." and U&"...".
};

bool IsHorizSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }
bool IsLexSpace(char c) { return IsHorizSpace(c) || c == '\n' || c == '\r'; }
bool IsVarChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '_' || c >= 0x80;
}
bool IsDolqStart(unsigned char c) { return IsIdentStart(c); }
bool IsDolqCont(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '_' || c >= 0x80;
}

// Variables psql itself defines at start-up: a ":NAME" of one of these in a
// statement is replaced by psql with its value. pg_dump never writes one
// outside a literal.
bool IsPsqlPresetVariable(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "AUTOCOMMIT", "COMP_KEYWORD_CASE", "DBNAME", "ECHO", "ECHO_HIDDEN",
      "ENCODING", "ERROR", "FETCH_COUNT", "HIDE_TABLEAM",
      "HIDE_TOAST_COMPRESSION", "HISTCONTROL", "HISTFILE", "HISTSIZE", "HOST",
      "IGNOREEOF", "LASTOID", "LAST_ERROR_MESSAGE", "LAST_ERROR_SQLSTATE",
      "ON_ERROR_ROLLBACK", "ON_ERROR_STOP", "PORT", "PROMPT1", "PROMPT2",
      "PROMPT3", "QUIET", "ROW_COUNT", "SERVER_VERSION_NAME",
      "SERVER_VERSION_NUM", "SHOW_ALL_RESULTS", "SHOW_CONTEXT", "SINGLELINE",
      "SINGLESTEP", "SQLSTATE", "USER", "VERBOSITY", "VERSION", "VERSION_NAME",
      "VERSION_NUM", "SHELL_ERROR", "SHELL_EXIT_CODE"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

// Length of a psql variable reference (":name", ":'name'", ":\"name\"",
// ":{?name}") at s[i] == ':', or 0; *name receives the name.
size_t VariableReference(std::string_view s, size_t i, std::string_view* name) {
  const size_t n = s.size();
  size_t j = i + 1;
  char close = 0;
  if (j < n && (s[j] == '\'' || s[j] == '"')) {
    close = s[j];
    ++j;
  } else if (j + 1 < n && s[j] == '{' && s[j + 1] == '?') {
    close = '}';
    j += 2;
  }
  size_t name_start = j;
  while (j < n && IsVarChar(static_cast<unsigned char>(s[j]))) ++j;
  if (j == name_start) return 0;
  *name = s.substr(name_start, j - name_start);
  if (close == 0) return j - i;
  if (j < n && s[j] == close) return j + 1 - i;
  return 0;
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
      standard_strings_(standard_strings),
      previous_standard_strings_(standard_strings) {}

std::string_view StandardStringsPin(bool standard_strings) {
  return standard_strings ? "SET standard_conforming_strings = on;\n"
                          : "SET standard_conforming_strings = off;\n";
}

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


// The state psql's lexer keeps while it gathers one statement.
struct DumpSegmenter::Lexer {
  LexState state = LexState::kInitial;
  LexState before_stop = LexState::kInitial;
  int comment_depth = 0;
  std::string_view dollar_tag;
  int paren_depth = 0;
  int begin_depth = 0;
  int identifier_count = 0;
  char identifiers[4] = {0, 0, 0, 0};
  size_t token_start = 0;  // Where the current quoted token began.
  // The open literal's escapes depend on standard_conforming_strings.
  bool scs_literal = false;

  // psql's heuristic for SQL-standard routine bodies: inside CREATE [OR
  // REPLACE] FUNCTION|PROCEDURE, BEGIN (and CASE within it) opens a block
  // that END closes, counted at parenthesis depth 0 only.
  void Identifier(std::string_view word) {
    if (identifier_count == 0) std::memset(identifiers, 0, sizeof identifiers);
    if (EqualsIgnoreCase(word, "create") || EqualsIgnoreCase(word, "function") ||
        EqualsIgnoreCase(word, "procedure") || EqualsIgnoreCase(word, "or") ||
        EqualsIgnoreCase(word, "replace")) {
      if (identifier_count < 4) {
        identifiers[identifier_count] = absl::ascii_tolower(word[0]);
      }
    }
    ++identifier_count;
    const char* id = identifiers;
    if (id[0] == 'c' &&
        (id[1] == 'f' || id[1] == 'p' ||
         (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p'))) &&
        paren_depth == 0) {
      if (EqualsIgnoreCase(word, "begin")) {
        ++begin_depth;
      } else if (EqualsIgnoreCase(word, "case")) {
        if (begin_depth >= 1) ++begin_depth;
      } else if (EqualsIgnoreCase(word, "end")) {
        if (begin_depth > 0) --begin_depth;
      }
    }
  }
};

bool DumpSegmenter::StandardStringsAt(size_t pos) const {
  return pos > scs_switch_pos_ ? standard_strings_ : previous_standard_strings_;
}

absl::Status DumpSegmenter::Lex(LexResult* r) {
  const std::string_view s = input_;
  const size_t n = s.size();
  Lexer lx;
  size_t i = pos_;
  bool in_buffer = false;  // psql's query buffer holds something (a comment).
  size_t first = std::string_view::npos;  // First token other than a comment.
  r->scs_dependent = false;
  r->standard_strings = StandardStringsAt(i);
  auto unterminated = [&](std::string_view what) {
    return ErrorAt(lx.token_start, absl::StrCat("unterminated ", AsAbsl(what)));
  };
  auto begin_token = [&](size_t at) {
    if (first == std::string_view::npos) {
      first = at;
      r->standard_strings = StandardStringsAt(at);
    }
    in_buffer = true;
    lx.token_start = at;
  };
  while (i < n) {
    const char c = s[i];
    switch (lx.state) {
      case LexState::kInitial: {
        if (IsLexSpace(c)) {
          ++i;
          continue;
        }
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
          size_t e = i;
          while (e < n && s[e] != '\n' && s[e] != '\r') ++e;
          if (!in_buffer) SeeComment(s.substr(i, e - i));
          i = e;
          continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
          lx.token_start = i;
          in_buffer = true;
          lx.state = LexState::kComment;
          lx.comment_depth = 0;
          i += 2;
          continue;
        }
        if (c == '\\') {
          r->backslash = i;
          r->start = first == std::string_view::npos ? i : first;
          r->what = first == std::string_view::npos ? LexResult::kMeta
                                                    : LexResult::kBackslash;
          return absl::OkStatus();
        }
        begin_token(i);
        const unsigned char u = static_cast<unsigned char>(c);
        const char next = i + 1 < n ? s[i + 1] : '\0';
        if (c == '\'') {
          lx.state = StandardStringsAt(i) ? LexState::kQuote
                                          : LexState::kExtQuote;
          lx.before_stop = LexState::kInitial;
          lx.scs_literal = true;
          ++i;
        } else if (c == '"') {
          lx.state = LexState::kIdent;
          ++i;
        } else if (c == '$') {
          size_t j = i + 1;
          if (j < n && absl::ascii_isdigit(s[j])) {  // $1: a parameter.
            while (j < n && absl::ascii_isdigit(s[j])) ++j;
            i = j;
          } else if (j < n && s[j] == '$') {
            lx.dollar_tag = s.substr(i, 2);
            lx.state = LexState::kDollar;
            i += 2;
          } else if (j < n && IsDolqStart(static_cast<unsigned char>(s[j]))) {
            while (j < n && IsDolqCont(static_cast<unsigned char>(s[j]))) ++j;
            if (j < n && s[j] == '$') {
              lx.dollar_tag = s.substr(i, j + 1 - i);
              lx.state = LexState::kDollar;
              i = j + 1;
            } else {
              ++i;  // Only the '$'; the word after it is lexed anew.
            }
          } else {
            ++i;
          }
        } else if (absl::ascii_isdigit(c) ||
                   (c == '.' && absl::ascii_isdigit(next))) {
          size_t j = i;
          while (j < n && absl::ascii_isdigit(s[j])) ++j;
          if (j < n && s[j] == '.' && !(j + 1 < n && s[j + 1] == '.')) {
            ++j;
            while (j < n && absl::ascii_isdigit(s[j])) ++j;
          }
          if (j < n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
            if (k < n && absl::ascii_isdigit(s[k])) {
              while (k < n && absl::ascii_isdigit(s[k])) ++k;
              j = k;
            }
          }
          i = j;
        } else if (IsIdentStart(u)) {
          const char lower = absl::ascii_tolower(c);
          if ((lower == 'b' || lower == 'x') && next == '\'') {
            lx.state = LexState::kBitQuote;
            lx.before_stop = LexState::kInitial;
            i += 2;
          } else if (lower == 'n' && next == '\'') {
            ++i;  // N'...' is lexed as a plain literal from its quote.
          } else if (lower == 'e' && next == '\'') {
            lx.state = LexState::kExtQuote;
            lx.before_stop = LexState::kInitial;
            lx.scs_literal = false;
            i += 2;
          } else if (lower == 'u' && next == '&') {
            const char third = i + 2 < n ? s[i + 2] : '\0';
            if (third == '\'') {
              lx.state = LexState::kUnicodeQuote;
              i += 3;
            } else if (third == '"') {
              lx.state = LexState::kIdent;
              i += 3;
            } else {
              ++i;  // "U&" without a quote: only the U, not an identifier.
            }
          } else {
            size_t j = i + 1;
            while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
            lx.Identifier(s.substr(i, j - i));
            i = j;
          }
        } else if (c == '(') {
          ++lx.paren_depth;
          ++i;
        } else if (c == ')') {
          if (lx.paren_depth > 0) --lx.paren_depth;
          ++i;
        } else if (c == ';') {
          ++i;
          if (lx.paren_depth == 0 && lx.begin_depth == 0) {
            r->what = LexResult::kStatement;
            r->start = first;
            r->end = i;
            return absl::OkStatus();
          }
        } else if (c == ':') {
          std::string_view name;
          size_t len = next == ':' ? 2 : VariableReference(s, i, &name);
          if (len > 0 && !name.empty() && IsPsqlPresetVariable(name)) {
            return ErrorAt(i, absl::StrCat(
                                  "psql would replace the variable reference ",
                                  AsAbsl(s.substr(i, len)),
                                  " with its own value; pg_dump never writes "
                                  "one, refusing"));
          }
          i += len > 0 ? len : 1;
        } else {
          ++i;
        }
        continue;
      }
      case LexState::kComment: {
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
          ++lx.comment_depth;
          i += 2;
        } else if (c == '*' && i + 1 < n && s[i + 1] == '/') {
          if (lx.comment_depth <= 0) {
            lx.state = LexState::kInitial;
          } else {
            --lx.comment_depth;
          }
          i += 2;
        } else {
          ++i;
        }
        continue;
      }
      case LexState::kQuote:
      case LexState::kUnicodeQuote:
      case LexState::kBitQuote: {
        const void* q = std::memchr(s.data() + i, '\'', n - i);
        if (q == nullptr) return unterminated("quoted string");
        size_t j = static_cast<const char*>(q) - s.data();
        if (lx.state == LexState::kQuote && lx.scs_literal &&
            std::memchr(s.data() + i, '\\', j - i) != nullptr) {
          r->scs_dependent = true;
        }
        if (lx.state != LexState::kBitQuote && j + 1 < n && s[j + 1] == '\'') {
          i = j + 2;  // A doubled quote.
          continue;
        }
        lx.before_stop = lx.state;
        lx.state = LexState::kQuoteStop;
        i = j + 1;
        continue;
      }
      case LexState::kExtQuote: {
        if (c == '\\') {
          if (lx.scs_literal) r->scs_dependent = true;
          // A backslash just before the line end escapes nothing: psql
          // never sees that line end.
          i += (i + 1 < n && s[i + 1] != '\n') ? 2 : 1;
        } else if (c == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') {
            i += 2;
          } else {
            lx.before_stop = lx.state;
            lx.state = LexState::kQuoteStop;
            ++i;
          }
        } else {
          ++i;
        }
        continue;
      }
      case LexState::kQuoteStop: {
        if (c == '\n') {  // The quote ended its line: look on the next one.
          ++i;
          continue;
        }
        // {whitespace_with_newline}{quote} within this line, where the only
        // newline psql can see is '\r'.
        size_t j = i;
        while (j < n && s[j] != '\n') {
          if (IsHorizSpace(s[j])) {
            ++j;
          } else if (s[j] == '-' && j + 1 < n && s[j + 1] == '-') {
            while (j < n && s[j] != '\n' && s[j] != '\r') ++j;
          } else {
            break;
          }
        }
        bool continued = false;
        if (j < n && s[j] == '\r') {
          ++j;
          for (;;) {
            if (j < n && (IsHorizSpace(s[j]) || s[j] == '\r')) {
              ++j;
            } else if (j + 1 < n && s[j] == '-' && s[j + 1] == '-') {
              size_t k = j;
              while (k < n && s[k] != '\n' && s[k] != '\r') ++k;
              if (k < n && s[k] == '\r') {
                j = k + 1;
              } else {
                break;
              }
            } else {
              break;
            }
          }
          continued = j < n && s[j] == '\'';
        }
        if (continued) {
          lx.state = lx.before_stop;
          i = j + 1;
        } else {
          lx.state = LexState::kInitial;
        }
        continue;
      }
      case LexState::kDollar: {
        size_t close = s.find(lx.dollar_tag, i);
        if (close == std::string_view::npos) {
          return unterminated(
              absl::StrCat("dollar-quoted string ", AsAbsl(lx.dollar_tag)));
        }
        i = close + lx.dollar_tag.size();
        lx.state = LexState::kInitial;
        continue;
      }
      case LexState::kIdent: {
        const void* q = std::memchr(s.data() + i, '"', n - i);
        if (q == nullptr) return unterminated("quoted identifier");
        size_t j = static_cast<const char*>(q) - s.data();
        if (j + 1 < n && s[j + 1] == '"') {
          i = j + 2;
        } else {
          lx.state = LexState::kInitial;
          i = j + 1;
        }
        continue;
      }
    }
  }
  switch (lx.state) {
    case LexState::kInitial:
    case LexState::kQuoteStop:
      break;
    case LexState::kComment:
      return unterminated("/* comment");
    case LexState::kDollar:
      return unterminated(
          absl::StrCat("dollar-quoted string ", AsAbsl(lx.dollar_tag)));
    case LexState::kIdent:
      return unterminated("quoted identifier");
    default:
      return unterminated("quoted string");
  }
  r->start = first;
  r->end = n;
  r->what = first == std::string_view::npos ? LexResult::kEof
                                            : LexResult::kIncomplete;
  return absl::OkStatus();
}

namespace {

// The words of a short statement (SET ..., RESET ..., SELECT set_config(...)):
// identifiers lower-cased, literals with their quotes, punctuation alone.
std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (IsLexSpace(c)) {
      ++i;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      std::string w(1, c);
      while (j < s.size()) {
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {
            w.push_back(c);
            j += 2;
            continue;
          }
          break;
        }
        w.push_back(s[j++]);
      }
      w.push_back(c);
      out.push_back(std::move(w));
      i = j + 1;
    } else if (IsIdentChar(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back(absl::AsciiStrToLower(AsAbsl(s.substr(i, j - i))));
      i = j;
    } else {
      out.push_back(std::string(1, c));
      ++i;
    }
  }
  return out;
}

// PostgreSQL's parse_bool: any case, unique prefixes of true/false/yes/no,
// "on", "off" (at least "of"), "1", "0".
std::optional<bool> ParseBool(std::string v) {
  v = absl::AsciiStrToLower(v);
  if (v.empty()) return std::nullopt;
  auto prefix_of = [&v](std::string_view word, size_t min) {
    return v.size() >= min && v.size() <= word.size() &&
           word.substr(0, v.size()) == v;
  };
  if (prefix_of("true", 1) || prefix_of("yes", 1) || v == "on" || v == "1") {
    return true;
  }
  if (prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) ||
      v == "0") {
    return false;
  }
  return std::nullopt;
}

// A value word of SET: an identifier, a number or a '...' literal.
std::optional<bool> BoolWord(const std::string& w) {
  if (w.size() >= 2 && w.front() == '\'' && w.back() == '\'') {
    return ParseBool(w.substr(1, w.size() - 2));
  }
  if (!w.empty() && w.front() == '"') return std::nullopt;
  return ParseBool(w);
}

constexpr std::string_view kScs = "standard_conforming_strings";

}  // namespace

// What the server would report for standard_conforming_strings after
// `stmt` (pg_dump writes "SET standard_conforming_strings = on;"). Statements
// that name the setting in a way this cannot follow are refused: psql would
// lex the rest of the dump by a value pgmerge does not know.
absl::Status DumpSegmenter::FollowStandardStrings(std::string_view stmt,
                                                  size_t end) {
  if (!ContainsIgnoreCase(stmt, "standard_conforming_strings") &&
      !StartsWithIgnoreCase(stmt, "RESET") &&
      !StartsWithIgnoreCase(stmt, "DISCARD")) {
    return absl::OkStatus();
  }
  std::vector<std::string> w = Words(stmt);
  if (!w.empty() && w.back() == ";") w.pop_back();
  if (w.empty()) return absl::OkStatus();
  std::optional<bool> value;
  bool understood = false;
  bool applies = false;
  if (w[0] == "set") {
    size_t k = 1;
    if (k < w.size() && (w[k] == "session" || w[k] == "local")) ++k;
    if (k < w.size() && w[k] == kScs) {
      applies = true;
      ++k;
      if (k + 1 < w.size() && (w[k] == "to" || w[k] == "=") &&
          k + 2 == w.size()) {
        value = w[k + 1] == "default" ? std::optional<bool>(true)
                                      : BoolWord(w[k + 1]);
        understood = value.has_value();
      }
    } else {
      // SET of another setting (SET search_path = ..., SET SESSION
      // AUTHORIZATION ...): the name of ours may only appear in a value.
      return absl::OkStatus();
    }
  } else if (w[0] == "reset") {
    if (w.size() == 2 && (w[1] == kScs || w[1] == "all")) {
      applies = understood = true;
      value = true;
    } else {
      return absl::OkStatus();
    }
  } else if (w[0] == "discard") {
    if (w.size() == 2 && w[1] == "all") {
      applies = understood = true;
      value = true;
    } else {
      return absl::OkStatus();
    }
  } else if (w[0] == "select") {
    // SELECT [pg_catalog.]set_config('standard_conforming_strings', 'V', B)
    std::vector<std::string> want_tail = {"(", "'standard_conforming_strings'", ","};
    size_t k = 1;
    if (k + 1 < w.size() && w[k] == "pg_catalog" && w[k + 1] == ".") k += 2;
    if (k < w.size() && w[k] == "set_config") {
      applies = true;
      ++k;
      bool shape = k + 7 == w.size();
      for (size_t t = 0; shape && t < want_tail.size(); ++t) {
        shape = absl::AsciiStrToLower(w[k + t]) == want_tail[t];
      }
      if (shape && w[k + 4] == "," && w[k + 6] == ")" &&
          (w[k + 5] == "true" || w[k + 5] == "false") &&
          w[k + 3].front() == '\'') {
        value = BoolWord(w[k + 3]);
        understood = value.has_value();
      }
    } else {
      applies = true;  // Our setting named in some other query.
    }
  } else {
    // ALTER DATABASE/ROLE ... SET, CREATE FUNCTION ... SET, COMMENT ...:
    // none of these changes this session's value.
    return absl::OkStatus();
  }
  if (!applies) return absl::OkStatus();
  if (!understood) {
    return ErrorAt(end, absl::StrCat(
                            "cannot tell what this statement sets "
                            "standard_conforming_strings to; psql lexes the "
                            "rest of the dump by it, refusing"));
  }
  // The server reports the new value when the statement has run, which psql
  // reads before it lexes the next line.
  const size_t nl = input_.find('\n', end);
  previous_standard_strings_ = StandardStringsAt(end);
  standard_strings_ = *value;
  scs_switch_pos_ = nl == std::string_view::npos ? input_.size() : nl;
  return absl::OkStatus();
}

void DumpSegmenter::SeeComment(std::string_view comment) {
  if (comment_hook_) comment_hook_(comment);
  std::string_view t = StripTrailingAsciiWhitespace(comment);
  if (t == "-- PostgreSQL database dump complete") saw_trailer_ = true;
}

absl::StatusOr<bool> DumpSegmenter::Next(Segment* out) {
  if (in_copy_) return NextCopyRow(out);
  const std::string_view s = input_;
  const size_t n = s.size();
  LexResult r;
  PGM_RETURN_IF_ERROR(Lex(&r));
  switch (r.what) {
    case LexResult::kEof:
      pos_ = n;
      return false;
    case LexResult::kIncomplete:
      return ErrorAt(r.start,
                     "statement is not terminated by ';' (file truncated?)");
    case LexResult::kBackslash: {
      size_t e = r.backslash + 1;
      while (e < n && e < r.backslash + 24 && !IsLexSpace(s[e])) ++e;
      return ErrorAt(r.backslash,
                     absl::StrCat("psql would run ",
                                  AsAbsl(s.substr(r.backslash, e - r.backslash)),
                                  " inside this statement as a meta-command "
                                  "(a backslash outside quotes); pg_dump never "
                                  "writes one, refusing"));
    }
    case LexResult::kMeta: {
      const void* nl = std::memchr(s.data() + r.start, '\n', n - r.start);
      size_t end = nl ? static_cast<const char*>(nl) - s.data() : n;
      out->kind = SegmentKind::kMeta;
      out->offset = r.start;
      out->line = LineAt(r.start);
      out->text = StripTrailingAsciiWhitespace(s.substr(r.start, end - r.start));
      out->standard_strings_dependent = false;
      out->standard_strings = StandardStringsAt(r.start);
      pos_ = end;
      return true;
    }
    case LexResult::kStatement:
      break;
  }
  const size_t start = r.start;
  out->offset = start;
  out->line = LineAt(start);
  out->text = s.substr(start, r.end - start);
  out->standard_strings = r.standard_strings;
  out->standard_strings_dependent = r.scs_dependent;
  if (r.scs_dependent && StandardStringsAt(start) != StandardStringsAt(r.end)) {
    return ErrorAt(start,
                   "a literal with a backslash on the line where "
                   "standard_conforming_strings changes: psql and the server "
                   "would read it differently, refusing");
  }
  pos_ = r.end;
  if (IsCopyFromStdin(out->text)) {
    out->kind = SegmentKind::kCopyHeader;
    // Data starts on the line after the header.
    const void* nl = std::memchr(s.data() + pos_, '\n', n - pos_);
    if (nl == nullptr) {
      return ErrorAt(start, "COPY header is not followed by a data block");
    }
    const size_t line_end = static_cast<const char*>(nl) - s.data();
    std::string_view rest =
        StripAsciiWhitespace(s.substr(pos_, line_end - pos_));
    if (!rest.empty() && !StartsWithIgnoreCase(rest, "--")) {
      // psql would run this after the data block; pg_dump writes nothing.
      return ErrorAt(start, "text after a COPY header on its line");
    }
    pos_ = line_end + 1;
    in_copy_ = true;
    copy_start_line_ = out->line;
    return true;
  }
  out->kind = SegmentKind::kSql;
  PGM_RETURN_IF_ERROR(FollowStandardStrings(out->text, r.end));
  return true;
}

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
  // The terminator is a line holding exactly "\." (an escaped "\." in
  // data is "\\.").
  auto is_terminator = [&](size_t at) {
    size_t after = at + 2;
    return s.substr(at, 2) == "\\." &&
           (after == n || s[after] == '\n' ||
            (s[after] == '\r' && (after + 1 == n || s[after + 1] == '\n')));
  };
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
