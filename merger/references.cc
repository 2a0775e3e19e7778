// References no foreign key declares (FindImpliedReferences, plan.h).
//
// Many application schemas have none: Rails before 4.2 added no foreign
// keys, and many apps still lack them; Django's db_constraint=False; apps
// moved from MySQL's MyISAM. A development row's posts.user_id = 101 then
// names development's user 101. When that user is remapped to 205, the
// value left as it is names production's user 101: a silent re-point. So a
// column named for a table whose keys the merge remaps is followed as a
// foreign key is, and said so in the report; --reference declares one the
// name does not tell, --no-reference turns an inference off, and columns
// named like references that match no table are listed for the reviewer.
#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {
namespace {

// An identifier as names are compared: ASCII lower case, no underscores
// ("user_id", "userId" and "UserID" are all "userid").
std::string Folded(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != '_') out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The thing a column names when it is named like a reference ("user_id",
// "userId", "UserID" -> "user"), folded; "" when it is not: the name must
// end in "_id", or in "Id"/"ID" after a lower-case letter or digit.
std::string ReferencedThing(std::string_view column, bool many = false) {
  if (many) {  // "tag_ids", "tagIds": the "s" off, then as one.
    if (column.size() < 4 || (column.back() != 's' && column.back() != 'S')) return "";
    column.remove_suffix(1);
  }
  const size_t n = column.size();
  if (n < 3) return "";
  const std::string_view tail = column.substr(n - 2);
  bool named = false;
  if (column[n - 3] == '_' && (tail == "id" || tail == "Id" || tail == "ID")) {
    named = n > 3;
  } else if (tail == "Id" || tail == "ID") {
    const unsigned char before = column[n - 3];
    named = absl::ascii_islower(before) || absl::ascii_isdigit(before);
  }
  return named ? Folded(column.substr(0, n - 2)) : "";
}

// What a table's rows are called, folded: its name and its name made
// singular the common English ways ("categories" -> "category",
// "addresses" -> "address", "posts" -> "post").
std::vector<std::string> RowNames(std::string_view table) {
  const std::string t = Folded(table);
  std::vector<std::string> names = {t};
  auto add = [&](std::string s) {
    if (!s.empty() && std::find(names.begin(), names.end(), s) == names.end()) {
      names.push_back(std::move(s));
    }
  };
  if (t.size() > 3 && t.compare(t.size() - 3, 3, "ies") == 0) add(t.substr(0, t.size() - 3) + "y");
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "es") == 0) add(t.substr(0, t.size() - 2));
  if (t.size() > 1 && t.back() == 's') add(t.substr(0, t.size() - 1));
  if (t == "people") add("person");
  if (t == "children") add("child");
  return names;
}

// Whether a table's rows are called `thing`: by its name, or by the part of
// it after an underscore (blog_posts: "post"), `loose` for the latter.
bool CalledBy(const Table& t, const std::string& thing, bool loose) {
  std::vector<std::string> names;
  if (!loose) {
    names = RowNames(t.name.name);
  } else {
    for (size_t u = t.name.name.find('_'); u != std::string::npos;
         u = t.name.name.find('_', u + 1)) {
      for (std::string& n : RowNames(std::string_view(t.name.name).substr(u + 1))) {
        names.push_back(std::move(n));
      }
    }
  }
  return std::find(names.begin(), names.end(), thing) != names.end();
}

// A column that may hold another row's key without saying so: an integer
// one, not drawn from a sequence, not in a foreign key development declares.
bool MayReference(const MergeInputs& m, const Plan& p, int c) {
  const parser::Column& col = p.dev_column(c);
  if (!IsIntegerType(col.type_name) || !col.sequence.empty() ||
      col.identity != parser::Identity::kNone) {
    return false;
  }
  for (const parser::ForeignKey* fk : m.dev_catalog.ForeignKeysOf(*p.dev)) {
    if (IndexOf(fk->columns, col.name) >= 0) return false;
  }
  return true;
}

// The plan that `spec` ("schema.table" or "table") names, or -1.
int PlanNamed(const Plans& plans, std::string_view spec) {
  for (size_t i = 0; i < plans.tables.size(); ++i) {
    if (Names(spec, plans.tables[i].dev->name)) return static_cast<int>(i);
  }
  return -1;
}

// The tables whose keys the merge remaps and whose rows are called `thing`
// (CalledBy), or whose key, folded, is `key` ("" for none; never "id"), in
// `schema` unless it is null; but `except`. Partitions only with
// `partitions`: a name means a table, not one of its parts.
std::vector<int> RemappedTablesCalled(const Plans& plans, const std::string& thing, bool loose,
                                      const std::string& key, const std::string* schema,
                                      int except, bool partitions) {
  std::vector<int> found;
  for (size_t i = 0; i < plans.tables.size(); ++i) {
    const Plan& q = plans.tables[i];
    if (static_cast<int>(i) == except || q.mode != Mode::kRemap ||
        (!partitions && q.dev->partition_of) ||
        (schema != nullptr && q.dev->name.schema != *schema)) {
      continue;
    }
    const bool by_key = !key.empty() && key != "id" && Folded(*ReferencedKey(q)) == key;
    if (by_key || CalledBy(*q.dev, thing, loose)) found.push_back(static_cast<int>(i));
  }
  return found;
}

// --reference TABLE.COLUMN=PARENT (or PARENT.KEY): the plan and column, its
// parent; false with a problem said.
bool ResolveDeclared(const MergeInputs& m, const Plans& plans, const MergeOptions::Reference& r,
                     int* child, int* column, int* parent, std::vector<std::string>& problems) {
  const std::string flag = absl::StrCat("--reference ", r.table, ".", r.column, "=", r.parent);
  *child = PlanNamed(plans, r.table);
  if (*child < 0) {
    problems.push_back(absl::StrCat(flag, ": development's schema has no table ", r.table));
    return false;
  }
  const Plan& p = plans.tables[*child];
  *column = IndexOf(p.dev_cols, r.column);
  if (*column < 0) {
    problems.push_back(absl::StrCat(flag, ": ", p.report.table, " has no column ", r.column));
    return false;
  }
  const std::string_view spec = r.parent;
  *parent = PlanNamed(plans, spec);
  std::string_view key;
  if (*parent < 0) {  // PARENT.KEY: the key named too.
    const size_t dot = spec.rfind('.');
    if (dot != std::string_view::npos) {
      *parent = PlanNamed(plans, spec.substr(0, dot));
      key = spec.substr(dot + 1);
    }
  }
  if (*parent < 0) {
    problems.push_back(absl::StrCat(flag, ": development's schema has no table ", r.parent));
    return false;
  }
  const Plan& q = plans.tables[*parent];
  const std::string* key_col = ReferencedKey(q);
  if (key_col == nullptr || (!key.empty() && key != *key_col)) {
    problems.push_back(absl::StrCat(
        flag, ": a reference names a row by its table's key, and ", q.report.table,
        key_col == nullptr ? " has no one-column key"
                           : absl::StrCat("'s is ", *key_col)));
    return false;
  }
  const parser::Column& col = p.dev_column(*column);
  for (const parser::ForeignKey* fk : m.dev_catalog.ForeignKeysOf(*p.dev)) {
    if (IndexOf(fk->columns, col.name) >= 0) {
      problems.push_back(absl::StrCat(flag, ": development's foreign key ", fk->name,
                                      " already declares what ", r.column, " references"));
      return false;
    }
  }
  if (q.mode == Mode::kRemap && !IsIntegerType(col.type_name)) {
    problems.push_back(absl::StrCat(flag, ": ", r.column, " is ", col.type, ", and ",
                                    q.report.table, "'s key is an integer"));
    return false;
  }
  return true;
}

// The parent an undeclared column's name points at, or -1 with why in
// `why`: the table in its own schema first, then in any; a table's whole
// name before the last part of it.
int ParentByName(const Plans& plans, int child, int c, const std::string& thing,
                 std::string* why) {
  const Plan& p = plans.tables[child];
  const std::string& schema = p.dev->name.schema;
  if (thing == "parent" && p.mode == Mode::kRemap) return child;  // A tree.
  for (bool loose : {false, true}) {
    for (bool same_schema : {true, false}) {
      // A partitioned table's keys are remapped in its partitions, which
      // references to it follow (TakePartitionsDecisions).
      const std::vector<int> found =
          RemappedTablesCalled(plans, thing, loose, loose ? "" : Folded(p.dev_cols[c]),
                               same_schema ? &schema : nullptr, child, /*partitions=*/false);
      if (found.size() == 1) return found[0];
      if (found.size() > 1) {
        std::vector<std::string> names;
        for (int i : found) names.push_back(plans.tables[i].report.table);
        *why = absl::StrCat("its name fits more than one table: ", absl::StrJoin(names, ", "));
        return -1;
      }
    }
  }
  *why = "no table whose keys the merge remaps is named for it";
  // A role's name before the table's (manager_staff_id, billing_address_id):
  // told, not taken (external_user_id is as likely another system's).
  const std::string& name = p.dev_cols[c];
  std::vector<int> hinted;
  for (size_t u = name.find('_'); u != std::string::npos && u + 4 < name.size();
       u = name.find('_', u + 1)) {
    const std::string tail = ReferencedThing(name.substr(u + 1));
    if (tail.empty()) continue;
    for (int i : RemappedTablesCalled(plans, tail, false, "", nullptr, -1, false)) {
      if (std::find(hinted.begin(), hinted.end(), i) == hinted.end()) hinted.push_back(i);
    }
  }
  if (hinted.size() == 1) {
    absl::StrAppend(why, "; the end of its name names ", plans.tables[hinted[0]].report.table);
  }
  return -1;
}

// Rails' type column beside a polymorphic key column (X_type for X_id,
// XType for XId), a text one; -1 when there is none.
int TypeColumn(const Plan& p, int c) {
  const std::string& name = p.dev_cols[c];
  const std::string stem = name.substr(0, name.size() - 2);
  for (const char* type : {"type", "Type"}) {
    const int t = IndexOf(p.dev_cols, absl::StrCat(stem, type));
    if (t < 0) continue;
    const std::string& tn = p.dev_column(t).type_name;
    if (tn == "text" || tn == "varchar" || tn == "bpchar") return t;
  }
  return -1;
}

}  // namespace

void FindImpliedReferences(const MergeInputs& m, Plans& plans,
                           std::vector<std::string>& problems) {
  // (plan, dev col) pairs the options settle.
  absl::flat_hash_set<std::pair<int, int>> settled;
  for (const MergeOptions::Reference& r : m.options.references) {
    int child, column, parent;
    if (!ResolveDeclared(m, plans, r, &child, &column, &parent, problems)) continue;
    if (!settled.insert({child, column}).second) {
      problems.push_back(absl::StrCat("--reference ", r.table, ".", r.column,
                                      ": named twice"));
      continue;
    }
    Plan& p = plans.tables[child];
    if (p.dev_column(column).is_array) {
      p.arrays.push_back({column, parent, ReferenceReport::kDeclared});
    } else {
      p.implied.push_back({column, parent, ReferenceReport::kDeclared});
    }
  }
  for (const MergeOptions::NotReference& r : m.options.not_references) {
    const int child = PlanNamed(plans, r.table);
    const int column = child < 0 ? -1 : IndexOf(plans.tables[child].dev_cols, r.column);
    if (column < 0 || !MayReference(m, plans.tables[child], column)) {
      problems.push_back(absl::StrCat(
          "--no-reference ", r.table, ".", r.column, ": ",
          column < 0 ? "development's schema has no such column"
                     : "not a column pgmerge would take for a reference (an integer one "
                       "no foreign key declares)"));
      continue;
    }
    if (!settled.insert({child, column}).second) {
      problems.push_back(absl::StrCat("--no-reference ", r.table, ".", r.column,
                                      ": named twice, or with --reference too"));
    }
  }
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    Plan& p = plans.tables[t];
    const int child = static_cast<int>(t);
    for (size_t c = 0; c < p.dev_cols.size(); ++c) {
      const int col = static_cast<int>(c);
      if (settled.contains({child, col}) || !MayReference(m, p, col)) continue;
      const bool many = p.dev_column(c).is_array;
      const std::string thing = ReferencedThing(p.dev_cols[c], many);
      if (thing.empty()) continue;
      if (many) {  // tag_ids of tags: each element a key.
        std::string why;
        const int parent = ParentByName(plans, child, col, thing, &why);
        if (parent >= 0) {
          p.arrays.push_back({col, parent, ReferenceReport::kInferred});
        } else {
          p.report.unlinked_columns.push_back({p.dev_cols[c], why});
        }
        continue;
      }
      // Rails' polymorphic pair: X_type says which table X_id's key is of.
      if (const int type = TypeColumn(p, col); type >= 0) {
        if (std::find(p.shown_key_cols.begin(), p.shown_key_cols.end(), col) !=
            p.shown_key_cols.end()) {
          p.report.unlinked_columns.push_back(
              {p.dev_cols[c], absl::StrCat("polymorphic (", p.dev_cols[type],
                                           " says which table its key is of), and in the "
                                           "table's key")});
        } else {
          p.polymorphic.push_back({col, type});
        }
        continue;
      }
      std::string why;
      const int parent = ParentByName(plans, child, col, thing, &why);
      if (parent >= 0) {
        p.implied.push_back({col, parent, ReferenceReport::kInferred});
      } else if (p.shown_key_cols != std::vector<int>{col} && !CalledBy(*p.dev, thing, false)) {
        // A table's own key, or a column named for its own table
        // (album.album_id), names its own rows.
        p.report.unlinked_columns.push_back({p.dev_cols[c], why});
      }
    }
  }
}

int PolymorphicParent(const Plans& plans, const Plan& p, std::string_view type) {
  std::string name(type);
  for (size_t at; (at = name.find("::")) != std::string::npos;) name.erase(at, 2);
  const std::string thing = Folded(name);
  if (thing.empty()) return -1;
  for (bool same_schema : {true, false}) {
    const std::vector<int> found =
        RemappedTablesCalled(plans, thing, false, "", same_schema ? &p.dev->name.schema : nullptr,
                             -1, /*partitions=*/true);
    if (found.size() == 1) return found[0];
    if (found.size() > 1) return -1;
  }
  return -1;
}

}  // namespace pgmerge::merger::internal
