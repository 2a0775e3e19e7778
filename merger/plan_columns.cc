// BuildPlans' column fitting: dev's columns mapped to prod's (--rename),
// and every way prod's rows will not fit dev's columns that the catalogs
// can tell (added columns and their fills, types, NOT NULL, new CHECKs),
// with the likely renames listed.
#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/row_hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {
namespace {

// Maps dev's columns to prod's, --rename included: prod_name, shared,
// and the columns dev dropped (lost_cols, losses).
void MapColumns(const MergeInputs& m, Plan& p, std::vector<std::string>& problems) {
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  const std::string& table = p.report.table;
  p.prod_cols = DataColumns(prod);
  p.prod_name.assign(p.dev_cols.size(), "");
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    std::string source = p.dev_cols[i];
    for (const MergeOptions::ColumnRename& r : m.options.column_renames) {
      if (Names(r.table, dev.name) && r.to == p.dev_cols[i]) {
        source = r.from;
        if (IndexOf(p.prod_cols, source) < 0) {
          problems.push_back(absl::StrCat("--rename ", r.table, ".", r.from, "=",
                                           r.to, ": production's ", table,
                                           " has no column ", r.from));
        } else {
          p.report.schema_changes.push_back(
              {"renamed_column", r.to, absl::StrCat("production's ", r.from,
                                                    " carried across")});
        }
      }
    }
    if (IndexOf(p.prod_cols, source) >= 0) {
      p.prod_name[i] = source;
      p.shared.push_back(i);
    }
  }
  for (size_t j = 0; j < p.prod_cols.size(); ++j) {
    if (std::find(p.prod_name.begin(), p.prod_name.end(), p.prod_cols[j]) ==
        p.prod_name.end()) {
      p.lost_cols.push_back(j);
      ColumnLoss loss;
      loss.column = p.prod_cols[j];
      p.losses.push_back(loss);
    }
  }
}

// A column development added: its default, a --fill, NULL, or a refusal
// when it is NOT NULL without a default and production has rows.
void FitAddedColumn(const MergeInputs& m, Plan& p, size_t i,
                    std::vector<std::string>& problems) {
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  const std::string& table = p.report.table;
  const bool has_rows = prod.row_count > 0;
  const parser::Column& dc = p.dev_column(i);
  std::string how = dc.has_default || dc.identity != parser::Identity::kNone
                        ? "its default applies"
                        : dc.not_null ? "" : "NULL";
  // What production's rows get in it (Plan::added).
  Plan::AddedColumn added{static_cast<int>(i), std::nullopt};
  for (const MergeOptions::ColumnFill& f : m.options.fills) {
    if (Names(f.table, dev.name) && f.column == dc.name) {
      std::string value;
      parser::AppendCopyEscaped(f.value, &value);
      p.fills.emplace_back(static_cast<int>(i), value);
      added.written = value;
      how = absl::StrCat("filled with '", f.value, "' (--fill)");
    }
  }
  if (!added.written && dc.default_constant) {
    added.written = *dc.default_constant;
  } else if (!added.written && !dc.has_default && dc.identity == parser::Identity::kNone) {
    added.written = std::string(parser::kCopyNull);
  }
  p.added.push_back(std::move(added));
  if (how.empty() && has_rows) {
    // Would fail the restore: say so now, with what resolves it.
    std::string hint = absl::StrCat("--fill ", table, ".", dc.name, "=VALUE");
    for (int j : p.lost_cols) {
      const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_cols[j])];
      if (pc.type == dc.type) {
        absl::StrAppend(&hint, ", or --rename ", table, ".", pc.name, "=",
                        dc.name, " if it was renamed");
      }
    }
    problems.push_back(absl::StrCat(
        m.dev.name, ":", dev.line, ": column ", table, ".", dc.name,
        " is new in development, NOT NULL without a default, and "
        "production has ", prod.row_count, " rows with no value for it; hint: ",
        hint));
    how = "no value (refused)";
  }
  p.report.schema_changes.push_back({"added_column", dc.name, how});
}

// The scale a numeric type keeps ("numeric(12,4)": 4, "numeric(5)": 0), or
// -1 for numeric without one (it keeps each value's own).
int NumericScale(const parser::Column& c) {
  const size_t open = c.type.find('(');
  if (open == std::string::npos) return -1;
  const size_t comma = c.type.find(',', open);
  return comma == std::string::npos ? 0 : std::atoi(c.type.c_str() + comma + 1);
}

// Whether PostgreSQL writes every value of production's column, restored
// into development's type, as the same text: the dump's text is then what
// verify reads back.
bool SameText(const parser::Column& pc, const parser::Column& dc) {
  if (pc.is_array || dc.is_array) return false;
  const std::string& from = pc.type_name;
  const std::string& to = dc.type_name;
  auto textual = [](const std::string& t) {
    return t == "text" || t == "varchar" || t == "citext";
  };
  if (textual(to)) return true;  // Any text is kept as it is.
  // A type of the dump's own (a domain over the old type, say): taken to
  // keep the text, so verify still compares the column and says so if not.
  if (to.find('.') != std::string::npos) return true;
  if (IsIntegerType(from)) {
    return IsIntegerType(to) || textual(to) || (to == "numeric" && NumericScale(dc) <= 0);
  }
  if (textual(from) || (from == "bpchar" && pc.type.find('(') == std::string::npos)) {
    return textual(to);
  }
  if (from == "numeric") {
    return textual(to) || (to == "numeric" && (NumericScale(dc) < 0 ||
                                              NumericScale(dc) == NumericScale(pc)));
  }
  if (from == "json") return to == "json" || textual(to);
  if (from == "timestamp" || from == "timestamptz" || from == "time") {
    // A precision only rounds what has more digits; none keeps all.
    return from == to && dc.type.find('(') == std::string::npos;
  }
  return from == to;  // The same type, another modifier (an enum's labels).
}

// A column both have: the checks dev's type and NOT NULL impose on
// production's values, or a restore risk when pgmerge cannot check them.
void FitSharedColumn(const MergeInputs& m, Plan& p, size_t i) {
  const Table& prod = *p.prod;
  const parser::Column& dc = p.dev_column(i);
  const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_name[i])];
  if (dc.not_null && !pc.not_null) {
    p.checks.push_back({TypeCheck::kNotNull, static_cast<int>(i), 0, 0, nullptr,
                        "NOT NULL"});
  }
  const auto enum_labels = m.dev_catalog.enums().find(dc.type_name);
  const auto prod_labels = m.prod_catalog.enums().find(pc.type_name);
  bool enum_narrowed = enum_labels != m.dev_catalog.enums().end() &&
                       (prod_labels == m.prod_catalog.enums().end() ||
                        prod_labels->second != enum_labels->second);
  if (dc.type == pc.type && !enum_narrowed) return;
  std::string change = absl::StrCat(pc.type, " -> ", dc.type);
  const bool same_text = SameText(pc, dc);
  const bool numeric_from = IsIntegerType(pc.type_name) || pc.type_name == "numeric";
  if (!same_text && numeric_from && !pc.is_array && dc.type_name == "numeric" &&
      !dc.is_array && NumericScale(dc) >= 0) {
    p.rescaled.push_back({static_cast<int>(i), Plan::Rescale::kScale, NumericScale(dc)});
    absl::StrAppend(&change, " (production's values compared and hashed at its scale)");
  } else if (pc.type_name == "json" && dc.type_name == "jsonb" && !pc.is_array && !dc.is_array) {
    p.rescaled.push_back({static_cast<int>(i), Plan::Rescale::kJsonb});
    absl::StrAppend(&change, " (production's values compared and hashed as jsonb writes them)");
  } else if (!same_text) {
    const bool as_utc = pc.type_name == "timestamp" && dc.type_name == "timestamptz" &&
                        !pc.is_array && !dc.is_array;
    if (as_utc) p.rescaled.push_back({static_cast<int>(i), Plan::Rescale::kUtc});
    p.converted.push_back(static_cast<int>(i));
    absl::StrAppend(&change, as_utc ? " (production's values compared as UTC; restored, read in "
                                      "the session's time zone"
                                    : " (restored, production's values read as other text",
                    ": verify does not compare the column)");
  }
  TypeCheck check{TypeCheck::kInt, static_cast<int>(i), 0, 0, nullptr, dc.type};
  bool checkable = true;
  if (dc.is_array) {
    checkable = false;
  } else if (dc.type_name == "int2") {
    check.lo = -32768, check.hi = 32767;
  } else if (dc.type_name == "int4") {
    check.lo = std::numeric_limits<int32_t>::min();
    check.hi = std::numeric_limits<int32_t>::max();
  } else if (dc.type_name == "int8") {
    check.lo = std::numeric_limits<int64_t>::min();
    check.hi = std::numeric_limits<int64_t>::max();
  } else if ((dc.type_name == "varchar" || dc.type_name == "bpchar") &&
             dc.type.find('(') != std::string::npos) {
    check.kind = TypeCheck::kVarchar;
    check.hi = std::atoll(dc.type.c_str() + dc.type.find('(') + 1);
  } else if (dc.type_name == "varchar" || dc.type_name == "text") {
    return;  // Any text fits.
  } else if (dc.type_name == "numeric" && dc.type.find('(') != std::string::npos) {
    check.kind = TypeCheck::kNumeric;
    int precision = std::atoi(dc.type.c_str() + dc.type.find('(') + 1);
    size_t comma = dc.type.find(',');
    int scale = comma == std::string::npos ? 0 : std::atoi(dc.type.c_str() + comma + 1);
    check.hi = precision - scale;  // Digits allowed before the point.
  } else if (dc.type_name == "bool") {
    check.kind = TypeCheck::kBool;
  } else if (enum_labels != m.dev_catalog.enums().end()) {
    check.kind = TypeCheck::kEnum;
    check.labels = &enum_labels->second;
    change = enum_narrowed && dc.type == pc.type
                 ? absl::StrCat("enum ", dc.type, " changed its labels")
                 : change;
  } else {
    checkable = false;
  }
  if (checkable) {
    p.checks.push_back(check);
    p.report.schema_changes.push_back(
        {"type_change", dc.name, absl::StrCat(change, ": every value checked")});
  } else {
    p.report.schema_changes.push_back(
        {"restore_risk", dc.name,
         absl::StrCat(change, ": pgmerge cannot check the values; PostgreSQL "
                              "will on restore")});
  }
}

// CHECK constraints development adds: the simple ones are evaluated on
// production's rows; the rest are a restore risk, said so.
void FitNewChecks(Plan& p) {
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  for (const parser::CheckConstraint& check : dev.checks) {
    bool prod_has = false;
    for (const parser::CheckConstraint& pc : prod.checks) {
      bool same = pc.name == check.name && pc.simple == check.simple &&
                  pc.comparisons.size() == check.comparisons.size();
      for (size_t k = 0; same && k < pc.comparisons.size(); ++k) {
        same = pc.comparisons[k].column == check.comparisons[k].column &&
               pc.comparisons[k].op == check.comparisons[k].op &&
               pc.comparisons[k].value == check.comparisons[k].value;
      }
      prod_has |= same;
    }
    if (prod_has) continue;
    bool checked = check.simple;
    for (const auto& cmp : check.comparisons) {
      int col = IndexOf(p.dev_cols, cmp.column);
      if (col < 0 || p.prod_name[col].empty()) {
        checked = false;
        continue;
      }
      TypeCheck tc{TypeCheck::kCompare, col, 0, 0, nullptr,
                   absl::StrCat("CHECK ", check.name)};
      tc.compare = &cmp;
      p.checks.push_back(tc);
    }
    p.report.schema_changes.push_back(
        {checked ? "new_check" : "restore_risk", "",
         checked ? absl::StrCat("CHECK ", check.name, ": every production value checked")
                 : absl::StrCat("CHECK ", check.name,
                                ": pgmerge cannot evaluate it; PostgreSQL will on restore")});
  }
}

// Columns dropped next to columns added of the same type look renamed.
void ListLikelyRenames(Plan& p) {
  const Table& prod = *p.prod;
  const std::string& table = p.report.table;
  for (int j : p.lost_cols) {
    const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_cols[j])];
    for (size_t i = 0; i < p.dev_cols.size(); ++i) {
      if (!p.prod_name[i].empty()) continue;
      const parser::Column& dc = p.dev_column(i);
      if (dc.type == pc.type) {
        p.report.schema_changes.push_back(
            {"likely_rename", dc.name,
             absl::StrCat("production's ", pc.name, " (", pc.type,
                          ") was dropped as this was added: --rename ", table, ".",
                          pc.name, "=", dc.name, " carries its values across")});
      }
    }
  }
}

}  // namespace

// Maps dev's columns to prod's (renames included), and finds every way
// prod's rows will not fit dev's columns that the catalogs can tell.
void FitColumns(const MergeInputs& m, Plan& p, std::vector<std::string>& problems) {
  MapColumns(m, p, problems);
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    if (p.prod_name[i].empty()) {
      FitAddedColumn(m, p, i, problems);
    } else {
      FitSharedColumn(m, p, i);
    }
  }
  FitNewChecks(p);
  ListLikelyRenames(p);
  for (int c : p.shared) {
    if (std::find(p.converted.begin(), p.converted.end(), c) == p.converted.end()) {
      p.manifest_cols.push_back(c);
    }
  }
}

}  // namespace pgmerge::merger::internal
