// timestamptz values as UTC text. pg_dump writes a timestamptz in its
// session's time zone ("2020-01-01 11:00:00+01" from Paris, "...10:00:00+00"
// from UTC), so one instant dumped from two zones reads as two values. The
// merge compares and hashes rows as text: it takes every timestamptz as
// PostgreSQL writes it under TimeZone UTC, the form verify and swap read
// back in (merger/utc.cc rewrites a dump that holds another).
#ifndef PGMERGE_PARSER_TIMESTAMPTZ_H_
#define PGMERGE_PARSER_TIMESTAMPTZ_H_

#include <string>
#include <string_view>

#include "parser/catalog.h"

namespace pgmerge::parser {

// How a column holds timestamptz values: not at all, as the whole value, or
// inside an array, range or multirange (quoted elements of its text).
enum class TimestamptzIn { kNone, kValue, kElements };
TimestamptzIn TimestamptzColumn(const Column& c);

// Whether a COPY field of such a column is already as UTC writes it (NULL,
// infinity, offset +00), so the common dump needs no rewrite.
bool IsUtcField(std::string_view field, TimestamptzIn how);

// Appends `field` with each timestamptz in it written as under TimeZone UTC
// (ISO DateStyle, as pg_dump writes it); a value that does not read as
// pg_dump's output is kept as it is. Returns how many values changed.
int AppendUtcField(std::string_view field, TimestamptzIn how, std::string* out);

// One value ("2020-01-01 11:00:00.5+01", "0044-03-15 12:00:00+00:09:21 BC")
// as UTC writes it; false when it is not ISO timestamptz output.
bool TimestamptzAsUtc(std::string_view value, std::string* out);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_TIMESTAMPTZ_H_
