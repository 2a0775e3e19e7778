#include "merger/report.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pgmerge::merger {

using Json = nlohmann::ordered_json;

namespace {

// One count summed over the tables.
int64_t Sum(const std::vector<TableReport>& tables, int64_t TableReport::*count) {
  int64_t n = 0;
  for (const TableReport& t : tables) n += t.*count;
  return n;
}

// A JSON array of `items`, each as `to_json` writes it.
template <typename T, typename F>
Json List(const std::vector<T>& items, F to_json) {
  Json a = Json::array();
  for (const T& item : items) a.push_back(to_json(item));
  return a;
}

Json TableCountsJson(const TableReport& t) {
  return {{"prod_rows", t.prod_rows},
          {"dev_rows", t.dev_rows},
          {"base", t.base},
          {"prod_only", t.prod_only},
          {"dev_only", t.dev_only},
          {"remapped", t.remapped},
          {"unified", t.unified},
          {"conflicts", t.conflicts},
          {"deleted_in_prod", t.deleted_in_prod},
          {"dropped", t.dropped},
          {"taken_from_dev", t.taken_from_dev},
          {"inferred", t.inferred},
          {"ambiguous", t.ambiguous},
          {"output_rows", t.output_rows}};
}

// The rows and columns a table's merge lost or did not carry.
void AddLossesJson(const TableReport& t, Json* j) {
  (*j)["dropped"] = List(t.dropped_list, [](const DroppedRow& d) -> Json {
    return {{"key", d.key}, {"reason", d.reason}};
  });
  (*j)["lost_columns"] = List(t.lost_columns, [](const ColumnLoss& l) -> Json {
    return {{"column", l.column},
            {"values", l.values},
            {"non_default", l.non_default}};
  });
  (*j)["dev_values_not_carried"] = List(t.dev_values_not_carried, [](const ColumnLoss& l) -> Json {
    return {{"column", l.column},
            {"values", l.values},
            {"differing", l.non_default}};
  });
}

Json TableJson(const TableReport& t) {
  Json j;
  j["table"] = t.table;
  j["prod_table"] = t.prod_table;
  j["key_kind"] = t.key_kind;
  if (t.extension_config) j["extension_config"] = true;
  j["status"] = manifest::TableStatus(t.only_in_prod, t.only_in_dev);
  j["counts"] = TableCountsJson(t);
  j["base_high_water"] = t.base_high_water;
  j["ambiguous"] = List(t.ambiguous_list, [](const TableReport::Ambiguous& a) -> Json {
    return {{"key", a.key}, {"evidence", a.evidence}};
  });
  if (t.key_headroom.second > 0) {
    j["key_headroom"] = {{"prod_top", t.key_headroom.first},
                         {"reserved_to", t.key_headroom.second}};
  }
  j["remaps"] = List(t.remaps, [](const KeyRange& r) -> Json {
    return {{"old", r.old_start}, {"new", r.new_start},
            {"count", r.count}};
  });
  j["unifications"] = List(t.unifications, [](const Unification& u) -> Json {
    return {{"dev_key", u.dev_key},
            {"prod_key", u.prod_key},
            {"unique_key", u.unique_key}};
  });
  j["conflicts"] = List(t.conflict_list, [](const Conflict& c) -> Json {
    return {{"key", c.key},
            {"columns", c.columns},
            {"kept", c.kept},
            {"edited", c.edited}};
  });
  j["deleted_in_prod"] = t.deleted_keys;
  j["dev_edits"] = t.dev_edit_keys;
  j["prod_edits"] = t.prod_edit_keys;
  AddLossesJson(t, &j);
  j["schema_changes"] = List(t.schema_changes, [](const SchemaChange& c) -> Json {
    return {{"kind", c.kind}, {"column", c.column}, {"detail", c.detail}};
  });
  j["references"] = List(t.references, [](const ReferenceReport& r) -> Json {
    return {{"column", r.column}, {"references", r.parent}, {"by", r.by},
            {"rewritten", r.rewritten}};
  });
  j["unlinked_columns"] = List(t.unlinked_columns, [](const UnlinkedColumn& u) -> Json {
    return {{"column", u.column}, {"why", u.why}};
  });
  j["manifest"] = manifest::ManifestJson(t.output, t.prod);
  return j;
}

Json SequenceJson(const SequenceReport& s) {
  return {{"sequence", s.sequence},
          {"value", s.value},
          {"is_called", s.is_called},
          {"prod_value", s.prod_value},
          {"dev_value", s.dev_value},
          {"max_key", s.max_key},
          {"kept", s.kept}};
}

Json ProdOnlyObjectJson(const ObjectRef& o) {
  Json j = {{"type", o.type}, {"schema", o.schema}, {"name", o.name}, {"kept", o.kept}};
  if (!o.left_out.empty()) j["left_out"] = o.left_out;
  return j;
}

Json LargeObjectsJson(const LargeObjectReport& lo) {
  return {{"counts",
           {{"prod", lo.prod},
            {"dev", lo.dev},
            {"same", lo.same},
            {"dev_new", lo.dev_new},
            {"taken_from_dev", lo.taken_from_dev},
            {"prod_edited", lo.prod_edited},
            {"deleted_in_prod", lo.deleted_in_prod},
            {"output", lo.output.size()}}},
          {"dev_new", lo.dev_new_oids},
          {"taken_from_dev", lo.taken_from_dev_oids},
          {"deleted_in_prod", lo.deleted_oids},
          {"manifest", manifest::LargeObjectsManifestJson(lo.output, lo.prod_side)}};
}

}  // namespace

int64_t Report::total_conflicts() const { return Sum(tables, &TableReport::conflicts); }
int64_t Report::total_inferred() const { return Sum(tables, &TableReport::inferred); }
int64_t Report::total_ambiguous() const { return Sum(tables, &TableReport::ambiguous); }

int64_t Report::total_lost_values() const {
  int64_t n = 0;
  for (const TableReport& t : tables) {
    for (const ColumnLoss& l : t.lost_columns) n += l.non_default;
    for (const ColumnLoss& l : t.dev_values_not_carried) n += l.non_default;
    n += t.conflicts + t.dropped;
    if (t.only_in_prod) n += t.prod_rows;
  }
  return n;
}

std::string ReportJson(const Report& report) {
  Json root;
  root["format"] = manifest::kReportFormat;
  root["version"] = 1;
  root["prod"] = report.prod_file;
  root["dev"] = report.dev_file;
  Json totals = {{"conflicts", report.total_conflicts()},
                 {"values_at_risk", report.total_lost_values()}};
  root["totals"] = totals;
  root["mode"] = report.three_way ? "three-way" : "two-way";
  root["client_encoding"] = report.client_encoding;
  root["row_settings"] = manifest::RowSettingsJson();
  Json rewritten = Json::array();
  for (const Report::RewrittenDump& d : report.rewritten_dumps) {
    rewritten.push_back({{"file", d.file}, {"values", d.values}});
  }
  root["rewritten_dumps"] = rewritten;
  root["refused"] = !report.refusals.empty();
  root["refusals"] = report.refusals;
  root["tables"] = List(report.tables, TableJson);
  root["sequences"] = List(report.sequences, SequenceJson);
  root["prod_only_objects"] = List(report.prod_only_objects, ProdOnlyObjectJson);
  root["large_objects"] = LargeObjectsJson(report.large_objects);
  root["unvalidated"] = manifest::UnvalidatedJson(report.unvalidated);
  root["left_out"] = {{"owner_statements", report.owner_statements_left_out},
                      {"privilege_statements", report.privilege_statements_left_out},
                      {"clean_statements", report.clean_statements_left_out}};
  return root.dump(2) + "\n";
}

std::string ReportSummary(const Report& report) {
  // Columns not followed matter only where some key moved.
  const int64_t remapped = Sum(report.tables, &TableReport::remapped);
  size_t width = 5;
  for (const TableReport& t : report.tables) {
    width = std::max(width, t.table.size());
  }
  std::string out = absl::StrFormat(
      "%-*s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", width, "table", "prod",
      "dev", "base", "dev-new", "remapped", "unified", "conflict", "deleted",
      "output");
  for (const TableReport& t : report.tables) {
    if (t.only_in_prod) {
      absl::StrAppendFormat(&out, "%-*s %9d  dropped by development: %d rows lost\n",
                            width, t.table, t.prod_rows, t.prod_rows);
      continue;
    }
    absl::StrAppendFormat(&out, "%-*s %9d %9d %8d %8d %8d %8d %8d %8d %8d\n",
                          width, t.table, t.prod_rows, t.dev_rows, t.base,
                          t.dev_only, t.remapped, t.unified, t.conflicts,
                          t.deleted_in_prod, t.output_rows);
    for (const ColumnLoss& l : t.lost_columns) {
      absl::StrAppendFormat(&out,
                            "%-*s   column %s dropped by development: %d "
                            "values lost (%d not the default)\n",
                            width, "", l.column, l.values, l.non_default);
    }
    for (const ColumnLoss& l : t.dev_values_not_carried) {
      absl::StrAppendFormat(&out,
                            "%-*s   column %s added by development: %d of its "
                            "values not carried (production's version of those "
                            "rows written, with what the schema gives)\n",
                            width, "", l.column, l.non_default);
    }
    for (const SchemaChange& c : t.schema_changes) {
      if (c.kind == "added_column") continue;  // The common, harmless case.
      absl::StrAppendFormat(&out, "%-*s   %s %s: %s\n", width, "",
                            c.kind, c.column, c.detail);
    }
    for (const DroppedRow& d : t.dropped_list) {
      absl::StrAppendFormat(&out, "%-*s   dev row %s not merged: %s\n", width,
                            "", d.key, d.reason);
    }
    for (const ReferenceReport& r : t.references) {
      if (r.kind == ReferenceReport::kForeignKey || r.rewritten == 0) continue;
      absl::StrAppendFormat(&out,
                            "%-*s   column %s followed as a reference to %s, by %s: %d "
                            "values rewritten to remapped keys%s\n",
                            width, "", r.column, r.parent, r.by, r.rewritten,
                            r.kind == ReferenceReport::kDeclared
                                ? ""
                                : absl::StrCat(" (--no-reference ", t.table, ".", r.column,
                                               " to leave it)"));
    }
    if (remapped > 0) {
      for (const UnlinkedColumn& u : t.unlinked_columns) {
        absl::StrAppendFormat(&out,
                              "%-*s   column %s named like a reference, not followed (%s): "
                              "development's values are as written; --reference %s.%s=TABLE "
                              "if it holds another table's keys\n",
                              width, "", u.column, u.why, t.table, u.column);
      }
    }
    if (t.inferred > 0 || t.ambiguous > 0) {
      absl::StrAppendFormat(&out,
                            "%-*s   inferred: %d dev rows taken for edits or "
                            "deletions; ambiguous: %d (nothing dropped; listed in the report)\n",
                            width, "", t.inferred, t.ambiguous);
    }
  }
  if (!report.prod_only_objects.empty()) {
    const size_t kept = std::count_if(report.prod_only_objects.begin(),
                                      report.prod_only_objects.end(),
                                      [](const ObjectRef& o) { return o.kept; });
    absl::StrAppendFormat(&out,
                          "production-only schema objects: %d (kept in the output: %d; "
                          "the rest are not: recreate them if they still apply)\n",
                          report.prod_only_objects.size(), kept);
    for (const ObjectRef& o : report.prod_only_objects) {
      absl::StrAppendFormat(&out, "  %s %s.%s%s%s\n", o.type, o.schema, o.name,
                            o.kept ? " (kept)" : "",
                            o.left_out.empty() ? "" : absl::StrCat(" (left out: ", o.left_out, ")"));
    }
  }
  if (const LargeObjectReport& lo = report.large_objects; lo.prod + lo.dev > 0) {
    absl::StrAppendFormat(&out,
                          "large objects: %d written: production's %d, development's %d "
                          "(%d the same as production's, %d new%s)\n",
                          lo.output.size(), lo.prod, lo.dev, lo.same, lo.dev_new,
                          report.three_way
                              ? absl::StrFormat(", %d edited in development, %d deleted in "
                                                "production and not brought back",
                                                lo.taken_from_dev, lo.deleted_in_prod)
                              : std::string());
  }
  for (const Report::RewrittenDump& d : report.rewritten_dumps) {
    absl::StrAppendFormat(&out,
                          "%s: merged from a copy with %d values in the form rows are compared "
                          "in: timestamptz as UTC, bytea as hex (the same values)\n",
                          d.file, d.values);
  }
  absl::StrAppendFormat(&out, "conflicts: %d\n", report.total_conflicts());
  if (report.three_way) {
    absl::StrAppend(&out, "mode: three-way (--base): edits and deletions are exact\n");
  } else {
    absl::StrAppendFormat(
        &out,
        "mode: two-way: %d decisions inferred, %d ambiguous (evidence in the "
        "report's \"ambiguous\" lists)\n"
        "  to make them exact, merge with --base FORK.sql (the dump development "
        "was seeded from)\n",
        report.total_inferred(), report.total_ambiguous());
  }
  return out;
}

}  // namespace pgmerge::merger
