#include "tests/truth_checker.h"

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "parser/copy_text.h"
#include "parser/names.h"
#include "tests/truth_schema.h"

namespace pgmerge::testing {

namespace {

using Json = nlohmann::json;

struct Fk {
  std::vector<int> cols;
  std::string ref_table;
  std::vector<std::string> ref_cols;
  std::string name;
};

struct Table {
  std::string name;  // Display form, as pgmerge's report spells it.
  std::vector<std::string> columns;
  std::vector<bool> drawn, generated;
  std::vector<std::optional<std::string>> default_expr;
  std::vector<int> key;  // Primary key, else a NOT NULL unique drawn column.
  std::vector<Fk> fks;
  std::vector<std::vector<int>> uniques;  // Unique constraints and indexes.
  Rows rows;
  int Col(const std::string& c) const {
    auto it = std::find(columns.begin(), columns.end(), c);
    return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
  }
  // A key pgmerge may remap: one with a column drawn from a sequence (alone,
  // or in a composite as pagila's payment partitions' (payment_date, payment_id)).
  bool RemappableKey() const {
    for (int c : key) {
      if (drawn[c]) return true;
    }
    return false;
  }
  bool DrawnKeyColumn(int c) const {
    return drawn[c] && std::find(key.begin(), key.end(), c) != key.end();
  }
  bool InFk(int c) const {
    for (const Fk& f : fks) {
      if (std::find(f.cols.begin(), f.cols.end(), c) != f.cols.end()) return true;
    }
    return false;
  }
};

using Snapshot = std::map<std::string, Table>;

std::string Text(const Cell& c) {
  if (!c) return "\\N";
  std::string out;
  parser::AppendCopyEscaped(*c, &out);
  return out;
}

std::string Join(const std::vector<Cell>& row, const std::vector<int>& cols) {
  std::vector<std::string> parts;
  for (int c : cols) parts.push_back(c < 0 ? "?" : Text(row[c]));
  return absl::StrJoin(parts, ",");
}

std::string Clip(std::string s, size_t n = 160) {
  if (s.size() > n) s = s.substr(0, n) + "...";
  return s;
}

absl::StatusOr<Snapshot> Load(TestPostgres* server, const std::string& db) {
  Snapshot snap;
  Session session(server, db);
  Session* pg = &session;
  absl::StatusOr<Rows> tables = pg->Query(R"(
    SELECT c.oid, n.nspname, c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 2, 3)");
  if (!tables.ok()) return tables.status();
  for (const auto& t : *tables) {
    Table td;
    td.name = parser::TableName{*t[1], *t[2]}.Display();
    const std::string& oid = *t[0];
    absl::StatusOr<Rows> cols = pg->Query(absl::StrCat(R"(
      SELECT a.attname, (a.attidentity <> '' OR
             coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%'),
             a.attgenerated <> '', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END
      FROM pg_attribute a LEFT JOIN pg_attrdef d
        ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = )", oid, R"( AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum)"));
    if (!cols.ok()) return cols.status();
    std::vector<std::string> quoted;
    for (const auto& c : *cols) {
      td.columns.push_back(*c[0]);
      td.drawn.push_back(*c[1] == "t");
      td.generated.push_back(*c[2] == "t");
      td.default_expr.push_back(c[3]);
      quoted.push_back(parser::QuoteIdentifierAlways(*c[0]) + "::text");
    }
    absl::StatusOr<Rows> idx = pg->Query(absl::StrCat(R"(
      SELECT i.indisprimary, (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
             (SELECT bool_and(a.attnotnull)
               FROM unnest(i.indkey::int2[]) k(attnum)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
             0 <> ALL (i.indkey::int2[]) AND i.indpred IS NULL AND i.indexprs IS NULL
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indisunique AND i.indrelid = )", oid, " ORDER BY NOT i.indisprimary, ic.relname"));
    if (!idx.ok()) return idx.status();
    for (const auto& r : *idx) {
      if (*r[3] != "t" || !r[1]) continue;
      std::vector<int> cs;
      for (absl::string_view c : absl::StrSplit(*r[1], ',')) cs.push_back(td.Col(std::string(c)));
      if (*r[0] == "t") td.key = cs;
      td.uniques.push_back(cs);
      if (td.key.empty() && *r[0] != "t" && cs.size() == 1 && r[2] && *r[2] == "t" &&
          td.drawn[cs[0]]) {
        td.key = cs;  // pgmerge keys `id serial UNIQUE` tables on it.
      }
    }
    absl::StatusOr<Rows> fks = pg->Query(absl::StrCat(R"(
      SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum),
             fn.nspname, fc.relname, fc.relkind,
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.confkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum),
             co.conname
      FROM pg_constraint co JOIN pg_class fc ON fc.oid = co.confrelid
      JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE co.contype = 'f' AND co.conrelid = )", oid, " ORDER BY co.conname"));
    if (!fks.ok()) return fks.status();
    std::set<std::string> seen;
    for (const auto& f : *fks) {
      if (*f[3] != "r") continue;  // A partitioned parent: its rows live in partitions.
      Fk fk;
      for (absl::string_view c : absl::StrSplit(*f[0], ',')) fk.cols.push_back(td.Col(std::string(c)));
      fk.ref_table = parser::TableName{*f[1], *f[2]}.Display();
      for (absl::string_view c : absl::StrSplit(*f[4], ',')) fk.ref_cols.emplace_back(c);
      fk.name = *f[5];
      std::string id = absl::StrCat(*f[0], "->", fk.ref_table, *f[4]);
      if (seen.insert(id).second) td.fks.push_back(std::move(fk));
    }
    absl::StatusOr<Rows> rows = pg->Query(
        absl::StrCat("SELECT ", quoted.empty() ? "1" : absl::StrJoin(quoted, ", "), " FROM ONLY ",
                     parser::QuoteIdentifierAlways(*t[1]), ".",
                     parser::QuoteIdentifierAlways(*t[2])));
    if (!rows.ok()) return rows.status();
    td.rows = std::move(*rows);
    snap[td.name] = std::move(td);
  }
  return snap;
}

// The base's or production's tables and columns under development's names
// (--rename-table, --rename), references included.
void UnderDevNames(const TruthOptions& opt, Snapshot* snap) {
  for (const auto& [from, to] : opt.renamed_tables) {
    auto it = snap->find(from);
    if (it == snap->end() || snap->count(to)) continue;
    Table t = std::move(it->second);
    snap->erase(it);
    t.name = to;
    (*snap)[to] = std::move(t);
  }
  for (auto& [name, t] : *snap) {
    for (Fk& fk : t.fks) {
      auto r = opt.renamed_tables.find(fk.ref_table);
      if (r != opt.renamed_tables.end()) fk.ref_table = r->second;
    }
  }
  for (const auto& [from, to] : opt.renamed_columns) {
    size_t dot = from.rfind('.');
    std::string table = from.substr(0, dot), column = from.substr(dot + 1);
    auto it = snap->find(table);
    if (it == snap->end() || it->second.Col(to) >= 0) continue;
    int c = it->second.Col(column);
    if (c >= 0) it->second.columns[c] = to;
    for (auto& [name, t] : *snap) {
      for (Fk& fk : t.fks) {
        if (fk.ref_table != table) continue;
        for (std::string& rc : fk.ref_cols) {
          if (rc == column) rc = to;
        }
      }
    }
  }
}

const Table* FindTable(const Snapshot& s, const std::string& name) {
  auto it = s.find(name);
  return it == s.end() ? nullptr : &it->second;
}

// Rows of a table by the values of some columns (first row wins).
class RowIndex {
 public:
  RowIndex() = default;
  RowIndex(const Table& t, const std::vector<int>& cols) {
    for (size_t i = 0; i < t.rows.size(); ++i) {
      bool null = false;
      for (int c : cols) null |= c < 0 || !t.rows[i][c].has_value();
      if (!null) index_.emplace(Join(t.rows[i], cols), static_cast<int>(i));
    }
  }
  int Find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? -1 : it->second;
  }

 private:
  std::unordered_map<std::string, int> index_;
};

enum Side { kProd = 0, kDev = 1, kShadow = 2 };
constexpr int kNull = -1, kDangling = -2, kUndecided = -3, kGone = -4;

struct Node {
  std::string table;     // Development's table.
  Side side;             // Whose row gives the content.
  int row = -1;          // In that side's table.
  bool expected = true;  // Else a shadow row.
  bool dev_new = false;  // z: a development row not in the base.
  bool anchored = false; // Must sit at `key` (a production row, remappable key).
  std::string key;       // Key as COPY text at its source ("#i" without one).
  std::string label;     // Table and own values, references aside.
  std::vector<int> edges;
  std::string origin;    // For messages.
};

class Truth {
 public:
  Truth(Snapshot base, Snapshot prod, Snapshot dev, Snapshot shadow, Json report,
        const TruthOptions& options, TestPostgres* pg, std::string prod_db, std::string dev_db)
      : base_(std::move(base)), prod_(std::move(prod)), dev_(std::move(dev)),
        shadow_(std::move(shadow)), report_(std::move(report)), opt_(options),
        pg_(pg), prod_db_(std::move(prod_db)), dev_db_(std::move(dev_db)) {}

  TruthFindings Run() {
    ReadReport();
    MakeProdNodes();
    MapDevRows();
    MakeShadowNodes();
    for (size_t n = 0; n < nodes_.size(); ++n) Fill(static_cast<int>(n));
    Refine();
    Compare();
    CheckReport();
    return std::move(f_);
  }

 private:
  const Table* SideTable(Side s, const std::string& name) const {
    return FindTable(s == kProd ? prod_ : s == kDev ? dev_ : shadow_, name);
  }
  const Snapshot& SideSnap(Side s) const {
    return s == kProd ? prod_ : s == kDev ? dev_ : shadow_;
  }

  std::string RowKey(const Table& t, int row) const {
    return t.key.empty() ? absl::StrCat("#", row) : Join(t.rows[row], t.key);
  }

  const RowIndex& IndexOf(Side s, const std::string& table, const std::vector<std::string>& cols) {
    std::string id = absl::StrCat(s, "|", table, "|", absl::StrJoin(cols, ","));
    auto it = indexes_.find(id);
    if (it == indexes_.end()) {
      const Table* t = SideTable(s, table);
      RowIndex idx;
      if (t != nullptr) {
        std::vector<int> cs;
        for (const std::string& c : cols) cs.push_back(t->Col(c));
        idx = RowIndex(*t, cs);
      }
      it = indexes_.emplace(id, std::move(idx)).first;
    }
    return it->second;
  }

  void ReadReport() {
    if (!report_.is_object() || !report_.contains("tables")) {
      f_.report.push_back("the report is not a pgmerge report");
      return;
    }
    for (const Json& t : report_["tables"]) {
      std::string name = t.value("table", "");
      if (!t.contains("ambiguous")) continue;
      for (const Json& a : t["ambiguous"]) {
        ambiguous_[name].insert(a.is_string() ? a.get<std::string>()
                                              : a.value("key", std::string()));
      }
    }
  }

  int AddNode(Node n) {
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }

  // Production's rows are all in the truth, each as the version the truth
  // says (development's in a three-way merge where only it edited).
  void MakeProdNodes() {
    for (const auto& [name, d] : dev_) {
      const Table* p = FindTable(prod_, name);
      if (p == nullptr) continue;
      const Table* b = FindTable(base_, name);
      auto& ids = prod_node_[name];
      ids.assign(p->rows.size(), kNull);
      for (size_t i = 0; i < p->rows.size(); ++i) {
        Node n;
        n.table = name;
        n.side = kProd;
        n.row = static_cast<int>(i);
        n.key = RowKey(*p, n.row);
        n.anchored = d.RemappableKey() && !p->key.empty();
        n.origin = absl::StrCat("production row ", n.key);
        if (b != nullptr && !p->key.empty() && !b->key.empty()) {
          int bi = BaseRow(name, n.key);
          int di = DevRowByKey(name, n.key);
          if (bi >= 0) {
            n.origin = absl::StrCat("base row ", n.key);
            bool prod_edited = Content(d, *b, *p, i) != Content(d, *b, *b, bi);
            bool dev_edited = di >= 0 && Content(d, *b, d, di) != Content(d, *b, *b, bi);
            if (opt_.three_way && dev_edited && (!prod_edited || opt_.prefer_dev)) {
              n.side = kDev;
              n.row = di;
            }
          }
        }
        ids[i] = AddNode(std::move(n));
        by_key_[name][nodes_[ids[i]].key] = ids[i];
      }
    }
  }

  // `t`'s row in the columns base table `b` shares with development's
  // `schema` (an edit of a column development dropped is not in the output).
  static std::string Content(const Table& schema, const Table& b, const Table& t, size_t ti) {
    std::vector<std::string> parts;
    for (size_t c = 0; c < b.columns.size(); ++c) {
      if (b.generated[c] || schema.Col(b.columns[c]) < 0) continue;
      int tc = t.Col(b.columns[c]);
      parts.push_back(tc < 0 ? "?" : Text(t.rows[ti][tc]));
    }
    return absl::StrJoin(parts, "\x1f");
  }

  // Development changed base row `key` (its row `di`) in the base's columns.
  bool DevEdited(const std::string& table, const std::string& key, int di) {
    int bi = BaseRow(table, key);
    const Table* b = FindTable(base_, table);
    const Table& d = dev_.at(table);
    return bi >= 0 && Content(d, *b, d, di) != Content(d, *b, *b, bi);
  }

  int BaseRow(const std::string& table, const std::string& key) {
    const Table* b = FindTable(base_, table);
    if (b == nullptr || b->key.empty()) return -1;
    std::vector<std::string> cols;
    for (int c : b->key) cols.push_back(b->columns[c]);
    return BaseIndex(table, cols).Find(key);
  }
  const RowIndex& BaseIndex(const std::string& table, const std::vector<std::string>& cols) {
    std::string id = absl::StrCat("b|", table, "|", absl::StrJoin(cols, ","));
    auto it = indexes_.find(id);
    if (it == indexes_.end()) {
      const Table* b = FindTable(base_, table);
      std::vector<int> cs;
      for (const std::string& c : cols) cs.push_back(b->Col(c));
      it = indexes_.emplace(id, RowIndex(*b, cs)).first;
    }
    return it->second;
  }
  int DevRowByKey(const std::string& table, const std::string& key) {
    const Table& d = dev_.at(table);
    if (d.key.empty()) return -1;
    std::vector<std::string> cols;
    for (int c : d.key) cols.push_back(d.columns[c]);
    return IndexOf(kDev, table, cols).Find(key);
  }

  // The node a side's row stands for, resolving a foreign key.
  int Target(Side s, const Table& t, int row, const Fk& fk, const Table& schema) {
    std::vector<std::string> vals;
    for (int c : fk.cols) {
      const std::string& col = schema.columns[c];
      Cell v = Value(s, t, row, schema, schema.Col(col));
      if (!v) return kNull;
      vals.push_back(Text(v));
    }
    int r = IndexOf(s, fk.ref_table, fk.ref_cols).Find(absl::StrJoin(vals, ","));
    if (r < 0) return kDangling;
    if (s == kProd) {
      auto it = prod_node_.find(fk.ref_table);
      return it == prod_node_.end() ? kDangling : it->second[r];
    }
    if (s == kDev) {
      int n = dev_map_[fk.ref_table][r];
      return n == kGone ? kDangling : n;
    }
    return shadow_node_[fk.ref_table][r];
  }

  // The value a row of side `s` gives column `c` of development's table
  // `schema`: its own, or for production's rows in a column development
  // added, the --fill value or the default.
  Cell Value(Side s, const Table& t, int row, const Table& schema, int c) {
    const std::string& col = schema.columns[c];
    int tc = t.Col(col);
    if (tc >= 0) return t.rows[row][tc];
    if (s != kProd) return std::nullopt;
    return AddedValue(schema, c);
  }

  Cell AddedValue(const Table& schema, int c) {
    std::string id = absl::StrCat(schema.name, ".", schema.columns[c]);
    auto it = added_.find(id);
    if (it != added_.end()) return it->second;
    Cell v;
    for (const auto& [k, val] : opt_.fill) {
      std::string full = k.find('.') == k.rfind('.') ? "public." + k : k;
      if (full == id) v = val;
    }
    if (!v && schema.default_expr[c]) {
      absl::StatusOr<Rows> r =
          pg_->Query(dev_db_, absl::StrCat("SELECT (", *schema.default_expr[c], ")::text"));
      if (r.ok() && !r->empty()) v = (*r)[0][0];
    }
    added_[id] = v;
    return v;
  }

  // Development's rows: base rows are production's nodes (or gone, when
  // production deleted them); new rows are new nodes unless they equal a
  // production row on a key pgmerge never remaps.
  void MapDevRows() {
    for (const auto& [name, d] : dev_) {
      auto& m = dev_map_[name];
      m.assign(d.rows.size(), kUndecided);
      const Table* b = FindTable(base_, name);
      if (d.key.empty()) {
        // A multiset: development's rows beyond the base's are new.
        std::map<std::string, int> in_base;
        if (b != nullptr) {
          for (size_t i = 0; i < b->rows.size(); ++i) in_base[Content(d, *b, *b, i)]++;
        }
        for (size_t i = 0; i < d.rows.size(); ++i) {
          std::string c = b == nullptr ? "" : Content(d, *b, d, i);
          if (b != nullptr && in_base[c] > 0) {
            in_base[c]--;
            m[i] = kGone;
          }  // Else new: unified on a unique key or a node of its own, below.
        }
        continue;
      }
      for (size_t i = 0; i < d.rows.size(); ++i) {
        std::string k = RowKey(d, static_cast<int>(i));
        if (BaseRow(name, k) < 0) continue;  // New: decided below.
        if (!opt_.three_way && ambiguous_[name].count(k)) {
          m[i] = NewDevNode(name, d, static_cast<int>(i));
          continue;
        }
        auto pk = by_key_[name].find(k);
        m[i] = pk == by_key_[name].end() ? kGone : pk->second;
        if (m[i] == kGone) dev_deleted_in_prod_[name].insert(k);
      }
    }
    // New rows, parents before children where unique keys hold references.
    for (int pass = 0; pass < 12; ++pass) {
      bool waiting = false;
      for (const auto& [name, d] : dev_) {
        auto& m = dev_map_[name];
        for (size_t i = 0; i < d.rows.size(); ++i) {
          if (m[i] != kUndecided) continue;
          int r = Unify(name, d, static_cast<int>(i), pass == 11);
          if (r == kUndecided) {
            waiting = true;
          } else {
            m[i] = r;
          }
        }
      }
      if (!waiting) break;
    }
  }

  int NewDevNode(const std::string& name, const Table& d, int i) {
    Node n;
    n.table = name;
    n.side = kDev;
    n.row = i;
    n.dev_new = true;
    n.key = RowKey(d, i);
    n.origin = absl::StrCat("development row ", n.key);
    return AddNode(std::move(n));
  }

  // A unique key's value with references replaced by the nodes they name.
  std::string UniqueValue(Side s, const Table& t, int row, const Table& schema,
                          const std::vector<int>& u, bool* undecided) {
    std::vector<std::string> parts;
    for (int c : u) {
      const Fk* via = nullptr;
      for (const Fk& f : schema.fks) {
        if (std::find(f.cols.begin(), f.cols.end(), c) != f.cols.end()) via = &f;
      }
      if (via != nullptr) {
        int n = Target(s, t, row, *via, schema);
        if (n == kUndecided) *undecided = true;
        if (n < 0) return "";
        parts.push_back(absl::StrCat("N", n));
      } else {
        Cell v = Value(s, t, row, schema, c);
        if (!v) return "";
        parts.push_back(Text(v));
      }
    }
    return absl::StrJoin(parts, "\x1f");
  }

  int Unify(const std::string& name, const Table& d, int i, bool force) {
    const Table* p = FindTable(prod_, name);
    if (p != nullptr) {
      for (size_t ui = 0; ui < d.uniques.size(); ++ui) {
        const std::vector<int>& u = d.uniques[ui];
        bool drawn = false;
        for (int c : u) drawn |= d.drawn[c];
        if (drawn) continue;  // Remapped, never unified.
        bool undecided = false;
        std::string v = UniqueValue(kDev, d, i, d, u, &undecided);
        if (undecided && !force) return kUndecided;
        if (v.empty()) continue;
        auto& idx = prod_unique_[absl::StrCat(name, "|", ui)];
        if (idx.empty()) {
          bool missing = false;
          for (int c : u) missing |= p->Col(d.columns[c]) < 0;
          if (missing) continue;
          for (size_t j = 0; j < p->rows.size(); ++j) {
            bool u2 = false;
            std::string pv = UniqueValue(kProd, *p, static_cast<int>(j), d, u, &u2);
            if (!pv.empty()) idx.emplace(pv, prod_node_[name][j]);
          }
          idx.emplace("\x1e", -1);  // Built.
        }
        auto it = idx.find(v);
        if (it != idx.end() && it->second >= 0) {
          unified_[name][RowKey(d, i)] = it->second;
          // Both created the row: --prefer dev keeps development's version
          // (at production's key).
          if (opt_.prefer_dev && opt_.three_way && BaseRow(name, nodes_[it->second].key) < 0) {
            nodes_[it->second].side = kDev;
            nodes_[it->second].row = i;
          }
          return it->second;
        }
      }
    }
    return NewDevNode(name, d, i);
  }

  void MakeShadowNodes() {
    for (const auto& [name, s] : shadow_) {
      auto& ids = shadow_node_[name];
      for (size_t i = 0; i < s.rows.size(); ++i) {
        Node n;
        n.table = name;
        n.side = kShadow;
        n.row = static_cast<int>(i);
        n.expected = false;
        n.key = RowKey(s, n.row);
        n.origin = absl::StrCat("shadow row ", n.key);
        ids.push_back(AddNode(std::move(n)));
        shadow_by_key_[name][nodes_.back().key] = ids.back();
      }
    }
  }

  // Labels and references, in development's schema.
  void Fill(int id) {
    Node& n = nodes_[id];
    auto dt = dev_.find(n.table);
    const Table& schema = dt != dev_.end() ? dt->second : shadow_.at(n.table);
    const Table& t = *SideTable(n.side, n.table);
    std::vector<std::string> parts = {n.table};
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      if (schema.generated[c] || schema.InFk(static_cast<int>(c))) continue;
      if (schema.DrawnKeyColumn(static_cast<int>(c))) continue;
      Cell v = Value(n.side, t, n.row, schema, static_cast<int>(c));
      if (n.side == kShadow && t.Col(schema.columns[c]) < 0) {
        parts.push_back(absl::StrCat(schema.columns[c], "=<no such column>"));
      } else {
        parts.push_back(absl::StrCat(schema.columns[c], "=", Text(v)));
      }
    }
    std::string label = absl::StrJoin(parts, " ");
    std::vector<int> edges;
    for (const Fk& fk : schema.fks) {
      int target = Target(n.side, t, n.row, fk, schema);
      if (target == kDangling && n.expected) {
        f_.setup.push_back(absl::StrCat(n.table, " ", n.origin, ": ", fk.name,
                                        " names no row the truth keeps"));
      }
      edges.push_back(target);
    }
    nodes_[id].label = std::move(label);
    nodes_[id].edges = std::move(edges);
  }

  // Colour refinement: a row's colour is its label and, recursively, the
  // colours of the rows its references name; it stops when no class splits.
  void Refine() {
    std::hash<std::string> h;
    color_.resize(nodes_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) color_[i] = h(nodes_[i].label);
    base_color_ = color_;
    size_t classes = 0;
    for (int round = 0; round < 200; ++round) {
      std::vector<uint64_t> next(nodes_.size());
      std::unordered_set<uint64_t> distinct;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        std::string s = absl::StrCat(color_[i]);
        for (int e : nodes_[i].edges) {
          absl::StrAppend(&s, ",", e >= 0 ? absl::StrCat(color_[e]) : absl::StrCat("x", e));
        }
        next[i] = h(s);
        distinct.insert(next[i]);
      }
      color_ = std::move(next);
      if (distinct.size() == classes) break;
      classes = distinct.size();
    }
  }

  std::string Describe(int id) const {
    const Node& n = nodes_[id];
    std::string out = absl::StrCat(n.table, " ", n.origin, " {", Clip(n.label.substr(n.table.size())), " }");
    const Table& schema = dev_.count(n.table) ? dev_.at(n.table) : shadow_.at(n.table);
    for (size_t e = 0; e < n.edges.size(); ++e) {
      int t = n.edges[e];
      if (t < 0) continue;
      absl::StrAppend(&out, " ", schema.fks[e].name, "->", nodes_[t].origin);
    }
    return out;
  }

  void Compare() {
    // Per colour: expected and shadow nodes.
    std::map<std::pair<std::string, uint64_t>, std::pair<std::vector<int>, std::vector<int>>> by;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto& e = by[{nodes_[i].table, color_[i]}];
      (nodes_[i].expected ? e.first : e.second).push_back(static_cast<int>(i));
    }
    std::vector<int> lost, extra;
    for (auto& [k, e] : by) {
      auto& [exp, got] = e;
      if (exp.size() > got.size()) {
        // Coincident rows written once: a development row equal in all
        // content and key to a production row of the same colour.
        size_t twins = 0;
        std::set<std::string> prod_keys;
        for (int n : exp) {
          if (!nodes_[n].dev_new) prod_keys.insert(nodes_[n].key);
        }
        for (int n : exp) {
          if (nodes_[n].dev_new && prod_keys.count(nodes_[n].key)) ++twins;
        }
        size_t deficit = exp.size() - got.size();
        if (deficit <= twins) {
          collapsed_ += deficit;
          continue;
        }
        // Report the development rows first: they are the ones pgmerge drops.
        std::stable_sort(exp.begin(), exp.end(), [&](int a, int b) {
          return nodes_[a].dev_new > nodes_[b].dev_new;
        });
        for (size_t j = 0; j < deficit - twins; ++j) lost.push_back(exp[j]);
      } else if (got.size() > exp.size()) {
        for (size_t j = exp.size(); j < got.size(); ++j) extra.push_back(got[j]);
      }
    }
    // Pair a lost row with an extra one of the same values: a reference
    // changed, or (at production's key) values changed.
    std::vector<bool> used(extra.size());
    for (int l : lost) {
      int pair = -1;
      for (size_t j = 0; j < extra.size() && pair < 0; ++j) {
        if (!used[j] && nodes_[extra[j]].table == nodes_[l].table &&
            base_color_[extra[j]] == base_color_[l]) {
          pair = static_cast<int>(j);
        }
      }
      if (pair >= 0) {
        used[pair] = true;
        int s = extra[pair];
        std::string what;
        const Table& schema = dev_.at(nodes_[l].table);
        for (size_t e = 0; e < nodes_[l].edges.size(); ++e) {
          int a = nodes_[l].edges[e], b = nodes_[s].edges[e];
          uint64_t ca = a >= 0 ? color_[a] : a, cb = b >= 0 ? color_[b] : b;
          if (ca != cb) {
            absl::StrAppend(&what, "; ", schema.fks[e].name, " should name ",
                            a >= 0 ? Describe(a) : "nothing", " but names ",
                            b >= 0 ? Describe(b) : "nothing");
            break;
          }
        }
        if (what.empty()) what = "; a row it names refers further to other content";
        f_.repointed.push_back(absl::StrCat(Describe(l), what));
        continue;
      }
      if (!nodes_[l].dev_new && !nodes_[l].key.empty() && nodes_[l].key[0] != '#') {
        auto it = shadow_by_key_[nodes_[l].table].find(nodes_[l].key);
        if (it != shadow_by_key_[nodes_[l].table].end()) {
          auto ej = std::find(extra.begin(), extra.end(), it->second);
          if (ej != extra.end() && !used[ej - extra.begin()]) {
            used[ej - extra.begin()] = true;
            f_.changed.push_back(absl::StrCat(Describe(l), " became ", Describe(it->second)));
            continue;
          }
        }
      }
      f_.lost.push_back(Describe(l));
    }
    for (size_t j = 0; j < extra.size(); ++j) {
      if (used[j]) continue;
      const Node& n = nodes_[extra[j]];
      std::string why;
      int bi = BaseRow(n.table, n.key);
      if (dev_deleted_in_prod_[n.table].count(n.key)) {
        why = " (a base row production deleted, brought back)";
      } else if (bi >= 0 && by_key_[n.table].count(n.key) == 0) {
        why = " (a base row production deleted)";
      }
      // A copy of a base row under another key: content as in the base.
      for (const auto& [k, id] : by_key_[n.table]) {
        if (!why.empty()) break;
        if (k != n.key && base_color_[id] == base_color_[extra[j]]) {
          why = absl::StrCat(" (a second copy of ", nodes_[id].origin, ")");
        }
      }
      f_.invented.push_back(Describe(extra[j]) + why);
    }
    // Production's rows keep their keys.
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (!n.expected || !n.anchored) continue;
      auto it = shadow_by_key_[n.table].find(n.key);
      if (it == shadow_by_key_[n.table].end()) {
        if (std::find(lost.begin(), lost.end(), static_cast<int>(i)) == lost.end()) {
          f_.changed.push_back(absl::StrCat(Describe(i), ": not at its key ", n.key));
        }
      } else if (color_[it->second] != color_[i] &&
                 std::find(lost.begin(), lost.end(), static_cast<int>(i)) == lost.end()) {
        f_.changed.push_back(absl::StrCat(Describe(i), ": its key holds ", Describe(it->second)));
      }
    }
  }

  // Production's values in columns development dropped: all counted, and
  // those other than the column's constant default.
  void CheckLostColumns(const std::string& name, const Json& t, const Table& d, const Table& p) {
    std::map<std::string, std::pair<int64_t, int64_t>> lost, reported;
    for (size_t c = 0; c < p.columns.size(); ++c) {
      if (p.generated[c] || d.Col(p.columns[c]) >= 0) continue;
      Cell def = ConstantDefault(p.default_expr[c]);
      int64_t non_default = 0;
      for (const auto& row : p.rows) non_default += row[c] != def;
      lost[p.columns[c]] = {static_cast<int64_t>(p.rows.size()), non_default};
    }
    for (const Json& x : t.value("lost_columns", Json::array())) {
      reported[x.value("column", "")] = {x.value("values", int64_t{-1}),
                                         x.value("non_default", int64_t{-1})};
    }
    if (lost == reported) return;
    auto show = [](const std::map<std::string, std::pair<int64_t, int64_t>>& m) {
      std::string out;
      for (const auto& [c, v] : m) {
        absl::StrAppend(&out, out.empty() ? "" : ", ", c, "=", v.first, "/", v.second);
      }
      return out.empty() ? std::string("none") : out;
    };
    f_.report.push_back(absl::StrCat(name, ": lost columns (values/non-default) reported ",
                                     show(reported), ", the databases hold ", show(lost)));
  }

  // A default that is a literal (as 'none'::text or 0), as text; else none:
  // an expression's value is not known before the restore.
  Cell ConstantDefault(const std::optional<std::string>& expr) {
    static const std::regex kLiteral(
        R"(^\(*('([^']|'')*'|-?[0-9]+(\.[0-9]+)?|true|false)\)*(::[a-z ]+(\([0-9, ]+\))?(\[\])?)*$)");
    if (!expr || !std::regex_match(*expr, kLiteral)) return std::nullopt;
    absl::StatusOr<Rows> r = pg_->Query(prod_db_, absl::StrCat("SELECT (", *expr, ")::text"));
    return r.ok() && !r->empty() ? (*r)[0][0] : std::nullopt;
  }

  // A production table development's schema lacks: its rows are lost, which
  // the merge may only do as a drop it reports.
  void CheckDroppedTables(const std::map<std::string, const Json*>& rt) {
    for (const auto& [name, p] : prod_) {
      if (dev_.count(name) || p.rows.empty()) continue;
      auto it = rt.find(name);
      if (it == rt.end() || it->second->value("status", "") != "dropped_by_dev" ||
          (*it->second)["counts"].value("prod_rows", int64_t{-1}) !=
              static_cast<int64_t>(p.rows.size())) {
        f_.report.push_back(absl::StrCat("production's ", name, " (", p.rows.size(),
                                         " rows) is not in development's schema and not "
                                         "reported dropped_by_dev with its rows"));
      }
    }
  }

  void CheckReport() {
    if (!report_.is_object() || !report_.contains("tables")) return;
    std::map<std::string, const Json*> rt;
    for (const Json& t : report_["tables"]) rt[t.value("table", "")] = &t;
    CheckDroppedTables(rt);
    for (const auto& [name, d] : dev_) {
      auto it = rt.find(name);
      if (it == rt.end()) {
        f_.report.push_back(absl::StrCat("no report entry for ", name));
        continue;
      }
      const Json& t = *it->second;
      const Table* p = FindTable(prod_, name);
      const Table* s = FindTable(shadow_, name);
      const Json& c = t["counts"];
      auto count = [&](const char* k) { return c.value(k, int64_t{-1}); };
      if (count("prod_rows") != (p ? static_cast<int64_t>(p->rows.size()) : 0) ||
          count("dev_rows") != static_cast<int64_t>(d.rows.size()) ||
          count("output_rows") != (s ? static_cast<int64_t>(s->rows.size()) : 0)) {
        f_.report.push_back(absl::StrCat(
            name, ": counts prod/dev/output ", count("prod_rows"), "/", count("dev_rows"), "/",
            count("output_rows"), ", the databases hold ", p ? p->rows.size() : 0, "/",
            d.rows.size(), "/", s ? s->rows.size() : 0));
      }
      std::set<std::string> conflicts, deleted, unified_keys, amb;
      for (const Json& x : t.value("conflicts", Json::array())) conflicts.insert(x.value("key", ""));
      for (const Json& x : t.value("deleted_in_prod", Json::array())) deleted.insert(x.get<std::string>());
      for (const Json& x : t.value("unifications", Json::array())) unified_keys.insert(x.value("dev_key", ""));
      amb = ambiguous_[name];
      if (opt_.three_way && !amb.empty()) {
        f_.report.push_back(absl::StrCat(name, ": a three-way merge reports ambiguous keys"));
      }
      if (p != nullptr) CheckLostColumns(name, t, d, *p);
      if (d.key.empty() || p == nullptr) continue;
      // Development's version of a base row not written: a conflict. Its
      // values in columns development added are not carried: counted.
      std::map<std::string, int64_t> not_carried;
      for (size_t i = 0; i < d.rows.size(); ++i) {
        int n = dev_map_[name][i];
        std::string k = RowKey(d, static_cast<int>(i));
        if (n >= 0 && !nodes_[n].dev_new && nodes_[n].side != kDev) {
          for (size_t col = 0; col < d.columns.size(); ++col) {
            if (d.generated[col] || p->Col(d.columns[col]) >= 0 || !d.rows[i][col]) continue;
            if (d.rows[i][col] != AddedValue(d, static_cast<int>(col))) {
              ++not_carried[d.columns[col]];
            }
          }
        }
        if (n == kGone) {
          if (!deleted.count(k) && !amb.count(k)) {
            f_.report.push_back(absl::StrCat(name, ": base row ", k,
                                             " production deleted is not in deleted_in_prod"));
          }
          continue;
        }
        if (n < 0 || nodes_[n].dev_new) continue;
        bool is_unified = unified_[name].count(k) > 0;
        const Node& target = nodes_[n];
        bool same = target.side == kDev && target.row == static_cast<int>(i);
        if (!same) {
          same = true;
          const Table& src = *SideTable(target.side, name);
          for (size_t col = 0; col < d.columns.size() && same; ++col) {
            if (d.generated[col] || p->Col(d.columns[col]) < 0) continue;
            if (is_unified && d.DrawnKeyColumn(static_cast<int>(col))) continue;
            same = Value(target.side, src, target.row, d, static_cast<int>(col)) == d.rows[i][col];
          }
        }
        if (is_unified && !same && !unified_keys.count(k) && !conflicts.count(k)) {
          f_.report.push_back(absl::StrCat(name, ": development row ", k, " unified with ",
                                           target.origin, " is not in unifications"));
        } else if (is_unified && same && target.key != k && !unified_keys.count(k)) {
          f_.report.push_back(absl::StrCat(name, ": development row ", k, " unified with ",
                                           target.origin, " is not in unifications"));
        } else if (!is_unified && !same && !conflicts.count(k) && !amb.count(k) &&
                   (!opt_.three_way || DevEdited(name, k, static_cast<int>(i)))) {
          f_.report.push_back(absl::StrCat(name, ": development's version of ", k,
                                           " is not written and not reported as a conflict"));
        }
      }
      std::map<std::string, int64_t> reported;
      for (const Json& x : t.value("dev_values_not_carried", Json::array())) {
        reported[x.value("column", "")] = x.value("differing", int64_t{0});
      }
      if (reported != not_carried) {
        auto show = [](const std::map<std::string, int64_t>& m) {
          std::string out;
          for (const auto& [c, v] : m) absl::StrAppend(&out, out.empty() ? "" : ", ", c, "=", v);
          return out.empty() ? std::string("none") : out;
        };
        f_.report.push_back(absl::StrCat(name, ": development values not carried reported ",
                                         show(reported), ", the databases hold ",
                                         show(not_carried)));
      }
    }
  }

  Snapshot base_, prod_, dev_, shadow_;
  Json report_;
  TruthOptions opt_;
  TestPostgres* pg_;
  std::string prod_db_, dev_db_;
  TruthFindings f_;
  std::vector<Node> nodes_;
  std::vector<uint64_t> color_, base_color_;
  size_t collapsed_ = 0;
  std::map<std::string, std::vector<int>> prod_node_, dev_map_, shadow_node_;
  std::map<std::string, std::map<std::string, int>> by_key_, shadow_by_key_, unified_;
  std::map<std::string, std::set<std::string>> ambiguous_, dev_deleted_in_prod_;
  std::map<std::string, std::unordered_map<std::string, int>> prod_unique_;
  std::map<std::string, RowIndex> indexes_;
  std::map<std::string, Cell> added_;
};

}  // namespace

std::string TruthFindings::Summary(size_t per_class) const {
  std::string out;
  auto add = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    absl::StrAppend(&out, what, ": ", v.size(), "\n");
    for (size_t i = 0; i < v.size() && i < per_class; ++i) absl::StrAppend(&out, "  ", v[i], "\n");
  };
  add("rows lost", lost);
  add("rows invented", invented);
  add("references re-pointed to other content", repointed);
  add("production rows changed or moved", changed);
  add("report disagrees with the truth", report);
  add("schema and sequences", schema);
  add("checker premises broken by the inputs", setup);
  return out.empty() ? "the shadow is the truth\n" : out;
}

absl::StatusOr<TruthFindings> CheckTruth(TestPostgres* pg, const std::string& base_db,
                                         const std::string& prod_db, const std::string& dev_db,
                                         const std::string& shadow_db,
                                         const std::string& report_json,
                                         const TruthOptions& options) {
  absl::StatusOr<Snapshot> base = Load(pg, base_db);
  if (!base.ok()) return base.status();
  absl::StatusOr<Snapshot> prod = Load(pg, prod_db);
  if (!prod.ok()) return prod.status();
  UnderDevNames(options, &*base);
  UnderDevNames(options, &*prod);
  absl::StatusOr<Snapshot> dev = Load(pg, dev_db);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<Snapshot> shadow = Load(pg, shadow_db);
  if (!shadow.ok()) return shadow.status();
  Json report = Json::parse(report_json, nullptr, false);
  TruthFindings f;
  for (const auto& [name, t] : *dev) {
    if (!shadow->count(name)) f.schema.push_back("shadow has no table " + name);
  }
  for (const auto& [name, t] : *shadow) {
    if (!dev->count(name)) f.schema.push_back("shadow has a table development lacks: " + name);
  }
  if (!f.schema.empty()) return f;
  Truth truth(std::move(*base), std::move(*prod), std::move(*dev), std::move(*shadow),
              std::move(report), options, pg, prod_db, dev_db);
  f = truth.Run();
  if (options.check_schema) {
    truth::CheckSchema(pg, prod_db, dev_db, shadow_db, options.keep_prod_objects, &f);
  }
  truth::CheckSequences(pg, prod_db, dev_db, shadow_db, &f);
  truth::CheckLargeObjects(pg, base_db, prod_db, dev_db, shadow_db, report_json,
                           options.three_way, &f);
  return f;
}

}  // namespace pgmerge::testing
