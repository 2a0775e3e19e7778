#include "parser/copy_text.h"

#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace pgmerge::parser {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls on_tab(pos) for each unescaped tab of `row`, in order. SSE2 finds
// tabs and backslashes 16 bytes at a time; the few hits are walked in
// order so a backslash can escape what follows it (a tab included).
template <typename OnTab>
inline void ForEachFieldTab(std::string_view row, OnTab on_tab) {
  const char* base = row.data();
  const size_t n = row.size();
  size_t escaped_until = 0;  // Bytes before this were escaped by a backslash.
  size_t i = 0;
  auto hit = [&](size_t pos) {
    if (pos < escaped_until) return;
    if (base[pos] == '\\') {
      escaped_until = pos + 2;
    } else {
      on_tab(pos);
    }
  };
#ifdef __SSE2__
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i slash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
    uint32_t mask = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, slash))));
    while (mask != 0) {
      hit(i + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
  }
  if (i < n && n >= 16) {
    // The tail: the row's last 16 bytes, those already seen masked off.
    const size_t at = n - 16;
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + at));
    uint32_t mask = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, slash))));
    mask &= ~uint32_t{0} << (i - at);
    while (mask != 0) {
      hit(at + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
    i = n;
  }
#endif
  for (; i < n; ++i) {
    if (base[i] == '\t' || base[i] == '\\') hit(i);
  }
}

}  // namespace

void SplitCopyRow(std::string_view row, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  ForEachFieldTab(row, [&](size_t pos) {
    fields->emplace_back(row.data() + start, pos - start);
    start = pos + 1;
  });
  fields->emplace_back(row.data() + start, row.size() - start);
}

size_t CountCopyFields(std::string_view row) {
  size_t count = 1;
  ForEachFieldTab(row, [&](size_t) { ++count; });
  return count;
}

std::string_view DecodeCopyField(std::string_view field, std::string* scratch) {
  if (field.find('\\') == std::string_view::npos) return field;
  scratch->clear();
  const size_t n = field.size();
  for (size_t i = 0; i < n; ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 >= n) {
      scratch->push_back(c);
      continue;
    }
    char e = field[++i];
    switch (e) {
      case 'b': scratch->push_back('\b'); break;
      case 'f': scratch->push_back('\f'); break;
      case 'n': scratch->push_back('\n'); break;
      case 'r': scratch->push_back('\r'); break;
      case 't': scratch->push_back('\t'); break;
      case 'v': scratch->push_back('\v'); break;
      case 'x': {
        int v = i + 1 < n ? HexValue(field[i + 1]) : -1;
        if (v < 0) {  // "\x" without digits means a plain 'x'.
          scratch->push_back('x');
          break;
        }
        ++i;
        if (i + 1 < n && HexValue(field[i + 1]) >= 0) {
          v = v * 16 + HexValue(field[++i]);
        }
        scratch->push_back(static_cast<char>(v));
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int k = 0; k < 2 && i + 1 < n && field[i + 1] >= '0' &&
                          field[i + 1] <= '7';
               ++k) {
            v = v * 8 + (field[++i] - '0');
          }
          scratch->push_back(static_cast<char>(v & 0xff));
        } else {
          scratch->push_back(e);
        }
    }
  }
  return *scratch;
}

const char* FindCopySpecial(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t below16 = (w - kOnes * 0x10) & ~w & kHigh;  // Any byte < 0x10.
    uint64_t t = w ^ (kOnes * '\\');
    uint64_t slash = (t - kOnes) & ~t & kHigh;  // Any backslash.
    if ((below16 | slash) != 0) break;
    p += 8;
  }
  for (; p < end; ++p) {
    if (static_cast<unsigned char>(*p) < 0x10 || *p == '\\') return p;
  }
  return end;
}

int64_t CountNewlines(const char* p, const char* end) {
  int64_t n = 0;
#ifdef __SSE2__
  // Sixteen bytes at a time, counted in byte lanes and summed every 255
  // blocks (a lane holds 255): no popcount, which the baseline x86-64 build
  // only has as a libgcc call.
  const __m128i newline = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    __m128i lanes = _mm_setzero_si128();
    for (int blocks = 0; blocks < 255 && end - p >= 16; ++blocks, p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, newline));  // A match is -1.
    }
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    n += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
  }
#endif
  for (; p < end; ++p) n += *p == '\n';
  return n;
}

void AppendCopyEscaped(std::string_view raw, std::string* out) {
  // Copy runs of plain bytes whole; only the six control characters and the
  // backslash need an escape.
  const char* p = raw.data();
  const char* end = p + raw.size();
  for (;;) {
    const char* q = FindCopySpecial(p, end);
    out->append(p, q - p);
    if (q == end) return;
    const char* esc = nullptr;
    switch (*q) {
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      case '\v': esc = "\\v"; break;
    }
    if (esc != nullptr) {
      out->append(esc, 2);
    } else {
      out->push_back(*q);  // Other control bytes go raw, as COPY writes them.
    }
    p = q + 1;
  }
}

bool IsCanonicalCopyField(std::string_view field) {
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' ||
        c == '\v') {
      return false;
    }
    if (c != '\\') continue;
    if (i + 1 >= field.size()) return false;
    char e = field[++i];
    if (e != '\\' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
        e != 't' && e != 'v') {
      return false;
    }
  }
  return true;
}

std::string_view CanonicalCopyField(std::string_view field,
                                    std::string* scratch) {
  if (field == kCopyNull || IsCanonicalCopyField(field)) return field;
  std::string decoded;
  std::string_view raw = DecodeCopyField(field, &decoded);
  scratch->clear();
  AppendCopyEscaped(raw, scratch);
  return *scratch;
}

bool IsValidUtf8(std::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII fast path: no byte >= 0x80 and none zero, 16 then 8 at a time.
#ifdef __SSE2__
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const int bad = _mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_setzero_si128())));
      if (bad != 0) {
        p += __builtin_ctz(static_cast<unsigned>(bad));  // The first byte to look at.
        break;
      }
      p += 16;
    }
#endif
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      constexpr uint64_t kHigh = 0x8080808080808080ULL;
      constexpr uint64_t kOnes = 0x0101010101010101ULL;
      if ((w & kHigh) != 0 || ((w - kOnes) & ~w & kHigh) != 0) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
  }
  return true;
}

}  // namespace pgmerge::parser
