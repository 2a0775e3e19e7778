#include "merger/manifest.h"

#include "absl/strings/str_format.h"

namespace pgmerge::manifest {
namespace {

nlohmann::ordered_json OneSide(const TableManifest& m) {
  return {{"columns", m.columns}, {"rows", m.rows}, {"hash", HashText(m.hash)}};
}

RowSettings RowSettingsOf(const nlohmann::json& report) {
  RowSettings settings;
  if (report.is_object() && report.contains("row_settings") &&
      report["row_settings"].is_object()) {
    for (const auto& [name, value] : report["row_settings"].items()) {
      if (value.is_string()) settings.emplace_back(name, value.get<std::string>());
    }
  }
  return settings;
}

}  // namespace

RowSettings ReadRowSettings(std::string_view report_json) {
  return RowSettingsOf(nlohmann::json::parse(report_json, nullptr, false));
}

nlohmann::ordered_json RowSettingsJson() {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const RowSetting& s : kRowSettings) j[s.name] = s.value;
  return j;
}

std::string HashText(uint64_t hash) { return absl::StrFormat("%016x", hash); }

const char* TableStatus(bool only_in_prod, bool only_in_dev) {
  return only_in_prod ? kStatusDroppedByDev : only_in_dev ? kStatusNewInDev : kStatusMerged;
}

nlohmann::ordered_json ManifestJson(const TableManifest& output, const TableManifest& prod) {
  return {{"output", OneSide(output)}, {"prod", OneSide(prod)}};
}

namespace {
nlohmann::ordered_json LargeObjectList(const std::vector<ManifestLargeObject>& los) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ManifestLargeObject& lo : los) {
    out.push_back({{"oid", lo.oid}, {"size", lo.size}, {"sha256", lo.sha256}});
  }
  return out;
}
}  // namespace

nlohmann::ordered_json LargeObjectsManifestJson(const std::vector<ManifestLargeObject>& output,
                                                const std::vector<ManifestLargeObject>& prod) {
  return {{"output", LargeObjectList(output)}, {"prod", LargeObjectList(prod)}};
}

std::optional<std::vector<ManifestLargeObject>> ReadLargeObjects(std::string_view report_json,
                                                                 Side side) {
  using Json = nlohmann::json;
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object() || !report.contains("large_objects") ||
      !report["large_objects"].is_object()) {
    return std::nullopt;
  }
  const Json& m = report["large_objects"].value("manifest", Json::object());
  const char* key = side == Side::kOutput ? "output" : "prod";
  if (!m.is_object() || !m.contains(key) || !m[key].is_array()) return std::nullopt;
  std::vector<ManifestLargeObject> out;
  for (const Json& lo : m[key]) {
    if (!lo.is_object() || !lo.contains("oid") || !lo["oid"].is_number_unsigned()) continue;
    ManifestLargeObject x;
    x.oid = lo["oid"].get<uint32_t>();
    x.size = lo.value("size", int64_t{0});
    x.sha256 = lo.value("sha256", "");
    out.push_back(std::move(x));
  }
  return out;
}

nlohmann::ordered_json UnvalidatedJson(const ManifestUnvalidated& unvalidated) {
  nlohmann::ordered_json constraints = nlohmann::ordered_json::array();
  for (const ManifestUnvalidated::Constraint& c : unvalidated.constraints) {
    constraints.push_back({{"table", c.table}, {"constraint", c.name}, {"children", c.children}});
  }
  return {{"constraints", constraints}, {"indexes", unvalidated.indexes}};
}

ManifestUnvalidated ReadUnvalidated(std::string_view report_json) {
  using Json = nlohmann::json;
  Json report = Json::parse(report_json, nullptr, false);
  ManifestUnvalidated out;
  if (report.is_discarded() || !report.is_object() || !report.contains("unvalidated") ||
      !report["unvalidated"].is_object()) {
    return out;
  }
  const Json& u = report["unvalidated"];
  for (const Json& c : u.value("constraints", Json::array())) {
    if (!c.is_object() || !c.value("table", Json()).is_string() ||
        !c.value("constraint", Json()).is_string()) {
      continue;
    }
    out.constraints.push_back({c["table"].get<std::string>(), c["constraint"].get<std::string>(),
                               c.value("children", false)});
  }
  for (const Json& i : u.value("indexes", Json::array())) {
    if (i.is_string()) out.indexes.push_back(i.get<std::string>());
  }
  return out;
}

std::vector<ManifestSequence> ReadSequences(std::string_view report_json) {
  using Json = nlohmann::json;
  Json report = Json::parse(report_json, nullptr, false);
  std::vector<ManifestSequence> out;
  if (report.is_discarded() || !report.is_object() || !report.contains("sequences") ||
      !report["sequences"].is_array()) {
    return out;
  }
  for (const Json& s : report["sequences"]) {
    if (!s.is_object() || !s.contains("sequence") || !s["sequence"].is_string()) continue;
    ManifestSequence m;
    m.sequence = s["sequence"].get<std::string>();
    m.value = s.value("value", int64_t{0});
    m.is_called = s.value("is_called", false);
    m.kept = s.value("kept", false);
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<ManifestTable>> ReadManifest(std::string_view report_json,
                                                        Side side) {
  using Json = nlohmann::json;
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object() ||
      report.value("format", "") != kReportFormat || !report["tables"].is_array()) {
    return absl::InvalidArgumentError("the report is not a pgmerge merge report");
  }
  if (report.value("refused", false)) {
    return absl::InvalidArgumentError(
        "the report is of a refused merge: no shadow was built from it");
  }
  std::vector<ManifestTable> tables;
  const std::string encoding =
      report.contains("client_encoding") && report["client_encoding"].is_string()
          ? report["client_encoding"].get<std::string>()
          : "UTF8";
  const RowSettings settings = RowSettingsOf(report);  // The report read once.
  for (const Json& t : report["tables"]) {
    const std::string status = t.value("status", "");
    if (status == (side == Side::kOutput ? kStatusDroppedByDev : kStatusNewInDev)) {
      continue;
    }
    const Json* m = nullptr;
    if (t.contains("manifest") && t["manifest"].is_object()) {
      const char* key = side == Side::kOutput ? "output" : "prod";
      if (t["manifest"].contains(key)) m = &t["manifest"][key];
    }
    if (m == nullptr || !m->is_object() || !t["table"].is_string()) {
      return absl::InvalidArgumentError("the report has no manifest: merge again with this pgmerge");
    }
    ManifestTable table;
    table.table = t["table"].get<std::string>();
    table.extension_config = t.value("extension_config", false);
    if (side == Side::kProd && t.contains("prod_table") && t["prod_table"].is_string() &&
        !t["prod_table"].get<std::string>().empty()) {
      table.table = t["prod_table"].get<std::string>();
    }
    for (const Json& c : m->value("columns", Json::array())) {
      table.columns.push_back(c.get<std::string>());
    }
    table.rows = m->value("rows", int64_t{0});
    table.hash = m->value("hash", "");
    table.encoding = encoding;
    table.settings = settings;
    if (table.columns.empty()) continue;  // Nothing of it to measure.
    tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace pgmerge::manifest
