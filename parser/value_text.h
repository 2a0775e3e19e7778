// Values whose text pg_dump takes from its session rather than from the
// data, in the one form the merge compares them in. pg_dump writes a
// timestamptz in its session's time zone ("2020-01-01 11:00:00+01" from
// Paris, "...10:00:00+00" from UTC) and a bytea in its session's
// bytea_output (hex, or the old escape form a database may still set), so
// one value dumped from two sessions reads as two. The merge compares and
// hashes rows as text: it takes every such value as PostgreSQL writes it
// under TimeZone UTC and bytea_output hex, the settings verify and swap read
// back in (merger/manifest.h); merger/canonical.cc rewrites a dump that
// holds another form.
#ifndef PGMERGE_PARSER_VALUE_TEXT_H_
#define PGMERGE_PARSER_VALUE_TEXT_H_

#include <string>
#include <string_view>

#include "parser/catalog.h"

namespace pgmerge::parser {

// How a column's COPY text depends on pg_dump's session.
enum class SessionText {
  kNone,
  kTimestamptz,          // The value is a timestamptz.
  kTimestamptzElements,  // Quoted elements of an array, range, multirange.
  kBytea,
};
SessionText SessionTextOf(const Column& c);

// Whether a COPY field of such a column is already in the merge's form
// (NULL; infinity or offset +00; hex), so the common dump needs no copy.
bool IsCanonicalField(std::string_view field, SessionText how);

// Appends `field` (COPY text) in the merge's form; text that does not read
// as pg_dump's output is kept as it is. Returns how many values changed.
int AppendCanonicalField(std::string_view field, SessionText how, std::string* out);

// One timestamptz ("2020-01-01 11:00:00.5+01", "0044-03-15 12:00:00+00:09:21
// BC") as UTC writes it; false when it is not ISO timestamptz output.
bool TimestamptzAsUtc(std::string_view value, std::string* out);

// A timestamp ("2020-01-01 10:00:00.5", "0044-03-15 12:00:00 BC") as a
// timestamptz read in UTC writes it under TimeZone UTC ("...+00", "...+00
// BC"); false for other text (infinities are kept).
bool TimestampAsUtc(std::string_view value, std::string* out);

// A numeric's COPY text ("1.5", "-2", "1.23456") as a numeric(p, scale)
// column writes it ("1.5000", "-2.0000", "1.2346": half away from zero, as
// PostgreSQL rounds); false for other text (NaN and infinities are kept).
bool NumericAtScale(std::string_view value, int scale, std::string* out);

// A json value's COPY text as PostgreSQL writes it once made jsonb (keys in
// jsonb's order, the last of equal keys, its spacing, numbers and escapes),
// COPY-encoded; false for text jsonb would refuse or that is not JSON.
bool JsonAsJsonb(std::string_view field, std::string* out);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_VALUE_TEXT_H_
