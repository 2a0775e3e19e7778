#include "swap/apply.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace pgmerge::swap::internal {
namespace {

std::optional<std::string> ValueOf(const DecodedValue& v) {
  if (v.kind == DecodedValue::Kind::kNull) return std::nullopt;
  return v.text;
}

std::string KeyText(const std::vector<const DecodedColumn*>& key) {
  std::vector<std::string> parts;
  for (const DecodedColumn* c : key) {
    parts.push_back(absl::StrCat(c->name, "=",
                                 c->value.kind == DecodedValue::Kind::kNull ? "NULL" : c->value.text));
  }
  return absl::StrJoin(parts, ", ");
}

// What a refusal names: kept by value, as the statement's outcome comes
// back after the change itself is gone.
struct ChangeRef {
  DecodedChange::Kind kind;
  std::string table;  // Production's, for messages.
  std::string lsn;
};

absl::Status Refuse(const ChangeRef& c, std::string_view why) {
  const char* kind = c.kind == DecodedChange::Kind::kInsert   ? "INSERT"
                     : c.kind == DecodedChange::Kind::kUpdate ? "UPDATE"
                     : c.kind == DecodedChange::Kind::kDelete ? "DELETE"
                                                              : "TRUNCATE";
  return absl::FailedPreconditionError(absl::StrCat(kind, " on ", c.table, " at ", c.lsn,
                                                    " cannot be applied: ", AsAbsl(why)));
}

ChangeRef Ref(const DecodedChange& c, std::string_view lsn) {
  return {c.kind, c.table.Display(), std::string(lsn)};
}

absl::Status RefuseChange(const DecodedChange& c, std::string_view lsn, std::string_view why) {
  return Refuse(Ref(c, lsn), why);
}

}  // namespace

absl::Status Applier::Apply(const DecodedChange& c, std::string_view lsn) {
  if (c.kind == DecodedChange::Kind::kOther) return absl::OkStatus();
  auto it = maps_->tables.find(c.table);
  if (it == maps_->tables.end()) {
    return RefuseChange(c, lsn, "the table is not in production's dump (created on main since)");
  }
  TableMap& t = it->second;
  if (c.kind == DecodedChange::Kind::kTruncate) {
    return RefuseChange(c, lsn, "TRUNCATE on main since the dump: the shadow's table also holds "
                          "development's rows, so it cannot be applied as is");
  }
  if (t.dropped_by_dev) {
    // Its production rows were given up with --allow-drop: so are these.
    if (result_->dropped_tables.empty() || result_->dropped_tables.back() != t.prod_display) {
      result_->dropped_tables.push_back(t.prod_display);
    }
    return absl::OkStatus();
  }
  for (const DecodedColumn& col : c.new_tuple) {
    if (std::find(t.prod_columns.begin(), t.prod_columns.end(), col.name) == t.prod_columns.end()) {
      return RefuseChange(c, lsn, absl::StrCat("column ", col.name,
                                         " is not in production's dump: DDL on main since the dump"));
    }
  }
  switch (c.kind) {
    case DecodedChange::Kind::kInsert: return Insert(c, t, lsn);
    case DecodedChange::Kind::kUpdate: return Update(c, t, lsn);
    case DecodedChange::Kind::kDelete: return Delete(c, t, lsn);
    default: return absl::OkStatus();
  }
}

std::string Applier::Ident(std::string_view name) { return internal::Ident(shadow_, name); }

// With key headroom, a y' key above the range the merge left free may
// meet development's rows: refuse before trying.
absl::Status Applier::CheckHeadroom(const DecodedChange& c, const TableMap& t,
                                    std::string_view lsn) {
  if (t.reserved_to <= 0 || t.key_columns.size() != 1) return absl::OkStatus();
  for (const DecodedColumn& col : c.new_tuple) {
    int64_t k;
    if (col.name == t.key_columns[0] && absl::SimpleAtoi(col.value.text, &k) && k > t.reserved_to) {
      return RefuseChange(c, lsn, absl::StrCat(
          "y' outgrew the key headroom: key ", k, " is above ", t.reserved_to,
          ", the last key the merge left free for production's writes since the dump "
          "(report: key_headroom); merge again with a larger --key-headroom"));
    }
  }
  return absl::OkStatus();
}

absl::Status Applier::Insert(const DecodedChange& c, TableMap& t, std::string_view lsn) {
  PGM_RETURN_IF_ERROR(CheckHeadroom(c, t, lsn));
  std::vector<std::string> cols;
  std::vector<std::optional<std::string>> params;
  for (const DecodedColumn& col : c.new_tuple) {
    auto m = t.to_shadow.find(col.name);
    if (m == t.to_shadow.end()) {
      if (col.value.kind != DecodedValue::Kind::kNull) ++result_->lost_values;
      continue;
    }
    cols.push_back(Ident(m->second));
    params.push_back(ValueOf(col.value));
  }
  for (const auto& [column, value] : t.fills) {
    cols.push_back(Ident(column));
    params.push_back(value);
  }
  std::string sql = absl::StrCat("INSERT INTO ", t.shadow_table, " (", absl::StrJoin(cols, ", "),
                                 ") VALUES (");
  for (size_t i = 0; i < params.size(); ++i) absl::StrAppend(&sql, i ? ", " : "", "$", i + 1);
  sql += ")";
  if (cols.empty()) sql = absl::StrCat("INSERT INTO ", t.shadow_table, " DEFAULT VALUES");
  return pipeline_.Send(sql, params, [this, ref = Ref(c, lsn), pkey = t.shadow_pkey](
                                         const ExecOutcome& r) {
    const bool on_pkey = !r.constraint.empty() && r.constraint == pkey;
    if (r.sqlstate == "23505" && !on_pkey) {
      return Refuse(ref, absl::StrCat(
          "a development row in the shadow has the same value on unique constraint ",
          r.constraint, " (", std::string(r.status.message()),
          "); unifying a y' row with it, as the merge unifies, is not implemented yet"));
    }
    if (r.sqlstate == "23505") {
      return Refuse(ref, absl::StrCat(
          "the shadow already holds a row with that key, a development row (",
          std::string(r.status.message()),
          "). Production's sequence handed out, after the dump, a key the merge gave to a "
          "development row; the cure is key headroom: development's rows placed above "
          "production's sequence plus a margin, so y' never reaches them. Merge again from a "
          "fresh dump"));
    }
    if (!r.status.ok()) return Refuse(ref, std::string(r.status.message()));
    ++result_->inserts;
    return absl::OkStatus();
  });
}

// The WHERE clause that finds the row the change's old values name.
absl::Status Applier::Where(const DecodedChange& c, TableMap& t, std::string_view lsn, std::string* where,
                   std::vector<std::optional<std::string>>* params) {
  if (c.no_tuple_data || t.replident == 'n' ||
      (t.replident != 'f' && t.key_columns.empty())) {
    return RefuseChange(c, lsn, absl::StrCat(
        "the table has no replica identity, so main's WAL does not say which row changed; "
        "give it a primary key or ALTER TABLE ", c.table.Display(),
        " REPLICA IDENTITY FULL before the dump"));
  }
  std::vector<std::string> conds;
  std::vector<const DecodedColumn*> key;
  auto find = [](const std::vector<DecodedColumn>& tuple, const std::string& name) {
    const DecodedColumn* out = nullptr;
    for (const DecodedColumn& col : tuple) {
      if (col.name == name) out = &col;
    }
    return out;
  };
  if (t.replident == 'f') {
    // The whole old row (NULLs left out by test_decoding) names it.
    for (const std::string& pc : t.prod_columns) {
      auto m = t.to_shadow.find(pc);
      if (m == t.to_shadow.end()) continue;
      const DecodedColumn* col = find(c.old_tuple, pc);
      if (col != nullptr && col->value.kind == DecodedValue::Kind::kUnchangedToast) continue;
      if (col == nullptr || col->value.kind == DecodedValue::Kind::kNull) {
        conds.push_back(absl::StrCat(Ident(m->second), " IS NULL"));
      } else {
        params->push_back(col->value.text);
        conds.push_back(absl::StrCat(Ident(m->second), "::text = $", params->size()));
        key.push_back(col);
      }
    }
    *where = absl::StrCat("ctid = (SELECT ctid FROM ", t.shadow_table, " WHERE ",
                          conds.empty() ? "true" : absl::StrJoin(conds, " AND "), " LIMIT 1)");
    key_text_ = KeyText(key);
    return absl::OkStatus();
  }
  for (const std::string& kc : t.key_columns) {
    const DecodedColumn* col = find(c.old_tuple, kc);
    if (col == nullptr) col = find(c.new_tuple, kc);
    auto m = t.to_shadow.find(kc);
    if (col == nullptr || m == t.to_shadow.end()) {
      return RefuseChange(c, lsn, absl::StrCat("its key column ", kc,
                                         m == t.to_shadow.end() ? " was dropped by development"
                                                                : " is missing from the change"));
    }
    params->push_back(ValueOf(col->value));
    conds.push_back(absl::StrCat(Ident(m->second), " = $", params->size()));
    key.push_back(col);
  }
  *where = absl::StrJoin(conds, " AND ");
  key_text_ = KeyText(key);
  return absl::OkStatus();
}

absl::Status Applier::Update(const DecodedChange& c, TableMap& t, std::string_view lsn) {
  std::vector<std::optional<std::string>> params;
  std::vector<std::string> sets;
  for (const DecodedColumn& col : c.new_tuple) {
    auto m = t.to_shadow.find(col.name);
    if (m == t.to_shadow.end()) {
      if (col.value.kind != DecodedValue::Kind::kNull) ++result_->lost_values;
      continue;
    }
    // A TOASTed value the update left alone is not in the WAL: keep it.
    if (col.value.kind == DecodedValue::Kind::kUnchangedToast) continue;
    params.push_back(ValueOf(col.value));
    sets.push_back(absl::StrCat(Ident(m->second), " = $", params.size()));
  }
  PGM_RETURN_IF_ERROR(CheckHeadroom(c, t, lsn));
  std::string where;
  PGM_RETURN_IF_ERROR(Where(c, t, lsn, &where, &params));
  if (sets.empty()) {
    ++result_->updates;
    return absl::OkStatus();
  }
  return pipeline_.Send(
      absl::StrCat("UPDATE ", t.shadow_table, " SET ", absl::StrJoin(sets, ", "), " WHERE ",
                   where),
      params, [this, ref = Ref(c, lsn), key = key_text_](const ExecOutcome& r) {
        if (r.sqlstate == "23505") {
          return Refuse(ref, absl::StrCat(
              "the new key is held by a development row in the shadow (",
              std::string(r.status.message()), ")"));
        }
        if (!r.status.ok()) return Refuse(ref, std::string(r.status.message()));
        if (r.affected == 0) return Refuse(ref, absl::StrCat("the shadow has no row ", key));
        ++result_->updates;
        return absl::OkStatus();
      });
}

absl::Status Applier::Delete(const DecodedChange& c, TableMap& t, std::string_view lsn) {
  std::vector<std::optional<std::string>> params;
  std::string where;
  PGM_RETURN_IF_ERROR(Where(c, t, lsn, &where, &params));
  return pipeline_.Send(
      absl::StrCat("DELETE FROM ", t.shadow_table, " WHERE ", where), params,
      [this, ref = Ref(c, lsn), key = key_text_](const ExecOutcome& r) {
        if (r.sqlstate == "23503") {
          return Refuse(ref, absl::StrCat(
              "development rows in the shadow still reference row ", key,
              ", and the foreign key forbids the delete (", std::string(r.status.message()),
              ")"));
        }
        if (!r.status.ok()) return Refuse(ref, std::string(r.status.message()));
        if (r.affected == 0) ++result_->already_gone;
        ++result_->deletes;
        return absl::OkStatus();
      });
}

}  // namespace pgmerge::swap::internal
