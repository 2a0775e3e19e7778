#include <algorithm>
#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/row_hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {
namespace {

std::string SqlStringLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string QualifiedSql(const TableName& n) {
  return absl::StrCat(parser::QuoteIdentifier(n.schema), ".",
                      parser::QuoteIdentifier(n.name));
}

std::string ColumnListSql(const std::vector<std::string>& cols,
                          const std::vector<int>& pick) {
  std::vector<std::string> q;
  for (int i : pick) q.push_back(parser::QuoteIdentifier(cols[i]));
  return absl::StrJoin(q, ", ");
}

bool IsSetval(std::string_view sql) {
  return StartsWithIgnoreCase(sql, "SELECT pg_catalog.setval(") ||
         StartsWithIgnoreCase(sql, "SELECT setval(");
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

std::vector<KeyRange> ToRanges(std::vector<std::pair<int64_t, int64_t>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::vector<KeyRange> out;
  for (const auto& [from, to] : pairs) {
    if (!out.empty() && out.back().old_start + out.back().count == from &&
        out.back().new_start + out.back().count == to) {
      ++out.back().count;
    } else {
      out.push_back({from, to, 1});
    }
  }
  return out;
}

// Writes a COPY header before the first row of a block, and "\." after it.
class CopyBlock {
 public:
  CopyBlock(OutputBuffer* out, std::string header)
      : out_(out), header_(std::move(header)) {}
  void BeginRow() {
    if (!open_) {
      out_->Append(header_);
      open_ = true;
    }
  }
  void Close() {
    if (open_) out_->Append("\\.\n\n");
    open_ = false;
  }

 private:
  OutputBuffer* out_;
  std::string header_;
  bool open_ = false;
};

template <typename Fn>
// Calls fn(reader, event, layout) for every row of the side's spans, in
// order, with the pages behind the reader released. The pass only copies:
// the index pass already checked every row.
absl::Status ForEachRow(const MergeInputs& m, Plan& p, Side side, Fn fn) {
  const DumpInput& in = m.dump(side);
  parser::ReaderOptions quick;
  quick.check_utf8 = false;
  quick.split_copy_rows = false;  // Split only rows that need it.
  for (const Span& span : p.spans(side)) {
    DumpReader reader(in.data.substr(span.begin, span.end - span.begin),
                      in.name, span.line, span.standard_strings);
    reader.set_options(quick);
    PageReleaser releaser(in.file, span.begin);
    DumpEvent ev;
    int64_t current = -1;
    Layout layout;
    for (;;) {
      PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
      if (!more) break;
      releaser.Advance(span.begin + reader.position());
      if (ev.kind != EventKind::kRow) continue;
      if (ev.block != current) {
        current = ev.block;
        layout = MakeLayout(p, *ev.target, side);
      }
      fn(reader, ev, layout);
    }
    releaser.Finish(span.end);
  }
  return absl::OkStatus();
}

absl::Status EmitTable(const MergeInputs& m, Plans& plans, int t, RowHasher& hasher,
                       absl::flat_hash_map<std::string, int64_t>& sequence_max,
                       OutputBuffer* out, Report& report) {
  Plan& p = plans.tables[t];
  TableReport& r = p.report;
  const std::string name_sql = QualifiedSql(p.dev->name);
  std::vector<int> all_dev(p.dev_cols.size());
  for (size_t i = 0; i < all_dev.size(); ++i) all_dev[i] = static_cast<int>(i);
  const std::vector<int>& manifest_cols = p.prod ? p.shared : all_dev;
  std::vector<int> all_prod(p.prod_cols.size());
  for (size_t i = 0; i < all_prod.size(); ++i) all_prod[i] = static_cast<int>(i);
  for (int c : manifest_cols) r.output.columns.push_back(p.dev_cols[c]);
  r.prod.columns = p.prod_cols;
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> prod_conflict_rows;
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    if (p.sequence_max[j] == std::numeric_limits<int64_t>::min()) continue;
    const std::string& seq =
        p.dev->columns[p.dev->ColumnIndex(p.dev_cols[p.sequence_cols[j]])].sequence;
    auto [it, inserted] = sequence_max.try_emplace(seq, p.sequence_max[j]);
    if (!inserted) it->second = std::max(it->second, p.sequence_max[j]);
  }

  // Production's rows, every one, with its own key, in dev's shape.
  if (p.prod != nullptr && !p.prod_spans.empty()) {
    std::vector<int> prod_out_cols = p.shared;
    for (const auto& [col, value] : p.fills) prod_out_cols.push_back(col);
    CopyBlock block(out, absl::StrCat("COPY ", name_sql, " (",
                                      ColumnListSql(p.dev_cols, prod_out_cols),
                                      ") FROM stdin;\n"));
    PGM_RETURN_IF_ERROR(ForEachRow(m, p, Side::kProd, [&](DumpReader& reader,
                                                       const DumpEvent& ev,
                                                       const Layout& layout) {
      const bool raw = !ev.text.empty();
      // Rows copied whole are never split.
      const bool need_fields = !raw || !layout.shared_exact ||
                               !layout.prod_exact || !p.decided.conflict_keys.empty();
      static const std::vector<std::string_view> kNone;
      const std::vector<std::string_view>& f =
          need_fields ? reader.Fields(ev) : kNone;
      auto field = [&](int c) -> std::string_view {
        int k = layout.dev[c];
        return k >= 0 ? f[k] : parser::kCopyNull;
      };
      uint64_t prod_hash;
      if (layout.prod_exact && raw) {
        prod_hash = RowHash(ev.text);
      } else {
        auto prod_field = [&](int c) -> std::string_view {
          int k = layout.prod[c];
          return k >= 0 ? f[k] : parser::kCopyNull;
        };
        prod_hash = hasher.Hash(all_prod, prod_field);
      }
      ++r.prod.rows;
      r.prod.hash += prod_hash;
      if (!p.decided.conflict_keys.empty()) {
        uint64_t key = KeyOf(p, field, /*with_fk=*/true);
        if (p.decided.conflict_keys.contains(key)) {
          std::vector<uint64_t>& hashes = prod_conflict_rows[key];
          for (int c : p.shared) hashes.push_back(HashField(field(c), 0));
          // Dev's version of this row is written instead (--base).
          if (p.decided.prod_replaced.contains(key)) return;
        }
      }
      block.BeginRow();
      uint64_t row_hash;
      if (layout.shared_exact && raw) {
        // The row as production wrote it is the row dev's shape wants.
        out->Append(ev.text);
        row_hash = layout.prod_exact ? prod_hash : RowHash(ev.text);
      } else {
        bool first = true;
        for (int c : p.shared) {
          if (!first) out->Append('\t');
          first = false;
          out->Append(field(c));
        }
        row_hash = hasher.Hash(p.shared, field);
      }
      for (const auto& [col, value] : p.fills) {
        out->Append('\t');
        out->Append(value);
      }
      out->Append('\n');
      ++r.output.rows;
      r.output.hash += row_hash;
    }));
    block.Close();
  }
  r.lost_columns = p.losses;
  r.prod_only = r.prod_rows - r.base - r.conflicts -
                static_cast<int64_t>(p.mode == Mode::kRemap ? 0 : 0);

  // Development's rows: the new ones, with keys and references rewritten.
  CopyBlock block(out, absl::StrCat("COPY ", name_sql, " (",
                                    ColumnListSql(p.dev_cols, all_dev),
                                    ") FROM stdin;\n"));
  std::vector<std::pair<int64_t, int64_t>> remaps;
  std::vector<int64_t> fk_values(p.fks.size());
  std::vector<std::string_view> values(p.dev_cols.size());
  std::vector<std::array<char, 24>> num_bufs(p.dev_cols.size());
  uint32_t ordinal = 0;
  int64_t in_both = 0;  // Dev rows whose key prod also has.
  PGM_RETURN_IF_ERROR(ForEachRow(m, p, Side::kDev, [&](DumpReader& reader,
                                                    const DumpEvent& ev,
                                                    const Layout& layout) {
    const uint32_t i = ordinal++;
    if (p.mode != Mode::kMultiset && p.decided.decision[i] == kBase) {
      ++in_both;  // Most rows: prod's copy is written; nothing to split.
      return;
    }
    const std::vector<std::string_view>& f = reader.Fields(ev);
    auto field = [&](int c) -> std::string_view {
      int k = layout.dev[c];
      return k >= 0 ? f[k] : parser::kCopyNull;
    };
    bool orphan = false;
    for (size_t s = 0; s < p.fks.size(); ++s) {
      int64_t v;
      fk_values[s] = ParseInt64(field(p.fks[s].column), &v) ? v : kNoValue;
      if (fk_values[s] != kNoValue &&
          plans.tables[p.fks[s].parent].decided.gone.contains(fk_values[s])) {
        orphan = true;
      }
    }
    auto key_text = [&]() {
      std::vector<std::string> parts;
      for (int c : p.shown_key_cols) parts.emplace_back(field(c));
      if (parts.empty()) {
        for (int c : p.shared) parts.emplace_back(field(c));
      }
      return absl::StrJoin(parts, ",");
    };
    uint8_t d;
    uint8_t unified_via = 0;
    if (p.mode == Mode::kMultiset) {
      // Compared after following remapped parents, as prod's rows point
      // at prod's own.
      char num[24];
      auto rewritten = [&](int c) -> std::string_view {
        int slot = p.fk_slot[c];
        if (slot < 0 || fk_values[slot] == kNoValue) return field(c);
        auto [end, ec] = std::to_chars(num, num + sizeof num,
                                       Rewrite(plans, p, slot, fk_values[slot]));
        return std::string_view(num, end - num);
      };
      auto unique_match = [&]() {
        for (size_t u = 0; u < p.uniques.size(); ++u) {
          if (p.UniqueApplies(u, field) &&
              p.prod_unique[u].contains(HashKey(p.uniques[u].columns, p.IsFk(),
                                                rewritten, KeyParts::kAll))) {
            unified_via = static_cast<uint8_t>(u);
            return true;
          }
        }
        return false;
      };
      d = DecideKeylessRow(p.prod_multiset,
                           orphan ? 0 : hasher.Hash(p.shared, rewritten), orphan,
                           unique_match);
      switch (d) {
        case kBase: ++r.base; break;
        case kDevOnly: ++r.dev_only; break;
        case kUnified: ++r.unified; break;
        default: ++r.dropped; break;
      }
    } else {
      d = p.decided.decision[i];
    }
    switch (d) {
      case kBase:
        ++in_both;
        return;
      case kProdEdit:
        ++in_both;
        r.prod_edit_keys.push_back(key_text());
        return;
      case kTakeDev:
      case kConflict: {
        ++in_both;
        Conflict conflict;
        conflict.key = key_text();
        conflict.kept = d == kTakeDev || m.options.prefer_dev ? "dev" : "prod";
        conflict.edited = d == kTakeDev ? "dev" : p.base ? "both" : "unknown";
        auto it = prod_conflict_rows.find(p.decided.conflict_of_row[i]);
        size_t j = 0;
        for (int c : p.shared) {
          if (it == prod_conflict_rows.end() ||
              it->second[j] != HashField(field(c), 0) ||
              (p.fk_slot[c] >= 0 &&
               Rewrite(plans, p, p.fk_slot[c], fk_values[p.fk_slot[c]]) !=
                   fk_values[p.fk_slot[c]])) {
            conflict.columns.push_back(p.dev_cols[c]);
          }
          ++j;
        }
        const bool write_dev = conflict.kept == "dev";
        if (d == kConflict) {
          r.conflict_list.push_back(std::move(conflict));
        } else {
          r.dev_edit_keys.push_back(std::move(conflict.key));
        }
        if (!write_dev) return;
        break;
      }
      case kDeleted:
        r.deleted_keys.push_back(key_text());
        return;
      case kUnified: {
        Unification u;
        u.dev_key = key_text();
        u.prod_key = p.mode == Mode::kRemap ? absl::StrCat(p.decided.unify_target[i])
                                            : u.dev_key;
        u.unique_key = p.uniques[p.mode == Mode::kMultiset ? unified_via
                                                            : p.decided.unify_via[i]]
                           .name;
        r.unifications.push_back(std::move(u));
        if (p.mode == Mode::kRemap && p.decided.unify_target[i] == static_cast<int64_t>(
                                          KeyOf(p, field, false))) {
          ++in_both;
        }
        return;
      }
      case kDropUnique:
        r.dropped_list.push_back(
            {key_text(), "its natural unique keys match different production rows"});
        return;
      case kDropOrphan:
        r.dropped_list.push_back(
            {key_text(), "references a row that production deleted"});
        return;
      default:
        break;
    }
    if (d == kCollision) ++in_both;
    // Emit: kDevOnly, kCollision, or a dev version that replaces prod's.
    bool any_rewritten = false;
    for (size_t c = 0; c < p.dev_cols.size(); ++c) {
      std::string_view v = field(c);
      int slot = p.fk_slot[c];
      int64_t nv = 0;
      bool rewritten = false;
      if (p.mode == Mode::kRemap && static_cast<int>(c) == p.key_cols[0]) {
        int64_t k;
        ParseInt64(v, &k);
        nv = p.decided.remap.Apply(k);
        rewritten = nv != k;
        if (rewritten) remaps.emplace_back(k, nv);
      } else if (slot >= 0 && fk_values[slot] != kNoValue) {
        nv = Rewrite(plans, p, slot, fk_values[slot]);
        rewritten = nv != fk_values[slot];
      }
      if (rewritten) {
        char* buf = num_bufs[c].data();
        auto [end, ec] = std::to_chars(buf, buf + num_bufs[c].size(), nv);
        v = std::string_view(buf, end - buf);
        any_rewritten = true;
      }
      values[c] = v;
    }
    auto value = [&](int c) { return values[c]; };
    block.BeginRow();
    uint64_t row_hash;
    if (!any_rewritten && layout.dev_exact && !ev.text.empty()) {
      out->Append(ev.text);  // Nothing to rewrite: the row as dev wrote it.
      row_hash = manifest_cols.size() == p.dev_cols.size()
                     ? RowHash(ev.text)
                     : hasher.Hash(manifest_cols, value);
    } else {
      for (size_t c = 0; c < p.dev_cols.size(); ++c) {
        if (c > 0) out->Append('\t');
        out->Append(values[c]);
      }
      row_hash = hasher.Hash(manifest_cols, value);
    }
    out->Append('\n');
    ++r.output.rows;
    r.output.hash += row_hash;
  }));
  block.Close();
  r.prod_only = r.prod_rows - in_both;
  r.remaps = ToRanges(std::move(remaps));
  r.output_rows = r.output.rows;
  // Every dev row is accounted for exactly once.
  int64_t accounted = r.base + r.dev_only + r.remapped + r.unified +
                      r.conflicts + r.deleted_in_prod + r.dropped +
                      r.taken_from_dev;
  if (accounted != r.dev_rows) {
    return absl::InternalError(absl::StrCat(
        r.table, ": ", r.dev_rows, " development rows read but ", accounted,
        " accounted for"));
  }
  report.tables.push_back(r);
  return absl::OkStatus();
}

void EmitSequences(const MergeInputs& m,
                   const absl::flat_hash_map<std::string, int64_t>& sequence_max,
                   OutputBuffer* out, Report& report) {
  auto value_of = [](const Catalog& c, const TableName& name,
                     int64_t* v) -> bool {
    const parser::Sequence* s = c.FindSequence(name);
    if (s == nullptr || !s->has_setval) return false;
    *v = s->is_called ? s->last_value : s->last_value - 1;
    return true;
  };
  bool any = false;
  for (const parser::Sequence& s : m.dev_catalog.sequences()) {
    SequenceReport sr;
    sr.sequence = s.name.Display();
    int64_t best = std::numeric_limits<int64_t>::min();
    int64_t v;
    if (value_of(m.prod_catalog, s.name, &v)) {
      sr.prod_value = v;
      best = std::max(best, v);
    }
    if (value_of(m.dev_catalog, s.name, &v)) {
      sr.dev_value = v;
      best = std::max(best, v);
    }
    auto it = sequence_max.find(s.name.Display());
    if (it != sequence_max.end()) {
      sr.max_key = it->second;
      best = std::max(best, it->second);
    }
    int64_t min_value = s.min_value.value_or(s.increment > 0 ? 1 : best);
    if (!any) {
      out->Append("--\n-- Sequences: past every key in the merged data.\n--\n\n");
      any = true;
    }
    std::string literal = SqlStringLiteral(s.name.Display());
    if (best == std::numeric_limits<int64_t>::min() || best < min_value) {
      // Nothing drawn yet: the next value is the start.
      sr.value = s.start;
      sr.is_called = false;
      out->Append(absl::StrCat("SELECT pg_catalog.setval(", literal, ", ",
                               s.start, ", false);\n"));
    } else {
      sr.value = best;
      out->Append(absl::StrCat("SELECT pg_catalog.setval(", literal, ", ",
                               best, ", true);\n"));
    }
    report.sequences.push_back(std::move(sr));
  }
  if (any) out->Append("\n");
}

}  // namespace

absl::Status Emit(const MergeInputs& m,
                  const std::vector<const parser::DumpObject*>& prod_only_objects,
                  Plans& plans, OutputBuffer* out, Report& report) {
  RowHasher hasher;
  // Per sequence: the largest value the merged rows hold.
  absl::flat_hash_map<std::string, int64_t> sequence_max;
  out->Append(
      "--\n-- Merged by pgmerge: production's rows with development's new "
      "rows,\n-- in development's schema.\n--\n\n");
  DumpReader reader(m.dev.data, m.dev.name);
  parser::ReaderOptions skim;
  skim.skim_copy_data = true;  // Rows come from the spans, table by table.
  skim.check_utf8 = false;
  reader.set_options(skim);
  PageReleaser releaser(m.dev.file, 0);
  reader.set_progress([&releaser](size_t pos) { releaser.Advance(pos); });
  DumpEvent ev;
  bool data_done = false;
  bool sequences_done = false;
  auto emit_data = [&]() -> absl::Status {
    if (data_done) return absl::OkStatus();
    data_done = true;
    for (size_t t = 0; t < plans.tables.size(); ++t) {
      PGM_RETURN_IF_ERROR(
          EmitTable(m, plans, static_cast<int>(t), hasher, sequence_max, out, report));
    }
    return absl::OkStatus();
  };
  // After dev's schema and the data: prod-only objects kept, then sequences.
  auto finish = [&]() -> absl::Status {
    PGM_RETURN_IF_ERROR(emit_data());
    if (sequences_done) return absl::OkStatus();
    sequences_done = true;
    if (m.options.keep_prod_objects && !prod_only_objects.empty()) {
      out->Append(
          "--\n-- Schema objects only production had (--keep-prod-objects).\n--\n\n");
      for (const parser::DumpObject* o : prod_only_objects) {
        for (const auto& [offset, length] : o->statements) {
          out->Append(m.prod.data.substr(offset, length));
          out->Append("\n\n");
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
        // \connect would leave the shadow database; \restrict and others
        // are kept as development's pg_dump wrote them.
        if (StartsWithIgnoreCase(ev.text, "\\connect") ||
            StartsWithIgnoreCase(ev.text, "\\c ")) {
          break;
        }
        if (StartsWithIgnoreCase(ev.text, "\\unrestrict")) {
          PGM_RETURN_IF_ERROR(finish());
        }
        out->Append(ev.text);
        out->Append("\n\n");
        break;
      case EventKind::kCopyStart:
      case EventKind::kCopyEnd:
      case EventKind::kRow:
        PGM_RETURN_IF_ERROR(emit_data());
        break;
      case EventKind::kStatement:
        if (IsSetval(ev.text)) break;  // Replaced by the merged values.
        if (!data_done && LooksPostData(ev.text)) {
          PGM_RETURN_IF_ERROR(emit_data());
        }
        out->Append(ev.text);
        out->Append("\n\n");
        break;
    }
  }
  return finish();
}

}  // namespace pgmerge::merger::internal
