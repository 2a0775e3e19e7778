// Cuts a plain-format pg_dump file into pieces: SQL statements, COPY headers,
// COPY data rows and psql meta-commands. Only SQL pieces are ever meant for
// libpg_query; COPY data and backslash lines never are (see STYLE.md).
#ifndef PGMERGE_PARSER_SEGMENTER_H_
#define PGMERGE_PARSER_SEGMENTER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pgmerge::parser {

enum class SegmentKind {
  kSql,         // One SQL statement, from its first token through its ';'.
  kCopyHeader,  // A "COPY ... FROM stdin;" statement; kCopyRow pieces follow.
  kCopyRow,     // One data row of the open COPY block, without its line end.
  kCopyEnd,     // The "\." line that closes a COPY block.
  kMeta,        // A psql meta-command line (\connect, \restrict, ...).
};

struct Segment {
  SegmentKind kind = SegmentKind::kSql;
  std::string_view text;  // Borrowed from the input.
  int64_t line = 0;       // 1-based line on which `text` starts.
  size_t offset = 0;      // Byte offset of `text` in the input.
  // The standard_conforming_strings value psql lexes the segment by, and
  // whether it matters: a plain '...' literal holds a backslash. A writer
  // that moves such a statement must make the server report this value
  // before psql reads it (see StandardStringsPin).
  bool standard_strings = true;
  bool standard_strings_dependent = false;
};

// "SET standard_conforming_strings = on|off;\n": written before a statement
// whose lexing depends on the setting, so that psql reads it as pgmerge cut
// it even if something the restore ran before (a function called by an
// index expression, say) changed the setting unseen.
std::string_view StandardStringsPin(bool standard_strings);

// Streams segments out of `input` in one forward pass; keeps O(1) state.
// Statements are cut exactly where psql cuts them (psqlscan.l's rules:
// nested comments, E'', U&'', B''/X'', dollar quotes, quoted identifiers,
// the standard_conforming_strings the server would report line by line,
// BEGIN ATOMIC bodies). A backslash psql would take for a meta-command
// inside a statement, or a psql variable psql would replace, is refused;
// one where a statement could start is returned as kMeta for the reader to
// judge.
// REQUIRES: `input` outlives the segmenter and every Segment it returns.
// Not thread-safe.
class DumpSegmenter {
 public:
  DumpSegmenter(std::string_view input, std::string file_name,
                int64_t first_line = 1, bool standard_strings = true);

  // Stores the next segment in *out and returns true, or returns false at
  // the end of the input. Errors are DataLoss "FILE:LINE: ..." and final.
  absl::StatusOr<bool> Next(Segment* out);

  // With a COPY block open (just after its kCopyHeader), jumps past its
  // "\." line without cutting rows, and returns how many rows it held.
  // The rows are neither split nor checked: for passes that only count.
  absl::StatusOr<int64_t> SkipCopyBlock();
  // With a COPY block open: moves on to its "\." line, which an earlier
  // pass over the same input found at `offset` on line `line`, without
  // reading the rows between; Next then returns the block's end. False,
  // and nothing moved, when no "\." line starts there.
  bool JumpToCopyEnd(size_t offset, int64_t line);
  // With a COPY block open and a row next: moves on to the row an earlier
  // pass over the same input found at `offset` on line `line`, without
  // reading the rows between. False, and nothing moved, where no row
  // starts (mid-line, at the "\." line or just past it); that the row is
  // this block's the caller vouches, having found it there.
  bool JumpToCopyRow(size_t offset, int64_t line);
  // With a COPY block open and a row next: up to `max` rows' raw lines
  // appended to *rows (line ends and a CR before them cut off, as Next
  // cuts them), stopping before the "\." line or anything Next must judge
  // (a row cut short). For passes that copy rows an earlier pass checked.
  size_t NextCopyRows(std::vector<std::string_view>* rows, size_t max);
  bool in_copy() const { return in_copy_; }
  std::string_view input() const { return input_; }
  // Called with a position every few MB that SkipCopyBlock moves past, so
  // a caller can release what lies behind it.
  void set_progress(std::function<void(size_t)> progress) {
    progress_ = std::move(progress);
  }

  // Called with each "--" comment line between statements (pg_dump's
  // "-- Name: ...; Type: ...; Schema: ..." headers among them).
  void set_comment_hook(std::function<void(std::string_view)> hook) {
    comment_hook_ = std::move(hook);
  }

  // Follows "SET standard_conforming_strings = ..." seen so far; it decides
  // whether backslashes escape inside plain '...' literals.
  bool standard_conforming_strings() const { return standard_strings_; }
  // Saw pg_dump's closing "-- PostgreSQL database dump complete" comment.
  bool saw_trailer() const { return saw_trailer_; }
  const std::string& file_name() const { return file_name_; }
  // Bytes consumed so far; every segment returned lies before it.
  size_t position() const { return pos_; }
  // The line position() is on.
  int64_t line() { return LineAt(pos_); }

 private:
  // Returns the 1-based line number of `pos`, which must not precede any
  // position asked for before (lines are counted forward only).
  int64_t LineAt(size_t pos);
  absl::StatusOr<bool> NextCopyRow(Segment* out);
  struct Lexer;
  struct LexResult {
    enum What { kStatement, kMeta, kBackslash, kIncomplete, kEof } what;
    size_t start = 0;      // First token (comments before it skipped).
    size_t end = 0;        // Past the ';' (kStatement).
    size_t backslash = 0;  // kMeta, kBackslash.
    bool standard_strings = true;
    bool scs_dependent = false;
  };
  // Lexes from pos_ as psql does up to the end of one statement.
  absl::Status Lex(LexResult* r);
  bool StandardStringsAt(size_t pos) const;
  absl::Status FollowStandardStrings(std::string_view stmt, size_t end);
  void SeeComment(std::string_view comment);
  absl::Status ErrorAt(size_t pos, std::string_view message);

  std::string_view input_;
  std::string file_name_;
  size_t pos_ = 0;
  size_t line_pos_ = 0;
  int64_t line_ = 1;
  bool in_copy_ = false;
  int64_t copy_start_line_ = 0;
  bool standard_strings_ = true;
  // The value before the last change, in force up to scs_switch_pos_ (the
  // end of the line on which the changing statement ended).
  bool previous_standard_strings_ = true;
  size_t scs_switch_pos_ = 0;
  bool saw_trailer_ = false;
  std::function<void(size_t)> progress_;
  std::function<void(std::string_view)> comment_hook_;
};

// True when `sql` is a statement that starts a COPY FROM stdin data block.
bool IsCopyFromStdin(std::string_view sql);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_SEGMENTER_H_
