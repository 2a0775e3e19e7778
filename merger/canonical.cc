// A dump whose values pg_dump wrote in its session's form (a timestamptz in
// another time zone than UTC, a bytea in the escape form) written again in
// the merge's (parser/value_text.h): the merge compares rows as text, so a
// base row dumped from Paris by development and from UTC by production
// would be two rows, and verify, which reads the shadow back under the
// merge's settings, would see changed content. The index pass finds such a
// dump (a test of a few bytes a value); this pass writes it again, those
// values of its COPY rows in the merge's form and every other byte as it
// was, and the merge runs again on that copy.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/output.h"
#include "base/page_releaser.h"
#include "base/status.h"
#include "merger/plan.h"
#include "parser/dump_reader.h"

namespace pgmerge::merger::internal {

std::vector<SessionTextField> SessionTextFields(const Catalog& catalog,
                                                const parser::DataTarget& target) {
  std::vector<SessionTextField> out;
  const Table* table = catalog.FindTable(target.table);
  if (table == nullptr) return out;
  const std::vector<std::string> cols =
      target.columns.empty() ? DataColumns(*table) : target.columns;
  for (size_t k = 0; k < cols.size(); ++k) {
    const int c = table->ColumnIndex(cols[k]);
    if (c < 0) continue;
    const parser::SessionText how = parser::SessionTextOf(table->columns[c]);
    if (how != parser::SessionText::kNone) out.push_back({static_cast<int>(k), how});
  }
  return out;
}

bool SessionTextCanonical(const std::vector<SessionTextField>& fields,
                          const std::vector<std::string_view>& row) {
  for (const SessionTextField& t : fields) {
    if (static_cast<size_t>(t.field) < row.size() &&
        !parser::IsCanonicalField(row[t.field], t.how)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<CanonicalDump> RewriteCanonical(const DumpInput& in, const Catalog& catalog) {
  int64_t values = 0;
  absl::StatusOr<MappedFile> file = MappedFile::Spool(in.name, [&](int fd) -> absl::Status {
    OutputBuffer out(fd);
    // The input as it was, in pieces the buffer holds.
    auto copy = [&](size_t from, size_t to) {
      constexpr size_t kPiece = size_t{1} << 20;
      for (size_t at = from; at < to; at += kPiece) {
        out.Append(in.data.substr(at, std::min(kPiece, to - at)));
      }
    };
    std::string row;
    DumpReader reader(in.data, in.name);
    parser::ReaderOptions options;
    options.check_utf8 = false;  // The merge that reads the copy checks it.
    options.split_copy_rows = false;  // Only the rows of tables with timestamptz.
    reader.set_options(options);
    PageReleaser releaser(in.file, 0);
    DumpEvent ev;
    int64_t block = -1;
    std::vector<SessionTextField> fields;
    size_t written = 0;  // Of the input, up to here.
    // Copies what the reader went past as it was, so its pages go back.
    auto through = [&](size_t at) {
      if (at < written + (1 << 20)) return;
      copy(written, at);
      written = at;
      releaser.Advance(written);
    };
    for (size_t at = 0;; at = reader.position()) {
      through(at);
      PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
      if (!more) break;
      if (ev.kind != EventKind::kRow) continue;
      if (ev.block != block) {
        block = ev.block;
        fields = SessionTextFields(catalog, *ev.target);
      }
      if (fields.empty()) continue;
      const std::vector<std::string_view>& f = reader.Fields(ev);
      if (SessionTextCanonical(fields, f)) continue;
      if (ev.text.empty()) {
        return InputError(in.name, ev.line,
                          absl::StrCat("an INSERT of ", ev.target->table.Display(),
                                       " holds a timestamptz in another time zone than "
                                       "UTC or a bytea in the escape form; pgmerge "
                                       "writes COPY data again, not INSERTs: dump again "
                                       "with PGTZ=UTC PGOPTIONS='-c bytea_output=hex'"));
      }
      if (ev.offset < written) {
        return absl::InternalError(absl::StrCat(in.name, ":", ev.line, ": row before ", written));
      }
      copy(written, ev.offset);
      row.clear();
      for (size_t k = 0, next = 0; k < f.size(); ++k) {
        if (k > 0) row.push_back('\t');
        if (next < fields.size() && static_cast<size_t>(fields[next].field) == k) {
          values += parser::AppendCanonicalField(f[k], fields[next++].how, &row);
        } else {
          row.append(f[k]);
        }
      }
      out.Append(row);
      written = ev.offset + ev.text.size();
    }
    copy(written, in.data.size());
    releaser.Finish(in.data.size());
    return out.Flush();
  });
  if (!file.ok()) return file.status();
  return CanonicalDump{std::move(*file), values};
}

}  // namespace pgmerge::merger::internal
