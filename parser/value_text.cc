#include "parser/value_text.h"

#include <cstdint>
#include <cstdio>

#include "parser/copy_text.h"

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

}  // namespace pgmerge::parser
