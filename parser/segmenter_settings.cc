// DumpSegmenter's reading of standard_conforming_strings from the dump's
// own SET statements: psql lexes the rest of the dump by it.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"
#include "parser/lex_chars.h"
#include "parser/segmenter.h"

namespace pgmerge::parser {
namespace {

using internal::IsIdentChar;
using internal::IsLexSpace;

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
  // Only these four can change this session's value (see below): any other
  // statement, such as each INSERT of an --inserts dump, is passed over at
  // its first word rather than searched.
  if (!StartsWithWord(stmt, "SET") && !StartsWithWord(stmt, "RESET") &&
      !StartsWithWord(stmt, "DISCARD") && !StartsWithWord(stmt, "SELECT")) {
    return absl::OkStatus();
  }
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

}  // namespace pgmerge::parser
