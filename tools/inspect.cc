#include "tools/inspect.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace pgmerge::tools {
namespace {

using Json = nlohmann::ordered_json;
using parser::Catalog;
using parser::Table;

std::string_view ActionName(char a) {
  switch (a) {
    case 'r': return "restrict";
    case 'c': return "cascade";
    case 'n': return "set null";
    case 'd': return "set default";
    default: return "no action";
  }
}

std::string_view IdentityName(parser::Identity id) {
  switch (id) {
    case parser::Identity::kAlways: return "always";
    case parser::Identity::kByDefault: return "by default";
    case parser::Identity::kNone: return "";
  }
  return "";
}

Json KeyJson(const parser::UniqueKey& k) {
  Json j;
  j["name"] = k.name;
  j["columns"] = k.columns;
  j["index"] = k.from_index;
  j["partial"] = k.partial;
  j["expression"] = k.has_expressions;
  return j;
}

}  // namespace

std::string CatalogJson(const Catalog& catalog, const std::string& file_name) {
  Json root;
  root["format"] = "pgmerge-inspect";
  root["version"] = 1;
  root["file"] = file_name;
  root["total_rows"] = catalog.total_rows();
  Json tables = Json::array();
  for (const Table& t : catalog.tables()) {
    Json jt;
    jt["name"] = t.name.Display();
    jt["schema"] = t.name.schema;
    jt["table"] = t.name.name;
    jt["rows"] = t.row_count;
    const parser::UniqueKey* key = t.MergeKey();
    jt["key"] = {{"kind", std::string(KeyKindName(t.key_kind()))},
                 {"columns", key ? key->columns : std::vector<std::string>{}},
                 {"source", key == nullptr         ? "none"
                            : key->primary         ? "primary key"
                                                   : "unique"}};
    jt["primary_key"] = t.primary_key ? KeyJson(*t.primary_key) : Json(nullptr);
    Json uniques = Json::array();
    for (const auto& k : t.unique_keys) uniques.push_back(KeyJson(k));
    jt["unique_keys"] = uniques;
    Json fks = Json::array();
    for (const auto& fk : t.foreign_keys) {
      fks.push_back({{"name", fk.name},
                     {"columns", fk.columns},
                     {"references", fk.ref_table.Display()},
                     {"ref_columns", fk.ref_columns},
                     {"on_delete", ActionName(fk.on_delete)},
                     {"on_update", ActionName(fk.on_update)},
                     {"deferrable", fk.deferrable},
                     {"initially_deferred", fk.initially_deferred}});
    }
    jt["foreign_keys"] = fks;
    Json cols = Json::array();
    for (const auto& c : t.columns) {
      Json jc;
      jc["name"] = c.name;
      jc["type"] = c.type;
      jc["not_null"] = c.not_null;
      jc["has_default"] = c.has_default;
      jc["identity"] = IdentityName(c.identity);
      jc["generated"] = c.generated;
      jc["sequence"] = c.sequence.empty() ? Json(nullptr) : Json(c.sequence);
      cols.push_back(std::move(jc));
    }
    jt["columns"] = cols;
    jt["partitioned"] = t.partitioned;
    jt["partition_of"] =
        t.partition_of ? Json(t.partition_of->Display()) : Json(nullptr);
    Json inh = Json::array();
    for (const auto& p : t.inherits) inh.push_back(p.Display());
    jt["inherits"] = inh;
    tables.push_back(std::move(jt));
  }
  root["tables"] = tables;
  Json seqs = Json::array();
  for (const auto& s : catalog.sequences()) {
    Json js;
    js["name"] = s.name.Display();
    js["type"] = s.type;
    js["identity"] = s.identity;
    js["owned_by"] = s.owned_by_table
                         ? Json(absl::StrCat(s.owned_by_table->Display(), ".",
                                             parser::QuoteIdentifier(
                                                 s.owned_by_column)))
                         : Json(nullptr);
    js["start"] = s.start;
    js["increment"] = s.increment;
    js["last_value"] = s.has_setval ? Json(s.last_value) : Json(nullptr);
    js["is_called"] = s.is_called;
    seqs.push_back(std::move(js));
  }
  root["sequences"] = seqs;
  return root.dump(2) + "\n";
}

std::string CatalogText(const Catalog& catalog, const std::string& file_name) {
  std::string out = absl::StrFormat("%s: %d tables, %d rows, %d sequences\n",
                                    file_name, catalog.tables().size(),
                                    catalog.total_rows(),
                                    catalog.sequences().size());
  size_t width = 5;
  for (const Table& t : catalog.tables()) {
    width = std::max(width, t.name.Display().size());
  }
  absl::StrAppendFormat(&out, "%-*s %10s  %-10s %s\n", width, "table", "rows",
                        "key", "key columns");
  for (const Table& t : catalog.tables()) {
    const parser::UniqueKey* key = t.MergeKey();
    std::string note;
    if (t.partitioned) note += "  [partitioned]";
    if (t.partition_of) {
      absl::StrAppend(&note, "  [partition of ", t.partition_of->Display(), "]");
    }
    for (const auto& p : t.inherits) {
      absl::StrAppend(&note, "  [inherits ", p.Display(), "]");
    }
    absl::StrAppendFormat(
        &out, "%-*s %10d  %-10s %s%s\n", width, t.name.Display(), t.row_count,
        KeyKindName(t.key_kind()),
        key ? absl::StrJoin(key->columns, ",") : std::string("-"), note);
    for (const auto& fk : t.foreign_keys) {
      absl::StrAppendFormat(
          &out, "%-*s   fk (%s) -> %s(%s)%s\n", width, "",
          absl::StrJoin(fk.columns, ","), fk.ref_table.Display(),
          absl::StrJoin(fk.ref_columns, ","),
          fk.deferrable ? " deferrable" : "");
    }
  }
  for (const auto& s : catalog.sequences()) {
    absl::StrAppendFormat(
        &out, "sequence %s%s", s.name.Display(), s.identity ? " (identity)" : "");
    if (s.owned_by_table) {
      absl::StrAppend(&out, " owned by ", s.owned_by_table->Display(), ".",
                      parser::QuoteIdentifier(s.owned_by_column));
    }
    if (s.has_setval) {
      absl::StrAppend(&out, " = ", s.last_value, s.is_called ? "" : " (not called)");
    }
    out += "\n";
  }
  return out;
}

}  // namespace pgmerge::tools
