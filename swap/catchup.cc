#include "swap/catchup.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "merger/manifest.h"
#include "nlohmann/json.hpp"
#include "swap/apply.h"
#include "swap/pg.h"
#include "swap/stream.h"

namespace pgmerge::swap {
// std::string_view's own tests (absl's string_view is another type here).
inline bool SW(std::string_view s, std::string_view p) { return s.starts_with(p); }
inline bool EW(std::string_view s, std::string_view p) { return s.ends_with(p); }

namespace internal {
namespace {

bool Consume(std::string_view* s, std::string_view prefix) {
  if (!SW(*s, prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

absl::Status ParseError(std::string_view line, std::string_view at, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "test_decoding output not understood at column ", line.size() - at.size() + 1, " (",
      AsAbsl(what), "): ", AsAbsl(line.substr(0, 200))));
}

// ` name[type]:value` repeated; stops before " new-tuple:" or at the end.
absl::Status ParseColumns(std::string_view line, std::string_view* s,
                          std::vector<DecodedColumn>* out) {
  while (!s->empty()) {
    if (SW(*s, " new-tuple:")) return absl::OkStatus();
    if (!Consume(s, " ")) return ParseError(line, *s, "a space before a column");
    DecodedColumn c;
    if (!parser::ConsumeIdentifier(s, &c.name)) return ParseError(line, *s, "a column name");
    if (!Consume(s, "[")) return ParseError(line, *s, "[type]");
    // The type's name (format_type_be) may hold quoted parts and [] for
    // arrays; it ends at the first "]:" outside quotes.
    bool quoted = false;
    size_t i = 0;
    for (; i < s->size(); ++i) {
      char ch = (*s)[i];
      if (ch == '"') quoted = !quoted;
      if (!quoted && ch == ']' && i + 1 < s->size() && (*s)[i + 1] == ':') break;
    }
    if (i >= s->size()) return ParseError(line, *s, "the end of [type]");
    c.type = std::string(s->substr(0, i));
    s->remove_prefix(i + 2);
    if (Consume(s, "'")) {
      // Quoted: '' is a quote; the value ends at a lone quote.
      c.value.kind = DecodedValue::Kind::kText;
      for (;;) {
        size_t q = s->find('\'');
        if (q == std::string_view::npos) return ParseError(line, *s, "the closing quote");
        c.value.text.append(s->substr(0, q));
        s->remove_prefix(q + 1);
        if (!Consume(s, "'")) break;
        c.value.text.push_back('\'');
      }
    } else if (Consume(s, "B'")) {
      size_t q = s->find('\'');
      if (q == std::string_view::npos) return ParseError(line, *s, "the end of a bit string");
      c.value = {DecodedValue::Kind::kText, std::string(s->substr(0, q))};
      s->remove_prefix(q + 1);
    } else {
      // Numbers, booleans, null and the unchanged TOAST marker hold no space.
      size_t end = s->find(' ');
      std::string_view token = s->substr(0, end);
      s->remove_prefix(token.size());
      if (token.empty()) return ParseError(line, *s, "a value");
      if (token == "null") {
        c.value.kind = DecodedValue::Kind::kNull;
      } else if (token == "unchanged-toast-datum") {
        c.value.kind = DecodedValue::Kind::kUnchangedToast;
      } else {
        c.value = {DecodedValue::Kind::kText, std::string(token)};
      }
    }
    out->push_back(std::move(c));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DecodedChange> ParseTestDecoding(std::string_view line) {
  DecodedChange change;
  if (line == "BEGIN" || SW(line, "BEGIN ")) {
    change.kind = DecodedChange::Kind::kBegin;
    return change;
  }
  if (line == "COMMIT" || SW(line, "COMMIT ")) {
    change.kind = DecodedChange::Kind::kCommit;
    return change;
  }
  std::string_view s = line;
  if (!Consume(&s, "table ")) return change;  // A message or anything else.
  if (!parser::ConsumeTableName(&s, &change.table)) return ParseError(line, s, "a table name");
  if (SW(s, ",") || SW(s, ": TRUNCATE:")) {
    change.kind = DecodedChange::Kind::kTruncate;
    return change;
  }
  std::vector<DecodedColumn>* first = &change.new_tuple;
  if (Consume(&s, ": INSERT:")) {
    change.kind = DecodedChange::Kind::kInsert;
  } else if (Consume(&s, ": UPDATE:")) {
    change.kind = DecodedChange::Kind::kUpdate;
    if (Consume(&s, " old-key:")) first = &change.old_tuple;
  } else if (Consume(&s, ": DELETE:")) {
    change.kind = DecodedChange::Kind::kDelete;
    first = &change.old_tuple;
  } else {
    return ParseError(line, s, "INSERT, UPDATE, DELETE or TRUNCATE");
  }
  if (s == " (no-tuple-data)") {
    change.no_tuple_data = true;
    return change;
  }
  PGM_RETURN_IF_ERROR(ParseColumns(line, &s, first));
  if (first == &change.old_tuple && change.kind == DecodedChange::Kind::kUpdate) {
    if (!Consume(&s, " new-tuple:")) return ParseError(line, s, "new-tuple:");
    if (s == " (no-tuple-data)") {
      change.no_tuple_data = true;
      return change;
    }
    PGM_RETURN_IF_ERROR(ParseColumns(line, &s, &change.new_tuple));
  }
  if (!s.empty()) return ParseError(line, s, "the end of the line");
  return change;
}

}  // namespace internal

namespace {

using internal::Conn;
using internal::DecodedChange;
using internal::DecodedColumn;
using internal::DecodedValue;
using internal::Applier;
using internal::ReportMaps;
using internal::TableMap;
using internal::Result;
using Json = nlohmann::json;

using internal::LsnValue;


absl::StatusOr<parser::TableName> NameOf(const std::string& text) {
  std::string_view s = text;
  parser::TableName name;
  if (!parser::ConsumeTableName(&s, &name) || !s.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the report names a table ", text,
                                                   " that is not a table name"));
  }
  return name;
}

absl::StatusOr<ReportMaps> ReadReport(std::string_view report_json) {
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object() ||
      report.value("format", "") != "pgmerge-report" || !report["tables"].is_array()) {
    return absl::InvalidArgumentError("the report is not a pgmerge merge report");
  }
  if (report.value("refused", false)) {
    return absl::InvalidArgumentError("the report is of a refused merge");
  }
  ReportMaps out;
  for (const Json& t : report["tables"]) {
    if (t.value("status", "") == "new_in_dev") continue;
    std::string table = t.value("table", "");
    std::string prod = t.value("prod_table", "");
    if (prod.empty()) prod = table;
    const Json& m = t.contains("manifest") ? t["manifest"] : Json();
    if (!m.is_object() || !m.contains("prod") || !m.contains("output")) {
      return absl::InvalidArgumentError("the report has no manifest: merge again with this pgmerge");
    }
    TableMap map;
    map.shadow_table = table;
    map.prod_display = prod;
    map.dropped_by_dev = t.value("status", "") == "dropped_by_dev";
    if (t.contains("key_headroom") && t["key_headroom"].is_object()) {
      map.reserved_to = t["key_headroom"].value("reserved_to", int64_t{0});
    }
    std::set<std::string> output;
    for (const Json& c : m["output"].value("columns", Json::array())) output.insert(c.get<std::string>());
    std::map<std::string, std::string> renamed;  // prod -> dev
    for (const Json& c : t.value("schema_changes", Json::array())) {
      const std::string kind = c.value("kind", ""), column = c.value("column", ""),
                        detail = c.value("detail", "");
      constexpr std::string_view kFrom = "production's ", kCarried = " carried across";
      if (kind == "renamed_column" && SW(detail, kFrom) &&
          EW(detail, kCarried)) {
        renamed[detail.substr(kFrom.size(), detail.size() - kFrom.size() - kCarried.size())] = column;
      }
      constexpr std::string_view kFilled = "filled with '", kFill = "' (--fill)";
      if (kind == "added_column" && SW(detail, kFilled) &&
          EW(detail, kFill)) {
        map.fills.emplace_back(
            column, detail.substr(kFilled.size(), detail.size() - kFilled.size() - kFill.size()));
      }
    }
    for (const Json& c : m["prod"].value("columns", Json::array())) {
      std::string col = c.get<std::string>();
      map.prod_columns.push_back(col);
      if (auto r = renamed.find(col); r != renamed.end()) {
        map.to_shadow[col] = r->second;
      } else if (output.count(col) != 0) {
        map.to_shadow[col] = col;
      }
    }
    PGM_ASSIGN_OR_RETURN(parser::TableName name, NameOf(prod));
    out.tables.emplace(name, std::move(map));
  }
  for (const Json& s : report.value("sequences", Json::array())) {
    out.sequences.push_back(s.value("sequence", ""));
  }
  return out;
}

// Main's tables now, against production's dump: any difference is DDL since
// the dump, which the change stream does not carry. Also reads each
// table's replica identity.
absl::Status CheckMainCatalog(PGconn* main, ReportMaps* maps) {
  PGM_ASSIGN_OR_RETURN(
      Result r,
      internal::Exec(
          main,
          "SELECT n.nspname, c.relname, c.relreplident, "
          "array_to_json(ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid "
          "  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum))::text, "
          "array_to_json(ARRAY(SELECT a.attname FROM pg_index i JOIN pg_attribute a "
          "  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = c.oid "
          "  AND CASE c.relreplident WHEN 'd' THEN i.indisprimary "
          "  WHEN 'i' THEN i.indisreplident ELSE false END "
          "  ORDER BY array_position(i.indkey::int2[], a.attnum)))::text, c.relkind "
          "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' "
          "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"));
  std::vector<std::string> problems;
  std::set<parser::TableName> seen;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    parser::TableName name{PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1)};
    seen.insert(name);
    auto it = maps->tables.find(name);
    // A partitioned table holds no rows (its partitions do, and changes
    // name them), so the report need not list it.
    if (it == maps->tables.end() && std::string_view(PQgetvalue(r.get(), i, 5)) == "p") continue;
    if (it == maps->tables.end()) {
      problems.push_back(absl::StrCat("table ", name.Display(),
                                      " was created on main since the dump"));
      continue;
    }
    TableMap& t = it->second;
    t.replident = PQgetvalue(r.get(), i, 2)[0];
    std::vector<std::string> columns;
    for (const Json& c : Json::parse(PQgetvalue(r.get(), i, 3))) columns.push_back(c.get<std::string>());
    for (const Json& c : Json::parse(PQgetvalue(r.get(), i, 4))) t.key_columns.push_back(c.get<std::string>());
    if (columns != t.prod_columns) {
      problems.push_back(absl::StrCat("the columns of ", name.Display(),
                                      " changed on main since the dump: now (",
                                      absl::StrJoin(columns, ", "), "), dumped (",
                                      absl::StrJoin(t.prod_columns, ", "), ")"));
    }
  }
  for (const auto& [name, t] : maps->tables) {
    if (seen.count(name) == 0) {
      problems.push_back(absl::StrCat("table ", name.Display(), " was dropped on main since the dump"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "DDL on main since the dump, which a change stream does not carry (dump and "
      "merge again): ",
      absl::StrJoin(problems, "; ")));
}

}  // namespace

absl::StatusOr<std::string> internal::FindSlot(PGconn* main, const std::string& wanted) {
  PGM_ASSIGN_OR_RETURN(
      Result r, internal::Exec(main,
                               "SELECT slot_name, plugin, active FROM pg_replication_slots "
                               "WHERE slot_type = 'logical' AND database = current_database() "
                               "AND slot_name LIKE 'pgmerge\\_%' ORDER BY slot_name"));
  std::vector<std::string> names;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::string name = PQgetvalue(r.get(), i, 0);
    if (!wanted.empty() && name != wanted) continue;
    if (std::string(PQgetvalue(r.get(), i, 1)) != "test_decoding") {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", name, " does not decode with test_decoding"));
    }
    if (std::string(PQgetvalue(r.get(), i, 2)) == "t") {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", name, " is in use by another session"));
    }
    names.push_back(name);
  }
  if (names.size() == 1) return names[0];
  if (names.empty()) {
    return absl::FailedPreconditionError(
        wanted.empty() ? "main's database has no pgmerge slot: dump it with `pgmerge dump` on a "
                         "server with wal_level=logical"
                       : absl::StrCat("main's database has no pgmerge slot ", wanted));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "main's database has several pgmerge slots (", absl::StrJoin(names, ", "),
      "): name the one its dump made with --slot (FILE.pgmerge.json says)"));
}

namespace {


// Production kept drawing from its sequences: the shadow's must not hand
// those values out again.
absl::StatusOr<int> AdvanceSequences(PGconn* main, PGconn* shadow,
                                     const std::vector<std::string>& sequences) {
  int advanced = 0;
  for (const std::string& seq : sequences) {
    if (seq.empty()) continue;
    const std::string q = absl::StrCat("SELECT last_value, is_called FROM ", seq);
    absl::StatusOr<Result> m = internal::Exec(main, q);
    if (!m.ok()) continue;  // Not on main: new in development.
    PGM_ASSIGN_OR_RETURN(Result s, internal::Exec(shadow, q));
    auto effective = [](PGresult* r) {
      int64_t v = 0;
      absl::SimpleAtoi(PQgetvalue(r, 0, 0), &v);
      return std::string(PQgetvalue(r, 0, 1)) == "t" ? v : v - 1;
    };
    int64_t main_value = effective(m->get()), shadow_value = effective(s.get());
    if (main_value > shadow_value) {
      PGM_RETURN_IF_ERROR(internal::Exec(shadow, absl::StrCat("SELECT setval(",
                                                              internal::Literal(shadow, seq), ", ",
                                                              main_value, ", true)"))
                              .status());
      ++advanced;
    }
  }
  return advanced;
}

}  // namespace

// What a run keeps across its rounds: the report's maps, main's catalog,
// the slot, the shadow's prepared statements and main's change stream.
struct internal::CatchUpRun::State {
  PGconn* shadow = nullptr;
  ReportMaps maps;
  std::string slot;
  std::unique_ptr<internal::ChangeStream> stream;
  std::unique_ptr<Applier> applier;
  CatchUpResult round;  // The round under way; the applier counts into it.
  std::vector<internal::StreamLine> pending;  // Read, not applied: an open transaction.
  uint64_t applied = 0;  // The last commit the shadow holds.
  int batch_changes = 1000;
  std::function<void(std::string_view)> log;
  uint64_t token = 0;  // Tells this run's markers from an earlier run's.
  int rounds = 0;
};

internal::CatchUpRun::CatchUpRun() : s_(std::make_unique<State>()) {}
internal::CatchUpRun::~CatchUpRun() = default;
const std::string& internal::CatchUpRun::slot() const { return s_->slot; }

absl::StatusOr<std::unique_ptr<internal::CatchUpRun>> internal::CatchUpRun::Start(
    PGconn* main, PGconn* replication, PGconn* shadow, const CatchUpOptions& o) {
  std::unique_ptr<CatchUpRun> run(new CatchUpRun());
  State& s = *run->s_;
  s.shadow = shadow;
  s.batch_changes = o.batch_changes;
  s.log = o.log;
  PGM_ASSIGN_OR_RETURN(s.maps, ReadReport(o.report_json));
  // test_decoding prints values with the decoding session's output
  // settings; pg_dump's and the merge's (row_settings) make them the
  // dump's, the report's and the shadow's.
  const manifest::RowSettings settings = manifest::ReadRowSettings(o.report_json);
  PGM_RETURN_IF_ERROR(internal::SetDumpFormats(replication, "UTF8", settings));
  PGM_RETURN_IF_ERROR(internal::SetDumpFormats(shadow, "UTF8", settings));
  // A round's marker (see stream.h) must be on disk, where decoding reads,
  // when it returns, whatever main's synchronous_commit says.
  PGM_RETURN_IF_ERROR(internal::ExecCommand(main, "SET synchronous_commit = local"));
  PGM_RETURN_IF_ERROR(internal::ExecCommand(shadow, "DEALLOCATE ALL"));
  PGM_ASSIGN_OR_RETURN(s.slot, internal::FindSlot(main, o.slot));
  PGM_RETURN_IF_ERROR(CheckMainCatalog(main, &s.maps));
  for (auto& [name, t] : s.maps.tables) {
    if (t.dropped_by_dev) continue;
    PGM_ASSIGN_OR_RETURN(
        t.shadow_pkey,
        internal::QueryValue(shadow,
                             absl::StrCat("SELECT conname FROM pg_constraint WHERE contype = 'p' "
                                          "AND conrelid = ",
                                          internal::Literal(shadow, t.shadow_table),
                                          "::regclass")));
  }
  PGM_RETURN_IF_ERROR(internal::ExecCommand(
      shadow,
      "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS pgmerge; "
      "CREATE TABLE IF NOT EXISTS pgmerge.catchup (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, "
      "transactions bigint NOT NULL, changes bigint NOT NULL)"));
  PGM_ASSIGN_OR_RETURN(std::string confirmed,
                       internal::QueryValue(main, absl::StrCat("SELECT confirmed_flush_lsn FROM "
                                                               "pg_replication_slots WHERE slot_name = ",
                                                               internal::Literal(main, s.slot))));
  PGM_ASSIGN_OR_RETURN(std::string stored,
                       internal::QueryValue(shadow,
                                            absl::StrCat("SELECT lsn FROM pgmerge.catchup WHERE slot = ",
                                                         internal::Literal(shadow, s.slot))));
  if (!stored.empty() && LsnValue(stored) < LsnValue(confirmed)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "slot ", s.slot, " was read up to ", confirmed, " but the shadow holds changes only "
        "up to ", stored, ": something else consumed the slot, and those writes are lost to "
        "the shadow; dump and merge again"));
  }
  s.applied = stored.empty() ? LsnValue(confirmed) : LsnValue(stored);
  s.applier = std::make_unique<Applier>(shadow, &s.maps, &s.round);
  s.token = std::random_device()() ^ static_cast<uint64_t>(std::random_device()()) << 32;
  s.stream = std::make_unique<internal::ChangeStream>(replication);
  // From the slot's position: what the shadow already holds comes again
  // and is skipped (counted), as a crash between the two commits leaves it.
  PGM_RETURN_IF_ERROR(s.stream->Start(s.slot, LsnValue(confirmed)));
  return run;
}

// Applies the whole transactions of `s->pending` in one shadow transaction
// with the applied-LSN row; what follows the last COMMIT stays pending.
absl::Status internal::CatchUpRun::ApplyPending(int64_t* changes_out) {
  State* s = s_.get();
  std::vector<internal::StreamLine>& lines = s->pending;
  int last_commit = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].data == "COMMIT" || SW(lines[i].data, "COMMIT ")) last_commit = static_cast<int>(i);
  }
  if (last_commit < 0) return absl::OkStatus();
  CatchUpResult& result = s->round;
  PGM_RETURN_IF_ERROR(internal::ExecCommand(s->shadow, "BEGIN"));
  absl::Status status = s->applier->Begin();
  int64_t transactions = 0, changes = 0;
  std::vector<DecodedChange> txn;
  std::vector<std::string> txn_lsn;
  uint64_t last_lsn = 0;
  for (int i = 0; i <= last_commit && status.ok(); ++i) {
    const std::string lsn = internal::LsnText(lines[i].lsn);
    absl::StatusOr<DecodedChange> c = internal::ParseTestDecoding(lines[i].data);
    if (!c.ok()) {
      status = c.status();
      break;
    }
    if (c->kind == DecodedChange::Kind::kBegin) {
      txn.clear();
      txn_lsn.clear();
    } else if (c->kind == DecodedChange::Kind::kOther) {
      // A message (our markers) or anything else test_decoding prints.
    } else if (c->kind != DecodedChange::Kind::kCommit) {
      txn.push_back(*std::move(c));
      txn_lsn.push_back(lsn);
    } else if (lines[i].lsn <= s->applied) {
      if (!txn.empty()) ++result.skipped_transactions;  // An earlier run applied it.
    } else {
      for (size_t k = 0; k < txn.size() && status.ok(); ++k) {
        status = s->applier->Apply(txn[k], txn_lsn[k]);
      }
      if (!txn.empty()) ++transactions;
      changes += static_cast<int64_t>(txn.size());
      last_lsn = lines[i].lsn;
    }
  }
  // Every statement's outcome is in (and judged) before the LSN row: a
  // refusal among them rolls the batch back with it.
  if (absl::Status finished = s->applier->Finish(); status.ok()) status = finished;
  if (status.ok() && last_lsn != 0) {
    status = internal::ExecCommand(
        s->shadow,
        absl::StrCat("INSERT INTO pgmerge.catchup VALUES (", internal::Literal(s->shadow, s->slot),
                     ", ", internal::Literal(s->shadow, internal::LsnText(last_lsn)), ", ",
                     transactions, ", ", changes,
                     ") ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn, transactions = "
                     "pgmerge.catchup.transactions + excluded.transactions, changes = "
                     "pgmerge.catchup.changes + excluded.changes"));
  }
  if (status.ok()) status = internal::ExecCommand(s->shadow, "COMMIT");
  if (!status.ok()) {
    internal::ExecCommand(s->shadow, "ROLLBACK").IgnoreError();
    return status;
  }
  lines.erase(lines.begin(), lines.begin() + last_commit + 1);
  if (last_lsn != 0) {
    s->applied = last_lsn;
    result.applied_lsn = internal::LsnText(last_lsn);
    result.transactions += transactions;
  }
  *changes_out += changes;
  // The shadow holds it now; only then may the slot let it go.
  return s->stream->Confirm(s->applied);
}

absl::StatusOr<CatchUpResult> internal::CatchUpRun::Round(PGconn* main, bool final) {
  State& s = *s_;
  s.round = CatchUpResult();
  CatchUpResult& result = s.round;
  result.slot = s.slot;
  result.start_lsn = result.applied_lsn = internal::LsnText(s.applied);
  // Everything committed before now: up to our marker's commit.
  const std::string marker = absl::StrCat("round ", PQbackendPID(main), " ", s.token, " ",
                                          ++s.rounds);
  PGM_ASSIGN_OR_RETURN(
      result.target_lsn,
      internal::QueryValue(main, absl::StrCat("SELECT pg_logical_emit_message(true, 'pgmerge', ",
                                              internal::Literal(main, marker), ")")));
  for (;;) {
    PGM_ASSIGN_OR_RETURN(
        bool reached, s.stream->Read(marker, static_cast<size_t>(s.batch_changes), &s.pending));
    int64_t changes = 0;
    PGM_RETURN_IF_ERROR(ApplyPending(&changes));
    if (s.log && changes > 0) {
      s.log(absl::StrCat("applied up to ", result.applied_lsn, ": ", result.transactions,
                         " transactions"));
    }
    if (reached) break;  // Else a full batch: read on.
  }
  if (final) {
    PGM_ASSIGN_OR_RETURN(result.sequences_advanced,
                         AdvanceSequences(main, s.shadow, s.maps.sequences));
  }
  PGM_ASSIGN_OR_RETURN(
      std::string lag,
      internal::QueryValue(main, absl::StrCat("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ",
                                              internal::Literal(main, result.target_lsn), ")")));
  absl::SimpleAtoi(lag, &result.lag_bytes);
  return result;
}

absl::StatusOr<CatchUpResult> CatchUp(const CatchUpOptions& o) {
  PGM_ASSIGN_OR_RETURN(Conn main, internal::Connect(o.server, o.main));
  PGM_ASSIGN_OR_RETURN(Conn replication, internal::ConnectReplication(o.server, o.main));
  PGM_ASSIGN_OR_RETURN(Conn shadow, internal::Connect(o.server, o.shadow));
  PGM_ASSIGN_OR_RETURN(std::unique_ptr<internal::CatchUpRun> run,
                       internal::CatchUpRun::Start(main.get(), replication.get(), shadow.get(), o));
  PGM_ASSIGN_OR_RETURN(CatchUpResult result, run->Round(main.get(), /*final=*/true));
  run.reset();
  replication.reset();  // The slot is in use while its stream is open.
  if (o.drop_slot) {
    PGM_ASSIGN_OR_RETURN(result.slot_dropped, internal::DropSlotIfPresent(main.get(), result.slot));
    PGM_RETURN_IF_ERROR(internal::ExecCommand(shadow.get(), "DROP SCHEMA pgmerge CASCADE"));
  }
  return result;
}

absl::StatusOr<bool> internal::DropSlotIfPresent(PGconn* conn, const std::string& slot) {
  const std::string literal = internal::Literal(conn, slot);
  // A stream just closed holds the slot until its walsender has exited.
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 10) {
    PGM_ASSIGN_OR_RETURN(std::string active,
                         internal::QueryValue(conn, absl::StrCat("SELECT active FROM "
                                                                 "pg_replication_slots WHERE "
                                                                 "slot_name = ",
                                                                 literal)));
    if (active != "t") break;
    usleep(10000);
  }
  PGM_ASSIGN_OR_RETURN(
      std::string dropped,
      internal::QueryValue(conn, absl::StrCat("SELECT count(pg_drop_replication_slot(slot_name)) "
                                              "FROM pg_replication_slots WHERE slot_name = ",
                                              literal)));
  return dropped != "0";
}



}  // namespace pgmerge::swap
