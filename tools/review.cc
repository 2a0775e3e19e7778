#include "tools/review.h"

#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "parser/dump_reader.h"

namespace pgmerge::tools {
namespace {

using merger::Report;
using merger::TableReport;
using Wanted = absl::flat_hash_map<std::string, std::set<std::string>>;  // Table -> keys.

// The keys whose rows the page shows, per table (dev's name) and, for
// production's side, per production table.
void AddWanted(const TableReport& t, Wanted* dev, Wanted* prod) {
  auto want = [&](const std::string& key) {
    (*dev)[t.table].insert(key);
    (*prod)[t.prod_table.empty() ? t.table : t.prod_table].insert(key);
  };
  for (const merger::Conflict& c : t.conflict_list) want(c.key);
  for (const TableReport::Ambiguous& a : t.ambiguous_list) want(a.key);
  for (const std::string& k : t.deleted_keys) want(k);
  for (const merger::DroppedRow& d : t.dropped_list) want(d.key);
}

absl::Status Collect(std::string_view data, const std::string& name, const Wanted& wanted,
                     const absl::flat_hash_map<std::string, std::vector<std::string>>& key_cols,
                     const absl::flat_hash_map<std::string, std::string>& report_table,
                     std::map<std::pair<std::string, std::string>, RowVersion>* out) {
  if (wanted.empty()) return absl::OkStatus();
  parser::DumpReader reader(data, name);
  parser::DumpEvent ev;
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    if (ev.kind != parser::EventKind::kRow || ev.target == nullptr) continue;
    const std::string table = ev.target->table.Display();
    auto w = wanted.find(table);
    if (w == wanted.end() || ev.target->columns.empty()) continue;  // Needs the catalog.
    const std::vector<std::string>& cols = ev.target->columns;
    const std::vector<std::string_view>& fields = reader.Fields(ev);
    std::vector<std::string> parts;
    for (const std::string& k : key_cols.at(table)) {
      for (size_t i = 0; i < cols.size() && i < fields.size(); ++i) {
        if (cols[i] == k) parts.emplace_back(fields[i]);
      }
    }
    if (parts.size() != key_cols.at(table).size()) continue;
    std::string key = absl::StrJoin(parts, ",");
    if (!w->second.contains(key)) continue;
    RowVersion v;
    v.columns = cols;
    for (std::string_view f : fields) v.values.emplace_back(f);
    out->emplace(std::make_pair(report_table.at(table), std::move(key)), std::move(v));
  }
  return absl::OkStatus();
}

// A COPY text value in a Markdown table cell.
std::string Cell(std::string_view v) {
  if (v == "\\N") return "*NULL*";
  std::string out;
  size_t n = 0;
  for (char c : v) {
    if (++n > 120) {
      out += "…";
      break;
    }
    if (c == '|') out += "\\|";
    else if (c == '`') out += "\\`";
    else out.push_back(c);
  }
  return out.empty() ? "''" : absl::StrCat("`", out, "`");
}

const std::string* ValueOf(const RowVersion* r, const std::string& column) {
  if (r == nullptr) return nullptr;
  for (size_t i = 0; i < r->columns.size() && i < r->values.size(); ++i) {
    if (r->columns[i] == column) return &r->values[i];
  }
  return nullptr;
}

// Both versions of a row, a column a line, differing columns marked.
void SideBySide(const ReviewRows& rows, const std::string& table, const std::string& key,
                std::string* out) {
  auto find = [&](const auto& m) -> const RowVersion* {
    auto it = m.find({table, key});
    return it == m.end() ? nullptr : &it->second;
  };
  const RowVersion* prod = find(rows.prod);
  const RowVersion* dev = find(rows.dev);
  if (prod == nullptr && dev == nullptr) {
    absl::StrAppend(out, "(rows not shown: the dump names no columns for them)\n\n");
    return;
  }
  std::vector<std::string> columns = dev ? dev->columns : prod->columns;
  if (prod && dev) {  // Production's columns development lacks, after.
    for (const std::string& c : prod->columns) {
      if (!ValueOf(dev, c)) columns.push_back(c);
    }
  }
  absl::StrAppend(out, "| column | production | development | differs |\n|---|---|---|---|\n");
  for (const std::string& c : columns) {
    const std::string* p = ValueOf(prod, c);
    const std::string* d = ValueOf(dev, c);
    const bool differs = prod && dev && (!p || !d || *p != *d);
    absl::StrAppend(out, "| ", c, " | ", p ? Cell(*p) : "—", " | ", d ? Cell(*d) : "—", " | ",
                    differs ? "**≠**" : "", " |\n");
  }
  absl::StrAppend(out, "\n");
}

std::string SideName(const std::string& s) {
  return s == "prod" ? "production" : s == "dev" ? "development" : s;
}

// The title, the mode (first: it says how far the decisions below can be
// trusted), the totals and, for a refused merge, why.
void RenderHeader(const Report& report, std::string* out) {
  absl::StrAppend(out, "# pgmerge review: ", report.prod_file, " + ", report.dev_file, "\n\n");
  if (report.three_way) {
    absl::StrAppend(out, "**Mode: three-way (--base), exact.** Edits and deletions were read "
                         "from the fork's own rows.\n\n");
  } else {
    absl::StrAppendFormat(out,
                          "**Mode: two-way, inferred: %d decisions inferred, %d ambiguous.** "
                          "To make them exact, merge again with `--base FORK.sql` (the dump "
                          "development was seeded from).\n\n",
                          report.total_inferred(), report.total_ambiguous());
  }
  absl::StrAppendFormat(out, "- conflicts: %d\n- values at risk: %d\n",
                        report.total_conflicts(), report.total_lost_values());
  if (report.owner_statements_left_out + report.privilege_statements_left_out > 0) {
    absl::StrAppendFormat(out,
                          "- left out: %d ownership statements (--no-owner), %d privilege "
                          "statements (--no-privileges)\n",
                          report.owner_statements_left_out, report.privilege_statements_left_out);
  }
  if (report.clean_statements_left_out > 0) {
    absl::StrAppendFormat(out,
                          "- left out: %d drop statements of pg_dump --clean (the target "
                          "starts empty)\n",
                          report.clean_statements_left_out);
  }
  absl::StrAppend(out, "\n");
  if (!report.refusals.empty()) {
    absl::StrAppend(out, "## Refused\n\nNo SQL was written:\n\n");
    for (const std::string& r : report.refusals) absl::StrAppend(out, "- ", r, "\n");
    absl::StrAppend(out, "\n");
  }
}

void RenderTables(const Report& report, std::string* out) {
  absl::StrAppend(out, "## Tables\n\n| table | key | prod | dev | base | dev-new | remapped | "
                       "unified | conflicts | deleted | inferred | ambiguous | output |\n"
                       "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const TableReport& t : report.tables) {
    absl::StrAppendFormat(out, "| %s%s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | "
                               "%d |\n",
                          t.table, t.only_in_prod ? " (dropped by development)" : "", t.key_kind,
                          t.prod_rows, t.dev_rows, t.base, t.dev_only, t.remapped, t.unified,
                          t.conflicts, t.deleted_in_prod, t.inferred, t.ambiguous, t.output_rows);
  }
  absl::StrAppend(out, "\n");
}

void RenderConflicts(const Report& report, const ReviewRows& rows, std::string* out) {
  absl::StrAppend(out, "## Conflicts\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    for (const merger::Conflict& c : t.conflict_list) {
      ++n;
      absl::StrAppendFormat(out, "### %s key %s\n\n%s's version kept; edited: %s; columns "
                                 "that differ: %s\n\n",
                            t.table, c.key, SideName(c.kept), SideName(c.edited),
                            c.columns.empty() ? "none" : absl::StrJoin(c.columns, ", "));
      SideBySide(rows, t.table, c.key, out);
    }
  }
  if (n == 0) absl::StrAppend(out, "None.\n\n");
}

// Two-way: what was inferred or left ambiguous; three-way: the deletions.
void RenderDecisions(const Report& report, const ReviewRows& rows, std::string* out) {
  absl::StrAppend(out, report.three_way ? "## Deletions\n\n"
                                        : "## Inferred and ambiguous decisions\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    for (const TableReport::Ambiguous& a : t.ambiguous_list) {
      ++n;
      absl::StrAppendFormat(out, "### %s key %s: ambiguous\n\n%s\n\n", t.table, a.key,
                            a.evidence);
      SideBySide(rows, t.table, a.key, out);
    }
    for (const std::string& k : t.deleted_keys) {
      ++n;
      absl::StrAppendFormat(out,
                            "### %s key %s: deleted in production%s\n\nDevelopment's row is not "
                            "brought back.\n\n",
                            t.table, k, report.three_way ? "" : " (inferred)");
      SideBySide(rows, t.table, k, out);
    }
  }
  if (n == 0) absl::StrAppend(out, "None.\n\n");
}

void RenderRemaps(const Report& report, std::string* out) {
  absl::StrAppend(out, "## Remapped keys\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    for (const merger::KeyRange& r : t.remaps) {
      ++n;
      if (r.count == 1) {
        absl::StrAppendFormat(out, "- %s: %d → %d\n", t.table, r.old_start, r.new_start);
      } else {
        absl::StrAppendFormat(out, "- %s: %d..%d → %d..%d\n", t.table, r.old_start,
                              r.old_start + r.count - 1, r.new_start, r.new_start + r.count - 1);
      }
    }
    for (const merger::Unification& u : t.unifications) {
      ++n;
      absl::StrAppendFormat(out, "- %s: development's %s is production's %s (same %s)\n",
                            t.table, u.dev_key, u.prod_key, u.unique_key);
    }
  }
  absl::StrAppend(out, n == 0 ? "None.\n\n" : "\n");
}

// The references the merge followed that no foreign key declares, and the
// columns named like references it did not follow.
void RenderReferences(const Report& report, std::string* out) {
  absl::StrAppend(out, "## References no foreign key declares\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    for (const merger::ReferenceReport& r : t.references) {
      if (r.kind == merger::ReferenceReport::kForeignKey) continue;
      ++n;
      absl::StrAppendFormat(out, "- %s.%s → %s, followed by %s: %d values rewritten%s\n",
                            t.table, r.column, r.parent, r.by, r.rewritten,
                            r.kind == merger::ReferenceReport::kDeclared
                                ? ""
                                : absl::StrCat(" (`--no-reference ", t.table, ".", r.column,
                                               "` if it is not one)"));
    }
    for (const merger::UnlinkedColumn& u : t.unlinked_columns) {
      ++n;
      absl::StrAppendFormat(out, "- %s.%s: **not followed**: %s; development's values are as "
                                 "written (`--reference %s.%s=TABLE` if it holds another "
                                 "table's keys)\n",
                            t.table, u.column, u.why, t.table, u.column);
    }
  }
  absl::StrAppend(out, n == 0 ? "None.\n\n" : "\n");
}

void RenderLosses(const Report& report, std::string* out) {
  absl::StrAppend(out, "## Lost values\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    if (t.only_in_prod) {
      ++n;
      absl::StrAppendFormat(out, "- %s: dropped by development (--allow-drop): %d rows lost\n",
                            t.table, t.prod_rows);
    }
    for (const merger::ColumnLoss& l : t.lost_columns) {
      ++n;
      absl::StrAppendFormat(out, "- %s.%s: dropped by development: %d values lost (%d not the "
                                 "default)\n",
                            t.table, l.column, l.values, l.non_default);
    }
    for (const merger::ColumnLoss& l : t.dev_values_not_carried) {
      ++n;
      absl::StrAppendFormat(out, "- %s.%s: added by development: %d of development's values "
                                 "not carried (production's version of those rows written, "
                                 "with the default or --fill)\n",
                            t.table, l.column, l.non_default);
    }
    for (const merger::DroppedRow& d : t.dropped_list) {
      ++n;
      absl::StrAppendFormat(out, "- %s key %s: development's row not merged: %s\n", t.table,
                            d.key, d.reason);
    }
  }
  absl::StrAppend(out, n == 0 ? "None.\n\n" : "\n");
}

// Schema changes other than added columns, and production-only objects.
void RenderRisks(const Report& report, std::string* out) {
  absl::StrAppend(out, "## Restore risks and schema changes\n\n");
  int64_t n = 0;
  for (const TableReport& t : report.tables) {
    for (const merger::SchemaChange& c : t.schema_changes) {
      if (c.kind == "added_column") continue;  // The common, harmless case.
      ++n;
      absl::StrAppendFormat(out, "- %s%s%s: %s%s: %s\n", t.table, c.column.empty() ? "" : ".",
                            c.column, c.kind == "restore_risk" ? "**restore risk**" : c.kind,
                            "", c.detail);
    }
  }
  for (const merger::ObjectRef& o : report.prod_only_objects) {
    ++n;
    if (o.kept) {
      absl::StrAppendFormat(out, "- only production has %s %s.%s: kept (--keep-prod-objects)\n",
                            o.type, o.schema, o.name);
    } else if (!o.left_out.empty()) {
      absl::StrAppendFormat(out, "- only production has %s %s.%s: **left out** although "
                                 "--keep-prod-objects: %s; recreate it under the new names\n",
                            o.type, o.schema, o.name, o.left_out);
    } else {
      absl::StrAppendFormat(out, "- only production has %s %s.%s: not in the output unless "
                                 "--keep-prod-objects; recreate it if it still applies\n",
                            o.type, o.schema, o.name);
    }
  }
  absl::StrAppend(out, n == 0 ? "None.\n" : "");
}

}  // namespace

absl::StatusOr<ReviewRows> CollectReviewRows(const Report& report, std::string_view prod,
                                             const std::string& prod_name,
                                             std::string_view dev, const std::string& dev_name) {
  Wanted want_dev, want_prod;
  absl::flat_hash_map<std::string, std::vector<std::string>> dev_keys, prod_keys;
  absl::flat_hash_map<std::string, std::string> dev_table, prod_table;
  for (const TableReport& t : report.tables) {
    if (t.key_columns.empty()) continue;  // Keyless: the key is the whole row.
    AddWanted(t, &want_dev, &want_prod);
    const std::string& p = t.prod_table.empty() ? t.table : t.prod_table;
    dev_keys[t.table] = prod_keys[p] = t.key_columns;
    dev_table[t.table] = t.table;
    prod_table[p] = t.table;
  }
  ReviewRows rows;
  PGM_RETURN_IF_ERROR(Collect(prod, prod_name, want_prod, prod_keys, prod_table, &rows.prod));
  PGM_RETURN_IF_ERROR(Collect(dev, dev_name, want_dev, dev_keys, dev_table, &rows.dev));
  return rows;
}

std::string RenderReview(const Report& report, const ReviewRows& rows) {
  std::string out;
  RenderHeader(report, &out);
  RenderTables(report, &out);
  RenderConflicts(report, rows, &out);
  RenderDecisions(report, rows, &out);
  RenderRemaps(report, &out);
  RenderReferences(report, &out);
  RenderLosses(report, &out);
  RenderRisks(report, &out);
  return out;
}

}  // namespace pgmerge::tools
