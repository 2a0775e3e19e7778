#include "swap/secrets.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

namespace pgmerge::swap {
namespace {

// A byte range [begin, end) of `text` holding a password value.
using Span = std::pair<size_t, size_t>;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Conninfo `password = value` (libpq allows spaces around '='; a value is
// single-quoted with backslash escapes, or runs to the next space) and URI
// query parameters `password=value` (up to '&'). Also the keyword in a
// message that quotes the string, so matching is by the word alone.
void KeywordSpans(std::string_view text, std::vector<Span>* out) {
  static constexpr std::string_view kWord = "password";
  for (size_t at = text.find(kWord); at != std::string_view::npos;
       at = text.find(kWord, at + 1)) {
    // A whole keyword: not the tail of "nopassword" or a longer option.
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) {
      continue;
    }
    size_t i = at + kWord.size();
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') continue;
    ++i;
    const bool uri_param = at > 0 && (text[at - 1] == '?' || text[at - 1] == '&');
    if (!uri_param) {
      while (i < text.size() && IsSpace(text[i])) ++i;
    }
    size_t begin = i;
    if (!uri_param && i < text.size() && text[i] == '\'') {
      ++i;
      while (i < text.size() && text[i] != '\'') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        ++i;
      }
      if (i < text.size()) ++i;  // The closing quote.
    } else {
      while (i < text.size() && !IsSpace(text[i]) && !(uri_param && text[i] == '&') &&
             text[i] != '"') {
        ++i;
      }
    }
    if (i > begin) out->push_back({begin, i});
  }
}

// URI userinfo: `scheme://user:password@host`. The password runs from the
// first ':' after "://" to the last '@' before the host part ends.
void UriSpans(std::string_view text, std::vector<Span>* out) {
  for (size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", at + 3)) {
    const size_t start = at + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && !IsSpace(text[end]) &&
           text[end] != '"') {
      ++end;
    }
    const std::string_view authority = text.substr(start, end - start);
    const size_t atsign = authority.rfind('@');
    if (atsign == std::string_view::npos) continue;
    const size_t colon = authority.substr(0, atsign).find(':');
    if (colon == std::string_view::npos || colon + 1 >= atsign) continue;
    out->push_back({start + colon + 1, start + atsign});
  }
}

// Sorted, overlapping spans merged.
std::vector<Span> Spans(std::string_view text) {
  std::vector<Span> spans;
  KeywordSpans(text, &spans);
  UriSpans(text, &spans);
  std::sort(spans.begin(), spans.end());
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, s.second);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

}  // namespace

void ScrubPasswordsFromArgv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i], std::strlen(argv[i]));
    for (const auto& [begin, end] : Spans(arg)) {
      std::memset(argv[i] + begin, 'x', end - begin);
    }
  }
}

std::vector<std::string> PasswordsIn(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& [begin, end] : Spans(text)) {
    std::string value(text.substr(begin, end - begin));
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < value.size(); ++i) {
        if (value[i] == '\\' && i + 2 < value.size()) ++i;
        unquoted.push_back(value[i]);
      }
      out.push_back(unquoted);
    }
    out.push_back(std::move(value));
  }
  return out;
}

std::string RedactPasswords(std::string_view text, const std::vector<std::string>& known) {
  std::string out(text);
  for (const std::string& k : known) {
    if (k.empty()) continue;
    for (size_t at = out.find(k); at != std::string::npos; at = out.find(k, at + 3)) {
      out.replace(at, k.size(), "***");
    }
  }
  // Positions move as spans shrink: replace from the last one back.
  const std::vector<Span> spans = Spans(out);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (out.compare(it->first, it->second - it->first, "***") == 0) continue;
    out.replace(it->first, it->second - it->first, "***");
  }
  return out;
}

}  // namespace pgmerge::swap
