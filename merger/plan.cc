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
  const parser::Column& dc = dev.columns[dev.ColumnIndex(p.dev_cols[i])];
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

// A column both have: the checks dev's type and NOT NULL impose on
// production's values, or a restore risk when pgmerge cannot check them.
void FitSharedColumn(const MergeInputs& m, Plan& p, size_t i) {
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  const parser::Column& dc = dev.columns[dev.ColumnIndex(p.dev_cols[i])];
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
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  const std::string& table = p.report.table;
  for (int j : p.lost_cols) {
    const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_cols[j])];
    for (size_t i = 0; i < p.dev_cols.size(); ++i) {
      if (!p.prod_name[i].empty()) continue;
      const parser::Column& dc = dev.columns[dev.ColumnIndex(p.dev_cols[i])];
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
}

// A dev table production lacks: production's table --rename-table names.
void MatchRenamedTable(const MergeInputs& m, const Table& t, Plan& p,
                       std::vector<std::string>& problems) {
  for (const MergeOptions::TableRename& r : m.options.table_renames) {
    if (!Names(r.to, t.name)) continue;
    std::string_view from = r.from;
    TableName old;
    if (!parser::ConsumeTableName(&from, &old) || !from.empty() ||
        (p.prod = m.prod_catalog.FindTable(old)) == nullptr) {
      problems.push_back(absl::StrCat("--rename-table ", r.from, "=", r.to,
                                       ": production has no table ", r.from));
    } else {
      p.report.schema_changes.push_back(
          {"renamed_table", "", absl::StrCat(old.Display(), " -> ",
                                             t.name.Display())});
    }
  }
}

// The merge key: its columns and how rows are matched (Mode).
absl::Status SetMergeKey(const MergeInputs& m, const Table& t, Plan& p) {
  const parser::UniqueKey* key = t.MergeKey();
  if (key == nullptr || key->columns.empty()) return absl::OkStatus();
  // A generated key column is not in the data; the columns it is
  // computed from stand in for it (equal inputs, equal value).
  std::vector<std::string> key_columns;
  for (const std::string& c : key->columns) {
    const int ci = t.ColumnIndex(c);
    if (ci < 0) {  // Not what pg_dump writes: a key over a column the table lacks.
      return absl::InvalidArgumentError(absl::StrCat(
          m.dev.name, ":", t.line, ": key ", key->name, " of table ", p.report.table,
          " names column ", c, ", which the table does not have"));
    }
    const parser::Column& col = t.columns[ci];
    for (const std::string& k :
         col.generated ? col.generated_from : std::vector<std::string>{c}) {
      if (IndexOf(key_columns, k) < 0) key_columns.push_back(k);
    }
  }
  for (const std::string& c : key_columns) {
    int i = IndexOf(p.dev_cols, c);
    if (i < 0) {
      return absl::InternalError(absl::StrCat(
          m.dev.name, ":", t.line, ": key column ", c, " of ",
          t.name.Display(), " is not in the data"));
    }
    if (p.prod != nullptr && p.prod_name[i].empty() &&
        p.prod->row_count > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          m.dev.name, ":", t.line, ": development added key column ", c,
          " to ", t.name.Display(),
          ", which production's rows have no values for"));
    }
    p.key_cols.push_back(i);
  }
  p.shown_key_cols = p.key_cols;
  parser::KeyKind kind = t.key_kind();
  p.mode = (kind == parser::KeyKind::kSerial ||
            kind == parser::KeyKind::kIdentity)
               ? Mode::kRemap
               : Mode::kFixed;
  if (kind == parser::KeyKind::kComposite && !key->has_generated) {
    // A composite key with one sequence-drawn integer column, as
    // payment(payment_date, payment_id): that column alone tells rows
    // apart, and two rows sharing its value collide; it is remapped.
    std::vector<int> drawn;
    for (int c : p.key_cols) {
      const parser::Column& col = t.columns[t.ColumnIndex(p.dev_cols[c])];
      bool is_fk = false;
      for (const parser::ForeignKey& fk : t.foreign_keys) {
        is_fk |= IndexOf(fk.columns, col.name) >= 0;
      }
      if (!is_fk && IsIntegerType(col.type_name) &&
          (!col.sequence.empty() || col.identity != parser::Identity::kNone)) {
        drawn.push_back(c);
      }
    }
    if (drawn.size() == 1) {
      p.mode = Mode::kRemap;
      p.key_cols = drawn;
    }
  }
  if (p.mode == Mode::kRemap) {
    const parser::Sequence* seq =
        SequenceOf(m, t.columns[t.ColumnIndex(p.dev_cols[p.key_cols[0]])]);
    p.key_down = seq != nullptr && seq->increment < 0;
  }
  return absl::OkStatus();
}

// Production tables development dropped: their rows would be lost.
void ListDroppedTables(const MergeInputs& m, std::vector<std::string>& problems,
                       Report& report) {
  for (const Table& t : m.prod_catalog.tables()) {
    if (m.dev_catalog.FindTable(t.name) != nullptr) continue;
    bool renamed = false;
    for (const MergeOptions::TableRename& r : m.options.table_renames) {
      renamed |= Names(r.from, t.name);
    }
    if (renamed) continue;
    bool allowed = std::find(m.options.allow_drop.begin(),
                             m.options.allow_drop.end(),
                             t.name.Display()) != m.options.allow_drop.end() ||
                   std::find(m.options.allow_drop.begin(),
                             m.options.allow_drop.end(),
                             t.name.name) != m.options.allow_drop.end();
    if (t.row_count > 0 && !allowed) {
      problems.push_back(absl::StrCat(
          m.prod.name, ":", t.line, ": table ", t.name.Display(), " has ",
          t.row_count,
          " rows in production but development's schema drops it; hint: "
          "--rename-table ", t.name.Display(),
          "=NEW if development renamed it, or --allow-drop ", t.name.Display(),
          " to lose them"));
      continue;
    }
    TableReport r;
    r.table = t.name.Display();
    r.only_in_prod = true;
    r.prod_rows = t.row_count;
    r.key_kind = std::string(parser::KeyKindName(t.key_kind()));
    report.tables.push_back(std::move(r));
  }
}

// Tracked foreign keys: the dev columns whose values follow a parent's
// remapped key.
void TrackForeignKeys(Plans& plans) {
  // Values follow a remapped key: to the parent's key
  // itself, or through a parent column that is in turn such a foreign key
  // (post_tags(post_id) referenced by another table).
  std::function<int(int, const std::string&, int)> source =
      [&](int parent, const std::string& col, int depth) -> int {
    if (depth > 8) return -1;
    const Plan& pp = plans.tables[parent];
    if (pp.mode == Mode::kRemap &&
        pp.dev_cols[pp.key_cols[0]] == col) {
      return parent;
    }
    for (const parser::ForeignKey& fk : pp.dev->foreign_keys) {
      int k = IndexOf(fk.columns, col);
      if (k < 0) continue;
      auto it = plans.plan_of.find(fk.ref_table.Display());
      if (it == plans.plan_of.end()) continue;
      const Plan& gp = plans.tables[it->second];
      std::vector<std::string> ref = fk.ref_columns;
      if (ref.empty() && gp.dev->primary_key) ref = gp.dev->primary_key->columns;
      if (k >= static_cast<int>(ref.size())) continue;
      int s = source(it->second, ref[k], depth + 1);
      if (s >= 0) return s;
    }
    return -1;
  };
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    Plan& p = plans.tables[t];
    p.fk_slot.assign(p.dev_cols.size(), -1);
    for (const parser::ForeignKey& fk : p.dev->foreign_keys) {
      auto it = plans.plan_of.find(fk.ref_table.Display());
      if (it == plans.plan_of.end()) continue;
      const Plan& parent = plans.tables[it->second];
      std::vector<std::string> ref = fk.ref_columns;
      if (ref.empty() && parent.dev->primary_key) {
        ref = parent.dev->primary_key->columns;
      }
      for (size_t k = 0; k < fk.columns.size() && k < ref.size(); ++k) {
        int col = IndexOf(p.dev_cols, fk.columns[k]);
        if (col < 0 || p.fk_slot[col] >= 0) continue;
        int src = source(it->second, ref[k], 0);
        if (src < 0) continue;
        p.fk_slot[col] = static_cast<int>(p.fks.size());
        p.fks.push_back({col, src});
      }
    }
  }
}

// Natural unique keys: not the merge key, not drawn from a sequence.
void FindNaturalUniques(Plan& p) {
  const parser::UniqueKey* merge_key = p.dev->MergeKey();
  for (const parser::UniqueKey& u : p.dev->unique_keys) {
    if (&u == merge_key || (u.partial && !u.simple_predicate) ||
        u.columns.empty()) {
      continue;
    }
    NaturalUnique nu;
    nu.name = u.name;
    bool ok = true;
    for (const parser::RowCondition& c : u.predicate) {
      int i = IndexOf(p.dev_cols, c.column);
      if (i < 0 || (p.prod != nullptr && p.prod_name[i].empty())) ok = false;
      nu.where.push_back({c.kind, i, c.value});
    }
    for (const std::string& c : u.columns) {
      int i = IndexOf(p.dev_cols, c);
      const parser::Column* col =
          i < 0 ? nullptr : &p.dev->columns[p.dev->ColumnIndex(c)];
      if (i < 0 || (p.prod != nullptr && p.prod_name[i].empty()) ||
          !col->sequence.empty() || col->identity != parser::Identity::kNone) {
        ok = false;
        break;
      }
      nu.columns.push_back(i);
    }
    if (ok) p.uniques.push_back(std::move(nu));
  }
}

// Foreign keys development adds, to a parent's single-column key:
// production's values must find a parent.
void FindNewForeignKeys(Plans& plans) {
  for (Plan& p : plans.tables) {
    if (p.prod == nullptr) continue;
    for (const parser::ForeignKey& fk : p.dev->foreign_keys) {
      if (fk.columns.size() != 1) continue;
      int col = IndexOf(p.dev_cols, fk.columns[0]);
      auto it = plans.plan_of.find(fk.ref_table.Display());
      if (col < 0 || p.prod_name[col].empty() || it == plans.plan_of.end()) continue;
      const Plan& parent = plans.tables[it->second];
      if (parent.prod == nullptr || parent.mode == Mode::kMultiset ||
          parent.shown_key_cols.size() != 1 ||
          parent.fk_slot[parent.shown_key_cols[0]] >= 0) {
        continue;
      }
      const std::string& ref_col = parent.dev_cols[parent.shown_key_cols[0]];
      if (!fk.ref_columns.empty() && fk.ref_columns[0] != ref_col) continue;
      bool prod_has = false;
      for (const parser::ForeignKey& pfk : p.prod->foreign_keys) {
        prod_has |= pfk.columns.size() == 1 && pfk.columns[0] == p.prod_name[col] &&
                    pfk.ref_table == parent.prod->name;
      }
      if (!prod_has) {
        p.new_fks.push_back({col, it->second, fk.name, {}});
      }
    }
  }
}

}  // namespace

// Whether a kFixed key can be stored as its integer value (Plan::int_key):
// one column, not a tracked foreign key (its FK part is appended in decide),
// of an integer type in every dump, so every dump's values parse.
bool IntegerFixedKey(const Plan& p) {
  if (p.mode != Mode::kFixed || p.key_cols.size() != 1 || p.fk_slot[p.key_cols[0]] >= 0) {
    return false;
  }
  const int key = p.key_cols[0];
  auto integer = [](const Table* t, const std::string& col) {
    const int i = col.empty() ? -1 : t->ColumnIndex(col);
    return i >= 0 && IsIntegerType(t->columns[i].type_name);
  };
  if (!integer(p.dev, p.dev_cols[key])) return false;
  const std::string& old_name = p.prod_name.empty() ? p.dev_cols[key] : p.prod_name[key];
  for (const Table* t : {p.prod, p.base}) {
    if (t != nullptr && !integer(t, old_name)) return false;
  }
  return true;
}

absl::Status BuildPlans(const MergeInputs& m, Plans& plans,
                        std::vector<std::string>& problems, Report& report) {
  for (const Table& t : m.dev_catalog.tables()) {
    Plan p;
    p.dev = &t;
    p.prod = m.prod_catalog.FindTable(t.name);
    if (m.base != nullptr) p.base = m.base_catalog.FindTable(t.name);
    p.dev_cols = DataColumns(t);
    p.report.table = t.name.Display();
    p.report.key_kind = std::string(parser::KeyKindName(t.key_kind()));
    p.report.extension_config = t.extension_config;
    if (p.prod == nullptr) MatchRenamedTable(m, t, p, problems);
    if (p.prod != nullptr) {
      FitColumns(m, p, problems);
    } else {
      p.report.only_in_dev = true;
    }
    PGM_RETURN_IF_ERROR(SetMergeKey(m, t, p));
    for (size_t i = 0; i < p.dev_cols.size(); ++i) {
      const parser::Column& c = t.columns[t.ColumnIndex(p.dev_cols[i])];
      if (!c.sequence.empty() && IsIntegerType(c.type_name)) {
        p.sequence_cols.push_back(i);
        const parser::Sequence* seq = SequenceOf(m, c);
        const bool down = seq != nullptr && seq->increment < 0;
        p.sequence_down.push_back(down);
        p.sequence_max.push_back(Furthest(down));
      }
    }
    for (auto& side_max : p.side_sequence_max) side_max = p.sequence_max;
    plans.plan_of[t.name.Display()] = static_cast<int>(plans.tables.size());
    if (p.prod != nullptr) {
      plans.prod_plan_of[p.prod->name.Display()] = static_cast<int>(plans.tables.size());
      p.report.prod_table = p.prod->name.Display();
    }
    plans.tables.push_back(std::move(p));
  }
  ListDroppedTables(m, problems, report);
  TrackForeignKeys(plans);
  for (Plan& p : plans.tables) {
    FindNaturalUniques(p);
    p.prod_unique.resize(p.uniques.size());
    p.int_key = IntegerFixedKey(p);
    int fk_width = static_cast<int>(p.fks.size());
    int unique_width = static_cast<int>(p.uniques.size());
    p.prod_index = std::make_unique<SideIndex>(0, 0);
    p.dev_index = std::make_unique<SideIndex>(fk_width, unique_width);
    p.base_index = std::make_unique<SideIndex>(0, 0);
    p.dev_index->Reserve(p.dev->row_count, SignsRows(p, m.base != nullptr));
    if (p.prod != nullptr) {
      p.prod_index->Reserve(p.prod->row_count, SignsRows(p, m.base != nullptr));
      // Production's natural unique keys and keyless rows, sized up front
      // too: growing a hash map rehashes it and faults in fresh pages.
      for (size_t u = 0; u < p.uniques.size(); ++u) {
        if (p.uniques[u].where.empty()) p.prod_unique[u].reserve(p.prod->row_count);
      }
      if (p.mode == Mode::kMultiset) p.prod_multiset.Reserve(p.prod->row_count);
    }
    if (p.base != nullptr) p.base_index->Reserve(p.base->row_count);
  }
  FindNewForeignKeys(plans);
  if (!problems.empty()) {
    return absl::FailedPreconditionError(absl::StrJoin(problems, "\n"));
  }
  return absl::OkStatus();
}

Layout MakeLayout(const Plan& p, const parser::DataTarget& target, Side side) {
  const bool prod_side = side == Side::kProd;
  const Table* table = p.table(side);
  std::vector<std::string> cols =
      target.columns.empty() ? DataColumns(*table) : target.columns;
  Layout l;
  l.dev.assign(p.dev_cols.size(), -1);
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    // Prod and base blocks name dev's columns as prod does (renames).
    const std::string& name =
        side == Side::kDev || p.prod_name.empty() ? p.dev_cols[i] : p.prod_name[i];
    l.dev[i] = name.empty() ? -1 : IndexOf(cols, name);
  }
  l.shared_exact = cols.size() == p.shared.size();
  for (size_t j = 0; j < p.shared.size() && l.shared_exact; ++j) {
    l.shared_exact = l.dev[p.shared[j]] == static_cast<int>(j);
  }
  l.dev_exact = cols == p.dev_cols;
  if (prod_side) {
    l.prod.assign(p.prod_cols.size(), -1);
    for (size_t i = 0; i < p.prod_cols.size(); ++i) {
      l.prod[i] = IndexOf(cols, p.prod_cols[i]);
    }
    l.prod_exact = cols == p.prod_cols;
  }
  return l;
}

}  // namespace pgmerge::merger::internal
