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
      const parser::Column& col = p.dev_column(c);
      bool is_fk = false;
      for (const parser::ForeignKey* fk : m.dev_catalog.ForeignKeysOf(t)) {
        is_fk |= IndexOf(fk->columns, col.name) >= 0;
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
        SequenceOf(m, p.dev_column(p.key_cols[0]));
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

// A reference of `p`'s: a foreign key development declares, or one of
// p.implied as a one-column foreign key to its parent's key.
struct Reference {
  parser::ForeignKey fk;
  std::string by;
  ReferenceReport::Kind kind;
};
std::vector<Reference> ReferencesOf(const MergeInputs& m, const Plans& plans, const Plan& p) {
  std::vector<Reference> refs;
  for (const parser::ForeignKey* fk : m.dev_catalog.ForeignKeysOf(*p.dev)) {
    refs.push_back({*fk, absl::StrCat("foreign key ", fk->name), ReferenceReport::kForeignKey});
  }
  for (const ImpliedReference& r : p.implied) {
    const Plan& parent = plans.tables[r.parent];
    parser::ForeignKey fk;
    fk.columns = {p.dev_cols[r.column]};
    fk.ref_table = parent.dev->name;
    fk.ref_columns = {*ReferencedKey(parent)};
    refs.push_back({std::move(fk),
                    r.by == ReferenceReport::kDeclared ? "--reference"
                                                       : "its name (no foreign key declares it)",
                    r.by});
  }
  return refs;
}

// Tracked foreign keys: the dev columns whose values follow a parent's
// remapped key; each one's entry in the table's report.references.
void TrackForeignKeys(const MergeInputs& m, Plans& plans) {
  std::vector<std::vector<Reference>> refs;
  for (const Plan& p : plans.tables) refs.push_back(ReferencesOf(m, plans, p));
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
    for (const Reference& r : refs[parent]) {
      const parser::ForeignKey& fk = r.fk;
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
    for (const Reference& r : refs[t]) {
      const parser::ForeignKey& fk = r.fk;
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
        p.report.references.push_back({fk.columns[k], parent.report.table, r.by, r.kind});
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
void FindNewForeignKeys(const MergeInputs& m, Plans& plans) {
  for (Plan& p : plans.tables) {
    if (p.prod == nullptr) continue;
    for (const parser::ForeignKey* fkp : m.dev_catalog.ForeignKeysOf(*p.dev)) {
      const parser::ForeignKey& fk = *fkp;
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
      for (const parser::ForeignKey* pfk : m.prod_catalog.ForeignKeysOf(*p.prod)) {
        prod_has |= pfk->columns.size() == 1 && pfk->columns[0] == p.prod_name[col] &&
                    pfk->ref_table == parent.prod->name;
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
      const parser::Column& c = p.dev_column(i);
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
  FindImpliedReferences(m, plans, problems);
  TrackForeignKeys(m, plans);
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
  FindNewForeignKeys(m, plans);
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
  // A converted column's text is not what the manifest and the
  // fingerprints take: no row is copied or hashed whole.
  l.shared_exact = cols.size() == p.shared.size() && p.converted.empty() && p.rescaled.empty();
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
