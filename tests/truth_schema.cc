#include "tests/truth_schema.h"

#include <map>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pgmerge::testing::truth {

namespace {

// One pg_dump entry: its "-- Name: N; Type: T; Schema: S; Owner: O" header
// as "T|S|N" ("" before the first header) and its SQL lines.
struct Entry {
  std::string id, type;
  std::vector<std::string> lines;
};

std::string Field(absl::string_view header, absl::string_view name) {
  size_t at = header.find(name);
  if (at == absl::string_view::npos) return "";
  at += name.size();
  size_t end = header.find(';', at);
  return std::string(header.substr(at, end == absl::string_view::npos ? end : end - at));
}

// pg_dump --schema-only by entry, without comments, \restrict lines and
// blank lines.
absl::StatusOr<std::vector<Entry>> SchemaEntries(TestPostgres* pg, const std::string& db) {
  std::string file = absl::StrCat(pg->tmp_dir(), "/", db, ".schema.sql");
  if (absl::Status s = pg->Dump(db, {"--schema-only"}, file); !s.ok()) return s;
  absl::StatusOr<CommandResult> r = RunCommand({"cat", file});
  if (!r.ok()) return r.status();
  std::vector<Entry> out(1);
  for (absl::string_view line : absl::StrSplit(r->out, '\n')) {
    if (absl::StartsWith(line, "-- Name: ")) {
      std::string type = Field(line, "; Type: ");
      out.push_back({absl::StrCat(type, "|", Field(line, "; Schema: "), "|",
                                  Field(line, "-- Name: ")),
                     type, {}});
      continue;
    }
    if (line.empty() || absl::StartsWith(line, "--") || absl::StartsWith(line, "\\restrict") ||
        absl::StartsWith(line, "\\unrestrict")) {
      continue;
    }
    out.back().lines.emplace_back(line);
  }
  return out;
}

// Development's and production's schemas do not change while a test merges
// them many times: dumped once per database (its oid tells a re-created one).
absl::StatusOr<std::vector<Entry>> CachedSchema(TestPostgres* pg, const std::string& db) {
  static std::map<std::string, std::vector<Entry>>* schemas =
      new std::map<std::string, std::vector<Entry>>();
  absl::StatusOr<std::string> oid = pg->QueryValue(
      "postgres", absl::StrCat("SELECT oid FROM pg_database WHERE datname = '", db, "'"));
  std::string id = absl::StrCat(pg->ConnString(db), "|", oid.ok() ? *oid : "");
  auto cached = schemas->find(id);
  if (oid.ok() && cached != schemas->end()) return cached->second;
  absl::StatusOr<std::vector<Entry>> e = SchemaEntries(pg, db);
  if (e.ok() && oid.ok()) (*schemas)[id] = *e;
  return e;
}

std::vector<std::string> Lines(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) out.insert(out.end(), e.lines.begin(), e.lines.end());
  return out;
}

using Contents = std::map<std::string, std::string>;  // OID -> SHA-256.

absl::StatusOr<Contents> LargeObjects(TestPostgres* pg, const std::string& db) {
  absl::StatusOr<Rows> rows = pg->Query(
      db, "SELECT oid::text, encode(sha256(lo_get(oid)), 'hex') FROM pg_largeobject_metadata");
  if (!rows.ok()) return rows.status();
  Contents out;
  for (const auto& r : *rows) out[*r[0]] = *r[1];
  return out;
}

std::set<std::string> OidList(const nlohmann::json& j) {
  std::set<std::string> out;
  if (!j.is_array()) return out;
  for (const nlohmann::json& x : j) out.insert(x.is_string() ? x.get<std::string>() : x.dump());
  return out;
}

}  // namespace

void CheckSchema(TestPostgres* pg, const std::string& prod_db, const std::string& dev_db,
                 const std::string& shadow_db, bool keep_prod_objects, TruthFindings* f) {
  absl::StatusOr<std::vector<Entry>> d = CachedSchema(pg, dev_db);
  absl::StatusOr<std::vector<Entry>> s = SchemaEntries(pg, shadow_db);
  absl::StatusOr<std::vector<Entry>> p =
      keep_prod_objects ? CachedSchema(pg, prod_db) : std::vector<Entry>();
  for (const auto* e : {&d, &s, &p}) {
    if (!e->ok()) {
      f->schema.push_back(absl::StrCat("pg_dump --schema-only failed: ", e->status().ToString()));
      return;
    }
  }
  std::vector<std::string> want = Lines(*d), got = Lines(*s);
  if (keep_prod_objects) {
    // Tables are merged, and what hangs on them follows development's.
    static const std::set<std::string> kMerged = {"TABLE", "DEFAULT", "SEQUENCE OWNED BY",
                                                  "COMMENT", "ACL", "DATABASE"};
    std::set<std::string> dev_ids;
    for (const Entry& e : *d) dev_ids.insert(e.id);
    for (const Entry& e : *p) {
      if (e.id.empty() || dev_ids.count(e.id) || kMerged.count(e.type)) continue;
      for (const std::string& l : e.lines) {
        // pg_dump's session settings go where the next entry needs them.
        if (!absl::StartsWith(l, "SET ")) want.push_back(l);
      }
    }
  }
  if (want == got) return;
  std::multiset<std::string> wm(want.begin(), want.end()), gm(got.begin(), got.end());
  if (keep_prod_objects && wm == gm) return;  // Production's objects come in its own order.
  if (wm == gm) {
    f->schema.push_back("shadow's schema has development's lines in another order");
    return;
  }
  std::set<std::string> all(want.begin(), want.end());
  all.insert(got.begin(), got.end());
  for (const std::string& l : all) {
    size_t w = wm.count(l), g = gm.count(l);
    if (w > g) f->schema.push_back(absl::StrCat("shadow's schema lacks (", w - g, "x): ", l));
    if (g > w) f->schema.push_back(absl::StrCat("shadow's schema adds (", g - w, "x): ", l));
  }
}

void CheckSequences(TestPostgres* pg, const std::string& prod_db, const std::string& dev_db,
                    const std::string& shadow_db, TruthFindings* f) {
  Session session(pg, shadow_db);
  Session prod(pg, prod_db), dev(pg, dev_db);
  absl::StatusOr<Rows> cols = session.Query(R"(
    SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
           coalesce(pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname),
                    substring(pg_get_expr(d.adbin, d.adrelid) from $$nextval\('(.*)'::regclass\)$$))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema'))");
  if (!cols.ok()) {
    f->schema.push_back(cols.status().ToString());
    return;
  }
  for (const auto& c : *cols) {
    if (!c[2]) continue;
    // In the sequence's direction: past the largest value going up, the
    // smallest going down.
    absl::StatusOr<Rows> v = session.Query(absl::StrCat(
        "SELECT CASE WHEN s.seqincrement > 0 THEN (SELECT max(", *c[1], ")::bigint FROM ONLY ",
        *c[0], ") ELSE -(SELECT min(", *c[1], ")::bigint FROM ONLY ", *c[0],
        ") END, CASE WHEN s.seqincrement > 0 THEN q.last_value ELSE -q.last_value END, "
        "q.is_called FROM ", *c[2], " q, pg_sequence s WHERE s.seqrelid = '", *c[2],
        "'::regclass"));
    if (!v.ok() || v->empty()) {
      f->schema.push_back(v.ok() ? "sequence " + *c[2] + " not found" : v.status().ToString());
      continue;
    }
    const auto& row = v->front();
    if (!row[0]) continue;
    int64_t max = std::stoll(*row[0]), last = std::stoll(*row[1]);
    bool called = *row[2] == "t";
    if (!(called ? last < max : last <= max)) continue;
    // Behind: the values past the position (in its direction), and the
    // same of each input past its own position, if it has the table.
    const std::string sign = "(CASE WHEN s.seqincrement > 0 THEN 1 ELSE -1 END)";
    auto past = [&](Session& db, bool own) -> std::optional<std::multiset<std::string>> {
      absl::StatusOr<Rows> r = db.Query(absl::StrCat(
          "SELECT ", *c[1], "::bigint * ", sign, " FROM ONLY ", *c[0], ", ", *c[2],
          " q, pg_sequence s WHERE s.seqrelid = '", *c[2], "'::regclass AND ", *c[1],
          "::bigint * ", sign, " > ",
          own ? absl::StrCat("(q.last_value * ", sign, " - CASE WHEN q.is_called THEN 0 ELSE 1 END)")
              : absl::StrCat(called ? last : last - 1)));
      if (!r.ok()) return std::nullopt;
      std::multiset<std::string> out;
      for (const auto& x : *r) out.insert(*x[0]);
      return out;
    };
    std::optional<std::multiset<std::string>> shadow_past = past(session, false);
    std::optional<std::multiset<std::string>> prod_past = past(prod, true), dev_past = past(dev, true);
    absl::StatusOr<Rows> prod_at = prod.Query(absl::StrCat(
        "SELECT CASE WHEN s.seqincrement > 0 THEN q.last_value ELSE -q.last_value END, q.is_called "
        "FROM ", *c[2], " q, pg_sequence s WHERE s.seqrelid = '", *c[2], "'::regclass"));
    bool inherited = shadow_past.has_value();
    if (inherited && prod_at.ok() && !prod_at->empty()) {
      const int64_t p = std::stoll(*prod_at->front()[0]) - (*prod_at->front()[1] == "t" ? 0 : 1);
      if ((called ? last : last - 1) < p) inherited = false;  // Moved back from production's.
    }
    if (inherited) {
      std::multiset<std::string> held;
      if (prod_past) held.insert(prod_past->begin(), prod_past->end());
      if (dev_past) held.insert(dev_past->begin(), dev_past->end());
      for (const std::string& x : *shadow_past) {
        auto it = held.find(x);
        if (it == held.end()) {
          inherited = false;  // A key past the sequence no input held so.
          break;
        }
        held.erase(it);
      }
    }
    if (!inherited) {
      f->schema.push_back(absl::StrCat("sequence ", *c[2], " is behind ", *c[0], ".", *c[1],
                                       " (in its direction)"));
    }
  }
}

void CheckLargeObjects(TestPostgres* pg, const std::string& base_db, const std::string& prod_db,
                       const std::string& dev_db, const std::string& shadow_db,
                       const std::string& report_json, bool three_way, TruthFindings* f) {
  absl::StatusOr<Contents> b = LargeObjects(pg, base_db), p = LargeObjects(pg, prod_db),
                           d = LargeObjects(pg, dev_db), s = LargeObjects(pg, shadow_db);
  for (const auto* x : {&b, &p, &d, &s}) {
    if (!x->ok()) {
      f->setup.push_back(absl::StrCat("large objects: ", x->status().ToString()));
      return;
    }
  }
  Contents want = *p;
  std::set<std::string> dev_new, deleted;
  for (const auto& [oid, sum] : *d) {
    auto in_base = b->find(oid);
    bool base_has = three_way && in_base != b->end();
    auto in_prod = p->find(oid);
    if (in_prod != p->end()) {
      if (base_has && sum != in_prod->second && in_base->second == in_prod->second) {
        want[oid] = sum;  // Only development changed it.
      }
    } else if (base_has && in_base->second == sum) {
      deleted.insert(oid);
    } else {
      want[oid] = sum;
      dev_new.insert(oid);
    }
  }
  for (const auto& [oid, sum] : want) {
    auto got = s->find(oid);
    if (got == s->end()) {
      f->lost.push_back(absl::StrCat("large object ", oid, dev_new.count(oid) ? " (development's)"
                                                                               : " (production's)"));
    } else if (got->second != sum) {
      auto in_prod = p->find(oid);
      bool prods = in_prod != p->end() && in_prod->second == sum;
      f->changed.push_back(absl::StrCat("large object ", oid, " holds other content than ",
                                        prods ? "production's" : "development's"));
    }
  }
  for (const auto& [oid, sum] : *s) {
    if (!want.count(oid)) {
      f->invented.push_back(absl::StrCat("large object ", oid,
                                         deleted.count(oid) ? " (production deleted it)" : ""));
    }
  }
  nlohmann::json report = nlohmann::json::parse(report_json, nullptr, false);
  if (!report.is_object()) return;  // The row checks say so.
  if (!report.contains("large_objects")) {
    if (!p->empty() || !d->empty()) f->report.push_back("the report has no large_objects");
    return;
  }
  const nlohmann::json& lo = report["large_objects"];
  const nlohmann::json counts = lo.value("counts", nlohmann::json::object());
  auto count = [&](const char* k) { return counts.value(k, int64_t{-1}); };
  if (count("prod") != static_cast<int64_t>(p->size()) ||
      count("dev") != static_cast<int64_t>(d->size()) ||
      count("output") != static_cast<int64_t>(s->size())) {
    f->report.push_back(absl::StrCat("large objects: counts prod/dev/output ", count("prod"),
                                     "/", count("dev"), "/", count("output"),
                                     ", the databases hold ", p->size(), "/", d->size(), "/",
                                     s->size()));
  }
  if (OidList(lo.value("dev_new", nlohmann::json::array())) != dev_new) {
    f->report.push_back("large objects: dev_new is not development's OIDs production lacks");
  }
  if (OidList(lo.value("deleted_in_prod", nlohmann::json::array())) != deleted) {
    f->report.push_back("large objects: deleted_in_prod is not production's deletions");
  }
}

}  // namespace pgmerge::testing::truth
