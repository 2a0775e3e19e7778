// The merge's per-table state, handed from pass to pass (internal to
// merger/). merge.cc orders the passes; each is a free function in its own
// file:
//   plan.cc    BuildPlans: dev's tables matched to prod's, columns fitted
//              (plan_columns.cc: renames, fills, type checks), keys, foreign
//              keys, natural unique keys; MakeLayout maps a data block onto
//              a plan.
//   index.cc   IndexSide: every row of one dump read once: keys,
//              fingerprints, FK values, unique hashes, prod's values
//              checked; RefuseMisfits lists what dev's schema refuses.
//   canonical.cc RewriteCanonical: a copy of a dump with its values in
//              the form rows are compared in (parser/value_text.h).
//   decide.cc  Decide: pure; key arrays in, decisions out (decide.h);
//              the two-way evidence of the fork in fork_evidence.h.
//   emit.cc    Emit: dev's schema with the merged rows (table_writer.h)
//              and sequences (sequences.h).
//   report.cc  the report as JSON and as a summary.
// Views into the dumps (string_view) are valid while the dumps are mapped.
#ifndef PGMERGE_MERGER_PLAN_H_
#define PGMERGE_MERGER_PLAN_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/mapped_file.h"
#include "keyspace/key_hash.h"
#include "keyspace/key_index.h"
#include "keyspace/sequence_space.h"
#include "merger/decide.h"
#include "merger/merge.h"
#include "merger/report.h"
#include "parser/catalog.h"
#include "parser/copy_text.h"
#include "parser/dump_reader.h"
#include "parser/restrict_key.h"
#include "parser/value_text.h"

namespace pgmerge::merger::internal {

using keyspace::HashField;
using keyspace::HashKey;
using keyspace::KeyParts;
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

// The dumps: production's, development's, and with --base the fork's.
enum class Side { kProd, kDev, kBase };

// Where a table's data lies in a dump: a COPY block or a run of INSERTs.
// A COPY row the index pass passed: the table's row `ordinal` of its side
// (its place among the side index's rows) starts at `offset`, on `line`.
struct RowMark {
  uint32_t ordinal;
  int64_t line;
  size_t offset;
};
// Rows between marks (the last rows of a block have none after them).
inline constexpr uint32_t kRowMarkStep = 1024;

struct Span {
  size_t begin = 0;
  size_t end = 0;
  int64_t line = 1;
  bool standard_strings = true;
  parser::KnownCopyEnd copy_end;  // A COPY block's "\." line (offset 0: none).
  // Every kRowMarkStep-th row of the table, where it falls in this span's
  // COPY block: emit goes past stretches it would only skip or copy whole.
  std::vector<RowMark> marks;
  // A keyed table's COPY block: each row's length with its line end, up to
  // the last row's (kLongRow: this long or more), so that emit goes past the
  // rows it skips one by one without reading them. Empty: not kept.
  std::vector<uint16_t> row_lengths;
  static constexpr uint16_t kLongRow = 0xFFFF;
  bool crlf = false;  // A row of the block ends in CR LF.
};

// A column development's schema gives no foreign key that is followed as
// one (merger/references.cc): --reference, or inferred from its name.
struct ImpliedReference {
  int column;  // Dev col.
  int parent;  // Plan.
  ReferenceReport::Kind by;  // kDeclared or kInferred.
};

// A polymorphic reference, as Rails makes them (X_id beside X_type): the
// table a row's key is of is the one its type column names by class name
// (Post, Admin::User). Followed as development's rows are written
// (table_writer.cc), each type as it is first seen; not evidence for
// decide, not in keys.
struct PolymorphicReference {
  int column;       // Dev col: the key.
  int type_column;  // Dev col: the class name.
};

// An array of keys no foreign key can declare (posts.tag_ids integer[] of
// tags): each element follows the parent's remaps as development's rows
// are written (table_writer.cc); not evidence for decide, not in keys.
struct ArrayReference {
  int column;  // Dev col.
  int parent;  // Plan.
  ReferenceReport::Kind by;  // kDeclared or kInferred.
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
inline bool Names(std::string_view spec, const TableName& t) {
  return spec == t.Display() || spec == absl::StrCat(t.schema, ".", t.name) ||
         (t.schema == "public" && spec == t.name);
}

struct Plan {
  const Table* dev = nullptr;
  const Table* prod = nullptr;
  const Table* base = nullptr;         // With --base only.
  std::vector<std::string> dev_cols;   // Dev's data columns (not generated).
  std::vector<int> shared;             // dev_cols present in prod too.
  // Shared columns whose type development changed so that PostgreSQL
  // writes production's values as other text once restored into it
  // (numeric(10,2) -> numeric(12,4): 1.50 -> 1.5000; timestamp ->
  // timestamptz): the manifest leaves them out (manifest_cols), verify
  // does not compare them, the report says so.
  std::vector<int> converted;
  std::vector<int> manifest_cols;  // The output's manifest: shared, less converted.
  // Shared columns whose production (and base) values are compared and
  // hashed as PostgreSQL writes them once restored into development's type,
  // so a base row both dumps hold stays one row (RescaledField): numeric(p,
  // scale) from another scale or an integer (1.50 -> 1.5000), jsonb from
  // json; and timestamp made timestamptz, compared as UTC, the zone a
  // server's migration most often ran in (that column is converted too: the
  // restore reads the values in its session's zone).
  struct Rescale {
    enum As { kScale, kUtc, kJsonb };
    int col;
    As as;
    int scale = 0;  // kScale's.
  };
  std::vector<Rescale> rescaled;
  std::vector<std::string> prod_cols;  // Prod's data columns.
  std::vector<int> lost_cols;          // prod_cols dev no longer has.
  std::vector<std::string> prod_name;  // Per dev col: prod's column, or "".
  std::vector<std::pair<int, std::string>> fills;  // Dev col, COPY value.
  // Columns development added, with what production's rows get there: the
  // --fill or constant default as COPY text, NULL, or nothing known when a
  // default is evaluated at restore. Development's own values in them, on
  // rows whose production version is written, are not carried: counted.
  struct AddedColumn {
    int column;  // Dev col.
    std::optional<std::string> written;
  };
  std::vector<AddedColumn> added;
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
  std::vector<TrackedFk> fks;          // Declared and implied, as report.references.
  std::vector<ImpliedReference> implied;
  std::vector<PolymorphicReference> polymorphic;
  std::vector<ArrayReference> arrays;
  std::vector<int> fk_slot;            // Per dev col: index into fks or -1.
  std::vector<NaturalUnique> uniques;
  std::vector<int> sequence_cols;      // Dev cols fed by a sequence.
  // Per sequence_cols: whether its sequence counts down, and the furthest
  // value in that direction (the largest, or the smallest counting down).
  std::vector<bool> sequence_down;
  std::vector<int64_t> sequence_max;
  bool key_down = false;  // kRemap: the key's sequence counts down.
  // kFixed: one integer column, not a foreign key, integer in every dump:
  // the index stores its value, as for kRemap, instead of its hash (cheaper,
  // exact, and in dump order already sorted).
  bool int_key = false;
  std::unique_ptr<SideIndex> prod_index;
  std::unique_ptr<SideIndex> dev_index;
  std::unique_ptr<SideIndex> base_index;
  RowMultiset prod_multiset;
  // Per natural unique key: hash of prod's values -> prod's key.
  std::vector<absl::flat_hash_map<uint64_t, uint64_t>> prod_unique;
  std::vector<Span> prod_spans;
  std::vector<Span> dev_spans;
  std::vector<Span> base_spans;
  TableDecisions decided;              // The decide pass's output.
  int64_t max_key = 0;                 // Over both dumps and sequences.
  // Per side (prod, dev, base) while the sides are indexed in parallel.
  std::array<int64_t, 3> side_max_key{0, 0, 0};
  // Production's rows copied whole (ExactProdRow), counted and their
  // RowHash summed by the index pass so emit need not hash them again.
  int64_t prod_exact_rows = 0;
  uint64_t prod_exact_hash = 0;
  std::array<std::vector<int64_t>, 3> side_sequence_max;
  TableReport report;

  // Development's column dev col `c` is.
  const parser::Column& dev_column(int c) const {
    return dev->columns[dev->ColumnIndex(dev_cols[c])];
  }
  // The table, index and data spans of one side.
  const Table* table(Side s) const {
    return s == Side::kProd ? prod : s == Side::kDev ? dev : base;
  }
  SideIndex& index(Side s) const {
    return s == Side::kProd ? *prod_index : s == Side::kDev ? *dev_index : *base_index;
  }
  std::vector<Span>& spans(Side s) {
    return s == Side::kProd ? prod_spans : s == Side::kDev ? dev_spans : base_spans;
  }

  // For HashKey: whether a dev col is a tracked foreign key.
  auto IsFk() const {
    return [this](int c) { return fk_slot[c] >= 0; };
  }
  // Whether natural unique key `u` constrains the row: it covers it and
  // none of its values is NULL.
  template <typename FieldFn>
  bool UniqueApplies(size_t u, FieldFn field) const {
    if (!uniques[u].Covers(field)) return false;
    for (int c : uniques[u].columns) {
      if (field(c) == parser::kCopyNull) return false;
    }
    return true;
  }
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

// Production's or the base's text of dev col `c`, `v`, as development's
// type writes it (Plan::rescaled); `scratch` holds it.
inline std::string_view RescaledField(const Plan& p, int c, std::string_view v,
                                      std::string* scratch) {
  for (const Plan::Rescale& r : p.rescaled) {
    if (r.col != c) continue;
    scratch->clear();
    const bool done = r.as == Plan::Rescale::kScale  ? parser::NumericAtScale(v, r.scale, scratch)
                      : r.as == Plan::Rescale::kUtc ? parser::TimestampAsUtc(v, scratch)
                                                    : parser::JsonAsJsonb(v, scratch);
    return done ? std::string_view(*scratch) : v;
  }
  return v;
}

inline std::vector<std::string> DataColumns(const Table& t) {
  std::vector<std::string> cols;
  for (const parser::Column& c : t.columns) {
    if (!c.generated) cols.push_back(c.name);
  }
  return cols;
}

inline int IndexOf(const std::vector<std::string>& v, std::string_view s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == s) return static_cast<int>(i);
  }
  return -1;
}

inline bool IsIntegerType(std::string_view t) {
  return t == "int2" || t == "int4" || t == "int8";
}

// The start of a "furthest value" fold, and one step of it, for a sequence
// counting up (largest) or down (smallest).
inline int64_t Furthest(bool down) {
  return down ? std::numeric_limits<int64_t>::max()
              : std::numeric_limits<int64_t>::min();
}
inline int64_t Further(bool down, int64_t a, int64_t b) {
  return down ? std::min(a, b) : std::max(a, b);
}

// A sequence's direction and bounds, PostgreSQL's defaults applied; an
// ascending bigint sequence when the dump does not create it.
inline keyspace::SequenceShape ShapeOf(const parser::Sequence* s) {
  keyspace::SequenceShape shape;
  if (s == nullptr) return shape;
  shape.increment = s->increment;
  shape.min_value = s->MinValue();
  shape.max_value = s->MaxValue();
  shape.cycle = s->cycle;
  return shape;
}

// The dumps and options every pass reads; the catalogs are read first.
struct MergeInputs {
  const DumpInput& prod;
  const DumpInput& dev;
  const DumpInput* base;  // Null without --base.
  const MergeOptions& options;
  Catalog prod_catalog;
  Catalog dev_catalog;
  Catalog base_catalog;
  // Each dump's digest, for the \restrict key (prod, dev, base), taken by
  // the index pass as it reads the dump; empty with --restrict-key.
  std::vector<parser::InputDigest> digests;

  const DumpInput& dump(Side s) const {
    return s == Side::kProd ? prod : s == Side::kDev ? dev : *base;
  }
  const Catalog& catalog(Side s) const {
    return s == Side::kProd ? prod_catalog : s == Side::kDev ? dev_catalog : base_catalog;
  }
};

// The sequence feeding `col` (by its display name), in development's
// catalog, else production's; null when neither dump creates it.
inline const parser::Sequence* SequenceOf(const MergeInputs& m, const parser::Column& col) {
  if (col.sequence.empty()) return nullptr;
  std::string_view text = col.sequence;
  TableName name;
  if (!parser::ConsumeTableName(&text, &name)) return nullptr;
  const parser::Sequence* s = m.dev_catalog.FindSequence(name);
  return s != nullptr ? s : m.prod_catalog.FindSequence(name);
}

// Every table of dev's schema, in dev's order, with lookups by name.
// A large object the output holds: its content from one side's dump, its
// owner, comment and ACL statements from `meta`'s (merger/large_objects.cc).
struct LargeObjectChoice {
  const parser::LargeObject* content = nullptr;
  const parser::LargeObject* meta = nullptr;
  Side content_side = Side::kProd;
  Side meta_side = Side::kProd;
};

struct Plans {
  std::vector<Plan> tables;
  std::vector<LargeObjectChoice> large_objects;  // By OID.
  absl::flat_hash_map<std::string, int> plan_of;  // Display name -> plan.
  // Prod's (and base's) table name -> plan: differs with --rename-table.
  absl::flat_hash_map<std::string, int> prod_plan_of;
};

// A row's key as the index stores it: the integer for kRemap and
// int_key; otherwise its HashKey (keyspace/key_hash.h), the FK part only
// `with_fk`.
template <typename FieldFn>
uint64_t KeyOf(const Plan& p, FieldFn field, bool with_fk) {
  if (p.mode == Mode::kRemap || p.int_key) {
    int64_t v = 0;
    ParseInt64(field(p.key_cols[0]), &v);
    return static_cast<uint64_t>(v);
  }
  return HashKey(p.key_cols, p.IsFk(), field,
                 with_fk ? KeyParts::kAll : KeyParts::kPlain);
}

// The column a reference to `p`'s rows holds the value of: the remapped
// key column, else the one column of its key; null when there is none.
inline const std::string* ReferencedKey(const Plan& p) {
  if (p.mode == Mode::kRemap) return &p.dev_cols[p.key_cols[0]];
  return p.shown_key_cols.size() == 1 ? &p.dev_cols[p.shown_key_cols[0]] : nullptr;
}

// A dev row's FK value in slot `slot` of `p`, as the output holds it.
inline int64_t Rewrite(const Plans& plans, const Plan& p, int slot, int64_t v) {
  return plans.tables[p.fks[slot].parent].decided.Rewrite(v);
}

// Whether a kFixed key can be stored as its integer value (Plan::int_key):
// one column, not a tracked foreign key, of an integer type in every dump.
bool IntegerFixedKey(const Plan& p);

// plan.cc: one plan per table of dev's schema. Misfits of the schemas are
// added to `problems` (and fail the call); tables dev dropped go to `report`.
absl::Status BuildPlans(const MergeInputs& m, Plans& plans,
                        std::vector<std::string>& problems, Report& report);
// plan_columns.cc: maps dev's columns to prod's (renames included) and
// adds to `problems` every way prod's rows will not fit dev's columns that
// the catalogs can tell.
void FitColumns(const MergeInputs& m, Plan& p, std::vector<std::string>& problems);
// Maps a data block's fields to the plan's columns.
Layout MakeLayout(const Plan& p, const parser::DataTarget& target, Side side);
// A production row whose raw COPY line is, as it is, both production's row
// and the row development's shape wants: the index pass hashes it, emit
// copies it (and sums the same hash).
inline bool ExactProdRow(const Layout& layout, std::string_view raw) {
  return layout.shared_exact && layout.prod_exact && !raw.empty();
}

// index.cc: reads one dump's rows into the plans' per-side state. The
// prod and dev sides may run at once, on their own threads. `digest`, when
// given, gets the dump's digest for the \restrict key, taken as it is read.
// `session_text`, when given, gets the line of the first value not in the
// form rows are compared in, and the pass stops there (RewriteCanonical).
absl::Status IndexSide(const MergeInputs& m, Side side, Plans& plans,
                       parser::InputDigest* digest, int64_t* session_text = nullptr);

// canonical.cc: the fields of a data block whose text depends on pg_dump's
// session, in field order, by the dump's own catalog.
struct SessionTextField {
  int field;
  parser::SessionText how;
};
std::vector<SessionTextField> SessionTextFields(const Catalog& catalog,
                                                const parser::DataTarget& target);
// Whether a row's `fields` are all in the form rows are compared in.
bool SessionTextCanonical(const std::vector<SessionTextField>& fields,
                          const std::vector<std::string_view>& row);
// A copy of a dump with those values of its COPY rows in the merge's form
// (parser/value_text.h), in an unlinked temporary file; lines keep their
// numbers. Such a value in an INSERT is refused (FILE:LINE).
struct CanonicalDump {
  MappedFile file;
  int64_t values = 0;  // Values written again.
};
absl::StatusOr<CanonicalDump> RewriteCanonical(const DumpInput& in, const Catalog& catalog);
// The output's \restrict key from the digests the index passes took; where
// an input's rows hold \unrestrict, every input is read again and hashed
// whole, side by side, its pages handed back behind.
std::string RestrictKey(const MergeInputs& m);
// references.cc: the references Plan::implied (--reference, and those
// inferred from a column's name), and report.unlinked_columns; a bad
// --reference or --no-reference is a problem.
void FindImpliedReferences(const MergeInputs& m, Plans& plans,
                           std::vector<std::string>& problems);
// The plan of the table a polymorphic reference's type names, a class
// name as Rails writes it ("Post": posts, "Admin::User": admin_users), in
// `p`'s schema first; -1 when none or more than one, or it is not remapped.
int PolymorphicParent(const Plans& plans, const Plan& p, std::string_view type);
// Folds what the sides' index passes found per side into the plans.
void JoinSides(Plans& plans);
// Production rows development's schema would refuse: FailedPrecondition,
// every refusal in `report`.
absl::Status RefuseMisfits(const MergeInputs& m, Plans& plans, Report& report);

// large_objects.cc: which large objects the output holds (production's
// all; development's new ones), counted in `report`; a development large
// object whose OID production holds with other content is refused
// (FailedPrecondition, before any output).
absl::Status PlanLargeObjects(const MergeInputs& m, Plans& plans, Report& report);
// Writes them (lo_create, lo_put, then their owner/comment/ACL statements).
// `left_out` says which owner/ACL statements --no-owner/--no-privileges drop.
void EmitLargeObjects(const MergeInputs& m, const Plans& plans,
                      absl::FunctionRef<bool(std::string_view)> left_out, OutputBuffer* out);

// Returns once table t's decisions (and so its parents') are final, or
// with the decide pass's failure. Safe to call from any thread.
using AwaitDecided = absl::FunctionRef<absl::Status(int table)>;

// Whether production's rows wait for decisions before they are written:
// only with --base or --prefer dev can development's rows replace some.
// Otherwise they are written while later tables are still decided.
inline bool ProdRowsAwaitDecisions(const MergeInputs& m) {
  return m.base != nullptr || m.options.prefer_dev;
}

// emit.cc: writes the merged SQL; fills each table's report and manifest.
// A table's decisions are awaited where its rows first need them.
absl::Status Emit(const MergeInputs& m,
                  const std::vector<const parser::DumpObject*>& prod_only_objects,
                  Plans& plans, AwaitDecided decided, OutputBuffer* out, Report& report);


// Two-way, a sequence-keyed table's rows carry column signatures
// (keyspace/key_index.h): the column agreement that tells an edit from two
// rows made apart.
inline bool SignsRows(const Plan& p, bool three_way) {
  return p.mode == Mode::kRemap && !three_way && p.prod != nullptr;
}

// How many columns a signature covers: the shared ones but the key.
inline int SignatureWidth(const Plan& p) {
  int n = 0;
  for (int c : p.shared) n += c != p.key_cols[0];
  return n;
}

template <typename FieldFn>
uint64_t ColumnSignature(const Plan& p, FieldFn field) {
  uint64_t sig = 0;
  int j = 0;
  for (int c : p.shared) {
    if (c != p.key_cols[0]) sig ^= keyspace::SignatureNibble(field(c), j++);
  }
  return sig;
}

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_PLAN_H_
