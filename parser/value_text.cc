#include "parser/value_text.h"

#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "parser/copy_text.h"
#include "parser/lex_chars.h"

namespace pgmerge::parser {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (year 0 is 1 BC), as
// PostgreSQL's date2j counts them, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

// Reads exactly `n` digits at *p.
bool Digits(std::string_view s, size_t* p, size_t n, int64_t* v) {
  if (*p + n > s.size()) return false;
  int64_t x = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    x = x * 10 + (c - '0');
  }
  *p += n;
  *v = x;
  return true;
}

bool Expect(std::string_view s, size_t* p, char c) {
  if (*p >= s.size() || s[*p] != c) return false;
  ++*p;
  return true;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool IsUtcValue(std::string_view v) {
  return EndsWith(v, "+00") || EndsWith(v, "+00 BC") || v == "infinity" || v == "-infinity";
}

}  // namespace

SessionText SessionTextOf(const Column& c) {
  if (c.type_name == "timestamptz") {
    return c.is_array ? SessionText::kTimestamptzElements : SessionText::kTimestamptz;
  }
  if (c.type_name == "tstzrange" || c.type_name == "tstzmultirange") {
    return SessionText::kTimestamptzElements;
  }
  if (c.type_name == "bytea" && !c.is_array) return SessionText::kBytea;
  return SessionText::kNone;
}

bool TimestamptzAsUtc(std::string_view s, std::string* out) {
  // pg_dump's DateStyle ISO: Y{4,}-MM-DD HH:MM:SS[.f{1,6}](+|-)HH[:MM[:SS]][ BC].
  size_t p = 0;
  int64_t year = 0;
  size_t digits = 0;
  while (p < s.size() && s[p] >= '0' && s[p] <= '9' && digits < 9) {
    year = year * 10 + (s[p++] - '0');
    ++digits;
  }
  int64_t month, day, hour, minute, second;
  if (digits < 4 || !Expect(s, &p, '-') || !Digits(s, &p, 2, &month) || !Expect(s, &p, '-') ||
      !Digits(s, &p, 2, &day) || !Expect(s, &p, ' ') || !Digits(s, &p, 2, &hour) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &minute) || !Expect(s, &p, ':') ||
      !Digits(s, &p, 2, &second)) {
    return false;
  }
  const size_t fraction_at = p;
  if (p < s.size() && s[p] == '.') {
    ++p;
    const size_t from = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    if (p == from || p - from > 6) return false;
  }
  const std::string_view fraction = s.substr(fraction_at, p - fraction_at);
  if (p >= s.size() || (s[p] != '+' && s[p] != '-')) return false;
  const int64_t sign = s[p++] == '+' ? 1 : -1;
  int64_t oh = 0, om = 0, os = 0;
  if (!Digits(s, &p, 2, &oh)) return false;
  if (p < s.size() && s[p] == ':') {
    ++p;
    if (!Digits(s, &p, 2, &om)) return false;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, &p, 2, &os)) return false;
    }
  }
  bool bc = false;
  if (s.substr(p) == " BC") {
    bc = true;
    p = s.size();
  }
  if (p != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60 || om > 59 || os > 59 || year == 0) {
    return false;
  }
  const int64_t astronomical = bc ? 1 - year : year;
  // Only what PostgreSQL could have written: a real day, an offset it
  // allows, a year in its range. Other text is kept, for the restore to
  // refuse, never made into a valid value.
  int64_t cy, cm, cd;
  CivilFromDays(DaysFromCivil(astronomical, month, day), &cy, &cm, &cd);
  if (cy != astronomical || cm != month || cd != day || oh > 15 || astronomical < -4712 ||
      astronomical > 294276) {
    return false;
  }
  int64_t t = DaysFromCivil(astronomical, month, day) * 86400 + hour * 3600 + minute * 60 +
              second - sign * (oh * 3600 + om * 60 + os);
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t rest = t - days * 86400;
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  const bool out_bc = y <= 0;
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
                              static_cast<long long>(out_bc ? 1 - y : y),
                              static_cast<long long>(m), static_cast<long long>(d),
                              static_cast<long long>(rest / 3600),
                              static_cast<long long>(rest / 60 % 60),
                              static_cast<long long>(rest % 60));
  out->append(buf, static_cast<size_t>(n));
  out->append(fraction);
  out->append(out_bc ? "+00 BC" : "+00");
  return true;
}

namespace {

// A bytea in the escape form, as COPY text ("\\000\\377A"), written as hex
// ("\\x00ff41"): the bytes are the same.
bool ByteaEscapeAsHex(std::string_view field, std::string* out) {
  std::string scratch;
  const std::string_view text = DecodeCopyField(field, &scratch);
  std::string hex = "\\\\x";
  constexpr char kDigits[] = "0123456789abcdef";
  auto put = [&](unsigned char b) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      put(static_cast<unsigned char>(text[i]));
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      put('\\');
      ++i;
    } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
               text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
               text[i + 3] <= '7') {
      put(static_cast<unsigned char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                     (text[i + 3] - '0')));
      i += 3;
    } else {
      return false;
    }
  }
  out->append(hex);
  return true;
}

bool IsHexBytea(std::string_view field) {
  return field == "\\N" || field.substr(0, 3) == "\\\\x";
}

}  // namespace

bool IsCanonicalField(std::string_view field, SessionText how) {
  switch (how) {
    case SessionText::kNone:
      return true;
    case SessionText::kBytea:
      return IsHexBytea(field);
    case SessionText::kTimestamptz:
      return field == "\\N" || IsUtcValue(field);
    case SessionText::kTimestamptzElements:
      break;
  }
  // Elements with a space (every finite timestamp) are quoted in an array's
  // or a range's text.
  for (size_t open = field.find('"'); open != std::string_view::npos;) {
    const size_t close = field.find('"', open + 1);
    if (close == std::string_view::npos) return true;  // Not such text: kept.
    if (!IsUtcValue(field.substr(open + 1, close - open - 1))) return false;
    open = field.find('"', close + 1);
  }
  return true;
}

int AppendCanonicalField(std::string_view field, SessionText how, std::string* out) {
  if (how != SessionText::kTimestamptzElements) {
    const bool changed = !IsCanonicalField(field, how) &&
                         (how == SessionText::kBytea ? ByteaEscapeAsHex(field, out)
                                                     : TimestamptzAsUtc(field, out));
    if (!changed) out->append(field);
    return changed ? 1 : 0;
  }
  int changed = 0;
  size_t done = 0;
  for (size_t open = field.find('"'); open != std::string_view::npos;) {
    const size_t close = field.find('"', open + 1);
    if (close == std::string_view::npos) break;
    const std::string_view value = field.substr(open + 1, close - open - 1);
    if (!IsUtcValue(value)) {
      const size_t mark = out->size();
      out->append(field.substr(done, open + 1 - done));
      if (TimestamptzAsUtc(value, out)) {
        ++changed;
        done = close;
      } else {
        out->resize(mark);
      }
    }
    open = field.find('"', close + 1);
  }
  out->append(field.substr(done));
  return changed;
}

bool TimestampAsUtc(std::string_view v, std::string* out) {
  const bool bc = v.size() > 3 && v.substr(v.size() - 3) == " BC";
  const std::string_view local = bc ? v.substr(0, v.size() - 3) : v;
  // As TimestamptzAsUtc reads it, at offset +00: the same checks.
  std::string probe(local);
  probe.append(bc ? "+00 BC" : "+00");
  const size_t mark = out->size();
  if (!TimestamptzAsUtc(probe, out)) return false;
  if (std::string_view(*out).substr(mark) != probe) {  // Not written as pg_dump writes.
    out->resize(mark);
    return false;
  }
  return true;
}

bool NumericAtScale(std::string_view v, int scale, std::string* out) {
  size_t p = 0;
  const bool negative = p < v.size() && v[p] == '-';
  if (negative) ++p;
  const size_t int_begin = p;
  while (p < v.size() && v[p] >= '0' && v[p] <= '9') ++p;
  std::string digits(v.substr(int_begin, p - int_begin));  // Integer part.
  const size_t int_digits = digits.size();
  if (p < v.size() && v[p] == '.') {
    ++p;
    const size_t frac_begin = p;
    while (p < v.size() && v[p] >= '0' && v[p] <= '9') ++p;
    digits.append(v.substr(frac_begin, p - frac_begin));
  }
  if (p != v.size() || digits.empty() || scale < 0 || scale > 1000) return false;
  const size_t keep = int_digits + static_cast<size_t>(scale);
  bool up = digits.size() > keep && digits[keep] >= '5';
  digits.resize(keep, '0');
  for (size_t i = keep; up && i-- > 0;) {  // Carry the rounding up.
    if (digits[i] == '9') {
      digits[i] = '0';
    } else {
      ++digits[i];
      up = false;
    }
  }
  if (up) digits.insert(digits.begin(), '1');
  const size_t ints = digits.size() - static_cast<size_t>(scale);
  // No leading zeros but one before the point; no "-0".
  size_t first = 0;
  while (first + 1 < ints && digits[first] == '0') ++first;
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  if (negative && !zero) out->push_back('-');
  if (ints == 0) {
    out->push_back('0');
  } else {
    out->append(digits, first, ints - first);
  }
  if (scale > 0) {
    out->push_back('.');
    out->append(digits, ints, std::string::npos);
  }
  return true;
}

namespace {

// jsonb's text from json's (PostgreSQL's jsonb_in then jsonb_out): a
// recursive descent reader that writes as it goes, objects sorted.
class JsonbWriter {
 public:
  explicit JsonbWriter(std::string_view s) : s_(s) {}
  bool Run(std::string* out) {
    Space();
    if (!Value(out, 0)) return false;
    Space();
    return p_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 1000;  // Deeper is refused, not recursed.
  void Space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) {
      ++p_;
    }
  }
  bool Literal(std::string_view word, std::string* out) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    out->append(word);
    return true;
  }
  bool Value(std::string* out, int depth) {
    if (p_ >= s_.size() || depth > kMaxDepth) return false;
    switch (s_[p_]) {
      case '{': return Object(out, depth);
      case '[': return Array(out, depth);
      case '"': {
        std::string text;
        if (!String(&text)) return false;
        Quote(text, out);
        return true;
      }
      case 't': return Literal("true", out);
      case 'f': return Literal("false", out);
      case 'n': return Literal("null", out);
      default: return Number(out);
    }
  }
  bool Array(std::string* out, int depth) {
    ++p_;
    out->push_back('[');
    Space();
    if (p_ < s_.size() && s_[p_] == ']') {
      ++p_;
      out->push_back(']');
      return true;
    }
    for (bool first = true;; first = false) {
      if (!first) out->append(", ");
      Space();
      if (!Value(out, depth + 1)) return false;
      Space();
      if (p_ >= s_.size()) return false;
      if (s_[p_] == ']') break;
      if (s_[p_++] != ',') return false;
    }
    ++p_;
    out->push_back(']');
    return true;
  }
  bool Object(std::string* out, int depth) {
    ++p_;
    std::vector<std::pair<std::string, std::string>> pairs;  // Key, value's text.
    Space();
    if (p_ < s_.size() && s_[p_] == '}') {
      ++p_;
    } else {
      for (;;) {
        Space();
        std::pair<std::string, std::string> kv;
        if (p_ >= s_.size() || s_[p_] != '"' || !String(&kv.first)) return false;
        Space();
        if (p_ >= s_.size() || s_[p_++] != ':') return false;
        Space();
        if (!Value(&kv.second, depth + 1)) return false;
        pairs.push_back(std::move(kv));
        Space();
        if (p_ >= s_.size()) return false;
        if (s_[p_] == '}') break;
        if (s_[p_++] != ',') return false;
      }
      ++p_;
    }
    // Keys by length, then bytes; of equal keys the last one stays.
    std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
      return a.first.size() != b.first.size() ? a.first.size() < b.first.size()
                                              : a.first < b.first;
    });
    out->push_back('{');
    bool first = true;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;
      if (!first) out->append(", ");
      first = false;
      Quote(pairs[i].first, out);
      out->append(": ");
      out->append(pairs[i].second);
    }
    out->push_back('}');
    return true;
  }
  bool Code(uint32_t* u) {
    if (p_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = internal::HexValue(s_[p_ + i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p_ += 4;
    *u = v;
    return true;
  }
  // A string's decoded bytes; false where jsonb refuses it (\u0000, a lone
  // surrogate) or it is not JSON.
  bool String(std::string* text) {
    ++p_;
    while (p_ < s_.size() && s_[p_] != '"') {
      const char c = s_[p_++];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        text->push_back(c);
        continue;
      }
      if (p_ >= s_.size()) return false;
      const char e = s_[p_++];
      switch (e) {
        case '"': case '\\': case '/': text->push_back(e); break;
        case 'b': text->push_back('\b'); break;
        case 'f': text->push_back('\f'); break;
        case 'n': text->push_back('\n'); break;
        case 'r': text->push_back('\r'); break;
        case 't': text->push_back('\t'); break;
        case 'u': {
          uint32_t u;
          if (!Code(&u) || u == 0) return false;
          if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t low;
            if (s_.substr(p_, 2) != "\\u") return false;
            p_ += 2;
            if (!Code(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
          } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return false;
          }
          internal::AppendUtf8(u, text);
          break;
        }
        default: return false;
      }
    }
    if (p_ >= s_.size()) return false;
    ++p_;
    return true;
  }
  // As PostgreSQL's escape_json writes a string.
  static void Quote(std::string_view text, std::string* out) {
    out->push_back('"');
    for (const char c : text) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
            out->append(buf);
          } else {
            out->push_back(c);
          }
      }
    }
    out->push_back('"');
  }
  // A JSON number as numeric writes it: its digits, the point where the
  // exponent puts it, as many decimals as it had less the exponent.
  bool Number(std::string* out) {
    const size_t begin = p_;
    const bool negative = s_[p_] == '-';
    if (negative) ++p_;
    const size_t int_at = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    const size_t int_len = p_ - int_at;
    if (int_len == 0 || (int_len > 1 && s_[int_at] == '0')) return false;
    std::string digits(s_.substr(int_at, int_len));
    int64_t frac = 0;
    if (p_ < s_.size() && s_[p_] == '.') {
      ++p_;
      const size_t at = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
      if (p_ == at) return false;
      frac = static_cast<int64_t>(p_ - at);
      digits.append(s_.substr(at, p_ - at));
    }
    int64_t exp = 0;
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      bool minus = false;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) minus = s_[p_++] == '-';
      const size_t at = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9' && p_ - at < 6) {
        exp = exp * 10 + (s_[p_++] - '0');
      }
      if (p_ == at || (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')) return false;
      if (minus) exp = -exp;
    }
    if (exp > 1000 || exp < -1000) return false;  // Left to the restore.
    (void)begin;
    const int64_t scale = std::max<int64_t>(0, frac - exp);
    // Digits before the point: int_len + exp (padded with zeros either side).
    int64_t point = static_cast<int64_t>(int_len) + exp;
    if (point < 0) {
      digits.insert(0, static_cast<size_t>(-point), '0');
      point = 0;
    }
    const int64_t have_after = static_cast<int64_t>(digits.size()) - point;
    if (have_after < scale) digits.append(static_cast<size_t>(scale - have_after), '0');
    if (have_after > scale) digits.resize(static_cast<size_t>(point + scale));
    std::string ints = digits.substr(0, static_cast<size_t>(point));
    const size_t nz = ints.find_first_not_of('0');
    ints = nz == std::string::npos ? "0" : ints.substr(nz);
    const std::string decimals = digits.substr(static_cast<size_t>(point));
    const bool zero = ints == "0" && decimals.find_first_not_of('0') == std::string::npos;
    if (negative && !zero) out->push_back('-');
    out->append(ints);
    if (scale > 0) {
      out->push_back('.');
      out->append(decimals);
    }
    return true;
  }

  std::string_view s_;
  size_t p_ = 0;
};

}  // namespace

bool JsonAsJsonb(std::string_view field, std::string* out) {
  if (field == "\\N") return false;
  std::string scratch, text;
  if (!JsonbWriter(DecodeCopyField(field, &scratch)).Run(&text)) return false;
  AppendCopyEscaped(text, out);
  return true;
}

}  // namespace pgmerge::parser
