// COPY text format (the format pg_dump writes between "COPY ... FROM stdin;"
// and "\."): splitting rows into fields and decoding escapes.
//
// Fields are passed around still COPY-encoded. PostgreSQL's COPY output is
// canonical (one encoding per value), so encoded text can be compared,
// hashed and copied through without decoding; only keys that must be read
// as numbers, and non-canonical input, are ever decoded.
#ifndef PGMERGE_PARSER_COPY_TEXT_H_
#define PGMERGE_PARSER_COPY_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgmerge::parser {

inline constexpr std::string_view kCopyNull = "\\N";

// Splits `row` at unescaped tabs into `fields` (cleared first). Views borrow
// from `row`. A backslash escapes the character after it, tabs included.
// Returns whether the row is plain ASCII with no NUL, and so valid UTF-8
// (false says nothing: IsValidUtf8 then tells).
bool SplitCopyRow(std::string_view row, std::vector<std::string_view>* fields);

// Number of fields SplitCopyRow would produce, without storing them.
size_t CountCopyFields(std::string_view row);

// Decodes one non-NULL field's escapes (\\ \b \f \n \r \t \v, octal \NNN,
// hex \xHH, and "\c" meaning c). Returns `field` itself when it has no
// backslash (zero-copy); otherwise decodes into *scratch and returns a view
// of it, valid until *scratch changes.
std::string_view DecodeCopyField(std::string_view field, std::string* scratch);

// Appends `raw` to *out escaped exactly as PostgreSQL's COPY TO writes it.
void AppendCopyEscaped(std::string_view raw, std::string* out);

// True when `field` is already in the one encoding COPY TO would write,
// so comparing it byte-wise compares the values.
bool IsCanonicalCopyField(std::string_view field);

// Returns `field` when canonical, else its canonical re-encoding in *scratch.
std::string_view CanonicalCopyField(std::string_view field,
                                    std::string* scratch);

// Position of the first byte in [p, end) that COPY text must escape (a
// backslash, or any byte below 0x10: the escapes' control characters and
// their neighbours), or `end`. Skips eight plain bytes at a time.
const char* FindCopySpecial(const char* p, const char* end);

// Number of '\n' bytes in [p, end), eight bytes at a time.
int64_t CountNewlines(const char* p, const char* end);

// True when `s` is well-formed UTF-8 with no NUL byte.
bool IsValidUtf8(std::string_view s);

namespace internal {
// What IsValidUtf8 runs where the CPU lacks SSSE3 (exposed for its test).
bool IsValidUtf8Scalar(std::string_view s);
}  // namespace internal

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_COPY_TEXT_H_
