#include "storage/references.h"

#include <xxhash.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "parser/catalog.h"
#include "parser/copy_text.h"
#include "parser/dump_reader.h"
#include "parser/names.h"

namespace pgmerge::storage {
namespace {

struct Watched {
  parser::TableName table;
  std::string column;
};

// The object a value names, or "" when it names none of them.
std::string MatchObject(std::string_view value, const absl::flat_hash_set<std::string>& objects,
                        const std::string& prefix) {
  std::string v(value);
  if (objects.contains(v)) return v;
  if (!prefix.empty() && absl::StartsWith(v, prefix) &&
      objects.contains(v.substr(prefix.size()))) {
    return v.substr(prefix.size());
  }
  for (size_t p = v.find('/'); p != std::string::npos; p = v.find('/', p + 1)) {
    std::string tail = v.substr(p + 1);
    if (objects.contains(tail)) return tail;
  }
  return "";
}

// Each row of the watched columns that names an object: the visitor gets
// the table's watch, the row's key and the decoded value.
absl::Status Scan(const DumpText& dump, const std::vector<Watched>& watched,
                  const absl::flat_hash_set<std::string>& objects, const std::string& prefix,
                  const std::function<void(const Watched&, const parser::Table&,
                                           std::vector<std::pair<std::string, std::string>>,
                                           std::string, std::string)>& visit,
                  bool require_columns) {
  PGM_ASSIGN_OR_RETURN(parser::Catalog catalog, parser::ReadCatalog(dump.text, dump.name));
  struct Plan {
    const Watched* watch;
    const parser::Table* table;
  };
  absl::flat_hash_map<std::string, std::vector<Plan>> by_table;
  for (const Watched& w : watched) {
    const parser::Table* t = catalog.FindTable(w.table);
    if (t == nullptr || t->ColumnIndex(w.column) < 0) {
      if (require_columns) {
        return absl::FailedPreconditionError(absl::StrCat(
            dump.name, ": no column ", w.table.Display(), ".", w.column, " (--object-column)"));
      }
      continue;
    }
    by_table[t->name.Display()].push_back({&w, t});
  }
  parser::DumpReader reader(dump.text, dump.name);
  parser::DumpEvent ev;
  std::string scratch, key_scratch;
  const std::vector<Plan>* plans = nullptr;
  int64_t block = -1;
  std::vector<int> field_of;  // Table column index -> field index.
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    if (ev.kind != parser::EventKind::kRow) continue;
    if (ev.block != block) {
      block = ev.block;
      auto it = by_table.find(ev.target->table.Display());
      plans = it == by_table.end() ? nullptr : &it->second;
      if (plans != nullptr) {
        const parser::Table& t = *plans->front().table;
        field_of.assign(t.columns.size(), -1);
        for (size_t c = 0; c < t.columns.size(); ++c) {
          if (ev.target->columns.empty()) {
            field_of[c] = static_cast<int>(c);
          } else {
            for (size_t f = 0; f < ev.target->columns.size(); ++f) {
              if (ev.target->columns[f] == t.columns[c].name) field_of[c] = static_cast<int>(f);
            }
          }
        }
      }
    }
    if (plans == nullptr) continue;
    const std::vector<std::string_view>& fields = *ev.fields;
    for (const Plan& p : *plans) {
      int f = field_of[p.table->ColumnIndex(p.watch->column)];
      if (f < 0 || f >= static_cast<int>(fields.size()) || fields[f] == "\\N") continue;
      std::string value(parser::DecodeCopyField(fields[f], &scratch));
      std::string object = MatchObject(value, objects, prefix);
      if (object.empty()) continue;
      std::vector<std::pair<std::string, std::string>> key;
      const parser::UniqueKey* pk = p.table->MergeKey();
      if (pk != nullptr) {
        for (const std::string& c : pk->columns) {
          int kf = field_of[p.table->ColumnIndex(c)];
          std::string v = kf < 0 ? "" : std::string(parser::DecodeCopyField(fields[kf], &key_scratch));
          key.emplace_back(c, v);
        }
      }
      visit(*p.watch, *p.table, std::move(key), std::move(value), std::move(object));
    }
  }
  return absl::OkStatus();
}

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<std::vector<Reference>> DevReferences(
    const DumpText& prod, const DumpText& dev, const std::vector<std::string>& columns,
    const absl::flat_hash_set<std::string>& objects, const std::string& source_prefix) {
  std::vector<Watched> watched;
  for (const std::string& spec : columns) {
    size_t dot = spec.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == spec.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--object-column takes TABLE.COLUMN, not ", spec));
    }
    Watched w;
    std::string_view t(spec.data(), dot);
    if (!parser::ConsumeTableName(&t, &w.table) || !t.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--object-column: bad table in ", spec));
    }
    w.column = spec.substr(dot + 1);
    watched.push_back(std::move(w));
  }
  // Production's rows naming an object: (table, column, key, value). A dev
  // row identical in those is production's row too, which keeps
  // production's file by design.
  absl::flat_hash_set<std::string> in_prod;
  auto identity = [](const Watched& w, const std::vector<std::pair<std::string, std::string>>& key,
                     const std::string& value) {
    std::string id = absl::StrCat(w.table.Display(), "\x1f", w.column);
    for (const auto& [c, v] : key) absl::StrAppend(&id, "\x1f", v);
    absl::StrAppend(&id, "\x1e", value);
    return id;
  };
  PGM_RETURN_IF_ERROR(Scan(
      prod, watched, objects, source_prefix,
      [&](const Watched& w, const parser::Table&, std::vector<std::pair<std::string, std::string>> key,
          std::string value, std::string) { in_prod.insert(identity(w, key, value)); },
      /*require_columns=*/false));
  std::vector<Reference> out;
  PGM_RETURN_IF_ERROR(Scan(
      dev, watched, objects, source_prefix,
      [&](const Watched& w, const parser::Table& t,
          std::vector<std::pair<std::string, std::string>> key, std::string value,
          std::string object) {
        if (in_prod.contains(identity(w, key, value))) return;
        out.push_back({std::move(object), t.name.Display(), w.column, std::move(key),
                       std::move(value)});
      },
      /*require_columns=*/true));
  return out;
}

std::string DevKeyFor(const std::string& key, const std::string& etag) {
  const uint64_t h = XXH3_64bits(etag.empty() ? key.data() : etag.data(),
                                 etag.empty() ? key.size() : etag.size());
  const std::string tag = absl::StrFormat(".dev-%08x", static_cast<uint32_t>(h >> 32));
  size_t slash = key.rfind('/');
  size_t dot = key.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1)) {
    return key + tag;
  }
  return key.substr(0, dot) + tag + key.substr(dot);
}

std::string RenameSql(const std::vector<Reference>& references,
                      const std::map<std::string, std::string>& renamed) {
  std::string sql =
      "-- pgmerge mirror --rename-conflicts: run on development's database, then dump it\n"
      "-- and merge: its rows keep their own files under the new keys.\n"
      "SET standard_conforming_strings = on;\nBEGIN;\n";
  for (const Reference& r : references) {
    auto it = renamed.find(r.object);
    if (it == renamed.end()) continue;
    // Only the key part of the value changes (a URL keeps its host).
    std::string value = r.value.substr(0, r.value.size() - r.object.size()) + it->second;
    std::string col = parser::QuoteIdentifier(r.column);
    absl::StrAppend(&sql, "UPDATE ", r.table, " SET ", col, " = ", Quote(value), " WHERE ");
    for (const auto& [c, v] : r.row_key) {
      absl::StrAppend(&sql, parser::QuoteIdentifier(c), " = ", Quote(v), " AND ");
    }
    absl::StrAppend(&sql, col, " = ", Quote(r.value), ";\n");
  }
  sql += "COMMIT;\n";
  return sql;
}

}  // namespace pgmerge::storage
