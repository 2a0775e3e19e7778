#include "parser/restrict_key.h"

#include <openssl/evp.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>

#include "absl/strings/ascii.h"

namespace pgmerge::parser {
namespace {

constexpr char kWord[] = "\\unrestrict";
constexpr size_t kWordSize = sizeof kWord - 1;

// The backslash as it is; ORing 0x20 folds a letter's case, and among all
// bytes only 'U' and 'u' fold to 'u', and so on: a folded match is a match
// in some case.
bool WordAt(const char* p) {
  if (p[0] != kWord[0]) return false;
  for (size_t j = 1; j < kWordSize; ++j) {
    if ((p[j] | 0x20) != kWord[j]) return false;
  }
  return true;
}

}  // namespace

bool HoldsUnrestrictCommand(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
#ifdef __SSE2__
  // Sixteen starts at once: the backslash here and the last letter ten on.
  const __m128i fold = _mm_set1_epi8(0x20);
  const __m128i first = _mm_set1_epi8(kWord[0]);
  const __m128i last = _mm_set1_epi8(kWord[kWordSize - 1]);
  for (; i + 16 + kWordSize - 1 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_or_si128(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + kWordSize - 1)), fold);
    unsigned m = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
    for (; m != 0; m &= m - 1) {
      if (WordAt(p + i + __builtin_ctz(m))) return true;
    }
  }
#endif
  for (; i + kWordSize <= n; ++i) {
    if (WordAt(p + i)) return true;
  }
  return false;
}

InputDigester::InputDigester(std::string_view input)
    : input_(input), ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

InputDigester::~InputDigester() { EVP_MD_CTX_free(ctx_); }

void InputDigester::Through(size_t end) {
  end = std::min(end, input_.size());
  if (end <= done_) return;
  if (!in_rows_) {
    EVP_DigestUpdate(ctx_, input_.data() + done_, end - done_);
  } else if (!found_) {
    // From a word's length back, for a word cut by the last step.
    const size_t from = std::max(rows_begin_, done_ >= kWordSize ? done_ - kWordSize + 1 : 0);
    found_ = HoldsUnrestrictCommand(input_.substr(from, end - from));
  }
  done_ = end;
}

void InputDigester::BeginRows(size_t begin) {
  EndRows(begin);
  Through(begin);
  in_rows_ = true;
  rows_begin_ = done_;
}

void InputDigester::EndRows(size_t end) {
  if (!in_rows_) return;
  end = std::clamp(end, rows_begin_, input_.size());
  Through(end);
  in_rows_ = false;
  // The block's place in the hash: a NUL no statement holds, and its length.
  const uint64_t length = end - rows_begin_;
  static constexpr char kRows[] = "\0rows";
  EVP_DigestUpdate(ctx_, kRows, sizeof kRows);
  EVP_DigestUpdate(ctx_, &length, sizeof length);
  ++blocks_;
  // Bytes past the rows that a step took were only searched: hashed now.
  if (done_ > end) EVP_DigestUpdate(ctx_, input_.data() + end, done_ - end);
}

InputDigest InputDigester::Finish() {
  EndRows(input_.size());
  Through(input_.size());
  InputDigest d;
  d.size = input_.size();
  d.row_blocks = blocks_;
  d.rows_unrestrict = found_;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, d.sha256.data(), &len);
  return d;
}

std::optional<std::string> RestrictKeyOf(const std::vector<InputDigest>& digests) {
  bool searched = false;
  for (const InputDigest& d : digests) {
    if (d.rows_unrestrict) return std::nullopt;
    searched |= d.row_blocks > 0;
  }
  // Each input's length goes in with its digest, so no two lists of inputs
  // hash alike; a digest per input lets each be taken on its own thread.
  // v2: every byte hashed; v3: rows searched.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  static constexpr char kWhole[] = "pgmerge restrict key v2";
  static constexpr char kSearched[] = "pgmerge restrict key v3";
  EVP_DigestUpdate(ctx, searched ? kSearched : kWhole, sizeof kWhole);
  for (const InputDigest& in : digests) {
    EVP_DigestUpdate(ctx, &in.size, sizeof in.size);
    EVP_DigestUpdate(ctx, in.sha256.data(), in.sha256.size());
  }
  unsigned char digest[32];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(ctx, digest, &digest_len);
  EVP_MD_CTX_free(ctx);
  // 32 bytes into 43 base-62 digits (62^43 > 2^256): all of the hash kept.
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<unsigned char> num(digest, digest + sizeof digest);
  std::string key;
  for (int d = 0; d < 43; ++d) {
    unsigned rem = 0;
    for (unsigned char& b : num) {  // num /= 62, big-endian.
      unsigned cur = (rem << 8) | b;
      b = static_cast<unsigned char>(cur / 62);
      rem = cur % 62;
    }
    key.push_back(kAlphabet[rem]);
  }
  return key;
}

std::string DeriveRestrictKey(const std::vector<std::string_view>& inputs) {
  std::vector<InputDigest> digests;
  for (std::string_view in : inputs) digests.push_back(InputDigester(in).Finish());
  return *RestrictKeyOf(digests);  // Rows hashed with the rest: always a key.
}

bool IsValidRestrictKey(std::string_view key) {
  if (key.empty() || key.size() > 256) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(c)) return false;
  }
  return true;
}

}  // namespace pgmerge::parser
