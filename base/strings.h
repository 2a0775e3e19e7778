// String helpers on std::string_view.
//
// Debian's Abseil is built with its own absl::string_view type (not an alias
// of std::string_view), so absl's string functions do not take the views
// this project passes around. These few helpers cover what the stages need;
// AsAbsl() bridges to absl::StrCat and friends in the (cold) message paths.
#ifndef PGMERGE_BASE_STRINGS_H_
#define PGMERGE_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace pgmerge {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Whether `text` starts with the keyword `word`, in any case, as a whole
// word: the end of the text or a byte other than an ASCII letter, digit or
// underscore follows it ("SET x", "GRANT;", not "SETTINGS" or "SET_X").
// pg_dump writes a space after every statement's first word.
inline bool StartsWithWord(std::string_view text, std::string_view word) {
  if (!StartsWithIgnoreCase(text, word)) return false;
  if (text.size() == word.size()) return true;
  const unsigned char next = static_cast<unsigned char>(text[word.size()]);
  return !(absl::ascii_isalnum(next) || next == '_');
}

inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

inline bool ContainsIgnoreCase(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > s.size()) return false;
  // The whole needle is compared only where its first byte matches.
  const char first = absl::ascii_tolower(static_cast<unsigned char>(needle[0]));
  const std::string_view rest = needle.substr(1);
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) == first &&
        EqualsIgnoreCase(s.substr(i + 1, rest.size()), rest)) {
      return true;
    }
  }
  return false;
}

inline std::string_view StripLeadingAsciiWhitespace(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && absl::ascii_isspace(static_cast<unsigned char>(s[i]))) {
    ++i;
  }
  return s.substr(i);
}

inline std::string_view StripTrailingAsciiWhitespace(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && absl::ascii_isspace(static_cast<unsigned char>(s[n - 1]))) {
    --n;
  }
  return s.substr(0, n);
}

inline std::string_view StripAsciiWhitespace(std::string_view s) {
  return StripTrailingAsciiWhitespace(StripLeadingAsciiWhitespace(s));
}

}  // namespace pgmerge

#endif  // PGMERGE_BASE_STRINGS_H_
