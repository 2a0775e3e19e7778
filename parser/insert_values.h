// A fast reader for the INSERT statements pg_dump writes with --inserts,
// --column-inserts and --rows-per-insert:
//   INSERT INTO s.t [(c1, c2)] [OVERRIDING SYSTEM VALUE] VALUES (...)[, (...)];
// Values come out in COPY text encoding, so rows read from INSERTs and from
// COPY blocks look the same to every later stage. libpg_query stays the
// fallback for anything of another shape (see DumpReader).
#ifndef PGMERGE_PARSER_INSERT_VALUES_H_
#define PGMERGE_PARSER_INSERT_VALUES_H_

#include <string>
#include <string_view>
#include <vector>

#include "parser/names.h"

namespace pgmerge::parser {

struct InsertHeader {
  TableName table;
  std::vector<std::string> columns;  // Empty when the statement names none.
  bool overriding_system_value = false;
  // INSERT INTO t DEFAULT VALUES: one row of no value (pg_dump writes it
  // for a table with no columns).
  bool default_values = false;
  // The exact text from INSERT through VALUES: consecutive statements of
  // one table share it, which lets callers skip re-reading the header.
  std::string_view prefix;
  // The text after VALUES: the tuples and the closing ';'.
  std::string_view tuples;
};

// Reads the header of `sql`. Returns false when `sql` is not of the shape
// above (the caller falls back to a full parse).
bool ParseInsertHeader(std::string_view sql, InsertHeader* out);

// Splits the text before VALUES off `sql`; false when there is no VALUES.
bool SplitInsertPrefix(std::string_view sql, std::string_view* prefix,
                       std::string_view* tuples);

// Streams the tuples of one INSERT's VALUES list.
// REQUIRES: `tuples` outlives the reader; views it returns are valid until
// the next call to Next() or Reset().
class InsertTupleReader {
 public:
  // `standard_strings`: standard_conforming_strings, as the dump set it.
  // `default_values`: the statement is INSERT ... DEFAULT VALUES, one
  // tuple of no value.
  void Reset(std::string_view tuples, bool standard_strings, bool default_values = false);

  // Stores the next tuple's values (COPY-encoded, NULL as \N) in *fields.
  // Returns 1 for a tuple, 0 at the end of the statement, -1 when the text
  // is not of the shape this reader handles.
  // A bare DEFAULT (pg_dump --inserts writes it for a stored generated
  // column) is left out of *fields and its position in the tuple appended
  // to *defaults; without `defaults` it makes the tuple unsupported (-1).
  int Next(std::vector<std::string_view>* fields,
           std::vector<int>* defaults = nullptr);

 private:
  // *is_default: the value is the keyword DEFAULT (nothing in *out).
  bool ReadValue(std::string_view* out, bool* is_default);
  bool ReadString(bool escapes, std::string_view* out);
  void SkipSpace();
  // After a statement's last tuple: [ON CONFLICT DO NOTHING] ";" and
  // nothing more. Marks the reader done.
  bool EndOfStatement();

  std::string_view text_;
  size_t pos_ = 0;
  bool standard_strings_ = true;
  bool done_ = false;
  bool default_values_ = false;
  // Holds re-encoded values. Reserved so that it never reallocates while a
  // tuple is read, which keeps earlier views of the same tuple valid.
  std::string scratch_;
  std::string decoded_;  // Reused for literals that need decoding.
};

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_INSERT_VALUES_H_
