#include "parser/dump_reader.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "base/strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "parser/copy_text.h"
#include "parser/sql_parser.h"

namespace pgmerge::parser {

std::string ClientEncodingOf(std::string_view sql) {
  if (!StartsWithWord(sql, "SET")) return "";
  std::string_view t = StripLeadingAsciiWhitespace(sql.substr(3));
  if (!StartsWithIgnoreCase(t, "client_encoding")) return "";
  t = StripLeadingAsciiWhitespace(t.substr(15));
  if (StartsWithIgnoreCase(t, "TO ")) {
    t.remove_prefix(3);
  } else if (!t.empty() && t[0] == '=') {
    t.remove_prefix(1);
  } else {
    return "";  // client_encoding_something, or no value.
  }
  t = StripLeadingAsciiWhitespace(t);
  std::string_view value;
  if (!t.empty() && (t[0] == '\'' || t[0] == '"')) {
    const size_t close = t.find(t[0], 1);
    if (close == std::string_view::npos) return "";
    value = t.substr(1, close - 1);
  } else {
    value = t.substr(0, t.find_first_of(" ;\n\t"));
  }
  return absl::AsciiStrToUpper(AsAbsl(value));
}

absl::Status CheckDumpEnd(std::string_view data, std::string_view name) {
  auto lines = [&data]() {
    int64_t n = CountNewlines(data.data(), data.data() + data.size());
    return std::max<int64_t>(
        1, n + (data.empty() || data.back() == '\n' ? 0 : 1));
  };
  // The key of a \restrict before the first statement.
  std::string_view opened;
  {
    size_t i = 0;
    while (i < data.size() && i < 65536) {
      size_t nl = data.find('\n', i);
      std::string_view line = StripAsciiWhitespace(
          data.substr(i, nl == std::string_view::npos ? nl : nl - i));
      if (StartsWithIgnoreCase(line, "\\restrict ")) {
        opened = StripAsciiWhitespace(line.substr(10));
        break;
      }
      if (!line.empty() && !StartsWithIgnoreCase(line, "--")) break;
      if (nl == std::string_view::npos) break;
      i = nl + 1;
    }
  }
  static constexpr std::string_view kTrailer =
      "-- PostgreSQL database dump complete";
  const size_t from = data.size() > 65536 ? data.size() - 65536 : 0;
  size_t at = data.rfind(kTrailer);
  if (at == std::string_view::npos || at < from ||
      (at > 0 && data[at - 1] != '\n')) {
    return InputError(name, lines(),
                      "dump ends before pg_dump's closing \"-- PostgreSQL "
                      "database dump complete\" (file truncated?)");
  }
  bool closed = false;
  size_t i = at + kTrailer.size();
  while (i < data.size()) {
    size_t nl = data.find('\n', i);
    std::string_view line = StripAsciiWhitespace(
        data.substr(i, nl == std::string_view::npos ? nl : nl - i));
    if (StartsWithIgnoreCase(line, "\\unrestrict ") && !opened.empty() &&
        StripAsciiWhitespace(line.substr(12)) == opened && !closed) {
      closed = true;
    } else if (!line.empty() && line != "--") {
      return InputError(name, lines(),
                        "dump goes on after pg_dump's closing \"-- "
                        "PostgreSQL database dump complete\"");
    }
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  if (!opened.empty() && !closed) {
    return InputError(name, lines(),
                      absl::StrCat("dump ends before \\unrestrict ",
                                   AsAbsl(opened),
                                   ", which closes its \\restrict (file "
                                   "truncated?)"));
  }
  return absl::OkStatus();
}

DumpFormat DetectDumpFormat(std::string_view head) {
  if (head.substr(0, 5) == "PGDMP") return DumpFormat::kCustom;
  if (head.size() >= 262 && head.substr(257, 5) == "ustar") {
    return DumpFormat::kTar;
  }
  if (head.substr(0, std::min<size_t>(head.size(), 4096)).find('\0') !=
      std::string_view::npos) {
    return DumpFormat::kBinary;
  }
  return DumpFormat::kPlain;
}

DumpReader::DumpReader(std::string_view input, std::string file_name)
    : segmenter_(input, std::move(file_name)) {}

DumpReader::DumpReader(std::string_view input, std::string file_name,
                       int64_t first_line, bool standard_strings)
    : segmenter_(input, std::move(file_name), first_line, standard_strings) {}

absl::Status DumpReader::CheckUtf8(std::string_view text, int64_t line) {
  if (!check_utf8_ || IsValidUtf8(text)) return absl::OkStatus();
  return InputError(file_name(), line,
                    "invalid UTF-8 (or a NUL byte) in a UTF8 dump");
}

absl::Status DumpReader::CheckRowUtf8(std::string_view row, int64_t line) {
  if (!check_utf8_) return absl::OkStatus();
  const char* row_end = row.data() + row.size();
  if (row_end <= utf8_valid_until_) return absl::OkStatus();
  if (row_end > utf8_by_row_until_) {
    // A line end never lies inside a UTF-8 sequence, so a stretch of whole
    // lines is valid exactly when each line is: one call for many rows.
    static constexpr size_t kStretch = size_t{256} << 10;
    const std::string_view in = segmenter_.input();
    const size_t from = row.data() - in.data();
    const std::string_view ahead = in.substr(from, kStretch);
    const size_t last_nl = ahead.rfind('\n');
    if (last_nl != std::string_view::npos && last_nl >= row.size()) {
      const std::string_view stretch = ahead.substr(0, last_nl);
      if (IsValidUtf8(stretch)) {
        utf8_valid_until_ = stretch.data() + stretch.size();
        return absl::OkStatus();
      }
      utf8_by_row_until_ = stretch.data() + stretch.size();
    }
  }
  return CheckUtf8(row, line);
}

absl::StatusOr<bool> DumpReader::Next(DumpEvent* out) {
  if (in_insert_) {
    PGM_ASSIGN_OR_RETURN(bool more, NextInsertTuple());
    if (more) {
      Fill(out, EventKind::kRow, {}, insert_line_, insert_offset_,
           /*with_target=*/true, &fields_);
      return true;
    }
  }
  if (pending_skipped_ >= 0) {
    // The skimmed block's end, reported after its start.
    out->kind = EventKind::kCopyEnd;
    out->text = "\\.";
    out->target = &target_;
    out->fields = nullptr;
    out->block = block_;
    out->skipped_rows = pending_skipped_;
    out->offset = segmenter_.position();
    pending_skipped_ = -1;
    in_copy_ = false;
    return true;
  }
  out->skipped_rows = 0;
  Segment seg;
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, segmenter_.Next(&seg));
    if (!more) {
      if (options_.require_complete) PGM_RETURN_IF_ERROR(CheckComplete());
      return false;
    }
    last_line_ = seg.line;
    switch (seg.kind) {
      case SegmentKind::kMeta:
        PGM_RETURN_IF_ERROR(CheckMeta(seg));
        Fill(out, EventKind::kMeta, seg.text, seg.line, seg.offset,
             /*with_target=*/false, nullptr);
        return true;
      case SegmentKind::kCopyHeader:
        PGM_RETURN_IF_ERROR(StartCopy(seg));
        if (options_.skim_copy_data) {
          const KnownCopyEnd* known = nullptr;
          if (options_.known_copy_ends != nullptr) {
            auto it = options_.known_copy_ends->find(seg.offset);
            if (it != options_.known_copy_ends->end()) known = &it->second;
          }
          if (known == nullptr || !segmenter_.JumpToCopyEnd(known->offset, known->line)) {
            PGM_ASSIGN_OR_RETURN(pending_skipped_, segmenter_.SkipCopyBlock());
          }
        }
        Fill(out, EventKind::kCopyStart, seg.text, seg.line, seg.offset,
             /*with_target=*/true, nullptr);
        return true;
      case SegmentKind::kCopyEnd:
        in_copy_ = false;
        Fill(out, EventKind::kCopyEnd, seg.text, seg.line, seg.offset,
             /*with_target=*/true, nullptr);
        return true;
      case SegmentKind::kCopyRow: {
        if (!options_.split_copy_rows) {
          PGM_RETURN_IF_ERROR(CheckRowUtf8(seg.text, seg.line));
          Fill(out, EventKind::kRow, seg.text, seg.line, seg.offset,
               /*with_target=*/true, nullptr);
          return true;
        }
        // The split sees every byte: a plain ASCII row needs no UTF-8 check.
        if (!SplitCopyRow(seg.text, &fields_)) {
          PGM_RETURN_IF_ERROR(CheckRowUtf8(seg.text, seg.line));
        }
        if (!target_.columns.empty() &&
            fields_.size() != target_.columns.size()) {
          return InputError(
              file_name(), seg.line,
              absl::StrCat("COPY row for ", target_.table.Display(), " has ",
                           fields_.size(), " fields, expected ",
                           target_.columns.size()));
        }
        Fill(out, EventKind::kRow, seg.text, seg.line, seg.offset,
             /*with_target=*/true, &fields_);
        return true;
      }
      case SegmentKind::kSql:
        break;
    }
    PGM_RETURN_IF_ERROR(CheckUtf8(seg.text, seg.line));
    if (StartsWithWord(seg.text, "INSERT")) {
      PGM_RETURN_IF_ERROR(StartInsert(seg));
      PGM_ASSIGN_OR_RETURN(bool more_rows, NextInsertTuple());
      if (!more_rows) continue;
      Fill(out, EventKind::kRow, {}, insert_line_, insert_offset_,
           /*with_target=*/true, &fields_);
      return true;
    }
    if (const std::string e = ClientEncodingOf(seg.text); !e.empty()) {
      check_utf8_ = e == "UTF8" || e == "UTF-8";
    }
    Fill(out, EventKind::kStatement, seg.text, seg.line, seg.offset,
         /*with_target=*/false, nullptr);
    out->standard_strings = seg.standard_strings;
    out->standard_strings_dependent = seg.standard_strings_dependent;
    return true;
  }
}

absl::Status DumpReader::CheckMeta(const Segment& seg) {
  // psql takes a meta-command's name up to white space or the next
  // backslash, and its arguments to the end of the line.
  std::string_view t = seg.text;
  size_t name_end = 1;
  while (name_end < t.size() && !absl::ascii_isspace(t[name_end]) &&
         t[name_end] != '\\') {
    ++name_end;
  }
  std::string_view name = t.substr(0, name_end);
  std::string_view args = StripAsciiWhitespace(t.substr(name_end));
  auto refuse = [&](std::string_view why) {
    return InputError(file_name(), seg.line,
                      absl::StrCat("psql meta-command ", AsAbsl(name), " ",
                                   AsAbsl(why), "; refusing"));
  };
  const bool spaced = name_end < t.size() && absl::ascii_isspace(t[name_end]);
  if (name == "\\restrict" || name == "\\unrestrict") {
    if (!spaced || !IsValidRestrictKey(args)) {
      return refuse("without the one alphanumeric key pg_dump writes");
    }
    if (name == "\\restrict") {
      if (!restrict_key_.empty()) {
        return refuse(absl::StrCat("while line ", restrict_line_,
                                   "'s \\restrict is still open"));
      }
      restrict_key_.assign(args);
      restrict_line_ = seg.line;
    } else {
      if (restrict_key_ != args) {
        return refuse(restrict_key_.empty()
                          ? "with no \\restrict open"
                          : "with a key other than its \\restrict's");
      }
      restrict_key_.clear();
    }
    return absl::OkStatus();
  }
  if (name == "\\connect") {
    if (!spaced || args.empty() || args.find('\\') != std::string_view::npos ||
        args.find('`') != std::string_view::npos) {
      return refuse("in a form pg_dump does not write");
    }
    return absl::OkStatus();
  }
  return refuse(
      "is not one pg_dump writes (only \\restrict, \\unrestrict and "
      "\\connect are read, and none is passed on): it would run on the "
      "host that restores the merge");
}

absl::Status DumpReader::CheckComplete() {
  int64_t line = std::max<int64_t>(last_line_, 1);
  if (!segmenter_.saw_trailer()) {
    return InputError(file_name(), line,
                      "dump ends before pg_dump's closing \"-- PostgreSQL "
                      "database dump complete\" (file truncated?)");
  }
  if (!restrict_key_.empty()) {
    return InputError(file_name(), line,
                      absl::StrCat("dump ends before the \\unrestrict that "
                                   "closes line ",
                                   restrict_line_,
                                   "'s \\restrict (file truncated?)"));
  }
  return absl::OkStatus();
}

void DumpReader::Fill(DumpEvent* out, EventKind kind, std::string_view text,
                      int64_t line, size_t offset, bool with_target,
                      const std::vector<std::string_view>* fields) {
  out->kind = kind;
  out->text = text;
  out->line = line;
  out->offset = offset;
  out->target = with_target ? &target_ : nullptr;
  out->fields = fields;
  out->block = block_;
}

size_t DumpReader::NextCopyRows(std::vector<std::string_view>* rows, size_t max) {
  rows->clear();
  if (in_insert_ || pending_skipped_ >= 0 || options_.split_copy_rows || check_utf8_ ||
      !segmenter_.in_copy()) {
    return 0;
  }
  return segmenter_.NextCopyRows(rows, max);
}

bool DumpReader::JumpToCopyRow(size_t offset, int64_t line) {
  if (in_insert_ || pending_skipped_ >= 0 || !segmenter_.in_copy()) return false;
  return segmenter_.JumpToCopyRow(offset, line);
}

const std::vector<std::string_view>& DumpReader::Fields(const DumpEvent& ev) {
  if (ev.fields == nullptr) SplitCopyRow(ev.text, &fields_);
  return fields_;
}

absl::Status DumpReader::StartCopy(const Segment& seg) {
  PGM_RETURN_IF_ERROR(CheckUtf8(seg.text, seg.line));
  PGM_ASSIGN_OR_RETURN(
      ParsedStatement parsed,
      ParsedStatement::Parse(seg.text, file_name(), seg.line));
  const Node node = parsed.node();
  if (parsed.type() != "CopyStmt" || !node.has("relation")) {
    return InputError(file_name(), seg.line,
                      "COPY FROM stdin without a table (COPY of a query?)");
  }
  target_.table = RangeVarName(node["relation"]);
  target_.columns = node["attlist"].Strings();
  if (node.has("options")) {
    // pg_dump writes text-format COPY with default delimiters only.
    return InputError(file_name(), seg.line,
                      "COPY with options (binary, CSV, DELIMITER) is not "
                      "pg_dump's plain format and is not supported");
  }
  target_.from_insert = false;
  target_.overriding_system_value = false;
  target_.defaults.clear();
  ++block_;
  in_copy_ = true;
  last_insert_prefix_.clear();
  return absl::OkStatus();
}

absl::Status DumpReader::StartInsert(const Segment& seg) {
  std::string_view prefix, tuples;
  if (!SplitInsertPrefix(seg.text, &prefix, &tuples)) {
    return InsertFallbackError(seg.text, seg.line);
  }
  if (prefix != last_insert_prefix_) {
    // A new table (or column list): read the header afresh.
    if (!ParseInsertHeader(seg.text, &insert_header_)) {
      return InsertFallbackError(seg.text, seg.line);
    }
    target_.table = insert_header_.table;
    target_.columns = insert_header_.columns;
    target_.from_insert = true;
    target_.overriding_system_value = insert_header_.overriding_system_value;
    target_.defaults.clear();
    block_has_tuple_ = false;
    last_insert_prefix_.assign(prefix);
    ++block_;
  }
  tuples_.Reset(tuples, segmenter_.standard_conforming_strings(), insert_header_.default_values);
  insert_sql_ = seg.text;
  insert_line_ = seg.line;
  insert_offset_ = seg.offset;
  in_insert_ = true;
  return absl::OkStatus();
}

namespace {
std::string DescribePositions(const std::vector<int>& positions) {
  if (positions.empty()) return "no value";
  std::vector<std::string> n;
  for (int p : positions) n.push_back(absl::StrCat(p + 1));
  return absl::StrCat(positions.size() == 1 ? "value " : "values ",
                      absl::StrJoin(n, ", "));
}
}  // namespace

absl::StatusOr<bool> DumpReader::NextInsertTuple() {
  int r = tuples_.Next(&fields_, &row_defaults_);
  if (r == 0) {
    in_insert_ = false;
    return false;
  }
  if (r < 0) {
    in_insert_ = false;
    return InsertFallbackError(insert_sql_, insert_line_);
  }
  if (!row_defaults_.empty() && !target_.columns.empty()) {
    return InputError(
        file_name(), insert_line_,
        absl::StrCat("INSERT into ", target_.table.Display(),
                     " names its columns and has DEFAULT in value ",
                     row_defaults_[0] + 1,
                     ": pg_dump --column-inserts leaves a generated column out "
                     "of the list instead"));
  }
  if (!block_has_tuple_) {
    target_.defaults = row_defaults_;
    block_has_tuple_ = true;
  } else if (row_defaults_ != target_.defaults) {
    // pg_dump writes DEFAULT for the same (generated) columns in every row.
    return InputError(
        file_name(), insert_line_,
        absl::StrCat("INSERT into ", target_.table.Display(), " has DEFAULT in ",
                     DescribePositions(row_defaults_), ", its earlier rows in ",
                     DescribePositions(target_.defaults),
                     ": pg_dump writes DEFAULT for the same generated columns "
                     "in every row"));
  }
  if (!target_.columns.empty() && fields_.size() != target_.columns.size()) {
    return InputError(file_name(), insert_line_,
                      absl::StrCat("INSERT row for ", target_.table.Display(),
                                   " has ", fields_.size(),
                                   " values, expected ",
                                   target_.columns.size()));
  }
  return true;
}

absl::Status DumpReader::InsertFallbackError(std::string_view sql,
                                             int64_t line) {
  // libpg_query decides: a real syntax error gets its message; valid SQL of
  // a shape pg_dump does not write is reported as unsupported.
  absl::StatusOr<ParsedStatement> parsed =
      ParsedStatement::Parse(sql, file_name(), line);
  if (!parsed.ok()) return parsed.status();
  return absl::UnimplementedError(absl::StrCat(
      file_name(), ":", line,
      ": INSERT is not of the form pg_dump writes (--inserts, "
      "--column-inserts, --rows-per-insert); rewrite it as COPY or plain "
      "literal VALUES"));
}

}  // namespace pgmerge::parser
