// Properties: decode(encode(x)) == x for any bytes; splitting a row never
// reads outside it, and the fields it gives cover the row exactly; the
// restrict key's search for \unrestrict in rows finds what a byte-by-byte
// search finds, however the reader's steps cut the rows; a value written in
// the merge's form (parser/value_text.h) reads as in it and is written the
// same again; so is a numeric rescaled, a timestamp read as UTC, and json
// written as jsonb.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parser/copy_text.h"
#include "parser/restrict_key.h"
#include "parser/value_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace p = pgmerge::parser;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string encoded;
  p::AppendCopyEscaped(raw, &encoded);
  std::string scratch;
  if (p::DecodeCopyField(encoded, &scratch) != raw) std::abort();
  if (!p::IsCanonicalCopyField(encoded)) std::abort();

  std::vector<std::string_view> fields;
  p::SplitCopyRow(raw, &fields);
  size_t covered = fields.size() - 1;  // The tabs between fields.
  for (std::string_view f : fields) {
    if (f.data() < raw.data() || f.data() + f.size() > raw.data() + raw.size()) {
      std::abort();
    }
    covered += f.size();
    std::string s;
    p::DecodeCopyField(f, &s);
    p::CanonicalCopyField(f, &s);
  }
  if (covered != raw.size() || fields.size() != p::CountCopyFields(raw)) {
    std::abort();
  }
  p::IsValidUtf8(raw);

  bool naive = false;
  for (size_t i = 0; !naive && i + 11 <= raw.size(); ++i) {
    naive = raw[i] == '\\';
    for (size_t j = 1; naive && j < 11; ++j) naive = (raw[i + j] | 0x20) == "\\unrestrict"[j];
  }
  if (p::HoldsUnrestrictCommand(raw) != naive) std::abort();
  p::InputDigester whole(raw), stepped(raw);
  whole.BeginRows(0);
  whole.EndRows(raw.size());
  stepped.BeginRows(0);
  const size_t step = size > 0 ? 1 + data[0] % 13 : 1;
  for (size_t at = 0; at < raw.size(); at += step) stepped.Through(at);
  stepped.EndRows(raw.size());
  const p::InputDigest a = whole.Finish(), b = stepped.Finish();
  if (a.sha256 != b.sha256 || a.rows_unrestrict != naive || b.rows_unrestrict != naive) {
    std::abort();
  }
  for (p::SessionText how : {p::SessionText::kTimestamptz, p::SessionText::kTimestamptzElements,
                             p::SessionText::kBytea}) {
    std::string utc;
    const int changed = p::AppendCanonicalField(raw, how, &utc);
    if (changed == 0 && utc != raw) std::abort();
    if (how != p::SessionText::kTimestamptzElements && changed > 0 &&
        !p::IsCanonicalField(utc, how)) {
      std::abort();
    }
    std::string again;
    if (p::AppendCanonicalField(utc, how, &again) != 0 || again != utc) std::abort();
  }
  // A numeric at a scale, and a timestamp read as UTC, are stable.
  std::string scaled, rescaled;
  const int scale = size > 0 ? data[size - 1] % 8 : 2;
  if (p::NumericAtScale(raw, scale, &scaled) &&
      (!p::NumericAtScale(scaled, scale, &rescaled) || rescaled != scaled)) {
    std::abort();
  }
  std::string jsonb, jsonb_again;
  if (p::JsonAsJsonb(raw, &jsonb) &&
      (!p::JsonAsJsonb(jsonb, &jsonb_again) || jsonb_again != jsonb)) {
    std::abort();
  }
  std::string as_utc, stable;
  if (p::TimestampAsUtc(raw, &as_utc) &&
      (!p::TimestamptzAsUtc(as_utc, &stable) || stable != as_utc)) {
    std::abort();
  }
  return 0;
}
