#include "tests/workload.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "parser/names.h"
#include "tests/truth_checker.h"

namespace pgmerge::testing {
namespace {

using parser::QuoteIdentifierAlways;

struct Column {
  std::string name;  // Quoted.
  bool drawn = false, text = false, unique = false, integer = false, key = false;
  bool multi_fk = false;  // Part of a multi-column foreign key: copied as is.
  std::optional<std::string> max_len;
  // A single-column foreign key: parent table, its column, its type.
  std::string ref_table, ref_col, ref_type;
};

struct TableInfo {
  std::string oid, name;  // name: quoted and qualified.
  std::vector<Column> cols;
  std::vector<std::string> top;  // Predicates naming the base's top-most rows, newest first.
  std::string bottom;            // ... and its bottom-most row.
  std::vector<std::string> children;  // NOT EXISTS conditions: rows referencing it.
  bool RemappableKey() const {
    int keys = 0;
    bool drawn = false;
    for (const Column& c : cols) {
      keys += c.key;
      drawn |= c.key && c.drawn;
    }
    return keys == 1 && drawn;
  }
};

// Tables parents first (by foreign-key depth), with their columns.
absl::StatusOr<std::vector<TableInfo>> Catalog(TestPostgres* server, const std::string& db) {
  Session session(server, db);
  Session* pg = &session;
  absl::StatusOr<Rows> tables = pg->Query(kTablesParentsFirst);
  if (!tables.ok()) return tables.status();
  std::vector<TableInfo> out;
  for (const auto& t : *tables) {
    TableInfo ti;
    ti.oid = *t[0];
    ti.name = *t[1];
    absl::StatusOr<Rows> cols = pg->Query(absl::StrCat(R"(
      SELECT a.attname, format_type(a.atttypid, a.atttypmod),
             a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%',
             a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype),
             CASE WHEN a.atttypmod > 4 AND a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype)
                  THEN a.atttypmod - 4 END,
             EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = a.attrelid
                     AND co.contype IN ('p', 'u') AND co.conkey = ARRAY[a.attnum]),
             (SELECT format('%s|%s|%s', (SELECT format('%I.%I', rn.nspname, rc.relname)
                                         FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                                         WHERE rc.oid = co.confrelid),
                            (SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = co.confrelid
                             AND attnum = co.confkey[1]),
                            (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                             WHERE attrelid = co.confrelid AND attnum = co.confkey[1]))
              FROM pg_constraint co WHERE co.conrelid = a.attrelid AND co.contype = 'f'
                AND co.conkey = ARRAY[a.attnum] LIMIT 1),
             a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype),
             EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = a.attrelid
                     AND co.contype = 'p' AND a.attnum = ANY (co.conkey)),
             EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = a.attrelid
                     AND co.contype = 'f' AND a.attnum = ANY (co.conkey)
                     AND array_length(co.conkey, 1) > 1)
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = )", ti.oid, R"( AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attgenerated = '' ORDER BY a.attnum)"));
    if (!cols.ok()) return cols.status();
    for (const auto& c : *cols) {
      Column col;
      col.name = QuoteIdentifierAlways(*c[0]);
      col.drawn = *c[2] == "t";
      col.text = *c[3] == "t";
      col.max_len = c[4];
      col.unique = *c[5] == "t";
      col.integer = *c[7] == "t";
      col.key = *c[8] == "t";
      col.multi_fk = *c[9] == "t";
      if (c[6]) {
        std::vector<std::string> f = absl::StrSplit(*c[6], '|');
        col.ref_table = f[0];
        col.ref_col = f[1];
        col.ref_type = f[2];
      }
      ti.cols.push_back(std::move(col));
    }
    absl::StatusOr<Rows> refs = pg->Query(absl::StrCat(R"(
      SELECT format('NOT EXISTS (SELECT 1 FROM %s x WHERE %s)', co.conrelid::regclass,
               (SELECT string_agg(format('x.%I = %I.%I', ca.attname, 'pgm_t', pa.attname), ' AND ')
                FROM unnest(co.conkey, co.confkey) k(c, p)
                JOIN pg_attribute ca ON ca.attrelid = co.conrelid AND ca.attnum = k.c
                JOIN pg_attribute pa ON pa.attrelid = co.confrelid AND pa.attnum = k.p))
      FROM pg_constraint co WHERE co.contype = 'f' AND co.confrelid = )", ti.oid));
    if (!refs.ok()) return refs.status();
    for (const auto& r : *refs) ti.children.push_back(*r[0]);
    std::vector<std::string> key, fmt;
    for (const Column& c : ti.cols) {
      if (!c.key) continue;
      key.push_back(c.name);
      fmt.push_back(absl::StrCat("format('%I = %L', '", *cols->at(&c - &ti.cols[0])[0], "', ",
                                 c.name, "::text)"));
    }
    if (!key.empty()) {
      std::string pred = absl::StrCat("SELECT concat_ws(' AND ', ", absl::StrJoin(fmt, ", "),
                                      ") FROM ONLY ", ti.name, " ORDER BY ");
      absl::StatusOr<Rows> top = pg->Query(absl::StrCat(pred, absl::StrJoin(key, " DESC, "), " DESC LIMIT 5"));
      if (!top.ok()) return top.status();
      for (const auto& r : *top) ti.top.push_back(*r[0]);
      absl::StatusOr<Rows> bottom =
          pg->Query(absl::StrCat(pred, absl::StrJoin(key, ", "), " LIMIT 1"));
      if (!bottom.ok()) return bottom.status();
      if (!bottom->empty()) ti.bottom = *(*bottom)[0][0];
    }
    out.push_back(std::move(ti));
  }
  return out;
}

bool IsInteger(const std::string& type) {
  return type == "integer" || type == "bigint" || type == "smallint";
}

// New rows on one side. `coincide`: one exact copy of the top-most base
// row per table, the same on both sides; else `n` rows tagged by side.
void Insert(std::string* script, const std::vector<TableInfo>& tables,
                    const std::map<std::string, const TableInfo*>& base, const std::string& tag,
                    int n, bool coincide) {
  std::set<std::string> grown;
  for (const TableInfo& ti : tables) {
    auto bt = base.find(ti.name);
    if (bt == base.end() || bt->second->top.empty()) continue;
    const TableInfo& b = *bt->second;
    std::vector<std::string> names, exprs;
    bool join_done = false;
    for (const Column& c : ti.cols) {
      if (c.drawn && c.key && ti.RemappableKey()) continue;  // The sequence's next key.
      std::string expr = "s." + c.name;
      if (c.drawn) {
        continue;
      } else if (c.multi_fk) {
        // Copied: the row it names exists on this side.
      } else if (!c.ref_table.empty()) {
        auto parent = base.find(c.ref_table);
        if (coincide) {
          // Join rows: the first key part moves to the smallest base parent
          // not yet linked, the same on both sides.
          if (c.key && !ti.RemappableKey() && !join_done) {
            std::vector<std::string> others;
            for (const Column& o : ti.cols) {
              if (o.key && o.name != c.name) others.push_back(absl::StrCat("x.", o.name, " = s.", o.name));
            }
            others.push_back(absl::StrCat("x.", c.name, " = p.", c.ref_col));
            expr = absl::StrCat("(SELECT p.", c.ref_col, " FROM ", c.ref_table,
                                " p WHERE NOT EXISTS (SELECT 1 FROM ONLY ", ti.name, " x WHERE ",
                                absl::StrJoin(others, " AND "), ") ORDER BY 1 LIMIT 1)");
            join_done = true;
          }
        } else if (grown.count(c.ref_table) && IsInteger(c.ref_type)) {
          // The side's own newest parents; the last row is a child of the
          // top-most base parent (which the edits change).
          std::string newest = absl::StrCat("(SELECT ", c.ref_col, " FROM ", c.ref_table,
                                            " ORDER BY 1 DESC LIMIT 1 OFFSET ((s.rn - 1) % ", n, "))");
          if (parent != base.end() && !parent->second->top.empty() && c.ref_table != ti.name) {
            newest = absl::StrCat("CASE WHEN s.rn = ", n, " THEN (SELECT ", c.ref_col, " FROM ONLY ",
                                  c.ref_table, " WHERE ", parent->second->top[0], ") ELSE ", newest,
                                  " END");
          }
          expr = c.unique ? newest : absl::StrCat("coalesce(", newest, ", s.", c.name, ")");
        }
      } else if (c.unique && c.text) {
        expr = absl::StrCat("s.", c.name, coincide ? " || '++'" : " || '+'");
      } else if (c.unique && c.integer) {
        // Past the side's largest value, the same on both sides.
        expr = absl::StrCat("(SELECT max(", c.name, ") FROM ONLY ", ti.name, ") + s.rn");
      } else if (c.text && !coincide) {
        expr = absl::StrCat("s.", c.name, " || '", tag, "'");
      }
      if (c.text && c.max_len) expr = absl::StrCat("left(", expr, ", ", *c.max_len, ")");
      names.push_back(c.name);
      exprs.push_back(expr);
    }
    if (names.empty()) continue;
    // Copies of the base's top-most rows (the coincident copy: of the very top).
    std::string source = coincide
        ? absl::StrCat("SELECT *, 1 AS rn FROM ONLY ", ti.name, " WHERE ", b.top[0])
        : absl::StrCat("SELECT *, row_number() OVER () AS rn FROM (SELECT * FROM ONLY ", ti.name,
                       " WHERE (", absl::StrJoin(b.top, ") OR ("), ") LIMIT ", n, ") q");
    absl::StrAppend(script, "INSERT INTO ", ti.name, " (", absl::StrJoin(names, ", "), ") SELECT ",
                    absl::StrJoin(exprs, ", "), " FROM (", source, ") s ON CONFLICT DO NOTHING;\n");
    grown.insert(ti.name);
  }
}

// Edits of base rows by predicate; `which` picks the top-most rows.
void Edit(std::string* script, const std::vector<TableInfo>& base,
                  const std::vector<int>& which, bool bottom, const std::string& tag) {
  for (const TableInfo& ti : base) {
    const Column* col = nullptr;
    for (const Column& c : ti.cols) {
      if (c.text && !c.unique && !c.key && c.ref_table.empty() && col == nullptr) col = &c;
    }
    if (col == nullptr || ti.top.empty()) continue;
    std::vector<std::string> preds;
    for (int w : which) {
      if (w < static_cast<int>(ti.top.size())) preds.push_back(ti.top[w]);
    }
    if (bottom && !ti.bottom.empty()) preds.push_back(ti.bottom);
    if (preds.empty()) continue;
    std::string value = absl::StrCat("coalesce(", col->name, ", '') || '", tag, "'");
    if (col->max_len) value = absl::StrCat("left(", value, ", ", *col->max_len, ")");
    absl::StrAppend(script, "UPDATE ONLY ", ti.name, " SET ", col->name, " = ", value, " WHERE (",
                    absl::StrJoin(preds, ") OR ("), ");\n");
  }
}

// Deletes the w-th top-most base row of every table when nothing refers to it.
void Delete(std::string* script, const std::vector<TableInfo>& base, int w) {
  // Children first, so a parent whose only child went can go too... but
  // only rows nothing references are deleted, in any order.
  for (auto it = base.rbegin(); it != base.rend(); ++it) {
    const TableInfo& ti = *it;
    if (static_cast<int>(ti.top.size()) <= w) continue;
    std::vector<std::string> conds = {ti.top[w]};
    conds.insert(conds.end(), ti.children.begin(), ti.children.end());
    absl::StrAppend(script, "DELETE FROM ONLY ", ti.name, " pgm_t WHERE ",
                    absl::StrJoin(conds, " AND "), ";\n");
  }
}

}  // namespace

absl::StatusOr<Workload> BuildWorkload(TestPostgres* pg, const std::string& prefix,
                                       const std::vector<std::string>& sql_files,
                                       const WorkloadOptions& options) {
  Workload w{prefix + "_base", prefix + "_prod", prefix + "_dev", {}};
  for (const std::string& db : {w.base_db, w.prod_db, w.dev_db}) {
    if (absl::Status s = pg->DropDatabase(db); !s.ok()) return s;
  }
  if (absl::Status s = pg->CreateDatabase(w.base_db); !s.ok()) return s;
  for (const std::string& f : sql_files) {
    if (absl::Status s = pg->Restore(w.base_db, f); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<TableInfo>> base = Catalog(pg, w.base_db);
  if (!base.ok()) return base.status();
  std::map<std::string, const TableInfo*> by_name;
  for (const TableInfo& t : *base) by_name[t.name] = &t;
  for (const std::string& db : {w.prod_db, w.dev_db}) {
    absl::Status s = pg->Exec("postgres", absl::StrCat("CREATE DATABASE ", QuoteIdentifierAlways(db),
                                                       " TEMPLATE ", QuoteIdentifierAlways(w.base_db)));
    if (!s.ok()) return s;
  }
  if (options.migration) {
    std::vector<std::string> pub;
    for (const TableInfo& t : *base) {
      if (absl::StartsWith(t.name, "public.")) pub.push_back(t.name);
    }
    std::sort(pub.begin(), pub.end());
    if (!pub.empty()) {
      absl::Status s = pg->Exec(w.dev_db, absl::StrCat("ALTER TABLE ", pub[0],
                                                       " ADD COLUMN pgmerge_note text DEFAULT 'dev'"));
      if (!s.ok()) return s;
    }
    if (pub.size() > 1) {
      absl::Status s = pg->Exec(w.dev_db, absl::StrCat(
          "ALTER TABLE ", pub[1], " ADD COLUMN pgmerge_fill text NOT NULL DEFAULT 'seeded';",
          "ALTER TABLE ", pub[1], " ALTER COLUMN pgmerge_fill DROP DEFAULT"));
      if (!s.ok()) return s;
      // The value development's own base rows got, so that rows both sides
      // create alike coincide in development's schema too.
      w.fill.push_back(absl::StrCat(pub[1], ".pgmerge_fill=seeded"));
      // A backfill development ran on one base row: production's version of
      // it gets the --fill, so the report must count the value not carried.
      s = pg->Exec(w.dev_db, absl::StrCat(
          "UPDATE ", pub[1], " SET pgmerge_fill = 'backfilled' WHERE ctid = (SELECT ctid FROM ",
          pub[1], " ORDER BY ctid OFFSET 1 LIMIT 1)"));
      if (!s.ok()) return s;
    }
  }
  struct SideRun {
    std::string db, tag;
    bool creates;
  };
  for (const SideRun& side : {SideRun{w.prod_db, " (prod)", options.prod_creates},
                              SideRun{w.dev_db, " (dev)", options.dev_creates}}) {
    absl::StatusOr<std::vector<TableInfo>> tables = Catalog(pg, side.db);
    if (!tables.ok()) return tables.status();
    std::string script;
    if (side.creates) {
      Insert(&script, *tables, by_name, side.tag, options.new_rows, false);
      Insert(&script, *tables, by_name, side.tag, 1, true);
    }
    if (options.edits) {
      bool prod = side.db == w.prod_db;
      // Top-most: prod edits #0, dev #1, both #2; prod the bottom-most too.
      Edit(&script, *base, prod ? std::vector<int>{0, 2} : std::vector<int>{1, 2}, prod,
           absl::StrCat(" (edited in ", side.tag.substr(2)));
      Delete(&script, *base, prod ? 3 : 4);
    }
    if (absl::Status s = pg->Exec(side.db, script); !s.ok()) return s;
  }
  return w;
}

}  // namespace pgmerge::testing
