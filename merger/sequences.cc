// The merged sequences: each past every key the merged rows hold.
#include "merger/sequences.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "parser/sql_parser.h"

namespace pgmerge::merger::internal {
namespace {

std::string SqlStringLiteral(std::string_view s) {
  // E'' when a backslash is in it: read alike whatever
  // standard_conforming_strings is.
  const bool e = s.find('\\') != std::string_view::npos;
  std::string out = e ? "E'" : "'";
  for (char c : s) {
    if (c == '\'' || (e && c == '\\')) out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

void NoteSequenceMax(const Plan& p, SequenceMarks& marks) {
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    const bool down = p.sequence_down[j];
    if (p.sequence_max[j] == Furthest(down)) continue;
    const std::string& seq =
        p.dev_column(p.sequence_cols[j]).sequence;
    auto [it, inserted] = marks.furthest.try_emplace(seq, p.sequence_max[j]);
    if (!inserted) it->second = Further(down, it->second, p.sequence_max[j]);
    if (p.decided.new_key_far && p.sequence_cols[j] == p.key_cols[0]) {
      auto [nit, added] = marks.added.try_emplace(seq, *p.decided.new_key_far);
      if (!added) nit->second = Further(down, nit->second, *p.decided.new_key_far);
    }
  }
}

void EmitSequences(const MergeInputs& m, const SequenceMarks& marks, OutputBuffer* out,
                   Report& report) {
  auto position_of = [](const Catalog& c, const TableName& name)
      -> std::optional<keyspace::SequencePosition> {
    const parser::Sequence* s = c.FindSequence(name);
    if (s == nullptr || !s->has_setval) return std::nullopt;
    return keyspace::SequencePosition{s->last_value, s->is_called};
  };
  bool any = false;
  for (const parser::Sequence& s : m.dev_catalog.sequences()) {
    SequenceReport sr;
    sr.sequence = s.name.Display();
    const keyspace::SequenceShape shape = ShapeOf(&s);
    // The sides' positions are carried as they are (is_called included);
    // the merged one is the furthest along of them and of the added keys.
    std::optional<keyspace::SequencePosition> prod = position_of(m.prod_catalog, s.name);
    std::optional<keyspace::SequencePosition> dev = position_of(m.dev_catalog, s.name);
    if (prod) sr.prod_value = prod->last_value;
    if (dev) sr.dev_value = dev->last_value;
    auto it = marks.furthest.find(s.name.Display());
    if (it != marks.furthest.end()) sr.max_key = it->second;
    std::optional<int64_t> added;
    auto nit = marks.added.find(s.name.Display());
    if (nit != marks.added.end()) added = nit->second;
    const keyspace::SequencePosition merged =
        keyspace::MergedPosition(shape, prod, dev, added)
            .value_or(keyspace::SequencePosition{s.start, false});
    if (!any) {
      out->Append("--\n-- Sequences: past every key in the merged data.\n--\n\n");
      any = true;
    }
    sr.value = merged.last_value;
    sr.is_called = merged.is_called;
    sr.kept = (prod && merged == *prod) || (dev && merged == *dev);
    out->Append(absl::StrCat("SELECT pg_catalog.setval(", SqlStringLiteral(s.name.Display()),
                             ", ", merged.last_value, ", ",
                             merged.is_called ? "true" : "false", ");\n"));
    out->Mark(OutputMark::kStatement);
    report.sequences.push_back(std::move(sr));
  }
  if (any) out->Append("\n");
  out->Mark(OutputMark::kStatement);
}

}  // namespace pgmerge::merger::internal
