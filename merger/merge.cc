#include "merger/merge.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/status.h"
#include "base/strings.h"
#include "keyspace/key_index.h"
#include "keyspace/sequence_space.h"
#include "parser/catalog.h"
#include "parser/copy_text.h"
#include "parser/dump_reader.h"

namespace pgmerge::merger {
namespace {

using keyspace::HashField;
using keyspace::kHashSeed;
using keyspace::kNoValue;
using keyspace::ParseInt64;
using keyspace::RemapTable;
using keyspace::RowMultiset;
using keyspace::SideIndex;
using parser::Catalog;
using parser::DumpEvent;
using parser::DumpReader;
using parser::EventKind;
using parser::Table;
using parser::TableName;

enum class Side { kProd, kDev, kBase };

// How a table's rows are matched across the two dumps.
enum class Mode {
  kRemap,     // One integer key drawn from a sequence: collisions remapped.
  kFixed,     // Any other key: same key is the same row; never remapped.
  kMultiset,  // No key: rows compared whole, as a multiset.
};

// What happens to one development row.
enum Decision : uint8_t {
  kBase,         // Identical to the prod row with its key: emitted once.
  kDevOnly,      // Kept with its own key.
  kCollision,    // Its key was taken by another prod row: fresh key.
  kUnified,      // Equal to a prod row on a natural unique key: merged.
  kConflict,     // A base row edited on one side: prod's version kept.
  kDeleted,      // Production had deleted it: not brought back.
  kDropUnique,   // Matches different prod rows on different unique keys.
  kDropOrphan,   // Points at a parent row that is not in the output.
  kTakeDev,      // With --base: dev's edit of a base row replaces prod's.
  kProdEdit,     // With --base: prod edited a base row dev left alone.
};

// Marks a remap target not yet allocated (a fresh key): no prod row can
// hold it, so nothing may unify with it.
constexpr int64_t kPendingFresh = std::numeric_limits<int64_t>::max();

// Where a table's data lies in a dump: a COPY block or a run of INSERTs.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  int64_t line = 1;
  bool standard_strings = true;
};

struct TrackedFk {
  int column;  // Index into the plan's dev_cols.
  int parent;  // Index of the parent's plan, whose remap applies.
};

struct NaturalUnique {
  std::string name;
  std::vector<int> columns;  // Indices into dev_cols.
  // A partial unique index: the rows it covers (all must hold).
  struct Condition {
    parser::RowCondition::Kind kind;
    int column;  // Dev col.
    std::string value;
  };
  std::vector<Condition> where;

  // True when the row (fields by dev col) is subject to this key.
  template <typename FieldFn>
  bool Covers(FieldFn field) const {
    for (const Condition& c : where) {
      std::string_view v = field(c.column);
      bool null = v == parser::kCopyNull;
      switch (c.kind) {
        case parser::RowCondition::kIsNull: if (!null) return false; break;
        case parser::RowCondition::kIsNotNull: if (null) return false; break;
        case parser::RowCondition::kIsTrue: if (v != "t") return false; break;
        case parser::RowCondition::kEquals: if (v != c.value) return false; break;
      }
    }
    return true;
  }
};

// A rule development's schema imposes on production's values.
struct TypeCheck {
  enum Kind { kNotNull, kInt, kVarchar, kNumeric, kBool, kEnum, kCompare } kind;
  int column;  // Dev col.
  int64_t lo = 0, hi = 0;  // kInt range; kVarchar length; kNumeric digits.
  const std::vector<std::string>* labels = nullptr;  // kEnum.
  std::string what;  // For messages: "NOT NULL", "smallint"...
  const parser::CheckConstraint::Comparison* compare = nullptr;  // kCompare.
};

// True when `spec` ("schema.table" or "table", meaning public) names `t`.
bool Names(std::string_view spec, const TableName& t) {
  return spec == t.Display() || spec == absl::StrCat(t.schema, ".", t.name) ||
         (t.schema == "public" && spec == t.name);
}

// Number of characters (UTF-8 code points) of a decoded value.
size_t CharLength(std::string_view v) {
  size_t n = 0;
  for (char c : v) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

struct Plan {
  const Table* dev = nullptr;
  const Table* prod = nullptr;
  const Table* base = nullptr;         // With --base only.
  std::vector<std::string> dev_cols;   // Dev's data columns (not generated).
  std::vector<int> shared;             // dev_cols present in prod too.
  std::vector<std::string> prod_cols;  // Prod's data columns.
  std::vector<int> lost_cols;          // prod_cols dev no longer has.
  std::vector<std::string> prod_name;  // Per dev col: prod's column, or "".
  std::vector<std::pair<int, std::string>> fills;  // Dev col, COPY value.
  std::vector<ColumnLoss> losses;      // Per lost_cols, counted on index.
  std::vector<TypeCheck> checks;       // Prod values dev's schema may refuse.
  // Foreign keys development adds: prod's values must find a parent.
  struct NewForeignKey {
    int column;  // Dev col.
    int parent;  // Plan.
    std::string name;
    std::vector<std::pair<uint64_t, int64_t>> values;  // Parent key, line.
  };
  std::vector<NewForeignKey> new_fks;
  int64_t violations = 0;
  std::vector<std::string> violation_samples;
  Mode mode = Mode::kMultiset;
  std::vector<int> key_cols;           // Indices into dev_cols.
  std::vector<int> shown_key_cols;     // The whole key, as reports show it.
  std::vector<TrackedFk> fks;
  std::vector<int> fk_slot;            // Per dev col: index into fks or -1.
  std::vector<NaturalUnique> uniques;
  std::vector<int> sequence_cols;      // Dev cols fed by a sequence.
  // Per sequence_cols: whether its sequence counts down, and the furthest
  // value in that direction (the largest, or the smallest counting down).
  std::vector<bool> sequence_down;
  std::vector<int64_t> sequence_max;
  // kRemap: the furthest key (in its sequence's direction) of development's
  // rows written with their own key or a fresh one; unset if none.
  std::optional<int64_t> new_key_far;
  bool key_down = false;  // kRemap: the key's sequence counts down.
  std::unique_ptr<SideIndex> prod_index;
  std::unique_ptr<SideIndex> dev_index;
  std::unique_ptr<SideIndex> base_index;
  absl::flat_hash_set<uint64_t> prod_replaced;  // Prod keys dev's rows replace.
  RowMultiset prod_multiset;
  // Per natural unique key: hash of prod's values -> prod's key.
  std::vector<absl::flat_hash_map<uint64_t, uint64_t>> prod_unique;
  std::vector<Span> prod_spans;
  std::vector<Span> dev_spans;
  std::vector<Span> base_spans;
  std::vector<uint8_t> decision;       // Per dev row.
  std::vector<uint8_t> unify_via;      // Per dev row: which unique matched.
  std::vector<int64_t> unify_target;   // Per dev row: the prod key.
  absl::flat_hash_map<uint32_t, uint64_t> conflict_of_row;  // -> prod key.
  RemapTable remap;                    // Dev key -> output key.
  absl::flat_hash_set<int64_t> gone;   // Dev keys absent from the output.
  absl::flat_hash_set<uint64_t> conflict_keys;
  int64_t max_key = 0;                 // Over both dumps and sequences.
  // Per side (prod, dev, base) while the sides are indexed in parallel.
  std::array<int64_t, 3> side_max_key{0, 0, 0};
  std::array<std::vector<int64_t>, 3> side_sequence_max;
  TableReport report;
};

// Maps a data block's fields to the plan's columns.
struct Layout {
  std::vector<int> dev;   // Per dev col: field index or -1.
  std::vector<int> prod;  // Per prod col: field index or -1 (prod blocks).
  // The block's fields are exactly these columns, in this order, so a COPY
  // row's text can be hashed or copied whole.
  bool shared_exact = false;
  bool prod_exact = false;
  bool dev_exact = false;
};

// Joins fields with tabs, as COPY writes a row, and hashes the line. The
// merge's row fingerprints and the manifest's row hashes are this value,
// so a live database's COPY output hashes the same way.
class LineHasher {
 public:
  template <typename FieldFn>
  uint64_t Hash(const std::vector<int>& cols, FieldFn field) {
    line_.clear();
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) line_.push_back('\t');
      std::string_view v = field(cols[i]);
      line_.append(v.data(), v.size());
    }
    return LineHash(line_);
  }
  static uint64_t LineHash(std::string_view line) {
    return XXH3_64bits(line.data(), line.size());
  }

 private:
  std::string line_;
};

std::vector<std::string> DataColumns(const Table& t) {
  std::vector<std::string> cols;
  for (const parser::Column& c : t.columns) {
    if (!c.generated) cols.push_back(c.name);
  }
  return cols;
}

int IndexOf(const std::vector<std::string>& v, std::string_view s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == s) return static_cast<int>(i);
  }
  return -1;
}

std::string SqlStringLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string QualifiedSql(const TableName& n) {
  return absl::StrCat(parser::QuoteIdentifier(n.schema), ".",
                      parser::QuoteIdentifier(n.name));
}

// " (a, b)" for a COPY header; nothing for a table with no columns,
// whose COPY names none ("COPY t () FROM stdin" is a syntax error).
std::string ColumnListSql(const std::vector<std::string>& cols,
                          const std::vector<int>& pick) {
  if (pick.empty()) return "";
  std::vector<std::string> q;
  for (int i : pick) q.push_back(parser::QuoteIdentifier(cols[i]));
  return absl::StrCat(" (", absl::StrJoin(q, ", "), ")");
}

// The start of a "furthest value" fold, and one step of it, for a sequence
// counting up (largest) or down (smallest).
int64_t Furthest(bool down) {
  return down ? std::numeric_limits<int64_t>::max()
              : std::numeric_limits<int64_t>::min();
}
int64_t Further(bool down, int64_t a, int64_t b) {
  return down ? std::min(a, b) : std::max(a, b);
}

// A sequence's direction and bounds, PostgreSQL's defaults applied; an
// ascending bigint sequence when the dump does not create it.
keyspace::SequenceShape ShapeOf(const parser::Sequence* s) {
  keyspace::SequenceShape shape;
  if (s == nullptr) return shape;
  shape.increment = s->increment;
  shape.min_value = s->MinValue();
  shape.max_value = s->MaxValue();
  shape.cycle = s->cycle;
  return shape;
}

bool IsIntegerType(std::string_view t) {
  return t == "int2" || t == "int4" || t == "int8";
}

class Merger {
 public:
  Merger(const DumpInput& prod, const DumpInput& dev, const DumpInput* base,
         const MergeOptions& options)
      : prod_(prod), dev_(dev), base_(base), options_(options) {}

  absl::StatusOr<Report> Run(OutputBuffer* out);
  // What the report holds so far (after a refusal: the refusals).
  Report TakeReport() { return std::move(report_); }

 private:
  absl::Status BuildPlans();
  // Maps dev's columns to prod's (renames included), and finds every way
  // prod's rows will not fit dev's columns that the catalogs can tell.
  void FitColumns(Plan& p);
  // Checks prod's values against the plan's TypeChecks (index pass).
  void CheckValues(Plan& p, const std::vector<std::string_view>& f,
                   const Layout& layout, int64_t line);
  absl::Status Index(Side side);
  // Folds what the sides' index passes found per side into the plans.
  void JoinSides();
  absl::Status IndexRow(Plan& p, Side side, LineHasher& hasher,
                        const DumpEvent& ev,
                        const Layout& layout);
  absl::Status Decide();
  std::vector<std::vector<int>> ComponentsParentsFirst() const;
  bool DecideTable(int t);  // Returns whether remap/gone sets changed.
  absl::Status AllocateFresh(int t);
  // The sequence feeding `col` (by its display name), in development's
  // catalog, else production's; null when neither dump creates it.
  const parser::Sequence* SequenceOf(const parser::Column& col) const {
    if (col.sequence.empty()) return nullptr;
    std::string_view text = col.sequence;
    TableName name;
    if (!parser::ConsumeTableName(&text, &name)) return nullptr;
    const parser::Sequence* s = dev_catalog_.FindSequence(name);
    return s != nullptr ? s : prod_catalog_.FindSequence(name);
  }
  uint64_t UniqueHash(const Plan& p, int u, uint64_t base,
                      const std::vector<int64_t>& fk_values, bool* usable) const;
  int64_t Rewrite(const Plan& p, int slot, int64_t v) const;
  absl::Status Emit(OutputBuffer* out);
  absl::Status EmitTable(int t, OutputBuffer* out);
  // Calls fn(reader, event, layout) for every row of `spans`, in order,
  // with the pages behind the reader released. The pass only copies: the
  // index pass already checked every row.
  template <typename Fn>
  absl::Status ForEachRow(Plan& p, Side side, Fn fn);
  void EmitSequences(OutputBuffer* out);
  Layout MakeLayout(const Plan& p, const parser::DataTarget& target,
                    Side side) const;

  const DumpInput& prod_;
  const DumpInput& dev_;
  const DumpInput* base_;  // Null without --base.
  const MergeOptions& options_;
  Catalog prod_catalog_;
  Catalog dev_catalog_;
  Catalog base_catalog_;
  std::vector<Plan> plans_;
  absl::flat_hash_map<std::string, int> plan_of_;  // Display name -> plan.
  // Prod's (and base's) table name -> plan: differs with --rename-table.
  absl::flat_hash_map<std::string, int> prod_plan_of_;
  absl::flat_hash_map<std::string, int64_t> sequence_max_;
  // Per sequence: the furthest key of the rows the merge adds to
  // production's (development's new rows, fresh keys), which the merged
  // sequence must pass. Keys a side already held past its own sequence
  // stay as that side had them, so a dump merged with itself keeps its
  // positions.
  absl::flat_hash_map<std::string, int64_t> sequence_new_;
  std::vector<std::string> problems_;  // Schema misfits, found before output.
  std::vector<const parser::DumpObject*> prod_only_objects_;
  Report report_;
  LineHasher hasher_;
};

absl::StatusOr<Report> Merger::Run(OutputBuffer* out) {
  // The catalogs only count rows; the index pass checks every one of them.
  {
    absl::StatusOr<Catalog> prod_catalog;
    std::thread prod_thread([&] {
      prod_catalog = parser::ReadCatalog(prod_.data, prod_.name, prod_.file,
                                         /*check_rows=*/false);
    });
    absl::StatusOr<Catalog> dev_catalog = parser::ReadCatalog(
        dev_.data, dev_.name, dev_.file, /*check_rows=*/false);
    prod_thread.join();
    PGM_ASSIGN_OR_RETURN(prod_catalog_, std::move(prod_catalog));
    PGM_ASSIGN_OR_RETURN(dev_catalog_, std::move(dev_catalog));
  }
  if (base_ != nullptr) {
    PGM_ASSIGN_OR_RETURN(base_catalog_,
                         parser::ReadCatalog(base_->data, base_->name,
                                             base_->file, /*check_rows=*/false));
  }
  report_.prod_file = prod_.name;
  report_.dev_file = dev_.name;
  for (const parser::DumpObject& o : prod_catalog_.objects()) {
    // Tables, their data and defaults are merged table by table.
    static const char* kMerged[] = {"TABLE", "TABLE DATA", "SEQUENCE SET",
                                    "SEQUENCE OWNED BY", "DEFAULT", "COMMENT",
                                    "ACL", "DATABASE"};
    if (std::find_if(std::begin(kMerged), std::end(kMerged),
                     [&](const char* t) { return o.type == t; }) !=
        std::end(kMerged)) {
      continue;
    }
    const auto& dev_objects = dev_catalog_.objects();
    if (std::find(dev_objects.begin(), dev_objects.end(), o) == dev_objects.end()) {
      report_.prod_only_objects.push_back({o.type, o.schema, o.name});
      prod_only_objects_.push_back(&o);
    }
  }
  if (absl::Status plans = BuildPlans(); !plans.ok()) {
    // Malformed input is reported before a schema that does not fit: check
    // the rows the catalogs only counted.
    for (const DumpInput* in : {&prod_, &dev_, base_}) {
      if (in == nullptr) continue;
      absl::StatusOr<Catalog> full =
          parser::ReadCatalog(in->data, in->name, in->file, /*check_rows=*/true);
      if (!full.ok()) return full.status();
    }
    report_.refusals = problems_;
    return plans;
  }
  {
    // The two sides are independent until decisions: one core each.
    // (libpg_query frees a thread's parser memory when the thread exits.)
    absl::Status prod_status;
    std::thread prod_thread([&] {
      prod_status = Index(Side::kProd);
    });
    absl::Status dev_status = Index(Side::kDev);
    prod_thread.join();
    PGM_RETURN_IF_ERROR(prod_status);
    PGM_RETURN_IF_ERROR(dev_status);
  }
  if (base_ != nullptr) PGM_RETURN_IF_ERROR(Index(Side::kBase));
  JoinSides();
  // Production rows development's schema would refuse, found before any
  // output instead of half way through a restore.
  std::vector<std::string> refused;
  int64_t refused_count = 0;
  for (Plan& p : plans_) {
    for (Plan::NewForeignKey& nfk : p.new_fks) {
      const Plan& parent = plans_[nfk.parent];
      for (const auto& [key, line] : nfk.values) {
        if (parent.prod_index->Find(key) || parent.dev_index->Find(key)) continue;
        ++refused_count;
        std::string message = absl::StrCat(
            prod_.name, ":", line, ": ", p.report.table, ".",
            p.dev_cols[nfk.column], " points at no row of ", parent.report.table,
            ", and development adds the foreign key ", nfk.name);
        if (report_.refusals.size() < 1000) report_.refusals.push_back(message);
        if (refused.size() < 10) refused.push_back(std::move(message));
      }
      nfk.values.clear();
      nfk.values.shrink_to_fit();
    }
  }
  for (const Plan& p : plans_) {
    refused_count += p.violations;
    for (const std::string& sample : p.violation_samples) {
      report_.refusals.push_back(sample);
      if (refused.size() < 10) refused.push_back(sample);
    }
    if (!options_.strict) continue;
    for (const ColumnLoss& loss : p.losses) {
      if (loss.non_default == 0) continue;
      ++refused_count;
      refused.push_back(absl::StrCat(
          dev_.name, ":", p.dev->line, ": development drops ", p.report.table,
          ".", loss.column, ", losing ", loss.non_default,
          " production values that are not its default (--strict); hint: "
          "--rename ", p.report.table, ".", loss.column,
          "=NEW if it was renamed"));
      report_.refusals.push_back(refused.back());
    }
  }
  if (refused_count > 0) {
    for (Plan& p : plans_) {
      p.report.lost_columns = p.losses;
      report_.tables.push_back(p.report);
    }
    return absl::FailedPreconditionError(absl::StrCat(
        absl::StrJoin(refused, "\n"),
        refused_count > static_cast<int64_t>(refused.size())
            ? absl::StrCat("\n(", refused_count - refused.size(), " more)")
            : ""));
  }
  PGM_RETURN_IF_ERROR(Decide());
  int64_t conflicts = 0;
  for (const Plan& p : plans_) conflicts += p.report.conflicts;
  if (options_.fail_on_conflict && conflicts > 0) {
    return absl::AbortedError(absl::StrCat(
        conflicts, " conflicts and --fail-on-conflict: nothing written "
                   "(run without it and see --report for the rows)"));
  }
  PGM_RETURN_IF_ERROR(Emit(out));
  PGM_RETURN_IF_ERROR(out->Flush());
  return std::move(report_);
}

absl::Status Merger::BuildPlans() {
  for (const Table& t : dev_catalog_.tables()) {
    Plan p;
    p.dev = &t;
    p.prod = prod_catalog_.FindTable(t.name);
    if (base_ != nullptr) p.base = base_catalog_.FindTable(t.name);
    p.dev_cols = DataColumns(t);
    p.report.table = t.name.Display();
    p.report.key_kind = std::string(parser::KeyKindName(t.key_kind()));
    if (p.prod == nullptr) {
      for (const MergeOptions::TableRename& r : options_.table_renames) {
        if (!Names(r.to, t.name)) continue;
        std::string_view from = r.from;
        TableName old;
        if (!parser::ConsumeTableName(&from, &old) || !from.empty() ||
            (p.prod = prod_catalog_.FindTable(old)) == nullptr) {
          problems_.push_back(absl::StrCat("--rename-table ", r.from, "=", r.to,
                                           ": production has no table ", r.from));
        } else {
          p.report.schema_changes.push_back(
              {"renamed_table", "", absl::StrCat(old.Display(), " -> ",
                                                 t.name.Display())});
        }
      }
    }
    if (p.prod != nullptr) {
      FitColumns(p);
    } else {
      p.report.only_in_dev = true;
    }
    const parser::UniqueKey* key = t.MergeKey();
    if (key != nullptr && !key->columns.empty()) {
      // A generated key column is not in the data; the columns it is
      // computed from stand in for it (equal inputs, equal value).
      std::vector<std::string> key_columns;
      for (const std::string& c : key->columns) {
        const parser::Column& col = t.columns[t.ColumnIndex(c)];
        for (const std::string& k :
             col.generated ? col.generated_from : std::vector<std::string>{c}) {
          if (IndexOf(key_columns, k) < 0) key_columns.push_back(k);
        }
      }
      for (const std::string& c : key_columns) {
        int i = IndexOf(p.dev_cols, c);
        if (i < 0) {
          return absl::InternalError(absl::StrCat(
              dev_.name, ":", t.line, ": key column ", c, " of ",
              t.name.Display(), " is not in the data"));
        }
        if (p.prod != nullptr && p.prod_name[i].empty() &&
            p.prod->row_count > 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              dev_.name, ":", t.line, ": development added key column ", c,
              " to ", t.name.Display(),
              ", which production's rows have no values for"));
        }
        p.key_cols.push_back(i);
      }
      p.shown_key_cols = p.key_cols;
      parser::KeyKind kind = t.key_kind();
      p.mode = (kind == parser::KeyKind::kSerial ||
                kind == parser::KeyKind::kIdentity)
                   ? Mode::kRemap
                   : Mode::kFixed;
      if (kind == parser::KeyKind::kComposite && !key->has_generated) {
        // A composite key with one sequence-drawn integer column, as
        // payment(payment_date, payment_id): that column alone tells rows
        // apart, and two rows sharing its value collide; it is remapped.
        std::vector<int> drawn;
        for (int c : p.key_cols) {
          const parser::Column& col = t.columns[t.ColumnIndex(p.dev_cols[c])];
          bool is_fk = false;
          for (const parser::ForeignKey& fk : t.foreign_keys) {
            is_fk |= IndexOf(fk.columns, col.name) >= 0;
          }
          if (!is_fk && IsIntegerType(col.type_name) &&
              (!col.sequence.empty() || col.identity != parser::Identity::kNone)) {
            drawn.push_back(c);
          }
        }
        if (drawn.size() == 1) {
          p.mode = Mode::kRemap;
          p.key_cols = drawn;
        }
      }
      if (p.mode == Mode::kRemap) {
        const parser::Sequence* seq =
            SequenceOf(t.columns[t.ColumnIndex(p.dev_cols[p.key_cols[0]])]);
        p.key_down = seq != nullptr && seq->increment < 0;
      }
    }
    for (size_t i = 0; i < p.dev_cols.size(); ++i) {
      const parser::Column& c = t.columns[t.ColumnIndex(p.dev_cols[i])];
      if (!c.sequence.empty() && IsIntegerType(c.type_name)) {
        p.sequence_cols.push_back(i);
        const parser::Sequence* seq = SequenceOf(c);
        const bool down = seq != nullptr && seq->increment < 0;
        p.sequence_down.push_back(down);
        p.sequence_max.push_back(Furthest(down));
      }
    }
    for (auto& side_max : p.side_sequence_max) side_max = p.sequence_max;
    plan_of_[t.name.Display()] = static_cast<int>(plans_.size());
    if (p.prod != nullptr) {
      prod_plan_of_[p.prod->name.Display()] = static_cast<int>(plans_.size());
      p.report.prod_table = p.prod->name.Display();
    }
    plans_.push_back(std::move(p));
  }
  // Production tables development dropped: their rows would be lost.
  for (const Table& t : prod_catalog_.tables()) {
    if (dev_catalog_.FindTable(t.name) != nullptr) continue;
    bool renamed = false;
    for (const MergeOptions::TableRename& r : options_.table_renames) {
      renamed |= Names(r.from, t.name);
    }
    if (renamed) continue;
    bool allowed = std::find(options_.allow_drop.begin(),
                             options_.allow_drop.end(),
                             t.name.Display()) != options_.allow_drop.end() ||
                   std::find(options_.allow_drop.begin(),
                             options_.allow_drop.end(),
                             t.name.name) != options_.allow_drop.end();
    if (t.row_count > 0 && !allowed) {
      problems_.push_back(absl::StrCat(
          prod_.name, ":", t.line, ": table ", t.name.Display(), " has ",
          t.row_count,
          " rows in production but development's schema drops it; hint: "
          "--rename-table ", t.name.Display(),
          "=NEW if development renamed it, or --allow-drop ", t.name.Display(),
          " to lose them"));
      continue;
    }
    TableReport r;
    r.table = t.name.Display();
    r.only_in_prod = true;
    r.prod_rows = t.row_count;
    r.key_kind = std::string(parser::KeyKindName(t.key_kind()));
    report_.tables.push_back(std::move(r));
  }
  // Foreign keys whose values follow a remapped key: to the parent's key
  // itself, or through a parent column that is in turn such a foreign key
  // (post_tags(post_id) referenced by another table).
  std::function<int(int, const std::string&, int)> source =
      [&](int parent, const std::string& col, int depth) -> int {
    if (depth > 8) return -1;
    const Plan& pp = plans_[parent];
    if (pp.mode == Mode::kRemap &&
        pp.dev_cols[pp.key_cols[0]] == col) {
      return parent;
    }
    for (const parser::ForeignKey& fk : pp.dev->foreign_keys) {
      int k = IndexOf(fk.columns, col);
      if (k < 0) continue;
      auto it = plan_of_.find(fk.ref_table.Display());
      if (it == plan_of_.end()) continue;
      const Plan& gp = plans_[it->second];
      std::vector<std::string> ref = fk.ref_columns;
      if (ref.empty() && gp.dev->primary_key) ref = gp.dev->primary_key->columns;
      if (k >= static_cast<int>(ref.size())) continue;
      int s = source(it->second, ref[k], depth + 1);
      if (s >= 0) return s;
    }
    return -1;
  };
  for (size_t t = 0; t < plans_.size(); ++t) {
    Plan& p = plans_[t];
    p.fk_slot.assign(p.dev_cols.size(), -1);
    for (const parser::ForeignKey& fk : p.dev->foreign_keys) {
      auto it = plan_of_.find(fk.ref_table.Display());
      if (it == plan_of_.end()) continue;
      const Plan& parent = plans_[it->second];
      std::vector<std::string> ref = fk.ref_columns;
      if (ref.empty() && parent.dev->primary_key) {
        ref = parent.dev->primary_key->columns;
      }
      for (size_t k = 0; k < fk.columns.size() && k < ref.size(); ++k) {
        int col = IndexOf(p.dev_cols, fk.columns[k]);
        if (col < 0 || p.fk_slot[col] >= 0) continue;
        int src = source(it->second, ref[k], 0);
        if (src < 0) continue;
        p.fk_slot[col] = static_cast<int>(p.fks.size());
        p.fks.push_back({col, src});
      }
    }
    // Natural unique keys: not the merge key, not drawn from a sequence.
    const parser::UniqueKey* merge_key = p.dev->MergeKey();
    for (const parser::UniqueKey& u : p.dev->unique_keys) {
      if (&u == merge_key || (u.partial && !u.simple_predicate) ||
          u.columns.empty()) {
        continue;
      }
      NaturalUnique nu;
      nu.name = u.name;
      bool ok = true;
      for (const parser::RowCondition& c : u.predicate) {
        int i = IndexOf(p.dev_cols, c.column);
        if (i < 0 || (p.prod != nullptr && p.prod_name[i].empty())) ok = false;
        nu.where.push_back({c.kind, i, c.value});
      }
      for (const std::string& c : u.columns) {
        int i = IndexOf(p.dev_cols, c);
        const parser::Column* col =
            i < 0 ? nullptr : &p.dev->columns[p.dev->ColumnIndex(c)];
        if (i < 0 || (p.prod != nullptr && p.prod_name[i].empty()) ||
            !col->sequence.empty() || col->identity != parser::Identity::kNone) {
          ok = false;
          break;
        }
        nu.columns.push_back(i);
      }
      if (ok) p.uniques.push_back(std::move(nu));
    }
    p.prod_unique.resize(p.uniques.size());
    int fk_width = static_cast<int>(p.fks.size());
    int unique_width = static_cast<int>(p.uniques.size());
    p.prod_index = std::make_unique<SideIndex>(0, 0);
    p.dev_index = std::make_unique<SideIndex>(fk_width, unique_width);
    p.base_index = std::make_unique<SideIndex>(0, 0);
    p.dev_index->Reserve(p.dev->row_count);
    if (p.prod != nullptr) p.prod_index->Reserve(p.prod->row_count);
    if (p.base != nullptr) p.base_index->Reserve(p.base->row_count);
  }
  // Foreign keys development adds, to a parent's single-column key.
  for (Plan& p : plans_) {
    if (p.prod == nullptr) continue;
    for (const parser::ForeignKey& fk : p.dev->foreign_keys) {
      if (fk.columns.size() != 1) continue;
      int col = IndexOf(p.dev_cols, fk.columns[0]);
      auto it = plan_of_.find(fk.ref_table.Display());
      if (col < 0 || p.prod_name[col].empty() || it == plan_of_.end()) continue;
      const Plan& parent = plans_[it->second];
      if (parent.prod == nullptr || parent.mode == Mode::kMultiset ||
          parent.shown_key_cols.size() != 1 ||
          parent.fk_slot[parent.shown_key_cols[0]] >= 0) {
        continue;
      }
      const std::string& ref_col = parent.dev_cols[parent.shown_key_cols[0]];
      if (!fk.ref_columns.empty() && fk.ref_columns[0] != ref_col) continue;
      bool prod_has = false;
      for (const parser::ForeignKey& pfk : p.prod->foreign_keys) {
        prod_has |= pfk.columns.size() == 1 && pfk.columns[0] == p.prod_name[col] &&
                    pfk.ref_table == parent.prod->name;
      }
      if (!prod_has) {
        p.new_fks.push_back({col, it->second, fk.name, {}});
      }
    }
  }
  if (!problems_.empty()) {
    return absl::FailedPreconditionError(absl::StrJoin(problems_, "\n"));
  }
  return absl::OkStatus();
}

void Merger::JoinSides() {
  for (Plan& p : plans_) {
    for (int64_t m : p.side_max_key) p.max_key = std::max(p.max_key, m);
    for (const auto& side_max : p.side_sequence_max) {
      for (size_t j = 0; j < side_max.size(); ++j) {
        p.sequence_max[j] = Further(p.sequence_down[j], p.sequence_max[j], side_max[j]);
      }
    }
  }
}

void Merger::FitColumns(Plan& p) {
  const Table& dev = *p.dev;
  const Table& prod = *p.prod;
  const std::string& table = p.report.table;
  p.prod_cols = DataColumns(prod);
  p.prod_name.assign(p.dev_cols.size(), "");
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    std::string source = p.dev_cols[i];
    for (const MergeOptions::ColumnRename& r : options_.column_renames) {
      if (Names(r.table, dev.name) && r.to == p.dev_cols[i]) {
        source = r.from;
        if (IndexOf(p.prod_cols, source) < 0) {
          problems_.push_back(absl::StrCat("--rename ", r.table, ".", r.from, "=",
                                           r.to, ": production's ", table,
                                           " has no column ", r.from));
        } else {
          p.report.schema_changes.push_back(
              {"renamed_column", r.to, absl::StrCat("production's ", r.from,
                                                    " carried across")});
        }
      }
    }
    if (IndexOf(p.prod_cols, source) >= 0) {
      p.prod_name[i] = source;
      p.shared.push_back(i);
    }
  }
  for (size_t j = 0; j < p.prod_cols.size(); ++j) {
    if (std::find(p.prod_name.begin(), p.prod_name.end(), p.prod_cols[j]) ==
        p.prod_name.end()) {
      p.lost_cols.push_back(j);
      ColumnLoss loss;
      loss.column = p.prod_cols[j];
      p.losses.push_back(loss);
    }
  }
  const bool has_rows = prod.row_count > 0;
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    const parser::Column& dc = dev.columns[dev.ColumnIndex(p.dev_cols[i])];
    if (p.prod_name[i].empty()) {
      // A column development added.
      std::string how = dc.has_default || dc.identity != parser::Identity::kNone
                            ? "its default applies"
                            : dc.not_null ? "" : "NULL";
      for (const MergeOptions::ColumnFill& f : options_.fills) {
        if (Names(f.table, dev.name) && f.column == dc.name) {
          std::string value;
          parser::AppendCopyEscaped(f.value, &value);
          p.fills.emplace_back(static_cast<int>(i), value);
          how = absl::StrCat("filled with '", f.value, "' (--fill)");
        }
      }
      if (how.empty() && has_rows) {
        // Would fail the restore: say so now, with what resolves it.
        std::string hint = absl::StrCat("--fill ", table, ".", dc.name, "=VALUE");
        for (int j : p.lost_cols) {
          const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_cols[j])];
          if (pc.type == dc.type) {
            absl::StrAppend(&hint, ", or --rename ", table, ".", pc.name, "=",
                            dc.name, " if it was renamed");
          }
        }
        problems_.push_back(absl::StrCat(
            dev_.name, ":", dev.line, ": column ", table, ".", dc.name,
            " is new in development, NOT NULL without a default, and "
            "production has ", prod.row_count, " rows with no value for it; hint: ",
            hint));
        how = "no value (refused)";
      }
      p.report.schema_changes.push_back({"added_column", dc.name, how});
      continue;
    }
    const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_name[i])];
    if (dc.not_null && !pc.not_null) {
      p.checks.push_back({TypeCheck::kNotNull, static_cast<int>(i), 0, 0, nullptr,
                          "NOT NULL"});
    }
    const auto enum_labels = dev_catalog_.enums().find(dc.type_name);
    const auto prod_labels = prod_catalog_.enums().find(pc.type_name);
    bool enum_narrowed = enum_labels != dev_catalog_.enums().end() &&
                         (prod_labels == prod_catalog_.enums().end() ||
                          prod_labels->second != enum_labels->second);
    if (dc.type == pc.type && !enum_narrowed) continue;
    std::string change = absl::StrCat(pc.type, " -> ", dc.type);
    TypeCheck check{TypeCheck::kInt, static_cast<int>(i), 0, 0, nullptr, dc.type};
    bool checkable = true;
    if (dc.is_array) {
      checkable = false;
    } else if (dc.type_name == "int2") {
      check.lo = -32768, check.hi = 32767;
    } else if (dc.type_name == "int4") {
      check.lo = std::numeric_limits<int32_t>::min();
      check.hi = std::numeric_limits<int32_t>::max();
    } else if (dc.type_name == "int8") {
      check.lo = std::numeric_limits<int64_t>::min();
      check.hi = std::numeric_limits<int64_t>::max();
    } else if ((dc.type_name == "varchar" || dc.type_name == "bpchar") &&
               dc.type.find('(') != std::string::npos) {
      check.kind = TypeCheck::kVarchar;
      check.hi = std::atoll(dc.type.c_str() + dc.type.find('(') + 1);
    } else if (dc.type_name == "varchar" || dc.type_name == "text") {
      continue;  // Any text fits.
    } else if (dc.type_name == "numeric" && dc.type.find('(') != std::string::npos) {
      check.kind = TypeCheck::kNumeric;
      int precision = std::atoi(dc.type.c_str() + dc.type.find('(') + 1);
      size_t comma = dc.type.find(',');
      int scale = comma == std::string::npos ? 0 : std::atoi(dc.type.c_str() + comma + 1);
      check.hi = precision - scale;  // Digits allowed before the point.
    } else if (dc.type_name == "bool") {
      check.kind = TypeCheck::kBool;
    } else if (enum_labels != dev_catalog_.enums().end()) {
      check.kind = TypeCheck::kEnum;
      check.labels = &enum_labels->second;
      change = enum_narrowed && dc.type == pc.type
                   ? absl::StrCat("enum ", dc.type, " changed its labels")
                   : change;
    } else {
      checkable = false;
    }
    if (checkable) {
      p.checks.push_back(check);
      p.report.schema_changes.push_back(
          {"type_change", dc.name, absl::StrCat(change, ": every value checked")});
    } else {
      p.report.schema_changes.push_back(
          {"restore_risk", dc.name,
           absl::StrCat(change, ": pgmerge cannot check the values; PostgreSQL "
                                "will on restore")});
    }
  }
  // CHECK constraints development adds: the simple ones are evaluated on
  // production's rows; the rest are a restore risk, said so.
  for (const parser::CheckConstraint& check : dev.checks) {
    bool prod_has = false;
    for (const parser::CheckConstraint& pc : prod.checks) {
      bool same = pc.name == check.name && pc.simple == check.simple &&
                  pc.comparisons.size() == check.comparisons.size();
      for (size_t k = 0; same && k < pc.comparisons.size(); ++k) {
        same = pc.comparisons[k].column == check.comparisons[k].column &&
               pc.comparisons[k].op == check.comparisons[k].op &&
               pc.comparisons[k].value == check.comparisons[k].value;
      }
      prod_has |= same;
    }
    if (prod_has) continue;
    bool checked = check.simple;
    for (const auto& cmp : check.comparisons) {
      int col = IndexOf(p.dev_cols, cmp.column);
      if (col < 0 || p.prod_name[col].empty()) {
        checked = false;
        continue;
      }
      TypeCheck tc{TypeCheck::kCompare, col, 0, 0, nullptr,
                   absl::StrCat("CHECK ", check.name)};
      tc.compare = &cmp;
      p.checks.push_back(tc);
    }
    p.report.schema_changes.push_back(
        {checked ? "new_check" : "restore_risk", "",
         checked ? absl::StrCat("CHECK ", check.name, ": every production value checked")
                 : absl::StrCat("CHECK ", check.name,
                                ": pgmerge cannot evaluate it; PostgreSQL will on restore")});
  }
  // Columns dropped next to columns added of the same type look renamed.
  for (int j : p.lost_cols) {
    const parser::Column& pc = prod.columns[prod.ColumnIndex(p.prod_cols[j])];
    for (size_t i = 0; i < p.dev_cols.size(); ++i) {
      if (!p.prod_name[i].empty()) continue;
      const parser::Column& dc = dev.columns[dev.ColumnIndex(p.dev_cols[i])];
      if (dc.type == pc.type) {
        p.report.schema_changes.push_back(
            {"likely_rename", dc.name,
             absl::StrCat("production's ", pc.name, " (", pc.type,
                          ") was dropped as this was added: --rename ", table, ".",
                          pc.name, "=", dc.name, " carries its values across")});
      }
    }
  }
}

void Merger::CheckValues(Plan& p, const std::vector<std::string_view>& f,
                         const Layout& layout, int64_t line) {
  std::string scratch;
  for (const TypeCheck& c : p.checks) {
    int k = layout.dev[c.column];
    std::string_view v = k >= 0 ? f[k] : parser::kCopyNull;
    bool ok = true;
    if (v == parser::kCopyNull) {
      ok = c.kind != TypeCheck::kNotNull;
    } else {
      switch (c.kind) {
        case TypeCheck::kNotNull:
          break;
        case TypeCheck::kInt: {
          int64_t n;
          ok = ParseInt64(v, &n) && n >= c.lo && n <= c.hi;
          break;
        }
        case TypeCheck::kVarchar:
          ok = CharLength(parser::DecodeCopyField(v, &scratch)) <=
               static_cast<size_t>(c.hi);
          break;
        case TypeCheck::kNumeric: {
          std::string_view d = v;
          if (!d.empty() && (d[0] == '-' || d[0] == '+')) d.remove_prefix(1);
          size_t point = d.find('.');
          std::string_view whole = d.substr(0, point);
          while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
          ok = d != "NaN" && (whole == "0" || static_cast<int64_t>(whole.size()) <= c.hi);
          break;
        }
        case TypeCheck::kBool: {
          static const char* kWords[] = {"t", "f", "true", "false", "yes", "no",
                                         "on", "off", "1", "0", "y", "n"};
          ok = false;
          for (const char* w : kWords) ok |= EqualsIgnoreCase(v, w);
          break;
        }
        case TypeCheck::kCompare: {
          // Non-numbers cannot be judged here; PostgreSQL will.
          std::string text(v);
          char* end = nullptr;
          double x = std::strtod(text.c_str(), &end);
          if (end == text.c_str() || *end != '\0') break;
          const double y = c.compare->value;
          const std::string& op = c.compare->op;
          ok = op == "<"    ? x < y
               : op == "<=" ? x <= y
               : op == ">"  ? x > y
               : op == ">=" ? x >= y
               : op == "="  ? x == y
                            : x != y;
          break;
        }
        case TypeCheck::kEnum: {
          std::string_view raw = parser::DecodeCopyField(v, &scratch);
          ok = std::find(c.labels->begin(), c.labels->end(), raw) != c.labels->end();
          break;
        }
      }
    }
    if (ok) continue;
    ++p.violations;
    if (p.violation_samples.size() < 5) {
      p.violation_samples.push_back(absl::StrCat(
          prod_.name, ":", line, ": ", p.report.table, ".", p.dev_cols[c.column],
          " = ", AsAbsl(v.substr(0, 60)), " does not fit development's ", c.what));
    }
  }
}

Layout Merger::MakeLayout(const Plan& p, const parser::DataTarget& target,
                          Side side) const {
  const bool prod_side = side == Side::kProd;
  const Table* table = side == Side::kProd ? p.prod
                       : side == Side::kDev ? p.dev
                                            : p.base;
  std::vector<std::string> cols =
      target.columns.empty() ? DataColumns(*table) : target.columns;
  Layout l;
  l.dev.assign(p.dev_cols.size(), -1);
  for (size_t i = 0; i < p.dev_cols.size(); ++i) {
    // Prod and base blocks name dev's columns as prod does (renames).
    const std::string& name =
        side == Side::kDev || p.prod_name.empty() ? p.dev_cols[i] : p.prod_name[i];
    l.dev[i] = name.empty() ? -1 : IndexOf(cols, name);
  }
  l.shared_exact = cols.size() == p.shared.size();
  for (size_t j = 0; j < p.shared.size() && l.shared_exact; ++j) {
    l.shared_exact = l.dev[p.shared[j]] == static_cast<int>(j);
  }
  l.dev_exact = cols == p.dev_cols;
  if (prod_side) {
    l.prod.assign(p.prod_cols.size(), -1);
    for (size_t i = 0; i < p.prod_cols.size(); ++i) {
      l.prod[i] = IndexOf(cols, p.prod_cols[i]);
    }
    l.prod_exact = cols == p.prod_cols;
  }
  return l;
}

absl::Status Merger::Index(Side side) {
  LineHasher hasher;  // One per side: the sides run on their own threads.
  const DumpInput& in = side == Side::kProd  ? prod_
                        : side == Side::kDev ? dev_
                                             : *base_;
  DumpReader reader(in.data, in.name);
  PageReleaser releaser(in.file, 0);
  DumpEvent ev;
  int64_t block = -1;
  Plan* plan = nullptr;
  Layout layout;
  Span* span = nullptr;
  for (;;) {
    size_t before = reader.position();
    bool scs = reader.standard_conforming_strings();
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    releaser.Advance(reader.position());
    if (ev.kind == EventKind::kStatement || ev.kind == EventKind::kMeta) {
      continue;
    }
    if (ev.block != block) {
      block = ev.block;
      const TableName& name = ev.target->table;
      const auto& plans = side == Side::kDev ? plan_of_ : prod_plan_of_;
      auto it = plans.find(name.Display());
      plan = it == plans.end() ? nullptr : &plans_[it->second];
      if (plan != nullptr && side == Side::kBase && plan->base == nullptr) {
        plan = nullptr;
      }
      span = nullptr;
      if (plan != nullptr) {
        layout = MakeLayout(*plan, *ev.target, side);
        std::vector<Span>& spans = side == Side::kProd  ? plan->prod_spans
                                   : side == Side::kDev ? plan->dev_spans
                                                        : plan->base_spans;
        // A span starts at the statement: the COPY header or the INSERT.
        spans.push_back({ev.offset, ev.offset, ev.line, scs});
        span = &spans.back();
        (void)before;
      }
    }
    if (plan == nullptr) continue;  // A table dev dropped (--allow-drop).
    span->end = reader.position();
    if (ev.kind != EventKind::kRow) continue;
    PGM_RETURN_IF_ERROR(IndexRow(*plan, side, hasher, ev, layout));
  }
  releaser.Finish(reader.position());
  for (Plan& p : plans_) {
    SideIndex& index = side == Side::kProd  ? *p.prod_index
                       : side == Side::kDev ? *p.dev_index
                                            : *p.base_index;
    if (std::optional<uint64_t> dup = index.Finalize()) {
      std::string key = p.mode == Mode::kRemap
                            ? absl::StrCat(static_cast<int64_t>(*dup))
                            : "(a composite or text key)";
      return absl::DataLossError(absl::StrCat(
          in.name, ": duplicate key ", key, " in ", p.report.table,
          ": the dump breaks its own key constraint"));
    }
  }
  return absl::OkStatus();
}

// A row's key as the index stores it: the integer for kRemap; otherwise a
// hash of non-FK components in column order, then (with `with_fk`) the
// tracked FK components.
template <typename FieldFn>
uint64_t KeyOf(const Plan& p, FieldFn field, bool with_fk) {
  if (p.mode == Mode::kRemap) {
    int64_t v = 0;
    ParseInt64(field(p.key_cols[0]), &v);
    return static_cast<uint64_t>(v);
  }
  uint64_t key = kHashSeed;
  for (int c : p.key_cols) {
    if (p.fk_slot[c] < 0) key = HashField(field(c), key);
  }
  if (with_fk) {
    for (int c : p.key_cols) {
      if (p.fk_slot[c] >= 0) key = HashField(field(c), key);
    }
  }
  return key;
}

absl::Status Merger::IndexRow(Plan& p, Side side, LineHasher& hasher,
                              const DumpEvent& ev,
                              const Layout& layout) {
  const std::vector<std::string_view>& f = *ev.fields;
  // The base dump is indexed like production's: its rows are never written.
  const bool prod_side = side != Side::kDev;
  const std::string& file = side == Side::kProd  ? prod_.name
                            : side == Side::kDev ? dev_.name
                                                 : base_->name;
  auto field = [&](int dev_col) -> std::string_view {
    int k = layout.dev[dev_col];
    return k >= 0 ? f[k] : parser::kCopyNull;
  };
  if (ev.target->columns.empty()) {
    // An INSERT without a column list: one value per data column.
    const Table* t = side == Side::kProd  ? p.prod
                     : side == Side::kDev ? p.dev
                                          : p.base;
    size_t width = DataColumns(*t).size();
    if (!parser::RowFitsWidth(f.size(), f.empty() ? std::string_view() : f[0], width)) {
      return InputError(file, ev.line,
                        absl::StrCat("row for ", p.report.table, " has ",
                                     f.size(), " values, the table has ", width,
                                     " columns"));
    }
  }
  const uint64_t fp = layout.shared_exact && !ev.text.empty()
                          ? LineHasher::LineHash(ev.text)
                          : hasher.Hash(p.shared, field);
  if (side == Side::kProd) {
    if (!p.checks.empty()) CheckValues(p, f, layout, ev.line);
    for (Plan::NewForeignKey& nfk : p.new_fks) {
      std::string_view v = field(nfk.column);
      if (v == parser::kCopyNull) continue;
      const Plan& parent = plans_[nfk.parent];
      uint64_t k;
      if (parent.mode == Mode::kRemap) {
        int64_t n;
        if (!ParseInt64(v, &n)) n = std::numeric_limits<int64_t>::min();
        k = static_cast<uint64_t>(n);
      } else {
        k = HashField(v, kHashSeed);  // As KeyOf hashes a one-column key.
      }
      nfk.values.emplace_back(k, ev.line);
    }
    for (size_t k = 0; k < p.lost_cols.size(); ++k) {
      int fi = layout.prod[p.lost_cols[k]];
      std::string_view v = fi >= 0 ? f[fi] : parser::kCopyNull;
      const parser::Column& col =
          p.prod->columns[p.prod->ColumnIndex(p.losses[k].column)];
      ++p.losses[k].values;
      std::string_view def = col.default_constant
                                 ? std::string_view(*col.default_constant)
                                 : parser::kCopyNull;
      if (v != def) ++p.losses[k].non_default;
    }
  }
  if (side != Side::kBase) {
    // Sequences end past every value either dump holds (an upper bound for
    // dev rows that end up not written is harmless).
    for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
      int64_t v;
      if (ParseInt64(field(p.sequence_cols[j]), &v)) {
        int64_t& m = p.side_sequence_max[static_cast<int>(side)][j];
        m = Further(p.sequence_down[j], m, v);
      }
    }
  }
  // Integer values of tracked foreign keys (NULL: kNoValue).
  auto fk_value = [&](int slot) -> int64_t {
    int64_t v;
    return ParseInt64(field(p.fks[slot].column), &v) ? v : kNoValue;
  };
  if (side == Side::kProd) ++p.report.prod_rows;
  if (side == Side::kDev) ++p.report.dev_rows;
  if (p.mode == Mode::kMultiset) {
    if (side != Side::kProd) return absl::OkStatus();
    p.prod_multiset.Add(fp);
    // Natural unique keys still hold: dev rows are checked against these
    // while they are written (EmitTable).
    for (size_t u = 0; u < p.uniques.size(); ++u) {
      uint64_t h = kHashSeed;
      bool null = !p.uniques[u].Covers(field);  // Not covered: like NULL.
      for (int pass = 0; pass < 2; ++pass) {
        for (int c : p.uniques[u].columns) {
          if ((p.fk_slot[c] >= 0) != (pass == 1)) continue;
          std::string_view v = field(c);
          null |= v == parser::kCopyNull;
          h = HashField(v, h);
        }
      }
      if (null) continue;
      if (!p.prod_unique[u].try_emplace(h, 0).second) {
        ++p.violations;
        if (p.violation_samples.size() < 5) {
          p.violation_samples.push_back(absl::StrCat(
              prod_.name, ":", ev.line, ": ", p.report.table,
              " has two rows with the same values for development's unique key ",
              p.uniques[u].name));
        }
      }
    }
    return absl::OkStatus();
  }
  uint64_t key;
  if (p.mode == Mode::kRemap) {
    int64_t v;
    std::string_view kf = field(p.key_cols[0]);
    if (!ParseInt64(kf, &v)) {
      return InputError(file, ev.line,
                        absl::StrCat("key ", p.dev_cols[p.key_cols[0]], " of ",
                                     p.report.table, " is not an integer: ",
                                     AsAbsl(kf.substr(0, 40))));
    }
    key = static_cast<uint64_t>(v);
    int64_t& m = p.side_max_key[static_cast<int>(side)];
    m = std::max(m, v);
  } else {
    key = KeyOf(p, field, prod_side);
  }
  SideIndex& index = side == Side::kProd  ? *p.prod_index
                     : side == Side::kDev ? *p.dev_index
                                          : *p.base_index;
  bool keyed = prod_side || p.mode == Mode::kRemap ||
               std::none_of(p.key_cols.begin(), p.key_cols.end(),
                            [&](int c) { return p.fk_slot[c] >= 0; });
  if (keyed) {
    index.AddRow(key, fp);
  } else {
    index.AddUnkeyedRow(key, fp);
  }
  if (side == Side::kBase) return absl::OkStatus();
  if (prod_side) {
    // Same order as UniqueHash: non-FK parts, then FK parts.
    for (size_t u = 0; u < p.uniques.size(); ++u) {
      uint64_t h = kHashSeed;
      bool null = !p.uniques[u].Covers(field);  // Not covered: like NULL.
      for (int pass = 0; pass < 2; ++pass) {
        for (int c : p.uniques[u].columns) {
          if ((p.fk_slot[c] >= 0) != (pass == 1)) continue;
          std::string_view v = field(c);
          null |= v == parser::kCopyNull;
          h = HashField(v, h);
        }
      }
      if (null) continue;
      auto [it, inserted] = p.prod_unique[u].try_emplace(h, key);
      if (!inserted && it->second != key) {
        // Two prod rows share a value a unique key of dev's forbids.
        ++p.violations;
        if (p.violation_samples.size() < 5) {
          p.violation_samples.push_back(absl::StrCat(
              prod_.name, ":", ev.line, ": ", p.report.table,
              " has two rows with the same values for development's unique key ",
              p.uniques[u].name));
        }
      }
    }
    return absl::OkStatus();
  }
  for (size_t s = 0; s < p.fks.size(); ++s) index.AddFk(fk_value(s));
  for (size_t u = 0; u < p.uniques.size(); ++u) {
    // Non-FK parts now; FK parts at decision time (see UniqueHash).
    uint64_t h = kHashSeed;
    bool null = !p.uniques[u].Covers(field);  // Not covered: like NULL.
    for (int c : p.uniques[u].columns) {
      std::string_view v = field(c);
      null |= v == parser::kCopyNull;
      if (p.fk_slot[c] < 0) h = HashField(v, h);
    }
    index.AddUnique(null ? 0 : h);
  }
  return absl::OkStatus();
}

int64_t Merger::Rewrite(const Plan& p, int slot, int64_t v) const {
  if (v == kNoValue) return v;
  return plans_[p.fks[slot].parent].remap.Apply(v);
}

// Hash of a unique key's values with FK parts rewritten; it must equal the
// hash computed from prod's raw text in IndexRow, so integers are hashed as
// their decimal text, which is COPY's text for them.
uint64_t Merger::UniqueHash(const Plan& p, int u, uint64_t base,
                            const std::vector<int64_t>& fk_values,
                            bool* usable) const {
  *usable = base != 0;
  bool has_fk = false;
  for (int c : p.uniques[u].columns) has_fk |= p.fk_slot[c] >= 0;
  if (!has_fk) return base;
  // Recompute in column order: non-FK parts are not stored separately per
  // column, so a unique key mixing both kinds hashes FK parts after them.
  uint64_t h = base;
  for (int c : p.uniques[u].columns) {
    int slot = p.fk_slot[c];
    if (slot < 0) continue;
    int64_t v = Rewrite(p, slot, fk_values[slot]);
    if (v == kNoValue || v == kPendingFresh) {
      *usable = false;
      return 0;
    }
    h = HashField(absl::StrCat(v), h);
  }
  return h;
}

std::vector<std::vector<int>> Merger::ComponentsParentsFirst() const {
  // Tarjan's algorithm over child -> parent edges; it emits a component
  // only after every component it reaches, so parents come out first.
  const int n = static_cast<int>(plans_.size());
  std::vector<std::vector<int>> edges(n);
  for (int t = 0; t < n; ++t) {
    for (const TrackedFk& fk : plans_[t].fks) edges[t].push_back(fk.parent);
  }
  std::vector<int> index(n, -1), low(n, 0), stack;
  std::vector<bool> on_stack(n, false);
  std::vector<std::vector<int>> out;
  int counter = 0;
  std::function<void(int)> visit = [&](int v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (int w : edges[v]) {
      if (index[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] == index[v]) {
      std::vector<int> comp;
      int w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        comp.push_back(w);
      } while (w != v);
      std::sort(comp.begin(), comp.end());
      out.push_back(std::move(comp));
    }
  };
  for (int v = 0; v < n; ++v) {
    if (index[v] < 0) visit(v);
  }
  return out;
}

bool Merger::DecideTable(int t) {
  Plan& p = plans_[t];
  if (p.mode == Mode::kMultiset) return false;  // Decided while emitting.
  const SideIndex& dev = *p.dev_index;
  const SideIndex& prod = *p.prod_index;
  const size_t n = dev.size();
  std::vector<int64_t> fkv(p.fks.size());
  auto load_fks = [&](uint32_t i) {
    for (size_t s = 0; s < p.fks.size(); ++s) fkv[s] = dev.fk(i, s);
  };
  auto fk_changed = [&]() {
    for (size_t s = 0; s < p.fks.size(); ++s) {
      const Plan& parent = plans_[p.fks[s].parent];
      if (fkv[s] != kNoValue && (parent.remap.Contains(fkv[s]) ||
                                 parent.gone.contains(fkv[s]))) {
        return true;
      }
    }
    return false;
  };
  auto orphan = [&]() {
    for (size_t s = 0; s < p.fks.size(); ++s) {
      const Plan& parent = plans_[p.fks[s].parent];
      if (fkv[s] != kNoValue && parent.gone.contains(fkv[s])) return true;
    }
    return false;
  };
  // The dev row's effective key: FK components rewritten (kFixed only).
  bool key_has_fk = false;
  for (int c : p.key_cols) key_has_fk |= p.fk_slot[c] >= 0;
  // The dev row's key with FK components rewritten, hashed as in IndexRow.
  auto effective_key = [&](uint32_t i) -> uint64_t {
    if (p.mode == Mode::kRemap || !key_has_fk) return dev.key(i);
    uint64_t h = dev.key(i);
    for (int c : p.key_cols) {
      int slot = p.fk_slot[c];
      if (slot < 0) continue;
      int64_t v = Rewrite(p, slot, fkv[slot]);
      h = v == kNoValue ? HashField(parser::kCopyNull, h)
                        : HashField(absl::StrCat(v), h);
    }
    return h;
  };

  // With the dump both sides forked from, edits and deletions are known
  // exactly; without it, inferred from the base high-water mark h.
  const bool three_way = p.base != nullptr;
  const SideIndex& base = *p.base_index;
  std::vector<uint8_t> decision(n, kDevOnly);
  std::vector<int64_t> unify_target(n, 0);
  std::vector<uint8_t> unify_via(n, 0);
  absl::flat_hash_map<uint32_t, uint64_t> conflict_of_row;
  // Keys of a descending sequence grow downwards: "above h" is below it.
  const bool down = p.key_down;
  int64_t h = Furthest(down);
  auto at_or_before_h = [&](int64_t k) { return down ? k >= h : k <= h; };
  std::vector<int32_t> prod_row(n, -1);
  for (uint32_t i = 0; i < n; ++i) {
    load_fks(i);
    std::optional<uint32_t> pr = prod.Find(effective_key(i));
    if (!pr) continue;
    prod_row[i] = static_cast<int32_t>(*pr);
    if (prod.fingerprint(*pr) == dev.fingerprint(i) && !fk_changed()) {
      decision[i] = kBase;
      if (p.mode == Mode::kRemap && !three_way) {
        h = Further(down, h, static_cast<int64_t>(dev.key(i)));
      }
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (decision[i] == kBase) continue;
    load_fks(i);
    const int64_t k = static_cast<int64_t>(dev.key(i));
    if (three_way) {
      std::optional<uint32_t> br = base.Find(effective_key(i));
      if (prod_row[i] >= 0 && br) {
        uint64_t bfp = base.fingerprint(*br);
        if (bfp == prod.fingerprint(prod_row[i])) {
          decision[i] = kTakeDev;  // Edited in dev only.
        } else if (bfp == dev.fingerprint(i) && !fk_changed()) {
          decision[i] = kProdEdit;  // Edited in prod only: prod's version.
        } else {
          decision[i] = kConflict;  // Edited on both sides.
        }
      } else if (prod_row[i] >= 0) {
        decision[i] = p.mode == Mode::kRemap ? kCollision : kConflict;
      } else {
        decision[i] = br ? kDeleted : kDevOnly;
      }
    } else if (p.mode == Mode::kRemap) {
      if (prod_row[i] >= 0) {
        decision[i] = at_or_before_h(k) ? kConflict : kCollision;
      } else {
        decision[i] = at_or_before_h(k) ? kDeleted : kDevOnly;
      }
    } else {
      decision[i] = prod_row[i] >= 0 ? kConflict : kDevOnly;
    }
    if (decision[i] == kConflict || decision[i] == kTakeDev) {
      conflict_of_row[i] = prod.key(prod_row[i]);
    }
    if (decision[i] != kDevOnly && decision[i] != kCollision) continue;
    if (orphan()) {
      decision[i] = kDropOrphan;
      continue;
    }
    // A natural unique key equal to a prod row's: the same thing, created
    // on both sides; merge into prod's row rather than insert a duplicate.
    std::optional<uint64_t> target;
    bool clash = false;
    for (size_t u = 0; u < p.uniques.size(); ++u) {
      bool usable;
      uint64_t uh = UniqueHash(p, u, dev.unique(i, u), fkv, &usable);
      if (!usable) continue;
      auto it = p.prod_unique[u].find(uh);
      if (it == p.prod_unique[u].end()) continue;
      if (target && *target != it->second) clash = true;
      if (!target) unify_via[i] = static_cast<uint8_t>(u);
      target = it->second;
    }
    if (clash) {
      decision[i] = kDropUnique;
    } else if (target && p.mode == Mode::kRemap &&
               static_cast<int64_t>(*target) == k) {
      // The prod row with this very key: one row, edited on a side.
      decision[i] = kConflict;
      conflict_of_row[i] = *target;
    } else if (target) {
      decision[i] = kUnified;
      unify_target[i] = static_cast<int64_t>(*target);
    }
  }
  // Rebuild this table's remap and gone sets from the decisions.
  bool changed = false;
  if (p.mode == Mode::kRemap) {
    RemapTable remap;
    absl::flat_hash_set<int64_t> gone;
    for (uint32_t i = 0; i < n; ++i) {
      const int64_t k = static_cast<int64_t>(dev.key(i));
      switch (decision[i]) {
        case kCollision:
          remap.Set(k, kPendingFresh);  // Allocated once decisions settle.
          break;
        case kUnified:
          if (unify_target[i] != k) remap.Set(k, unify_target[i]);
          break;
        case kDeleted:
        case kDropUnique:
        case kDropOrphan:
          gone.insert(k);
          break;
        default:
          break;
      }
    }
    changed = remap.size() != p.remap.size() || gone.size() != p.gone.size();
    if (!changed) {
      for (const auto& [from, to] : remap.Sorted()) {
        auto old = p.remap.Find(from);
        if (!old || *old != to) {
          changed = true;
          break;
        }
      }
    }
    p.remap = std::move(remap);
    p.gone = std::move(gone);
  }
  p.decision = std::move(decision);
  p.unify_via = std::move(unify_via);
  p.unify_target = std::move(unify_target);
  p.conflict_of_row = std::move(conflict_of_row);
  p.conflict_keys.clear();
  p.prod_replaced.clear();
  for (const auto& [row, key] : p.conflict_of_row) {
    p.conflict_keys.insert(key);
    if (p.decision[row] == kTakeDev ||
        (p.decision[row] == kConflict && options_.prefer_dev)) {
      p.prod_replaced.insert(key);
    }
  }
  p.report.base_high_water = h == Furthest(down) ? 0 : h;
  return changed;
}

absl::Status Merger::AllocateFresh(int t) {
  Plan& p = plans_[t];
  if (p.mode != Mode::kRemap) return absl::OkStatus();
  const int key = p.key_cols[0];
  const parser::Column& key_col = p.dev->columns[p.dev->ColumnIndex(p.dev_cols[key])];
  const parser::Sequence* seq = SequenceOf(key_col);
  keyspace::SequenceShape shape = ShapeOf(seq);
  const bool down = shape.descending();
  auto note_new = [&](int64_t k) {
    p.new_key_far = p.new_key_far ? Further(down, *p.new_key_far, k) : k;
  };
  for (uint32_t i = 0; i < p.decision.size(); ++i) {
    if (p.decision[i] == kDevOnly) note_new(static_cast<int64_t>(p.dev_index->key(i)));
  }
  uint64_t needed = 0;
  std::vector<std::pair<int64_t, int64_t>> entries = p.remap.Sorted();
  for (const auto& [from, to] : entries) needed += to == kPendingFresh;
  if (needed == 0) return absl::OkStatus();
  // Past every key in both dumps and both dumps' sequence positions, the
  // way the sequence counts, inside the column's type and the sequence's
  // bounds.
  __int128 taken = down ? std::numeric_limits<int64_t>::max()
                        : std::numeric_limits<int64_t>::min();
  auto further = [&](__int128 v) { taken = down ? std::min(taken, v) : std::max(taken, v); };
  if (!down) further(p.max_key);
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    if (p.sequence_cols[j] == key && p.sequence_max[j] != Furthest(down)) {
      further(p.sequence_max[j]);
    }
  }
  for (const Catalog* c : {&prod_catalog_, &dev_catalog_}) {
    const parser::Sequence* s = seq == nullptr ? nullptr : c->FindSequence(seq->name);
    if (s != nullptr && s->has_setval) {
      further(keyspace::LastTaken(shape, {s->last_value, s->is_called}));
    }
  }
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  parser::IntegerTypeRange(key_col.type_name, &lo, &hi);
  const int64_t type_lo = lo, type_hi = hi;
  lo = std::max(lo, shape.min_value);
  hi = std::min(hi, shape.max_value);
  keyspace::FreshKeyPlan plan = keyspace::PlanFreshKeys(taken, down, lo, hi);
  if (plan.room < needed) {
    const bool type_bound = down ? lo == type_lo : hi == type_hi;
    return absl::FailedPreconditionError(absl::StrCat(
        dev_.name, ":", p.dev->line, ": ", p.report.table, ".", key_col.name,
        " (", key_col.type, "): ", needed, " colliding development rows need fresh keys ",
        down ? "below " : "above ", static_cast<int64_t>(std::clamp<__int128>(
            taken, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())),
        ", and only ", plan.room, " are left before ", down ? lo : hi, " (",
        type_bound ? absl::StrCat("the limit of ", key_col.type)
                   : absl::StrCat(down ? "MINVALUE" : "MAXVALUE", " of sequence ",
                                  seq->name.Display()),
        "); nothing written"));
  }
  // In the sequence's order: the row drawn first gets the first fresh key.
  if (down) std::reverse(entries.begin(), entries.end());
  uint64_t i = 0;
  for (const auto& [from, to] : entries) {
    if (to == kPendingFresh) p.remap.Set(from, plan.At(i++));
  }
  const int64_t last = plan.At(needed - 1);
  note_new(last);
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    if (p.sequence_cols[j] == key) {
      p.sequence_max[j] = Further(down, p.sequence_max[j], last);
    }
  }
  return absl::OkStatus();
}

absl::Status Merger::Decide() {
  for (const std::vector<int>& comp : ComponentsParentsFirst()) {
    // Remaps inside a cycle feed back into the rows that decide them; the
    // sets only grow, so iterating to a fixed point terminates.
    bool changed = true;
    for (int round = 0; changed; ++round) {
      if (round > 64) {
        return absl::InternalError(absl::StrCat(
            "remap decisions for ", plans_[comp[0]].report.table,
            " did not settle"));
      }
      changed = false;
      for (int t : comp) changed |= DecideTable(t);
    }
    for (int t : comp) PGM_RETURN_IF_ERROR(AllocateFresh(t));
  }
  // Counts.
  for (Plan& p : plans_) {
    TableReport& r = p.report;
    for (uint8_t d : p.decision) {
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
  }
  return absl::OkStatus();
}


bool IsSetval(std::string_view sql) {
  return StartsWithIgnoreCase(sql, "SELECT pg_catalog.setval(") ||
         StartsWithIgnoreCase(sql, "SELECT setval(");
}

// Statements pg_dump puts in post-data; used to place the data when the
// development dump has no data block to mark the spot.
bool LooksPostData(std::string_view sql) {
  return (StartsWithIgnoreCase(sql, "ALTER TABLE") &&
          ContainsIgnoreCase(sql, " ADD CONSTRAINT ")) ||
         StartsWithIgnoreCase(sql, "CREATE INDEX") ||
         StartsWithIgnoreCase(sql, "CREATE UNIQUE INDEX") ||
         StartsWithIgnoreCase(sql, "CREATE TRIGGER") ||
         StartsWithIgnoreCase(sql, "CREATE CONSTRAINT TRIGGER") ||
         StartsWithIgnoreCase(sql, "CREATE RULE") ||
         StartsWithIgnoreCase(sql, "ALTER INDEX");
}

std::vector<KeyRange> ToRanges(std::vector<std::pair<int64_t, int64_t>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::vector<KeyRange> out;
  for (const auto& [from, to] : pairs) {
    if (!out.empty() && out.back().old_start + out.back().count == from &&
        out.back().new_start + out.back().count == to) {
      ++out.back().count;
    } else {
      out.push_back({from, to, 1});
    }
  }
  return out;
}

// Writes a COPY header before the first row of a block, and "\." after it.
class CopyBlock {
 public:
  CopyBlock(OutputBuffer* out, std::string header)
      : out_(out), header_(std::move(header)) {}
  void BeginRow() {
    if (!open_) {
      out_->Append(header_);
      open_ = true;
    }
  }
  void Close() {
    if (open_) out_->Append("\\.\n\n");
    open_ = false;
  }

 private:
  OutputBuffer* out_;
  std::string header_;
  bool open_ = false;
};

absl::Status Merger::Emit(OutputBuffer* out) {
  out->Append(
      "--\n-- Merged by pgmerge: production's rows with development's new "
      "rows,\n-- in development's schema.\n--\n\n");
  DumpReader reader(dev_.data, dev_.name);
  parser::ReaderOptions skim;
  skim.skim_copy_data = true;  // Rows come from the spans, table by table.
  skim.check_utf8 = false;
  reader.set_options(skim);
  PageReleaser releaser(dev_.file, 0);
  reader.set_progress([&releaser](size_t pos) { releaser.Advance(pos); });
  DumpEvent ev;
  bool data_done = false;
  bool sequences_done = false;
  auto emit_data = [&]() -> absl::Status {
    if (data_done) return absl::OkStatus();
    data_done = true;
    for (size_t t = 0; t < plans_.size(); ++t) {
      PGM_RETURN_IF_ERROR(EmitTable(static_cast<int>(t), out));
    }
    return absl::OkStatus();
  };
  // After dev's schema and the data: prod-only objects kept, then sequences.
  auto finish = [&]() -> absl::Status {
    PGM_RETURN_IF_ERROR(emit_data());
    if (sequences_done) return absl::OkStatus();
    sequences_done = true;
    if (options_.keep_prod_objects && !prod_only_objects_.empty()) {
      out->Append(
          "--\n-- Schema objects only production had (--keep-prod-objects).\n--\n\n");
      for (const parser::DumpObject* o : prod_only_objects_) {
        for (const auto& [offset, length] : o->statements) {
          out->Append(prod_.data.substr(offset, length));
          out->Append("\n\n");
        }
      }
    }
    EmitSequences(out);
    return absl::OkStatus();
  };
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    releaser.Advance(reader.position());
    switch (ev.kind) {
      case EventKind::kMeta:
        // \connect would leave the shadow database; \restrict and others
        // are kept as development's pg_dump wrote them.
        if (StartsWithIgnoreCase(ev.text, "\\connect") ||
            StartsWithIgnoreCase(ev.text, "\\c ")) {
          break;
        }
        if (StartsWithIgnoreCase(ev.text, "\\unrestrict")) {
          PGM_RETURN_IF_ERROR(finish());
        }
        out->Append(ev.text);
        out->Append("\n\n");
        break;
      case EventKind::kCopyStart:
      case EventKind::kCopyEnd:
      case EventKind::kRow:
        PGM_RETURN_IF_ERROR(emit_data());
        break;
      case EventKind::kStatement:
        if (IsSetval(ev.text)) break;  // Replaced by the merged values.
        if (!data_done && LooksPostData(ev.text)) {
          PGM_RETURN_IF_ERROR(emit_data());
        }
        out->Append(ev.text);
        out->Append("\n\n");
        break;
    }
  }
  return finish();
}

template <typename Fn>
absl::Status Merger::ForEachRow(Plan& p, Side side, Fn fn) {
  const DumpInput& in = side == Side::kProd ? prod_ : dev_;
  parser::ReaderOptions quick;
  quick.check_utf8 = false;
  quick.split_copy_rows = false;  // Split only rows that need it.
  for (const Span& span : side == Side::kProd ? p.prod_spans : p.dev_spans) {
    DumpReader reader(in.data.substr(span.begin, span.end - span.begin),
                      in.name, span.line, span.standard_strings);
    reader.set_options(quick);
    PageReleaser releaser(in.file, span.begin);
    DumpEvent ev;
    int64_t current = -1;
    Layout layout;
    for (;;) {
      PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
      if (!more) break;
      releaser.Advance(span.begin + reader.position());
      if (ev.kind != EventKind::kRow) continue;
      if (ev.block != current) {
        current = ev.block;
        layout = MakeLayout(p, *ev.target, side);
      }
      fn(reader, ev, layout);
    }
    releaser.Finish(span.end);
  }
  return absl::OkStatus();
}

absl::Status Merger::EmitTable(int t, OutputBuffer* out) {
  Plan& p = plans_[t];
  TableReport& r = p.report;
  const std::string name_sql = QualifiedSql(p.dev->name);
  std::vector<int> all_dev(p.dev_cols.size());
  for (size_t i = 0; i < all_dev.size(); ++i) all_dev[i] = static_cast<int>(i);
  const std::vector<int>& manifest_cols = p.prod ? p.shared : all_dev;
  std::vector<int> all_prod(p.prod_cols.size());
  for (size_t i = 0; i < all_prod.size(); ++i) all_prod[i] = static_cast<int>(i);
  for (int c : manifest_cols) r.output.columns.push_back(p.dev_cols[c]);
  r.prod.columns = p.prod_cols;
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> prod_conflict_rows;
  for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
    const bool down = p.sequence_down[j];
    if (p.sequence_max[j] == Furthest(down)) continue;
    const std::string& seq =
        p.dev->columns[p.dev->ColumnIndex(p.dev_cols[p.sequence_cols[j]])].sequence;
    auto [it, inserted] = sequence_max_.try_emplace(seq, p.sequence_max[j]);
    if (!inserted) it->second = Further(down, it->second, p.sequence_max[j]);
    if (p.new_key_far && p.sequence_cols[j] == p.key_cols[0]) {
      auto [nit, added] = sequence_new_.try_emplace(seq, *p.new_key_far);
      if (!added) nit->second = Further(down, nit->second, *p.new_key_far);
    }
  }

  // Production's rows, every one, with its own key, in dev's shape.
  if (p.prod != nullptr && !p.prod_spans.empty()) {
    std::vector<int> prod_out_cols = p.shared;
    for (const auto& [col, value] : p.fills) prod_out_cols.push_back(col);
    CopyBlock block(out, absl::StrCat("COPY ", name_sql,
                                      ColumnListSql(p.dev_cols, prod_out_cols),
                                      " FROM stdin;\n"));
    PGM_RETURN_IF_ERROR(ForEachRow(p, Side::kProd, [&](DumpReader& reader,
                                                       const DumpEvent& ev,
                                                       const Layout& layout) {
      const bool raw = !ev.text.empty();
      // Rows copied whole are never split.
      const bool need_fields = !raw || !layout.shared_exact ||
                               !layout.prod_exact || !p.conflict_keys.empty();
      static const std::vector<std::string_view> kNone;
      const std::vector<std::string_view>& f =
          need_fields ? reader.Fields(ev) : kNone;
      auto field = [&](int c) -> std::string_view {
        int k = layout.dev[c];
        return k >= 0 ? f[k] : parser::kCopyNull;
      };
      uint64_t prod_hash;
      if (layout.prod_exact && raw) {
        prod_hash = LineHasher::LineHash(ev.text);
      } else {
        auto prod_field = [&](int c) -> std::string_view {
          int k = layout.prod[c];
          return k >= 0 ? f[k] : parser::kCopyNull;
        };
        prod_hash = hasher_.Hash(all_prod, prod_field);
      }
      ++r.prod.rows;
      r.prod.hash += prod_hash;
      if (!p.conflict_keys.empty()) {
        uint64_t key = KeyOf(p, field, /*with_fk=*/true);
        if (p.conflict_keys.contains(key)) {
          std::vector<uint64_t>& hashes = prod_conflict_rows[key];
          for (int c : p.shared) hashes.push_back(HashField(field(c), 0));
          // Dev's version of this row is written instead (--base).
          if (p.prod_replaced.contains(key)) return;
        }
      }
      block.BeginRow();
      uint64_t row_hash;
      if (layout.shared_exact && raw) {
        // The row as production wrote it is the row dev's shape wants.
        out->Append(ev.text);
        row_hash = layout.prod_exact ? prod_hash : LineHasher::LineHash(ev.text);
      } else {
        bool first = true;
        for (int c : p.shared) {
          if (!first) out->Append('\t');
          first = false;
          out->Append(field(c));
        }
        row_hash = hasher_.Hash(p.shared, field);
      }
      for (const auto& [col, value] : p.fills) {
        out->Append('\t');
        out->Append(value);
      }
      out->Append('\n');
      ++r.output.rows;
      r.output.hash += row_hash;
    }));
    block.Close();
  }
  r.lost_columns = p.losses;
  r.prod_only = r.prod_rows - r.base - r.conflicts -
                static_cast<int64_t>(p.mode == Mode::kRemap ? 0 : 0);

  // Development's rows: the new ones, with keys and references rewritten.
  CopyBlock block(out, absl::StrCat("COPY ", name_sql,
                                    ColumnListSql(p.dev_cols, all_dev),
                                    " FROM stdin;\n"));
  std::vector<std::pair<int64_t, int64_t>> remaps;
  std::vector<int64_t> fk_values(p.fks.size());
  std::vector<std::string_view> values(p.dev_cols.size());
  std::vector<std::array<char, 24>> num_bufs(p.dev_cols.size());
  uint32_t ordinal = 0;
  int64_t in_both = 0;  // Dev rows whose key prod also has.
  PGM_RETURN_IF_ERROR(ForEachRow(p, Side::kDev, [&](DumpReader& reader,
                                                    const DumpEvent& ev,
                                                    const Layout& layout) {
    const uint32_t i = ordinal++;
    if (p.mode != Mode::kMultiset && p.decision[i] == kBase) {
      ++in_both;  // Most rows: prod's copy is written; nothing to split.
      return;
    }
    const std::vector<std::string_view>& f = reader.Fields(ev);
    auto field = [&](int c) -> std::string_view {
      int k = layout.dev[c];
      return k >= 0 ? f[k] : parser::kCopyNull;
    };
    bool orphan = false;
    for (size_t s = 0; s < p.fks.size(); ++s) {
      int64_t v;
      fk_values[s] = ParseInt64(field(p.fks[s].column), &v) ? v : kNoValue;
      if (fk_values[s] != kNoValue &&
          plans_[p.fks[s].parent].gone.contains(fk_values[s])) {
        orphan = true;
      }
    }
    auto key_text = [&]() {
      std::vector<std::string> parts;
      for (int c : p.shown_key_cols) parts.emplace_back(field(c));
      if (parts.empty()) {
        for (int c : p.shared) parts.emplace_back(field(c));
      }
      return absl::StrJoin(parts, ",");
    };
    uint8_t d;
    uint8_t unified_via = 0;
    if (p.mode == Mode::kMultiset) {
      if (orphan) {
        d = kDropOrphan;
      } else {
        // Compared after following remapped parents, as prod's rows
        // point at prod's own.
        char num[24];
        auto rewritten = [&](int c) -> std::string_view {
          int slot = p.fk_slot[c];
          if (slot < 0 || fk_values[slot] == kNoValue) return field(c);
          auto [end, ec] = std::to_chars(num, num + sizeof num,
                                         Rewrite(p, slot, fk_values[slot]));
          return std::string_view(num, end - num);
        };
        uint64_t fp = hasher_.Hash(p.shared, rewritten);
        d = p.prod_multiset.Take(fp) ? kBase : kDevOnly;
        if (d == kDevOnly && !p.uniques.empty()) {
          // A new row equal to a prod row on a natural unique key.
          for (size_t u = 0; u < p.uniques.size() && d == kDevOnly; ++u) {
            uint64_t h = kHashSeed;
            bool null = !p.uniques[u].Covers(field);  // Not covered: like NULL.
            for (int pass = 0; pass < 2; ++pass) {
              for (int c : p.uniques[u].columns) {
                int slot = p.fk_slot[c];
                if ((slot >= 0) != (pass == 1)) continue;
                std::string_view v = field(c);
                null |= v == parser::kCopyNull;
                h = slot >= 0 && fk_values[slot] != kNoValue
                        ? HashField(absl::StrCat(Rewrite(p, slot, fk_values[slot])), h)
                        : HashField(v, h);
              }
            }
            if (!null && p.prod_unique[u].contains(h)) {
              d = kUnified;
              unified_via = static_cast<uint8_t>(u);
            }
          }
        }
      }
      switch (d) {
        case kBase: ++r.base; break;
        case kDevOnly: ++r.dev_only; break;
        case kUnified: ++r.unified; break;
        default: ++r.dropped; break;
      }
    } else {
      d = p.decision[i];
    }
    switch (d) {
      case kBase:
        ++in_both;
        return;
      case kProdEdit:
        ++in_both;
        r.prod_edit_keys.push_back(key_text());
        return;
      case kTakeDev:
      case kConflict: {
        ++in_both;
        Conflict conflict;
        conflict.key = key_text();
        conflict.kept = d == kTakeDev || options_.prefer_dev ? "dev" : "prod";
        conflict.edited = d == kTakeDev ? "dev" : p.base ? "both" : "unknown";
        auto it = prod_conflict_rows.find(p.conflict_of_row[i]);
        size_t j = 0;
        for (int c : p.shared) {
          if (it == prod_conflict_rows.end() ||
              it->second[j] != HashField(field(c), 0) ||
              (p.fk_slot[c] >= 0 &&
               Rewrite(p, p.fk_slot[c], fk_values[p.fk_slot[c]]) !=
                   fk_values[p.fk_slot[c]])) {
            conflict.columns.push_back(p.dev_cols[c]);
          }
          ++j;
        }
        const bool write_dev = conflict.kept == "dev";
        if (d == kConflict) {
          r.conflict_list.push_back(std::move(conflict));
        } else {
          r.dev_edit_keys.push_back(std::move(conflict.key));
        }
        if (!write_dev) return;
        break;
      }
      case kDeleted:
        r.deleted_keys.push_back(key_text());
        return;
      case kUnified: {
        Unification u;
        u.dev_key = key_text();
        u.prod_key = p.mode == Mode::kRemap ? absl::StrCat(p.unify_target[i])
                                            : u.dev_key;
        u.unique_key = p.uniques[p.mode == Mode::kMultiset ? unified_via
                                                            : p.unify_via[i]]
                           .name;
        r.unifications.push_back(std::move(u));
        if (p.mode == Mode::kRemap && p.unify_target[i] == static_cast<int64_t>(
                                          KeyOf(p, field, false))) {
          ++in_both;
        }
        return;
      }
      case kDropUnique:
        r.dropped_list.push_back(
            {key_text(), "its natural unique keys match different production rows"});
        return;
      case kDropOrphan:
        r.dropped_list.push_back(
            {key_text(), "references a row that production deleted"});
        return;
      default:
        break;
    }
    if (d == kCollision) ++in_both;
    // Emit: kDevOnly, kCollision, or a dev version that replaces prod's.
    bool any_rewritten = false;
    for (size_t c = 0; c < p.dev_cols.size(); ++c) {
      std::string_view v = field(c);
      int slot = p.fk_slot[c];
      int64_t nv = 0;
      bool rewritten = false;
      if (p.mode == Mode::kRemap && static_cast<int>(c) == p.key_cols[0]) {
        int64_t k;
        ParseInt64(v, &k);
        nv = p.remap.Apply(k);
        rewritten = nv != k;
        if (rewritten) remaps.emplace_back(k, nv);
      } else if (slot >= 0 && fk_values[slot] != kNoValue) {
        nv = Rewrite(p, slot, fk_values[slot]);
        rewritten = nv != fk_values[slot];
      }
      if (rewritten) {
        char* buf = num_bufs[c].data();
        auto [end, ec] = std::to_chars(buf, buf + num_bufs[c].size(), nv);
        v = std::string_view(buf, end - buf);
        any_rewritten = true;
      }
      values[c] = v;
    }
    auto value = [&](int c) { return values[c]; };
    block.BeginRow();
    uint64_t row_hash;
    if (!any_rewritten && layout.dev_exact && !ev.text.empty()) {
      out->Append(ev.text);  // Nothing to rewrite: the row as dev wrote it.
      row_hash = manifest_cols.size() == p.dev_cols.size()
                     ? LineHasher::LineHash(ev.text)
                     : hasher_.Hash(manifest_cols, value);
    } else {
      for (size_t c = 0; c < p.dev_cols.size(); ++c) {
        if (c > 0) out->Append('\t');
        out->Append(values[c]);
      }
      row_hash = hasher_.Hash(manifest_cols, value);
    }
    out->Append('\n');
    ++r.output.rows;
    r.output.hash += row_hash;
  }));
  block.Close();
  r.prod_only = r.prod_rows - in_both;
  r.remaps = ToRanges(std::move(remaps));
  r.output_rows = r.output.rows;
  // Every dev row is accounted for exactly once.
  int64_t accounted = r.base + r.dev_only + r.remapped + r.unified +
                      r.conflicts + r.deleted_in_prod + r.dropped +
                      r.taken_from_dev;
  if (accounted != r.dev_rows) {
    return absl::InternalError(absl::StrCat(
        r.table, ": ", r.dev_rows, " development rows read but ", accounted,
        " accounted for"));
  }
  report_.tables.push_back(r);
  return absl::OkStatus();
}

void Merger::EmitSequences(OutputBuffer* out) {
  auto position_of = [](const Catalog& c, const TableName& name)
      -> std::optional<keyspace::SequencePosition> {
    const parser::Sequence* s = c.FindSequence(name);
    if (s == nullptr || !s->has_setval) return std::nullopt;
    return keyspace::SequencePosition{s->last_value, s->is_called};
  };
  bool any = false;
  for (const parser::Sequence& s : dev_catalog_.sequences()) {
    SequenceReport sr;
    sr.sequence = s.name.Display();
    const keyspace::SequenceShape shape = ShapeOf(&s);
    // The sides' positions are carried as they are (is_called included);
    // the merged one is the furthest along of them and of the keys.
    std::optional<keyspace::SequencePosition> prod = position_of(prod_catalog_, s.name);
    std::optional<keyspace::SequencePosition> dev = position_of(dev_catalog_, s.name);
    if (prod) sr.prod_value = prod->last_value;
    if (dev) sr.dev_value = dev->last_value;
    std::optional<int64_t> furthest_key;
    auto it = sequence_max_.find(s.name.Display());
    if (it != sequence_max_.end()) sr.max_key = it->second;
    auto nit = sequence_new_.find(s.name.Display());
    if (nit != sequence_new_.end()) furthest_key = nit->second;
    keyspace::SequencePosition merged =
        keyspace::MergedPosition(shape, prod, dev, furthest_key)
            .value_or(keyspace::SequencePosition{s.start, false});
    if (!any) {
      out->Append("--\n-- Sequences: past every key in the merged data.\n--\n\n");
      any = true;
    }
    sr.value = merged.last_value;
    sr.is_called = merged.is_called;
    out->Append(absl::StrCat("SELECT pg_catalog.setval(", SqlStringLiteral(s.name.Display()),
                             ", ", merged.last_value, ", ",
                             merged.is_called ? "true" : "false", ");\n"));
    report_.sequences.push_back(std::move(sr));
  }
  if (any) out->Append("\n");
}

}  // namespace

absl::StatusOr<Report> Merge(const DumpInput& prod, const DumpInput& dev,
                             const MergeOptions& options, OutputBuffer* out,
                             Report* refusal) {
  Merger merger(prod, dev, options.base.data.empty() && options.base.name.empty()
                              ? nullptr
                              : &options.base,
                options);
  absl::StatusOr<Report> report = merger.Run(out);
  if (!report.ok() && refusal != nullptr) *refusal = merger.TakeReport();
  return report;
}

}  // namespace pgmerge::merger
