#include "parser/copy_text.h"

#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>
#endif

#include "parser/lex_chars.h"

namespace pgmerge::parser {
namespace {

using internal::HexValue;

// Calls on_tab(pos) for each unescaped tab of `row`, in order. The row is
// read 64 bytes at a time as bit masks of its tabs and backslashes: a
// backslash escapes the byte after it (a tab, a backslash), so only the
// backslashes are walked one by one, and the tabs they leave end fields.
// Returns whether every byte is ASCII and none is NUL (the row is then
// valid UTF-8), seen on the same loads: one read of the row for both.
template <typename OnTab>
inline bool ForEachFieldTab(std::string_view row, OnTab on_tab) {
  const char* base = row.data();
  const size_t n = row.size();
  uint64_t carry = 0;  // 1: the next block's first byte is escaped.
  // Bits of the 64 bytes from `at` (fewer, shifted down, at the row's end).
  auto walk = [&](uint64_t tabs, uint64_t slashes, size_t at) {
    uint64_t escaped = carry;
    slashes &= ~carry;
    carry = 0;
    while (slashes != 0) {
      const uint64_t bit = slashes & (~slashes + 1);
      const uint64_t next = bit << 1;  // 0 past the block: the next one's first.
      carry |= next == 0;
      escaped |= next;
      slashes &= ~(bit | next);
    }
    for (tabs &= ~escaped; tabs != 0; tabs &= tabs - 1) {
      on_tab(at + static_cast<size_t>(__builtin_ctzll(tabs)));
    }
  };
#ifdef __SSE2__
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i zero = _mm_setzero_si128();
  __m128i odd = zero;  // High bits: a byte >= 0x80 or a NUL.
  auto classify = [&](const char* p, uint64_t* tabs, uint64_t* slashes) {
    uint64_t t = 0, s = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      odd = _mm_or_si128(odd, _mm_or_si128(v, _mm_cmpeq_epi8(v, zero)));
      t |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab)))} << (16 * k);
      s |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash)))}
           << (16 * k);
    }
    *tabs = t;
    *slashes = s;
  };
  auto plain = [&] { return _mm_movemask_epi8(odd) == 0; };
#else
  bool ascii = true;
  auto classify = [&](const char* p, uint64_t* tabs, uint64_t* slashes) {
    *tabs = *slashes = 0;
    for (int k = 0; k < 64; ++k) {
      const unsigned char c = static_cast<unsigned char>(p[k]);
      *tabs |= uint64_t{c == '\t'} << k;
      *slashes |= uint64_t{c == '\\'} << k;
      ascii = ascii && c != 0 && c < 0x80;
    }
  };
  auto plain = [&] { return ascii; };
#endif
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t t, s;
    classify(base + i, &t, &s);
    walk(t, s, i);
  }
  if (i < n) {
    const size_t left = n - i;
    uint64_t t, s;
    if (n >= 64) {
      // The row's last 64 bytes, shifted down past those already seen.
      classify(base + n - 64, &t, &s);
      const int seen = static_cast<int>(64 - left);
      t >>= seen;
      s >>= seen;
    } else {
      char tail[64];
      std::memset(tail, ' ', sizeof tail);  // Neither tab, backslash nor odd.
      std::memcpy(tail, base + i, left);
      classify(tail, &t, &s);
    }
    walk(t, s, i);
  }
  return plain();
}

}  // namespace

bool SplitCopyRow(std::string_view row, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  const bool ascii = ForEachFieldTab(row, [&](size_t pos) {
    fields->emplace_back(row.data() + start, pos - start);
    start = pos + 1;
  });
  fields->emplace_back(row.data() + start, row.size() - start);
  return ascii;
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
#ifdef __SSE2__
  // Sixteen bytes a step: a byte is special when saturating 15 off it
  // leaves 0 (it is below 0x10) or it is the backslash.
  const __m128i fifteen = _mm_set1_epi8(15);
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i zero = _mm_setzero_si128();
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(_mm_subs_epu8(v, fifteen), zero), _mm_cmpeq_epi8(v, slash));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
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

// One code point at a time, ASCII runs skipped eight and sixteen bytes at
// a time: for machines without SSSE3.
bool internal::IsValidUtf8Scalar(std::string_view s) {
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

namespace {

#if defined(__x86_64__) || defined(__i386__)
#define PGMERGE_UTF8_SSSE3 1
// Validates 16 bytes at a time with no branch per code point: each byte's
// error classes are looked up from its own high nibble and the previous
// byte's two nibbles (three 16-entry tables, one shuffle each), and the
// three agree only on a fault; the bytes two and three after a 3- and
// 4-byte lead must be continuations (Keiser and Lemire, "Validating UTF-8
// in less than one instruction per byte", 2021). NUL is refused too.
namespace ssse3 {

// Error classes, one bit each, for two consecutive bytes.
constexpr uint8_t kTooShort = 1 << 0;   // A lead byte, then no continuation.
constexpr uint8_t kTooLong = 1 << 1;    // ASCII, then a continuation.
constexpr uint8_t kOverlong3 = 1 << 2;  // E0, then 80..9F.
constexpr uint8_t kTooLarge = 1 << 3;   // F4, then 90..BF; F5..FF.
constexpr uint8_t kSurrogate = 1 << 4;  // ED, then A0..BF.
constexpr uint8_t kOverlong2 = 1 << 5;  // C0 or C1, then a continuation.
constexpr uint8_t kTooLarge1000 = 1 << 6;  // F5..FF, then 80..8F.
constexpr uint8_t kOverlong4 = 1 << 6;  // F0, then 80..8F.
constexpr uint8_t kTwoConts = 1 << 7;   // Two continuations (fine inside a sequence).
constexpr uint8_t kCarry = kTooShort | kTooLong | kTwoConts;

__attribute__((target("ssse3"))) inline __m128i Table(uint8_t v0, uint8_t v1, uint8_t v2,
                                                      uint8_t v3, uint8_t v4, uint8_t v5,
                                                      uint8_t v6, uint8_t v7, uint8_t v8,
                                                      uint8_t v9, uint8_t v10, uint8_t v11,
                                                      uint8_t v12, uint8_t v13, uint8_t v14,
                                                      uint8_t v15) {
  return _mm_setr_epi8(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15);
}

struct State {
  __m128i prev, prev_incomplete, error;
};

// Folds one block into the state: what the block before it left open, and
// every fault so far.
__attribute__((target("ssse3"))) inline void Block(__m128i in, State& st) {
  // By the previous byte's high nibble.
  const __m128i byte1_high = Table(
      kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,
      kTwoConts, kTwoConts, kTwoConts, kTwoConts, kTooShort | kOverlong2, kTooShort,
      kTooShort | kOverlong3 | kSurrogate, kTooShort | kTooLarge | kTooLarge1000 | kOverlong4);
  // By the previous byte's low nibble.
  const __m128i byte1_low = Table(
      kCarry | kOverlong3 | kOverlong2 | kOverlong4, kCarry | kOverlong2, kCarry, kCarry,
      kCarry | kTooLarge, kCarry | kTooLarge | kTooLarge1000,
      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000 | kSurrogate,
      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000);
  // By this byte's high nibble.
  const __m128i byte2_high = Table(
      kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
      kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge1000 | kOverlong4,
      kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge,
      kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,
      kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge, kTooShort, kTooShort,
      kTooShort, kTooShort);
  // A lead byte this close to a block's end wants bytes of the next.
  const __m128i incomplete_at = Table(255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                                      255, 255, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1);
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i zero = _mm_setzero_si128();
  st.error = _mm_or_si128(st.error, _mm_cmpeq_epi8(in, zero));
  if (_mm_movemask_epi8(in) == 0) {
    // ASCII: fine unless the block before ended mid-sequence.
    st.error = _mm_or_si128(st.error, st.prev_incomplete);
    st.prev_incomplete = zero;
    st.prev = in;
    return;
  }
  const __m128i prev1 = _mm_alignr_epi8(in, st.prev, 15);
  const __m128i high1 = _mm_and_si128(_mm_srli_epi16(prev1, 4), nibble);
  const __m128i low1 = _mm_and_si128(prev1, nibble);
  const __m128i high2 = _mm_and_si128(_mm_srli_epi16(in, 4), nibble);
  const __m128i special =
      _mm_and_si128(_mm_and_si128(_mm_shuffle_epi8(byte1_high, high1),
                                  _mm_shuffle_epi8(byte1_low, low1)),
                    _mm_shuffle_epi8(byte2_high, high2));
  // Second and third continuations: two after E0..EF, three after F0..FF.
  const __m128i prev2 = _mm_alignr_epi8(in, st.prev, 14);
  const __m128i prev3 = _mm_alignr_epi8(in, st.prev, 13);
  const __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8(static_cast<char>(0xE0 - 0x80)));
  const __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(static_cast<char>(0xF0 - 0x80)));
  const __m128i must23 =
      _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(static_cast<char>(0x80)));
  st.error = _mm_or_si128(st.error, _mm_xor_si128(must23, special));
  st.prev_incomplete = _mm_subs_epu8(in, incomplete_at);
  st.prev = in;
}

__attribute__((target("ssse3"))) bool Valid(const unsigned char* p, size_t n) {
  const __m128i zero = _mm_setzero_si128();
  State st{zero, zero, zero};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), st);
  }
  // The rest padded with spaces, then a block of spaces: a sequence cut
  // short at the end is then one followed by ASCII.
  unsigned char tail[16];
  std::memset(tail, ' ', sizeof tail);
  std::memcpy(tail, p + i, n - i);
  Block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tail)), st);
  Block(_mm_set1_epi8(' '), st);
  return _mm_movemask_epi8(_mm_cmpeq_epi8(st.error, zero)) == 0xFFFF;
}

}  // namespace ssse3
#endif

}  // namespace

bool IsValidUtf8(std::string_view s) {
#ifdef PGMERGE_UTF8_SSSE3
  static const bool kSsse3 = __builtin_cpu_supports("ssse3");
  if (kSsse3) {
    return ssse3::Valid(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  }
#endif
  return internal::IsValidUtf8Scalar(s);
}

}  // namespace pgmerge::parser
