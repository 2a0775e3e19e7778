// Streams a plain-format pg_dump file as events: schema statements,
// meta-commands and data rows. Rows from COPY blocks and from INSERT
// statements come out alike, as COPY-encoded fields, so no later stage cares
// which form the dump used. Memory is O(1) in the size of the input.
#ifndef PGMERGE_PARSER_DUMP_READER_H_
#define PGMERGE_PARSER_DUMP_READER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "parser/insert_values.h"
#include "parser/names.h"
#include "parser/restrict_key.h"
#include "parser/segmenter.h"

namespace pgmerge::parser {

enum class EventKind {
  kStatement,  // A SQL statement other than COPY and INSERT.
  kMeta,       // A psql meta-command line.
  kRow,        // One data row.
  kCopyStart,  // A COPY ... FROM stdin header (text); its rows follow.
  kCopyEnd,    // The "\." that closes a COPY block.
};

// Where rows go: the table and the columns the dump names for them.
struct DataTarget {
  TableName table;
  // The columns in the order the row's fields follow. Empty when the dump
  // names none (an INSERT without a column list): then all of the table's
  // columns in order, which only the catalog knows.
  std::vector<std::string> columns;
  bool from_insert = false;
  bool overriding_system_value = false;
  // INSERTs without a column list: the positions in each VALUES tuple that
  // held DEFAULT (pg_dump --inserts writes it for a stored generated column),
  // the same in every row of the block. Those values are not in the row's
  // fields, so the fields are the table's data columns, as in a COPY row;
  // the catalog checks that these are the table's generated columns.
  std::vector<int> defaults;
};

struct DumpEvent {
  EventKind kind = EventKind::kStatement;
  // Statement or meta-command text; for a row read from COPY, the raw row
  // line (fields still encoded); for a row read from an INSERT, empty.
  std::string_view text;
  int64_t line = 0;  // 1-based line where the statement or row starts.
  size_t offset = 0;  // Byte offset of the statement (rows: of the INSERT).
  // Rows only: the target (valid until the next kRow event of another
  // block), the fields, COPY-encoded, NULL as \N (valid until Next()), and
  // a number that changes whenever a new COPY block or INSERT table starts.
  const DataTarget* target = nullptr;
  const std::vector<std::string_view>* fields = nullptr;
  int64_t block = 0;
  // kCopyEnd in skimming mode: the rows the block held (not returned).
  int64_t skipped_rows = 0;
  // kStatement: see Segment. When `standard_strings_dependent`, write
  // StandardStringsPin(standard_strings) before the statement.
  bool standard_strings = true;
  bool standard_strings_dependent = false;
};

// Where a COPY block's "\." line is, as an earlier pass over the same input
// found it.
struct KnownCopyEnd {
  size_t offset = 0;  // Of the "\." line.
  int64_t line = 0;
};

struct ReaderOptions {
  // Jump over COPY data blocks, returning only kCopyStart and kCopyEnd
  // (with the row count): for passes that need the schema, not the rows.
  bool skim_copy_data = false;
  // With skim_copy_data: blocks whose end is known, by their COPY line's
  // offset, are not read at all (their kCopyEnd then counts no rows).
  const absl::flat_hash_map<size_t, KnownCopyEnd>* known_copy_ends = nullptr;
  // Check that text is valid UTF-8 (in a UTF8 dump). A pass over input an
  // earlier pass has checked may skip it.
  bool check_utf8 = true;
  // Split COPY rows into fields (and check their count) as they are read.
  // When false, kRow events of COPY rows carry no fields until Fields() is
  // called: for passes that mostly copy rows whole.
  bool split_copy_rows = true;
  // The input is a whole dump: at its end, pg_dump's closing comment must
  // have been seen and every \restrict closed, or the dump was cut short.
  bool require_complete = false;
};


// The encoding a "SET client_encoding = 'X';" names ('X', "X" or a bare
// word), upper case; "" for any other statement.
std::string ClientEncodingOf(std::string_view sql);

// Refuses a dump cut short, from its ends alone: pg_dump's closing
// "-- PostgreSQL database dump complete" must be there, followed only by
// comment lines and the \unrestrict of the \restrict it opened with.
absl::Status CheckDumpEnd(std::string_view data, std::string_view name);

// What kind of file a dump is, judged from its first bytes.
enum class DumpFormat { kPlain, kCustom, kTar, kBinary };
DumpFormat DetectDumpFormat(std::string_view head);

// REQUIRES: `input` outlives the reader and the events it returns.
// Not thread-safe.
class DumpReader {
 public:
  DumpReader(std::string_view input, std::string file_name);
  // Reads a piece of a dump cut out at a statement boundary: `first_line` is
  // the line it starts on and `standard_strings` the setting in force there.
  DumpReader(std::string_view input, std::string file_name, int64_t first_line,
             bool standard_strings);
  // See DumpSegmenter::set_progress.
  void set_progress(std::function<void(size_t)> progress) {
    segmenter_.set_progress(std::move(progress));
  }
  // See DumpSegmenter::set_comment_hook.
  void set_comment_hook(std::function<void(std::string_view)> hook) {
    segmenter_.set_comment_hook(std::move(hook));
  }
  void set_options(const ReaderOptions& options) {
    options_ = options;
    check_utf8_ = options.check_utf8;
  }

  // Stores the next event in *out; false at the end. Errors read
  // "FILE:LINE: ..." (DataLoss for malformed input) and are final.
  absl::StatusOr<bool> Next(DumpEvent* out);

  // After a COPY row, read without splitting or checking (ReaderOptions
  // split_copy_rows and check_utf8 false): up to `max` more rows of the
  // block as raw lines into *rows (cleared first), as Next would return
  // them one by one; 0 when Next must take the next step (the block's end,
  // or another kind of reader). For passes that copy rows whole.
  size_t NextCopyRows(std::vector<std::string_view>* rows, size_t max);
  // Where NextCopyRows would go on: moves on to the row of the block an
  // earlier pass found at `offset` on line `line` (DumpSegmenter::
  // JumpToCopyRow), the rows between left unread. False, and nothing
  // moved, when it cannot.
  bool JumpToCopyRow(size_t offset, int64_t line);

  // The row's fields, split now if the reader did not split them.
  // REQUIRES: `ev` is the last kRow event this reader returned.
  const std::vector<std::string_view>& Fields(const DumpEvent& ev);

  const std::string& file_name() const { return segmenter_.file_name(); }
  // Bytes of input consumed so far.
  size_t position() const { return segmenter_.position(); }
  // The line position() is on (in a COPY block: the next row's).
  int64_t line() { return segmenter_.line(); }
  bool standard_conforming_strings() const {
    return segmenter_.standard_conforming_strings();
  }

 private:
  // Sets every field of *out; rows and COPY events carry the target.
  void Fill(DumpEvent* out, EventKind kind, std::string_view text, int64_t line,
            size_t offset, bool with_target,
            const std::vector<std::string_view>* fields);
  absl::Status StartCopy(const Segment& seg);
  absl::Status StartInsert(const Segment& seg);
  // Reads the next tuple of the current INSERT into fields_; false at its end.
  absl::StatusOr<bool> NextInsertTuple();
  absl::Status InsertFallbackError(std::string_view sql, int64_t line);
  absl::Status CheckUtf8(std::string_view text, int64_t line);
  absl::Status CheckRowUtf8(std::string_view row, int64_t line);
  // Consumes \restrict, \unrestrict and \connect; refuses anything else.
  absl::Status CheckMeta(const Segment& seg);
  absl::Status CheckComplete();

  DumpSegmenter segmenter_;
  DataTarget target_;
  std::vector<std::string_view> fields_;
  InsertTupleReader tuples_;
  InsertHeader insert_header_;
  std::vector<int> row_defaults_;      // The current tuple's DEFAULTs.
  bool block_has_tuple_ = false;       // target_.defaults set for the block.
  std::string last_insert_prefix_;
  std::string_view insert_sql_;
  int64_t insert_line_ = 0;
  size_t insert_offset_ = 0;
  bool in_insert_ = false;
  bool in_copy_ = false;
  int64_t block_ = 0;
  bool check_utf8_ = true;
  // COPY rows are checked for UTF-8 a stretch of whole lines at a time;
  // rows ending before this are known valid. A stretch that fails is
  // checked row by row up to its end, so the bad row is named.
  const char* utf8_valid_until_ = nullptr;
  const char* utf8_by_row_until_ = nullptr;
  ReaderOptions options_;
  int64_t pending_skipped_ = -1;  // Rows of a skimmed block, until kCopyEnd.
  std::string restrict_key_;       // Of the \restrict not yet closed.
  int64_t restrict_line_ = 0;
  int64_t last_line_ = 0;
};

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_DUMP_READER_H_
