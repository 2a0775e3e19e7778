#include "tests/merge_checker.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "parser/copy_text.h"
#include "parser/names.h"

namespace pgmerge::testing {
namespace {

using Json = nlohmann::json;

struct Fk {
  std::vector<int> cols;
  std::string ref_table;
  std::vector<std::string> ref_cols;
};

struct TableData {
  std::string name;  // As pgmerge's report spells it.
  std::vector<std::string> columns;
  std::vector<bool> drawn;  // Column fed by a sequence or identity.
  std::vector<int> key;     // The columns the report names rows by.
  std::vector<Fk> fks;
  Rows rows;
  int Col(const std::string& c) const {
    auto it = std::find(columns.begin(), columns.end(), c);
    return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
  }
};

using Snapshot = std::map<std::string, TableData>;

std::string Text(const Cell& c) {
  if (!c) return "\\N";
  std::string out;
  parser::AppendCopyEscaped(*c, &out);
  return out;
}

std::string Join(const std::vector<Cell>& row, const std::vector<int>& cols) {
  std::vector<std::string> parts;
  for (int c : cols) parts.push_back(Text(row[c]));
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<Snapshot> Load(TestPostgres* pg, const std::string& db) {
  Snapshot snap;
  absl::StatusOr<Rows> tables = pg->Query(db, R"(
    SELECT c.oid, n.nspname, c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 2, 3)");
  if (!tables.ok()) return tables.status();
  for (const auto& t : *tables) {
    TableData td;
    parser::TableName tn{*t[1], *t[2]};
    td.name = tn.Display();
    std::string oid = *t[0];
    absl::StatusOr<Rows> cols = pg->Query(db, absl::StrCat(R"(
      SELECT a.attname, (a.attidentity <> '' OR
             coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%')
      FROM pg_attribute a LEFT JOIN pg_attrdef d
        ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = )", oid, R"( AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attgenerated = '' ORDER BY a.attnum)"));
    if (!cols.ok()) return cols.status();
    std::vector<std::string> quoted;
    for (const auto& c : *cols) {
      td.columns.push_back(*c[0]);
      td.drawn.push_back(*c[1] == "t");
      quoted.push_back(parser::QuoteIdentifierAlways(*c[0]) + "::text");
    }
    absl::StatusOr<Rows> pk = pg->Query(db, absl::StrCat(R"(
      SELECT a.attname FROM pg_constraint co,
        unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
      JOIN pg_attribute a ON a.attnum = k.attnum
      WHERE co.contype = 'p' AND co.conrelid = )", oid,
                                                    " AND a.attrelid = ", oid,
                                                    " ORDER BY k.ord"));
    if (!pk.ok()) return pk.status();
    for (const auto& k : *pk) td.key.push_back(td.Col(*k[0]));
    if (td.key.empty()) {
      // pgmerge keys such a table on a NOT NULL unique column drawn from a
      // sequence (id serial UNIQUE).
      absl::StatusOr<Rows> uk = pg->Query(db, absl::StrCat(R"(
        SELECT a.attname FROM pg_constraint co
        JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = co.conkey[1]
        WHERE co.contype = 'u' AND co.conrelid = )", oid,
                                                      R"( AND array_length(co.conkey, 1) = 1
          AND a.attnotnull ORDER BY co.conname)"));
      if (!uk.ok()) return uk.status();
      for (const auto& k : *uk) {
        int c = td.Col(*k[0]);
        if (c >= 0 && td.drawn[c]) {
          td.key.push_back(c);
          break;
        }
      }
    }
    absl::StatusOr<Rows> fks = pg->Query(db, absl::StrCat(R"(
      SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum),
             fn.nspname, fc.relname, fc.relkind,
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.confkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum)
      FROM pg_constraint co JOIN pg_class fc ON fc.oid = co.confrelid
      JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE co.contype = 'f' AND co.conrelid = )", oid, " ORDER BY co.conname"));
    if (!fks.ok()) return fks.status();
    std::set<std::string> seen;
    for (const auto& f : *fks) {
      if (*f[3] != "r") continue;  // A partitioned parent: rows live elsewhere.
      Fk fk;
      for (absl::string_view c : absl::StrSplit(*f[0], ',')) {
        fk.cols.push_back(td.Col(std::string(c)));
      }
      fk.ref_table = parser::TableName{*f[1], *f[2]}.Display();
      for (absl::string_view c : absl::StrSplit(*f[4], ',')) {
        fk.ref_cols.emplace_back(c);
      }
      std::string id = absl::StrCat(*f[0], "->", fk.ref_table, *f[4]);
      if (seen.insert(id).second) td.fks.push_back(std::move(fk));
    }
    absl::StatusOr<Rows> rows = pg->Query(
        db, absl::StrCat("SELECT ", quoted.empty() ? "1" : absl::StrJoin(quoted, ", "),
                         " FROM ONLY ", parser::QuoteIdentifierAlways(*t[1]), ".",
                         parser::QuoteIdentifierAlways(*t[2])));
    if (!rows.ok()) return rows.status();
    td.rows = std::move(*rows);
    snap[td.name] = std::move(td);
  }
  return snap;
}

// Rows of a table indexed by the values of some columns.
class RowIndex {
 public:
  RowIndex(const TableData& t, const std::vector<int>& cols) {
    for (size_t i = 0; i < t.rows.size(); ++i) {
      bool null = false;
      for (int c : cols) null |= !t.rows[i][c].has_value();
      if (!null) index_.emplace(Join(t.rows[i], cols), i);
    }
  }
  const std::vector<Cell>* Find(const TableData& t, const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &t.rows[it->second];
  }

 private:
  std::map<std::string, size_t> index_;
};

struct TableReport {
  std::string prod_table;
  bool dropped_by_dev = false;
  std::set<std::string> conflicts_kept_prod, conflicts_kept_dev, deleted,
      dropped, dev_edits, prod_edits;
  std::map<std::string, std::string> unified;  // dev key -> prod key
  int64_t output_rows = 0, prod_rows = 0, dev_rows = 0;
};

class Checker {
 public:
  Checker(Snapshot prod, Snapshot dev, Snapshot shadow,
          std::map<std::string, TableReport> report)
      : prod_(std::move(prod)),
        dev_(std::move(dev)),
        shadow_(std::move(shadow)),
        report_(std::move(report)) {}

  absl::Status Run() {
    // Every production table is accounted for: merged into a shadow table
    // or dropped by development, as the report says.
    for (const auto& [name, t] : prod_) {
      bool placed = false;
      for (const auto& [table, r] : report_) {
        placed |= (r.prod_table == name && shadow_.count(table)) ||
                  (table == name && r.dropped_by_dev);
      }
      if (!placed) {
        return absl::InternalError(absl::StrCat("production table ", name,
                                                " went nowhere"));
      }
    }
    for (const auto& [name, t] : shadow_) {
      auto r = report_.find(name);
      if (r == report_.end()) {
        return absl::InternalError(absl::StrCat("report has no table ", name));
      }
      if (static_cast<int64_t>(t.rows.size()) != r->second.output_rows) {
        return absl::InternalError(absl::StrCat(
            name, ": shadow holds ", t.rows.size(), " rows, report says ",
            r->second.output_rows));
      }
      const TableData* p = Find(prod_, r->second.prod_table);
      const TableData* d = Find(dev_, name);
      if (static_cast<int64_t>(p ? p->rows.size() : 0) != r->second.prod_rows ||
          static_cast<int64_t>(d ? d->rows.size() : 0) != r->second.dev_rows) {
        return absl::InternalError(absl::StrCat(name, ": report's row counts ",
                                                "differ from the databases"));
      }
      if (p != nullptr) {
        if (absl::Status s = CheckProd(*p, t, r->second); !s.ok()) return s;
      }
      if (d != nullptr) {
        if (absl::Status s = CheckDev(*d, t, r->second); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  // Production's table behind a shadow table (another name after a
  // --rename-table).
  const TableData* ProdOf(const std::string& table) const {
    auto r = report_.find(table);
    return Find(prod_, r == report_.end() ? table : r->second.prod_table);
  }
  std::string ProdName(const std::string& table) const {
    auto r = report_.find(table);
    return r == report_.end() ? table : r->second.prod_table;
  }

  static const TableData* Find(const Snapshot& s, const std::string& name) {
    auto it = s.find(name);
    return it == s.end() ? nullptr : &it->second;
  }

  // Columns a signature compares: in the shadow, not drawn from a sequence,
  // not a foreign key, and (for tables production has) shared with prod.
  std::vector<std::string> SigColumns(const std::string& table) {
    const TableData& s = shadow_.at(table);
    const TableData* p = ProdOf(table);
    std::vector<std::string> out;
    for (size_t c = 0; c < s.columns.size(); ++c) {
      if (s.drawn[c]) continue;
      bool fk = false;
      for (const Fk& f : s.fks) {
        fk |= std::find(f.cols.begin(), f.cols.end(), static_cast<int>(c)) != f.cols.end();
      }
      if (fk) continue;
      if (p != nullptr && p->Col(s.columns[c]) < 0) continue;
      out.push_back(s.columns[c]);
    }
    return out;
  }

  std::string Content(const TableData& t, const std::vector<Cell>& row,
                      const std::vector<std::string>& cols) {
    std::vector<std::string> parts;
    for (const std::string& c : cols) {
      int i = t.Col(c);
      parts.push_back(i < 0 ? "?" : Text(row[i]));
    }
    return absl::StrJoin(parts, "\x1f");
  }

  const RowIndex& IndexOf(const Snapshot& s, const std::string& table,
                          const std::vector<std::string>& cols, const void* tag) {
    std::string id = absl::StrCat(reinterpret_cast<uintptr_t>(tag), table,
                                  absl::StrJoin(cols, ","));
    auto it = indexes_.find(id);
    if (it == indexes_.end()) {
      const TableData& t = s.at(table);
      std::vector<int> idx;
      for (const std::string& c : cols) idx.push_back(t.Col(c));
      it = indexes_.emplace(id, std::make_unique<RowIndex>(t, idx)).first;
    }
    return *it->second;
  }

  // The content a parent row contributes to its child's signature. For dev
  // rows whose parent the report says was not merged as dev had it, the
  // row that stands for it in the output: prod's version or the row it was
  // unified with.
  std::string ParentContent(const Snapshot& side, const TableData& child,
                            const std::vector<Cell>& row, const Fk& fk,
                            bool dev_side) {
    std::vector<std::string> key;
    for (int c : fk.cols) {
      if (c < 0 || !row[c]) return "null";
      key.push_back(Text(row[c]));
    }
    if (Find(shadow_, fk.ref_table) == nullptr ||
        Find(side, fk.ref_table) == nullptr) {
      return "?";
    }
    std::vector<std::string> cols = SigColumns(fk.ref_table);
    std::string k = absl::StrJoin(key, ",");
    const TableData& parent = side.at(fk.ref_table);
    if (dev_side && report_.count(fk.ref_table)) {
      const TableReport& pr = report_.at(fk.ref_table);
      const TableData* prod = ProdOf(fk.ref_table);
      std::string prod_key;
      if (pr.conflicts_kept_prod.count(k)) prod_key = k;
      auto u = pr.unified.find(k);
      if (u != pr.unified.end()) prod_key = u->second;
      if (!prod_key.empty() && prod != nullptr) {
        const std::vector<Cell>* pr_row =
            IndexOf(prod_, ProdName(fk.ref_table), fk.ref_cols, &prod_).Find(*prod, prod_key);
        if (pr_row != nullptr) return Content(*prod, *pr_row, cols);
      }
    }
    const std::vector<Cell>* p =
        IndexOf(side, fk.ref_table, fk.ref_cols, &side).Find(parent, k);
    return p == nullptr ? "missing" : Content(parent, *p, cols);
  }

  std::string Signature(const Snapshot& side, const TableData& t,
                        const std::vector<Cell>& row, bool dev_side) {
    std::string sig = Content(t, row, SigColumns(t.name));
    for (const Fk& fk : t.fks) {
      absl::StrAppend(&sig, " -> [", ParentContent(side, t, row, fk, dev_side), "]");
    }
    return sig;
  }

  absl::Status CheckProd(const TableData& p, const TableData& s,
                         const TableReport& r) {
    std::vector<std::string> shared;
    for (const std::string& c : p.columns) {
      if (s.Col(c) >= 0) shared.push_back(c);
    }
    std::vector<std::string> key_names;
    for (int k : p.key) key_names.push_back(p.columns[k]);
    bool keyed = !p.key.empty() &&
                 std::all_of(key_names.begin(), key_names.end(),
                             [&](const std::string& c) { return s.Col(c) >= 0; });
    if (keyed) {
      const RowIndex& index = IndexOf(shadow_, s.name, key_names, &shadow_);
      for (const auto& row : p.rows) {
        std::string k = Join(row, p.key);
        if (r.conflicts_kept_dev.count(k) || r.dev_edits.count(k)) continue;
        const std::vector<Cell>* got = index.Find(s, k);
        if (got == nullptr) {
          return absl::InternalError(absl::StrCat(
              p.name, ": production row with key ", k, " is missing"));
        }
        if (Content(p, row, shared) != Content(s, *got, shared)) {
          return absl::InternalError(absl::StrCat(
              p.name, ": production row ", k, " changed: ",
              Content(p, row, shared), " became ", Content(s, *got, shared)));
        }
      }
      return absl::OkStatus();
    }
    std::multiset<std::string> have;
    for (const auto& row : s.rows) have.insert(Content(s, row, shared));
    for (const auto& row : p.rows) {
      auto it = have.find(Content(p, row, shared));
      if (it == have.end()) {
        return absl::InternalError(absl::StrCat(
            p.name, ": production row ", Content(p, row, shared), " is missing"));
      }
      have.erase(it);
    }
    return absl::OkStatus();
  }

  absl::Status CheckDev(const TableData& d, const TableData& s,
                        const TableReport& r) {
    std::multiset<std::string> have;
    for (const auto& row : s.rows) have.insert(Signature(shadow_, s, row, false));
    // Rows of a table without a key are named by all their shared columns.
    std::vector<int> key = d.key;
    if (key.empty()) {
      const TableData* p = ProdOf(d.name);
      for (size_t c = 0; c < d.columns.size(); ++c) {
        if (p == nullptr || p->Col(d.columns[c]) >= 0) key.push_back(c);
      }
    }
    for (const auto& row : d.rows) {
      std::string k = Join(row, key);
      if (!k.empty() && (r.conflicts_kept_prod.count(k) || r.deleted.count(k) ||
                         r.dropped.count(k) || r.unified.count(k) ||
                         r.prod_edits.count(k))) {
        continue;
      }
      std::string sig = Signature(dev_, d, row, true);
      auto it = have.find(sig);
      if (it == have.end()) {
        return absl::InternalError(absl::StrCat(
            d.name, ": development row ", k.empty() ? "" : k + " ",
            "is missing modulo remap; expected content ", sig));
      }
      have.erase(it);
    }
    return absl::OkStatus();
  }

  Snapshot prod_, dev_, shadow_;
  std::map<std::string, TableReport> report_;
  std::map<std::string, std::unique_ptr<RowIndex>> indexes_;
};

// Per column fed by a sequence: "table|column" -> whether the sequence's
// next value is past every value of the column, in its direction (up, or
// down for a descending sequence). Columns with no rows are left out.
absl::StatusOr<std::map<std::string, bool>> SequencesPastKeys(TestPostgres* pg,
                                                              const std::string& db) {
  absl::StatusOr<Rows> cols = pg->Query(db, R"(
    SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
           pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL)");
  if (!cols.ok()) return cols.status();
  std::map<std::string, bool> out;
  for (const auto& c : *cols) {
    absl::StatusOr<Rows> v = pg->Query(db, absl::StrCat(
        "SELECT CASE WHEN s.increment_by > 0",
        " THEN (SELECT max(", *c[1], ")::bigint FROM ", *c[0], ")",
        " < CASE WHEN q.is_called THEN q.last_value::numeric + s.increment_by",
        " ELSE q.last_value END",
        " ELSE (SELECT min(", *c[1], ")::bigint FROM ", *c[0], ")",
        " > CASE WHEN q.is_called THEN q.last_value::numeric + s.increment_by",
        " ELSE q.last_value END END",
        " FROM ", *c[2], " q, pg_sequences s",
        " WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass = '", *c[2],
        "'::regclass"));
    if (!v.ok()) return v.status();
    if (v->empty() || !v->front()[0]) continue;
    out[absl::StrCat(*c[0], "|", *c[1])] = *v->front()[0] == "t";
  }
  return out;
}

// Every sequence of the shadow is past the values of the column it feeds,
// except where production's own sequence was already behind them (a key
// inserted with an explicit value): the merge keeps that as it was.
absl::Status CheckSequences(TestPostgres* pg, const std::string& prod_db,
                            const std::string& db) {
  absl::StatusOr<std::map<std::string, bool>> prod = SequencesPastKeys(pg, prod_db);
  if (!prod.ok()) return prod.status();
  absl::StatusOr<std::map<std::string, bool>> shadow = SequencesPastKeys(pg, db);
  if (!shadow.ok()) return shadow.status();
  for (const auto& [column, past] : *shadow) {
    if (past) continue;
    auto it = prod->find(column);
    if (it != prod->end() && !it->second) continue;
    return absl::InternalError(absl::StrCat("the sequence of ", column,
                                            " is not past the column's values"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMerge(TestPostgres* pg, const std::string& prod_db,
                        const std::string& dev_db, const std::string& shadow_db,
                        const std::string& report_json) {
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded()) return absl::InternalError("report is not JSON");
  std::map<std::string, TableReport> tables;
  for (const Json& t : report["tables"]) {
    TableReport r;
    for (const Json& c : t["conflicts"]) {
      (c["kept"] == "dev" ? r.conflicts_kept_dev : r.conflicts_kept_prod)
          .insert(c["key"].get<std::string>());
    }
    for (const Json& k : t["deleted_in_prod"]) r.deleted.insert(k.get<std::string>());
    for (const Json& k : t["dev_edits"]) r.dev_edits.insert(k.get<std::string>());
    for (const Json& k : t["prod_edits"]) r.prod_edits.insert(k.get<std::string>());
    for (const Json& d : t["dropped"]) r.dropped.insert(d["key"].get<std::string>());
    for (const Json& u : t["unifications"]) {
      r.unified[u["dev_key"].get<std::string>()] = u["prod_key"].get<std::string>();
    }
    r.output_rows = t["counts"]["output_rows"].get<int64_t>();
    r.prod_table = t.value("prod_table", "");
    r.dropped_by_dev = t["status"] == "dropped_by_dev";
    r.prod_rows = t["counts"]["prod_rows"].get<int64_t>();
    r.dev_rows = t["counts"]["dev_rows"].get<int64_t>();
    tables[t["table"].get<std::string>()] = std::move(r);
  }
  absl::StatusOr<Snapshot> prod = Load(pg, prod_db);
  if (!prod.ok()) return prod.status();
  absl::StatusOr<Snapshot> dev = Load(pg, dev_db);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<Snapshot> shadow = Load(pg, shadow_db);
  if (!shadow.ok()) return shadow.status();
  Checker checker(std::move(*prod), std::move(*dev), std::move(*shadow),
                  std::move(tables));
  if (absl::Status s = checker.Run(); !s.ok()) return s;
  return CheckSequences(pg, prod_db, shadow_db);
}

}  // namespace pgmerge::testing
