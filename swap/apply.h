// How catch-up writes one change of main's stream into the shadow
// (internal to swap/): the report's column maps, production's keys, the
// refusals by name, each statement sent through a pipeline.
#ifndef PGMERGE_SWAP_APPLY_H_
#define PGMERGE_SWAP_APPLY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "parser/names.h"
#include "swap/catchup.h"
#include "swap/pg.h"
#include "swap/pipeline.h"

namespace pgmerge::swap::internal {

// How production's rows of one table land in the shadow, from the report.
struct TableMap {
  std::string shadow_table;  // Quoted, as SQL takes it.
  std::string prod_display;  // For messages.
  bool dropped_by_dev = false;
  std::vector<std::string> prod_columns;
  std::map<std::string, std::string> to_shadow;  // prod column -> shadow column.
  std::vector<std::pair<std::string, std::string>> fills;  // shadow column, value.
  // From main's catalog.
  char replident = 'd';
  std::vector<std::string> key_columns;  // Prod names; empty = no identity.
  std::string shadow_pkey;  // The shadow table's primary key constraint.
  int64_t reserved_to = 0;  // --key-headroom: the last key left to y' (0: none).
};

struct ReportMaps {
  std::map<parser::TableName, TableMap> tables;
  std::vector<std::string> sequences;
};

// Applies changes inside the open shadow transaction through a pipeline:
// a statement's outcome (a collision, no row found) is judged when it
// comes back, which is at the latest at Finish(); counts go to `result`.
class Applier {
 public:
  Applier(PGconn* shadow, ReportMaps* maps, CatchUpResult* result)
      : shadow_(shadow), maps_(maps), result_(result), pipeline_(shadow) {}

  absl::Status Begin() { return pipeline_.Begin(); }
  // Every outcome judged; the first refusal or error.
  absl::Status Finish() { return pipeline_.Finish(); }
  // FailedPrecondition naming the change for what cannot be applied.
  absl::Status Apply(const DecodedChange& c, std::string_view lsn);

 private:
  std::string Ident(std::string_view name);
  absl::Status CheckHeadroom(const DecodedChange& c, const TableMap& t, std::string_view lsn);
  absl::Status Insert(const DecodedChange& c, TableMap& t, std::string_view lsn);
  absl::Status Where(const DecodedChange& c, TableMap& t, std::string_view lsn,
                     std::string* where, std::vector<std::optional<std::string>>* params);
  absl::Status Update(const DecodedChange& c, TableMap& t, std::string_view lsn);
  absl::Status Delete(const DecodedChange& c, TableMap& t, std::string_view lsn);

  PGconn* shadow_;
  ReportMaps* maps_;
  CatchUpResult* result_;
  Pipeline pipeline_;
  std::string key_text_;  // The row Where() named last, for messages.
};

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_APPLY_H_
