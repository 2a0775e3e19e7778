// Emit: development's schema statement by statement, with the merged data
// (large objects, then each table through WriteTable) where pg_dump put the
// data, production-only objects when kept, and the sequences last.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/page_releaser.h"
#include "base/row_hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "merger/plan.h"
#include "merger/sequences.h"
#include "merger/table_writer.h"
#include "parser/dump_reader.h"
#include "parser/large_objects.h"
#include "parser/post_data.h"
#include "parser/sql_parser.h"

namespace pgmerge::merger::internal {
namespace {

bool IsSetval(std::string_view sql) {
  return StartsWithIgnoreCase(sql, "SELECT pg_catalog.setval(") ||
         StartsWithIgnoreCase(sql, "SELECT setval(");
}

// An `ALTER ... OWNER TO` (any object kind) by its parse tree, so a name or
// a value that reads "OWNER TO" does not count.
bool IsOwnerChange(std::string_view sql) {
  if (!StartsWithWord(sql, "ALTER") || !ContainsIgnoreCase(sql, "OWNER")) return false;
  absl::StatusOr<parser::ParsedStatement> p = parser::ParsedStatement::Parse(sql, "", 0);
  if (!p.ok()) return false;  // The catalog pass parsed it; not reached.
  if (p->type() == "AlterOwnerStmt") return true;
  const parser::Node cmds = p->node()["cmds"];
  if (p->type() != "AlterTableStmt" || cmds.empty()) return false;
  for (parser::Node c : cmds) {
    if (c["AlterTableCmd"].str("subtype") != "AT_ChangeOwner") {
      return false;  // pg_dump never mixes an owner change with others.
    }
  }
  return true;
}

// What pg_restore's --no-owner (-O) and --no-privileges (-x) leave out;
// counted in the report.
bool LeftOutByRestoreOptions(const MergeOptions& o, std::string_view sql, Report& report) {
  const bool session_authorization =
      (StartsWithWord(sql, "SET") || StartsWithWord(sql, "RESET")) &&
      ContainsIgnoreCase(sql.substr(0, 40), "SESSION AUTHORIZATION");
  if (o.no_owner && (IsOwnerChange(sql) || session_authorization)) {
    ++report.owner_statements_left_out;
    return true;
  }
  if (o.no_privileges &&
      (StartsWithWord(sql, "GRANT") || StartsWithWord(sql, "REVOKE") ||
       StartsWithIgnoreCase(sql, "ALTER DEFAULT PRIVILEGES"))) {
    ++report.privilege_statements_left_out;
    return true;
  }
  return false;
}

// What pg_dump --clean writes before its first object's header: drops of
// what the dump then creates, and views replaced by stand-ins that let go
// of what they use, so it can be dropped. The merge's target is empty:
// there is nothing to drop, and without --if-exists each drop would fail.
bool IsCleanStatement(std::string_view sql) {
  return StartsWithWord(sql, "DROP") ||
         (StartsWithWord(sql, "ALTER") &&
          (ContainsIgnoreCase(sql, " DROP ") || ContainsIgnoreCase(sql, " DETACH PARTITION "))) ||
         StartsWithIgnoreCase(sql, "SELECT pg_catalog.lo_unlink(") ||
         StartsWithIgnoreCase(sql, "CREATE OR REPLACE VIEW ");
}

// Statements pg_dump puts in post-data; used to place the data when the
// development dump has no data block to mark the spot.
bool LooksPostData(std::string_view sql) {
  return (StartsWithIgnoreCase(sql, "ALTER TABLE") &&
          ContainsIgnoreCase(sql, " ADD CONSTRAINT ")) ||
         StartsWithIgnoreCase(sql, "CREATE INDEX") ||
         StartsWithIgnoreCase(sql, "CREATE UNIQUE INDEX") ||
         StartsWithIgnoreCase(sql, "CREATE TRIGGER") ||
         StartsWithIgnoreCase(sql, "CREATE CONSTRAINT TRIGGER") ||
         StartsWithIgnoreCase(sql, "CREATE RULE") ||
         StartsWithIgnoreCase(sql, "ALTER INDEX");
}

// A statement written that leaves a constraint or index unchecked as the
// dump had it (manifest::ManifestUnvalidated): noted, so verify does not
// blame the restore for it.
void NoteUnvalidated(std::string_view sql, manifest::ManifestUnvalidated* out) {
  // Most statements are neither: no parse for them.
  const bool not_valid = StartsWithWord(sql, "ALTER") && ContainsIgnoreCase(sql, "NOT VALID");
  const bool on_only = StartsWithWord(sql, "CREATE") && ContainsIgnoreCase(sql, " ON ONLY ");
  if (!not_valid && !on_only) return;
  const parser::PostDataBuild b = parser::DescribePostData(sql);
  if (b.kind == parser::PostDataBuild::Kind::kIndex && b.only) {
    out->indexes.push_back(parser::TableName{b.table.schema, b.index}.Display());
    return;
  }
  for (const parser::AddedConstraint& c : b.constraints) {
    if (c.not_valid && !c.name.empty()) {
      out->constraints.push_back({b.table.Display(), c.name, !b.only});
    }
  }
}

absl::Status EmitTable(const MergeInputs& m, Plans& plans, int t, AwaitDecided decided,
                       RowHasher& hasher, SequenceMarks& sequence_max, OutputBuffer* out,
                       Report& report) {
  Plan& p = plans.tables[t];
  PGM_RETURN_IF_ERROR(
      WriteTable(m, plans, p, [&] { return decided(t); }, decided, hasher, out));
  NoteSequenceMax(p, sequence_max);  // Decided by now.
  report.tables.push_back(p.report);
  return absl::OkStatus();
}

}  // namespace

absl::Status Emit(const MergeInputs& m,
                  const std::vector<const parser::DumpObject*>& prod_only_objects,
                  Plans& plans, AwaitDecided decided, OutputBuffer* out, Report& report) {
  RowHasher hasher;
  // Per sequence: the furthest values the merged rows hold.
  SequenceMarks sequence_max;
  // Ours are the only meta-commands in the output (CVE-2025-8714): the
  // key, derived from the inputs, keeps the output deterministic.
  const std::string key =
      !m.options.restrict_key.empty() ? m.options.restrict_key : RestrictKey(m);
  out->Append(absl::StrCat("\\restrict ", key, "\n"));
  out->Mark(OutputMark::kMeta);
  out->Append(
      "--\n-- Merged by pgmerge: production's rows with development's new "
      "rows,\n-- in development's schema.\n--\n\n");
  if (!m.options.role.empty()) {  // As pg_restore --role writes it.
    out->Append(absl::StrCat("SET ROLE ", parser::QuoteIdentifier(m.options.role), ";\n\n"));
    out->Mark(OutputMark::kStatement);
  }
  DumpReader reader(m.dev.data, m.dev.name);
  parser::ReaderOptions skim;
  skim.skim_copy_data = true;  // Rows come from the spans, table by table.
  skim.check_utf8 = false;
  // The index pass found where each block ends: the rows are not read here.
  absl::flat_hash_map<size_t, parser::KnownCopyEnd> copy_ends;
  for (const Plan& p : plans.tables) {
    for (const Span& s : p.dev_spans) {
      if (s.copy_end.offset != 0) copy_ends[s.begin] = s.copy_end;
    }
  }
  skim.known_copy_ends = &copy_ends;
  reader.set_options(skim);
  PageReleaser releaser(m.dev.file, 0);
  reader.set_progress([&releaser](size_t pos) { releaser.Advance(pos); });
  DumpEvent ev;
  bool data_done = false;
  bool sequences_done = false;
  // --clean's statements come before the first object's header.
  const int64_t first_object_line =
      m.dev_catalog.objects().empty() ? 0 : m.dev_catalog.objects().front().line;
  // A development table created after `line`, if any: rows written before
  // their table exists would fail the restore.
  auto created_after = [&](int64_t line) -> const Plan* {
    for (const Plan& p : plans.tables) {
      if (p.dev != nullptr && !p.dev->extension_config && p.dev->line > line) return &p;
    }
    return nullptr;
  };
  // `line`: development's line the data is written before (0: its end).
  auto emit_data = [&](int64_t line) -> absl::Status {
    if (data_done) return absl::OkStatus();
    data_done = true;
    if (const Plan* late = line > 0 ? created_after(line) : nullptr) {
      return InputError(m.dev.name, late->dev->line,
                        absl::StrCat("CREATE TABLE ", late->report.table,
                                     " comes after the data section starts (line ", line,
                                     "); pg_dump writes every table before any data"));
    }
    out->Mark(OutputMark::kDataBegin);
    EmitLargeObjects(
        m, plans,
        [&](std::string_view sql) { return LeftOutByRestoreOptions(m.options, sql, report); },
        out);
    for (size_t t = 0; t < plans.tables.size(); ++t) {
      PGM_RETURN_IF_ERROR(
          EmitTable(m, plans, static_cast<int>(t), decided, hasher, sequence_max, out, report));
    }
    out->Mark(OutputMark::kDataEnd);
    return absl::OkStatus();
  };
  // After dev's schema and the data: prod-only objects kept, then sequences.
  auto finish = [&]() -> absl::Status {
    PGM_RETURN_IF_ERROR(emit_data(0));
    if (sequences_done) return absl::OkStatus();
    sequences_done = true;
    if (m.options.keep_prod_objects && !prod_only_objects.empty()) {
      out->Append(
          "--\n-- Schema objects only production had (--keep-prod-objects).\n--\n\n");
      for (const parser::DumpObject* o : prod_only_objects) {
        for (const auto& [offset, length] : o->statements) {
          if (LeftOutByRestoreOptions(m.options, m.prod.data.substr(offset, length), report)) continue;
          NoteUnvalidated(m.prod.data.substr(offset, length), &report.unvalidated);
          out->Append(m.prod.data.substr(offset, length));
          out->Append("\n\n");
          out->Mark(OutputMark::kStatement);
        }
      }
    }
    EmitSequences(m, sequence_max, out, report);
    return absl::OkStatus();
  };
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    releaser.Advance(reader.position());
    switch (ev.kind) {
      case EventKind::kMeta:
        // \restrict, \unrestrict and \connect (the only ones the reader
        // lets through) are consumed: ours enclose the whole output.
        break;
      case EventKind::kCopyStart:
      case EventKind::kCopyEnd:
      case EventKind::kRow:
        PGM_RETURN_IF_ERROR(emit_data(ev.line));
        break;
      case EventKind::kStatement:
        if (ev.line < first_object_line && IsCleanStatement(ev.text)) {
          ++report.clean_statements_left_out;
          break;
        }
        if (IsSetval(ev.text)) break;  // Replaced by the merged values.
        // Written by EmitLargeObjects, both sides' (the catalog read them).
        if (parser::ClassifyLargeObjectStatement(ev.text) !=
            parser::LargeObjectStatement::kNone) {
          break;
        }
        if (LeftOutByRestoreOptions(m.options, ev.text, report)) break;
        // Before the first post-data statement once every table exists
        // (a dump with no data, or its schema's post-data before the data),
        // else where development's data starts.
        if (!data_done && LooksPostData(ev.text) && created_after(ev.line) == nullptr) {
          PGM_RETURN_IF_ERROR(emit_data(ev.line));
        }
        NoteUnvalidated(ev.text, &report.unvalidated);
        if (ev.standard_strings_dependent) {
          out->Append(parser::StandardStringsPin(ev.standard_strings));
          out->Mark(OutputMark::kStatement);
        }
        out->Append(ev.text);
        out->Append("\n\n");
        out->Mark(OutputMark::kStatement);
        break;
    }
  }
  PGM_RETURN_IF_ERROR(finish());
  out->Append(absl::StrCat("\\unrestrict ", key, "\n"));
  out->Mark(OutputMark::kMeta);
  return absl::OkStatus();
}

}  // namespace pgmerge::merger::internal
