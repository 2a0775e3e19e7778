// Orders the passes (plan.h lists them, a file each).
#include "merger/merge.h"

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "merger/decide.h"
#include "merger/plan.h"
#include "keyspace/sequence_space.h"
#include "parser/dump_reader.h"
#include "parser/pg_node.h"
#include "parser/sql_parser.h"

namespace pgmerge::merger {
namespace {

using namespace internal;  // NOLINT: the passes (plan.h).

// Where a kRemap table's fresh keys may go (decide.h): past every key in
// both dumps and both dumps' sequence positions, the way the sequence
// counts, inside the column's type and the sequence's bounds.
void FillFreshRange(const MergeInputs& m, const Plan& p, TableKeys& k) {
  const int key = p.key_cols[0];
  const parser::Column& key_col = p.dev_column(key);
  const parser::Sequence* seq = SequenceOf(m, key_col);
  const keyspace::SequenceShape shape = ShapeOf(seq);
  const bool down = shape.descending();
  k.key_down = down;
  __int128 taken = Furthest(down);
  auto further = [&](__int128 v) { taken = down ? std::min(taken, v) : std::max(taken, v); };
  if (!down) further(p.max_key);
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    if (p.sequence_cols[j] == key && p.sequence_max[j] != Furthest(p.sequence_down[j])) {
      further(p.sequence_max[j]);
    }
  }
  for (const Catalog* c : {&m.prod_catalog, &m.dev_catalog}) {
    const parser::Sequence* s = seq == nullptr ? nullptr : c->FindSequence(seq->name);
    if (s != nullptr && s->has_setval) {
      further(keyspace::LastTaken(shape, {s->last_value, s->is_called}));
    }
  }
  k.fresh_after = taken;
  if (seq != nullptr) k.fresh_sequence = seq->name.Display();
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  parser::IntegerTypeRange(key_col.type_name, &lo, &hi);
  const int64_t type_lo = lo, type_hi = hi;
  k.fresh_lo = std::max(lo, shape.min_value);
  k.fresh_hi = std::min(hi, shape.max_value);
  k.fresh_what = absl::StrCat(m.dev.name, ":", p.dev->line, ": ", p.report.table, ".",
                              key_col.name, " (", key_col.type, ")");
  const bool type_bound = down ? k.fresh_lo == type_lo : k.fresh_hi == type_hi;
  k.fresh_limit = type_bound || seq == nullptr
                      ? absl::StrCat("the limit of ", key_col.type)
                      : absl::StrCat(down ? "MINVALUE" : "MAXVALUE", " of sequence ",
                                     seq->name.Display());
}

// What the decide pass needs of a plan (decide.h).
TableKeys KeysOf(const MergeInputs& m, const Plan& p) {
  TableKeys k;
  k.name = p.report.table;
  k.mode = p.mode;
  k.int_key = p.int_key;
  k.prod = p.prod_index.get();
  k.dev = p.dev_index.get();
  if (p.base != nullptr) k.base = p.base_index.get();
  for (const TrackedFk& fk : p.fks) k.fk_parent.push_back(fk.parent);
  for (int c : p.key_cols) {
    if (p.fk_slot[c] >= 0) k.key_fk_slots.push_back(p.fk_slot[c]);
  }
  for (const NaturalUnique& u : p.uniques) {
    std::vector<int>& slots = k.unique_fk_slots.emplace_back();
    for (int c : u.columns) {
      if (p.fk_slot[c] >= 0) slots.push_back(p.fk_slot[c]);
    }
  }
  k.prod_unique = &p.prod_unique;
  if (SignsRows(p, m.base != nullptr)) k.signature_width = SignatureWidth(p);
  if (p.mode == Mode::kRemap) {
    FillFreshRange(m, p, k);
    if (m.options.key_headroom > 0 && !k.key_down) {
      const parser::Column& key_col =
          p.dev_column(p.key_cols[0]);
      const parser::Sequence* seq = SequenceOf(m, key_col);
      const parser::Sequence* prod_seq =
          seq == nullptr ? nullptr : m.prod_catalog.FindSequence(seq->name);
      k.prod_top = p.side_max_key[static_cast<int>(Side::kProd)];
      if (prod_seq != nullptr && prod_seq->has_setval) {
        k.prod_top = std::max(k.prod_top, prod_seq->last_value);
      }
      k.headroom = m.options.key_headroom;
      k.fresh_after = std::max<__int128>(k.fresh_after, __int128{k.prod_top} + k.headroom);
    }
  }
  return k;
}

// Counts a plan's decisions, final, into its report. Its children are
// decided from its decisions, its rows written by ordinal: of its indexes
// only production's keys are read again (emit's replaced and contended
// rows), so the rest goes back before emit holds its buffers.
void Settle(const TableKeys& keys, Plan& p) {
  if (p.mode != Mode::kMultiset) {
    for (SideIndex* index : {p.prod_index.get(), p.dev_index.get(), p.base_index.get()}) {
      if (index != nullptr) index->ReleaseAllButKeys();
    }
  }
  p.report.base_high_water = p.decided.base_high_water;
  if (keys.headroom > 0) {
    p.report.key_headroom = {keys.prod_top, keys.prod_top + keys.headroom};
  }
  if (p.mode == Mode::kRemap) {
    // The key's sequence ends past the fresh keys.
    for (size_t j = 0; p.decided.fresh_last && j < p.sequence_cols.size(); ++j) {
      if (p.sequence_cols[j] == p.key_cols[0]) {
        p.sequence_max[j] =
            Further(p.sequence_down[j], p.sequence_max[j], *p.decided.fresh_last);
      }
    }
  }
  TableReport& r = p.report;
  for (uint8_t d : p.decided.decision) {
    switch (d) {
      case kBase:
      case kProdEdit: ++r.base; break;
      case kDevOnly: ++r.dev_only; break;
      case kCollision: ++r.remapped; break;
      case kUnified: ++r.unified; break;
      case kConflict: ++r.conflicts; break;
      case kDeleted: ++r.deleted_in_prod; break;
      case kTakeDev: ++r.taken_from_dev; break;
      default: ++r.dropped; break;
    }
  }
  r.inferred = p.decided.inferred;
  r.ambiguous = static_cast<int64_t>(p.decided.ambiguous.size());
  // The list itself is written by emit, with each row's key as shown.
}

// Which tables' decisions are final, for the emit pass that waits on them
// while the decide pass goes on.
class DecisionBoard {
 public:
  explicit DecisionBoard(size_t tables) : settled_(tables, false) {}
  void Settled(int t) {
    std::lock_guard<std::mutex> lock(mu_);
    settled_[t] = true;
    cv_.notify_all();
  }
  // Decide is over: every table settled, or `status` failed it.
  void Done(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    status_ = std::move(status);
    cv_.notify_all();
  }
  absl::Status Await(int t) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return settled_[t] || done_; });
    if (settled_[t]) return absl::OkStatus();
    return status_.ok() ? absl::InternalError("a table was left undecided") : status_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> settled_;
  bool done_ = false;
  absl::Status status_;
};

// Decides every plan and counts the decisions into its report, telling
// `board` of each table as it settles.
// kRemap tables whose keys are one space: a partitioned table's partitions
// (one table), and tables whose keys one sequence draws (it hands out each
// value once, so two of them holding one key are two rows made apart).
// Per such group of two or more, production's keys of all its tables,
// sorted, with the plan holding each (TableKeys::shared_keys).
std::vector<std::vector<std::pair<int64_t, int>>> SharedKeySpaces(const MergeInputs& m,
                                                                  const Plans& plans,
                                                                  std::vector<int>* group_of) {
  std::vector<std::string> space(plans.tables.size());
  absl::flat_hash_map<std::string, int> members;
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    const Plan& p = plans.tables[t];
    if (p.mode != Mode::kRemap) continue;
    if (p.dev->partition_of) {
      space[t] = absl::StrCat("partitions of ",
                              m.dev_catalog.PartitionChain(*p.dev).back()->name.Display());
    } else if (const parser::Sequence* seq = SequenceOf(
                   m, p.dev_column(p.key_cols[0]))) {
      space[t] = absl::StrCat("sequence ", seq->name.Display());
    }
    if (!space[t].empty()) ++members[space[t]];
  }
  absl::flat_hash_map<std::string, int> group;
  std::vector<std::vector<std::pair<int64_t, int>>> groups;
  group_of->assign(plans.tables.size(), -1);
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    if (space[t].empty() || members[space[t]] < 2) continue;
    auto [it, added] = group.try_emplace(space[t], groups.size());
    if (added) groups.emplace_back();
    (*group_of)[t] = it->second;
    const Plan& p = plans.tables[t];
    const SideIndex& prod = *p.prod_index;
    for (uint32_t i = 0; p.prod != nullptr && i < prod.size(); ++i) {
      groups[it->second].emplace_back(static_cast<int64_t>(prod.key(i)), static_cast<int>(t));
    }
  }
  for (auto& g : groups) std::sort(g.begin(), g.end());
  return groups;
}

absl::Status DecidePlans(const MergeInputs& m, Plans& plans, DecisionBoard& board) {
  std::vector<TableKeys> keys;
  std::vector<TableDecisions*> into;
  std::vector<int> group_of;
  const std::vector<std::vector<std::pair<int64_t, int>>> shared_keys =
      SharedKeySpaces(m, plans, &group_of);
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    Plan& p = plans.tables[t];
    keys.push_back(KeysOf(m, p));
    if (group_of[t] >= 0) {
      keys.back().shared_keys = &shared_keys[group_of[t]];
      keys.back().self = static_cast<int>(t);
    }
    into.push_back(&p.decided);
  }
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    const parser::Table& table = *plans.tables[t].dev;
    if (!table.partition_of) continue;
    if (auto it = plans.plan_of.find(table.partition_of->Display()); it != plans.plan_of.end()) {
      keys[it->second].partitions.push_back(static_cast<int>(t));
    }
  }
  absl::Status decided =
      internal::Decide(keys, m.options.prefer_dev, into, [&](int t) {
        Settle(keys[t], plans.tables[t]);
        board.Settled(t);
      });
  board.Done(decided);
  return decided;
}

// Each dump's catalog, prod's and dev's at once. The catalogs only count
// rows; the index pass checks every one of them.
absl::Status ReadCatalogs(MergeInputs& m) {
  {
    absl::StatusOr<Catalog> prod_catalog;
    std::thread prod_thread([&] {
      prod_catalog = parser::ReadCatalog(m.prod.data, m.prod.name, m.prod.file,
                                         /*check_rows=*/false);
    });
    absl::StatusOr<Catalog> dev_catalog = parser::ReadCatalog(
        m.dev.data, m.dev.name, m.dev.file, /*check_rows=*/false);
    prod_thread.join();
    PGM_ASSIGN_OR_RETURN(m.prod_catalog, std::move(prod_catalog));
    PGM_ASSIGN_OR_RETURN(m.dev_catalog, std::move(dev_catalog));
  }
  if (m.base != nullptr) {
    PGM_ASSIGN_OR_RETURN(m.base_catalog,
                         parser::ReadCatalog(m.base->data, m.base->name,
                                             m.base->file, /*check_rows=*/false));
  }
  // An extension's configuration table whose user rows only production
  // dumped: development's CREATE EXTENSION makes it too (no rows of its own).
  if (!m.dev_catalog.extensions().empty()) {
    for (const parser::Table& t : m.prod_catalog.tables()) {
      if (!t.extension_config || m.dev_catalog.FindTable(t.name) != nullptr) continue;
      parser::Table copy = t;
      copy.row_count = 0;
      m.dev_catalog.AddTable(std::move(copy));
    }
  }
  return absl::OkStatus();
}

// What in production-only object `o` names a table --rename-table renamed
// or a column --rename renamed, under the old name ("" when nothing): its
// SQL, as production wrote it, would fail the restore or, worse, bind to
// another object that now has the old name, and pgmerge writes no SQL of
// its own making in its place. Read from the parse trees: table names in
// RangeVars, column names in String nodes and index columns of statements
// on that table. Function bodies are opaque strings, bound at call time:
// not looked into.
std::string NamesRenamed(const MergeInputs& m, const parser::DumpObject& o) {
  if (m.options.table_renames.empty() && m.options.column_renames.empty()) return "";
  for (const auto& [offset, length] : o.statements) {
    absl::StatusOr<parser::ParsedStatement> p =
        parser::ParsedStatement::Parse(m.prod.data.substr(offset, length), "", 0);
    if (!p.ok()) continue;  // The catalog pass parsed it; not reached.
    // RangeVars: wrapped in lists and expressions, bare in typed fields
    // (IndexStmt's, CreateTrigStmt's, RuleStmt's relation, a policy's table).
    std::vector<parser::Node> relations, names, index_columns;
    for (const char* key : {"RangeVar", "relation", "table"}) p->node().FindAll(key, &relations);
    p->node().FindAll("String", &names);
    p->node().FindAll("IndexElem", &index_columns);
    auto names_column = [&](std::string_view column) {
      return std::any_of(names.begin(), names.end(),
                         [&](parser::Node n) { return n.str("sval") == column; }) ||
             std::any_of(index_columns.begin(), index_columns.end(),
                         [&](parser::Node n) { return n.str("name") == column; });
    };
    for (parser::Node rv : relations) {
      if (rv.str("relname").empty()) continue;
      const TableName t = parser::RangeVarName(rv);
      for (const MergeOptions::TableRename& r : m.options.table_renames) {
        if (Names(r.from, t)) return absl::StrCat("names table ", r.from, ", renamed ", r.to);
      }
      for (const MergeOptions::ColumnRename& r : m.options.column_renames) {
        if (Names(r.table, t) && names_column(r.from)) {
          return absl::StrCat("names column ", r.table, ".", r.from, ", renamed ", r.to);
        }
      }
    }
  }
  return "";
}

// Objects production's schema has and development's lacks (a hotfix index,
// function, trigger): listed, and written only with --keep-prod-objects.
void ListProdOnlyObjects(const MergeInputs& m, Report& report,
                         std::vector<const parser::DumpObject*>& prod_only_objects) {
  for (const parser::DumpObject& o : m.prod_catalog.objects()) {
    // Tables, their data and defaults are merged table by table.
    // Large objects are carried by OID (large_objects.cc).
    static const char* kMerged[] = {"TABLE", "TABLE DATA", "SEQUENCE SET",
                                    "SEQUENCE OWNED BY", "DEFAULT", "COMMENT",
                                    "ACL", "DATABASE", "BLOB", "BLOBS",
                                    "BLOB METADATA", "LARGE OBJECTS"};
    if (std::find_if(std::begin(kMerged), std::end(kMerged),
                     [&](const char* t) { return o.type == t; }) !=
        std::end(kMerged)) {
      continue;
    }
    const auto& dev_objects = m.dev_catalog.objects();
    if (std::find(dev_objects.begin(), dev_objects.end(), o) == dev_objects.end()) {
      ObjectRef ref;
      ref.type = o.type;
      ref.schema = o.schema;
      ref.name = o.name;
      if (m.options.keep_prod_objects) {
        ref.left_out = NamesRenamed(m, o);
        ref.kept = ref.left_out.empty();
        if (ref.kept) prod_only_objects.push_back(&o);
      }
      report.prod_only_objects.push_back(std::move(ref));
    }
  }
}

// A production table the dump holds no data for (no data block, no "Data
// for Name" header, which pg_dump writes even for an empty table): dumped
// with --schema-only, --exclude-table-data or --no-unlogged-table-data.
// Its rows would be missing from the shadow, and so from main after the
// swap. Partitioned tables hold no rows of their own, nor do extensions'
// configuration tables beyond the data they come with.
absl::Status RefuseProdWithoutData(const MergeInputs& m) {
  absl::flat_hash_set<std::string> data_headers;
  for (const parser::DumpObject& o : m.prod_catalog.objects()) {
    if (o.type == "TABLE DATA") data_headers.insert(parser::TableName{o.schema, o.name}.Display());
  }
  for (const parser::Table& t : m.prod_catalog.tables()) {
    if (t.has_data || t.partitioned || t.extension_config || t.view ||
        data_headers.contains(t.name.Display())) {
      continue;
    }
    return InputError(
        m.prod.name, t.line,
        absl::StrCat("production's dump holds no data for table ", t.name.Display(),
                     " (not even an empty block): its rows would be missing from the "
                     "shadow; dump production with its data (not --schema-only, "
                     "--exclude-table-data or --no-unlogged-table-data)"));
  }
  return absl::OkStatus();
}

// A CREATE DATABASE (and its \connect) written out would make another
// database beside the shadow; production's could be, as one of its own
// objects (--keep-prod-objects).
absl::Status RefuseCreateDatabase(const MergeInputs& m) {
  for (const auto& [in, catalog] : {std::pair{&m.prod, &m.prod_catalog},
                                    std::pair{&m.dev, &m.dev_catalog},
                                    std::pair{m.base, &m.base_catalog}}) {
    if (in == nullptr) continue;
    for (const parser::DumpObject& o : catalog->objects()) {
      if (o.type != "DATABASE") continue;
      return InputError(in->name, o.line,
                        absl::StrCat("the dump creates database ", o.name,
                                     " (pg_dump --create); the merge is restored into the "
                                     "shadow database: dump without --create"));
    }
  }
  return absl::OkStatus();
}

// Rows are compared and written byte for byte: the dumps must spell them in
// one encoding (the output declares development's).
absl::Status RefuseTwoEncodings(const MergeInputs& m) {
  auto named = [](const parser::Catalog& c) {
    return c.client_encoding().empty() ? std::string("no client_encoding")
                                       : absl::StrCat("client_encoding ", c.client_encoding());
  };
  for (const auto& [in, catalog] :
       {std::pair{&m.prod, &m.prod_catalog}, std::pair{m.base, &m.base_catalog}}) {
    if (in == nullptr || catalog->client_encoding() == m.dev_catalog.client_encoding()) {
      continue;
    }
    return InputError(m.dev.name, m.dev_catalog.client_encoding_line(),
                      absl::StrCat(named(m.dev_catalog), ", and ", in->name, " has ",
                                   named(*catalog),
                                   ": rows in two encodings cannot be merged byte for byte; "
                                   "dump both with the same --encoding (UTF8)"));
  }
  return absl::OkStatus();
}

// The copies of dumps with values in their session's form
// (RewriteCanonical), by side: made by a run that then stops before any
// output, for the next.
using Copies = std::array<std::optional<CanonicalDump>, 3>;

// The passes, in order. `report` holds what was found so far when the
// merge is refused. `copies`: null when the inputs are such copies already.
absl::Status Run(MergeInputs& m, OutputBuffer* out, Report& report, Copies* copies) {
  Plans plans;
  std::vector<std::string> problems;  // Schema misfits, found before output.
  std::vector<const parser::DumpObject*> prod_only_objects;
  if (!m.options.restrict_key.empty() &&
      !parser::IsValidRestrictKey(m.options.restrict_key)) {
    return absl::InvalidArgumentError("--restrict-key: letters and digits only");
  }
  PGM_RETURN_IF_ERROR(ReadCatalogs(m));
  // A dump cut short is refused (its own errors, if any, came first), before
  // what it lacks is blamed on how it was made.
  for (const DumpInput* in : {&m.prod, &m.dev, m.base}) {
    if (in != nullptr) PGM_RETURN_IF_ERROR(parser::CheckDumpEnd(in->data, in->name));
  }
  PGM_RETURN_IF_ERROR(RefuseCreateDatabase(m));
  PGM_RETURN_IF_ERROR(RefuseProdWithoutData(m));
  PGM_RETURN_IF_ERROR(RefuseTwoEncodings(m));
  report.prod_file = m.prod.name;
  if (!m.dev_catalog.client_encoding().empty()) {
    report.client_encoding = m.dev_catalog.client_encoding();
  }
  report.three_way = m.base != nullptr;
  report.dev_file = m.dev.name;
  ListProdOnlyObjects(m, report, prod_only_objects);
  PGM_RETURN_IF_ERROR(PlanLargeObjects(m, plans, report));
  if (absl::Status built = BuildPlans(m, plans, problems, report); !built.ok()) {
    // Malformed input is reported before a schema that does not fit: check
    // the rows the catalogs only counted.
    for (const DumpInput* in : {&m.prod, &m.dev, m.base}) {
      if (in == nullptr) continue;
      absl::StatusOr<Catalog> full =
          parser::ReadCatalog(in->data, in->name, in->file, /*check_rows=*/true);
      if (!full.ok()) return full.status();
    }
    report.refusals = problems;
    return built;
  }
  // The \restrict key's digests, taken by the index pass (prod, dev, base).
  if (m.options.restrict_key.empty()) m.digests.resize(m.base != nullptr ? 3 : 2);
  auto digest = [&m](size_t i) { return i < m.digests.size() ? &m.digests[i] : nullptr; };
  std::array<int64_t, 3> session_text{};  // A line per side, 0 for none.
  auto line = [&](size_t i) { return copies != nullptr ? &session_text[i] : nullptr; };
  {
    // The two sides are independent until decisions: one core each.
    // (libpg_query frees a thread's parser memory when the thread exits.)
    absl::Status prod_status;
    std::thread prod_thread([&] {
      prod_status = IndexSide(m, Side::kProd, plans, digest(0), line(0));
    });
    absl::Status dev_status = IndexSide(m, Side::kDev, plans, digest(1), line(1));
    prod_thread.join();
    PGM_RETURN_IF_ERROR(prod_status);
    PGM_RETURN_IF_ERROR(dev_status);
  }
  if (m.base != nullptr) {
    PGM_RETURN_IF_ERROR(IndexSide(m, Side::kBase, plans, digest(2), line(2)));
  }
  if (copies != nullptr &&
      (session_text[0] != 0 || session_text[1] != 0 || session_text[2] != 0)) {
    // One thread a dump, as the index pass.
    absl::Status made[3];
    std::vector<std::thread> threads;
    for (size_t i = 0; i < 3; ++i) {
      if (session_text[i] == 0) continue;
      threads.emplace_back([&, i] {
        const Side side = static_cast<Side>(i);
        absl::StatusOr<CanonicalDump> copy = RewriteCanonical(m.dump(side), m.catalog(side));
        if (copy.ok()) {
          (*copies)[i] = std::move(*copy);
        } else {
          made[i] = copy.status();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (const absl::Status& s : made) PGM_RETURN_IF_ERROR(s);
    return absl::OkStatus();  // Nothing written: Merge runs again on the copies.
  }
  JoinSides(plans);
  PGM_RETURN_IF_ERROR(RefuseMisfits(m, plans, report));
  DecisionBoard board(plans.tables.size());
  auto decided = [&board](int t) { return board.Await(t); };
  // The output starts while later tables are still decided, unless the
  // merge may be refused for what decide finds.
  if (!m.options.fail_on_conflict && !m.options.fail_on_ambiguous) {
    absl::Status decide_status;
    std::thread decide_thread(
        [&] { decide_status = DecidePlans(m, plans, board); });
    absl::Status emitted = Emit(m, prod_only_objects, plans, decided, out, report);
    decide_thread.join();
    PGM_RETURN_IF_ERROR(decide_status);  // The cause, if the output waited on it.
    PGM_RETURN_IF_ERROR(emitted);
    return out->Flush();
  }
  PGM_RETURN_IF_ERROR(DecidePlans(m, plans, board));
  auto total = [&](int64_t TableReport::*count) {
    int64_t n = 0;
    for (const Plan& p : plans.tables) n += p.report.*count;
    return n;
  };
  const int64_t conflicts = total(&TableReport::conflicts);
  if (m.options.fail_on_conflict && conflicts > 0) {
    return absl::AbortedError(absl::StrCat(
        conflicts, " conflicts and --fail-on-conflict: nothing written "
                   "(run without it and see --report for the rows)"));
  }
  const int64_t ambiguous = total(&TableReport::ambiguous);
  if (m.options.fail_on_ambiguous && ambiguous > 0) {
    return absl::AbortedError(absl::StrCat(
        ambiguous, " ambiguous decisions and --fail-on-ambiguous: nothing written "
                   "(see --report for the evidence; --base makes the merge exact)"));
  }
  PGM_RETURN_IF_ERROR(Emit(m, prod_only_objects, plans, decided, out, report));
  PGM_RETURN_IF_ERROR(out->Flush());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Report> Merge(const DumpInput& prod, const DumpInput& dev,
                             const MergeOptions& options, OutputBuffer* out,
                             Report* refusal) {
  const bool three_way = !options.base.data.empty() || !options.base.name.empty();
  MergeInputs m{prod, dev, three_way ? &options.base : nullptr, options, {}, {}, {}, {}};
  Report report;
  Copies copies;
  absl::Status s = Run(m, out, report, &copies);
  if (s.ok() && (copies[0] || copies[1] || copies[2])) {
    // A dump with values in its session's form: the same merge over a copy.
    const DumpInput* inputs[] = {&prod, &dev, &options.base};
    DumpInput copied[3];
    std::vector<Report::RewrittenDump> made;
    for (size_t i = 0; i < 3; ++i) {
      copied[i] = *inputs[i];
      if (!copies[i]) continue;
      copied[i].data = copies[i]->file.data();
      copied[i].file = &copies[i]->file;
      made.push_back({inputs[i]->name, copies[i]->values});
    }
    MergeInputs again{copied[0], copied[1], three_way ? &copied[2] : nullptr, options,
                      {}, {}, {}, {}};
    report = Report();
    s = Run(again, out, report, nullptr);
    report.rewritten_dumps = std::move(made);
  }
  if (!s.ok()) {
    if (refusal != nullptr) *refusal = std::move(report);
    return s;
  }
  return report;
}

}  // namespace pgmerge::merger
