#include "parser/segmenter.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"
#include "parser/copy_text.h"
#include "parser/lex_chars.h"

namespace pgmerge::parser {
namespace {

using internal::IsHorizSpace;
using internal::IsIdentChar;
using internal::IsIdentStart;
using internal::IsLexSpace;

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


// The state psql's lexer keeps while it gathers one statement, and its
// rules for every state but the initial one's comments, backslashes and
// statement ends (Lex, which needs the segmenter, keeps those).
struct DumpSegmenter::Lexer {
  // What a step returns when its token never closes.
  static constexpr size_t kUnterminated = std::string_view::npos;

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

  // What the open token is called in "unterminated ..." messages.
  std::string OpenToken() const {
    switch (state) {
      case LexState::kComment:
        return "/* comment";
      case LexState::kDollar:
        return absl::StrCat("dollar-quoted string ", AsAbsl(dollar_tag));
      case LexState::kIdent:
        return "quoted identifier";
      default:
        return "quoted string";
    }
  }

  // A token starting at s[i] in the initial state, other than a comment,
  // a backslash, ';' or ':': where the next step starts. `standard_strings`
  // is the setting a plain '...' is lexed under.
  size_t Token(std::string_view s, size_t i, bool standard_strings) {
    const size_t n = s.size();
    const char c = s[i];
    const char next = i + 1 < n ? s[i + 1] : '\0';
    if (c == '\'') {
      state = standard_strings ? LexState::kQuote : LexState::kExtQuote;
      before_stop = LexState::kInitial;
      scs_literal = true;
      return i + 1;
    }
    if (c == '"') {
      state = LexState::kIdent;
      return i + 1;
    }
    if (c == '$') return DollarStart(s, i);
    if (absl::ascii_isdigit(c) || (c == '.' && absl::ascii_isdigit(next))) {
      return Number(s, i);
    }
    if (IsIdentStart(static_cast<unsigned char>(c))) return Word(s, i);
    if (c == '(') {
      ++paren_depth;
    } else if (c == ')') {
      if (paren_depth > 0) --paren_depth;
    }
    return i + 1;
  }

  // One step in any state but the initial one, from s[i]: where the next
  // step starts, or kUnterminated. Sets *scs_dependent when a literal's
  // meaning depends on standard_conforming_strings.
  size_t Step(std::string_view s, size_t i, bool* scs_dependent) {
    switch (state) {
      case LexState::kInitial:
        break;
      case LexState::kComment:
        return CommentStep(s, i);
      case LexState::kQuote:
      case LexState::kUnicodeQuote:
      case LexState::kBitQuote:
        return QuoteStep(s, i, scs_dependent);
      case LexState::kExtQuote:
        return ExtQuoteStep(s, i, scs_dependent);
      case LexState::kQuoteStop:
        return QuoteStopStep(s, i);
      case LexState::kDollar:
        return DollarStep(s, i);
      case LexState::kIdent:
        return IdentStep(s, i);
    }
    return i;
  }

 private:
  // '$' at s[i]: a parameter ($1), a dollar quote's tag, or the '$' alone.
  size_t DollarStart(std::string_view s, size_t i) {
    const size_t n = s.size();
    size_t j = i + 1;
    if (j < n && absl::ascii_isdigit(s[j])) {  // $1: a parameter.
      while (j < n && absl::ascii_isdigit(s[j])) ++j;
      return j;
    }
    if (j < n && s[j] == '$') {
      dollar_tag = s.substr(i, 2);
      state = LexState::kDollar;
      return i + 2;
    }
    if (j < n && IsDolqStart(static_cast<unsigned char>(s[j]))) {
      while (j < n && IsDolqCont(static_cast<unsigned char>(s[j]))) ++j;
      if (j < n && s[j] == '$') {
        dollar_tag = s.substr(i, j + 1 - i);
        state = LexState::kDollar;
        return j + 1;
      }
    }
    return i + 1;  // Only the '$'; a word after it is lexed anew.
  }

  static size_t Number(std::string_view s, size_t i) {
    const size_t n = s.size();
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
    return j;
  }

  // A word, or one of the quotes a letter opens: B'', X'', N'', E'', U&.
  size_t Word(std::string_view s, size_t i) {
    const size_t n = s.size();
    const char lower = absl::ascii_tolower(s[i]);
    const char next = i + 1 < n ? s[i + 1] : '\0';
    if ((lower == 'b' || lower == 'x') && next == '\'') {
      state = LexState::kBitQuote;
      before_stop = LexState::kInitial;
      return i + 2;
    }
    if (lower == 'n' && next == '\'') return i + 1;  // N'...': a plain literal from its quote.
    if (lower == 'e' && next == '\'') {
      state = LexState::kExtQuote;
      before_stop = LexState::kInitial;
      scs_literal = false;
      return i + 2;
    }
    if (lower == 'u' && next == '&') {
      const char third = i + 2 < n ? s[i + 2] : '\0';
      if (third == '\'') {
        state = LexState::kUnicodeQuote;
        return i + 3;
      }
      if (third == '"') {
        state = LexState::kIdent;
        return i + 3;
      }
      return i + 1;  // "U&" without a quote: only the U, not an identifier.
    }
    size_t j = i + 1;
    while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
    Identifier(s.substr(i, j - i));
    return j;
  }

  size_t CommentStep(std::string_view s, size_t i) {
    const size_t n = s.size();
    if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
      ++comment_depth;
      return i + 2;
    }
    if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
      if (comment_depth <= 0) {
        state = LexState::kInitial;
      } else {
        --comment_depth;
      }
      return i + 2;
    }
    return i + 1;
  }

  size_t QuoteStep(std::string_view s, size_t i, bool* scs_dependent) {
    const size_t n = s.size();
    const void* q = std::memchr(s.data() + i, '\'', n - i);
    if (q == nullptr) return kUnterminated;
    size_t j = static_cast<const char*>(q) - s.data();
    if (state == LexState::kQuote && scs_literal &&
        std::memchr(s.data() + i, '\\', j - i) != nullptr) {
      *scs_dependent = true;
    }
    if (state != LexState::kBitQuote && j + 1 < n && s[j + 1] == '\'') {
      return j + 2;  // A doubled quote.
    }
    before_stop = state;
    state = LexState::kQuoteStop;
    return j + 1;
  }

  size_t ExtQuoteStep(std::string_view s, size_t i, bool* scs_dependent) {
    const size_t n = s.size();
    if (s[i] == '\\') {
      if (scs_literal) *scs_dependent = true;
      // A backslash just before the line end escapes nothing: psql never
      // sees that line end.
      return (i + 1 < n && s[i + 1] != '\n') ? i + 2 : i + 1;
    }
    if (s[i] == '\'') {
      if (i + 1 < n && s[i + 1] == '\'') return i + 2;
      before_stop = state;
      state = LexState::kQuoteStop;
    }
    return i + 1;
  }

  size_t QuoteStopStep(std::string_view s, size_t i) {
    const size_t n = s.size();
    if (s[i] == '\n') return i + 1;  // The quote ended its line: look on the next one.
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
      if (j < n && s[j] == '\'') {  // Continued.
        state = before_stop;
        return j + 1;
      }
    }
    state = LexState::kInitial;
    return i;
  }

  size_t DollarStep(std::string_view s, size_t i) {
    size_t close = s.find(dollar_tag, i);
    if (close == std::string_view::npos) return kUnterminated;
    state = LexState::kInitial;
    return close + dollar_tag.size();
  }

  size_t IdentStep(std::string_view s, size_t i) {
    const size_t n = s.size();
    const void* q = std::memchr(s.data() + i, '"', n - i);
    if (q == nullptr) return kUnterminated;
    size_t j = static_cast<const char*>(q) - s.data();
    if (j + 1 < n && s[j + 1] == '"') return j + 2;
    state = LexState::kInitial;
    return j + 1;
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
  while (i < n) {
    if (lx.state != LexState::kInitial) {
      i = lx.Step(s, i, &r->scs_dependent);
      if (i == Lexer::kUnterminated) {
        return ErrorAt(lx.token_start, absl::StrCat("unterminated ", lx.OpenToken()));
      }
      continue;
    }
    const char c = s[i];
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
      r->what = first == std::string_view::npos ? LexResult::kMeta : LexResult::kBackslash;
      return absl::OkStatus();
    }
    if (first == std::string_view::npos) {
      first = i;
      r->standard_strings = StandardStringsAt(i);
    }
    in_buffer = true;
    lx.token_start = i;
    if (c == ';') {
      ++i;
      if (lx.paren_depth == 0 && lx.begin_depth == 0) {
        r->what = LexResult::kStatement;
        r->start = first;
        r->end = i;
        return absl::OkStatus();
      }
    } else if (c == ':') {
      std::string_view name;
      size_t len = i + 1 < n && s[i + 1] == ':' ? 2 : VariableReference(s, i, &name);
      if (len > 0 && !name.empty() && IsPsqlPresetVariable(name)) {
        return ErrorAt(i, absl::StrCat("psql would replace the variable reference ",
                                       AsAbsl(s.substr(i, len)),
                                       " with its own value; pg_dump never writes one, refusing"));
      }
      i += len > 0 ? len : 1;
    } else {
      i = lx.Token(s, i, StandardStringsAt(i));
    }
  }
  if (lx.state != LexState::kInitial && lx.state != LexState::kQuoteStop) {
    return ErrorAt(lx.token_start, absl::StrCat("unterminated ", lx.OpenToken()));
  }
  r->start = first;
  r->end = n;
  r->what = first == std::string_view::npos ? LexResult::kEof : LexResult::kIncomplete;
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


}  // namespace pgmerge::parser