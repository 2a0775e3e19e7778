// TableWriter: one table's rows in the merged output (production's, then
// development's new ones, keys and references rewritten), its report and
// manifest filled as it goes.
#include "merger/table_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/row_hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "merger/plan.h"
#include "parser/dump_reader.h"
#include "parser/large_objects.h"
#include "parser/segmenter.h"
#include "parser/sql_parser.h"

namespace pgmerge::merger::internal {
namespace {

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
      out_->Mark(OutputMark::kCopyHeader);
      open_ = true;
    }
  }
  void Close() {
    if (open_) {
      out_->Mark(OutputMark::kCopyRows);
      out_->Append("\\.\n\n");
      out_->Mark(OutputMark::kCopyEnd);
    }
    open_ = false;
  }

 private:
  OutputBuffer* out_;
  std::string header_;
  bool open_ = false;
};

// Rows copied whole go out as runs of the input's own bytes (each row with
// its newline, row after row): one Append per run, not two a row. A run
// ends before the reader hands back the pages behind it (Flush).
class RawRuns {
 public:
  RawRuns(OutputBuffer* out, std::string_view input)
      : out_(out), input_end_(input.data() + input.size()) {}
  // Adds `row` (a view into the input) when its newline follows it; false
  // for a CRLF line or the input's last line, which the caller writes.
  bool Add(std::string_view row) {
    const char* b = row.data();
    const char* e = b + row.size();
    if (e >= input_end_ || *e != '\n') return false;
    if (b != end_) {
      Flush();
      begin_ = b;
    }
    end_ = e + 1;
    if (end_ - begin_ >= kMaxRun) Flush();
    return true;
  }
  void Flush() {
    if (begin_ != end_) out_->Append(std::string_view(begin_, end_ - begin_));
    begin_ = end_ = nullptr;
  }

 private:
  static constexpr ptrdiff_t kMaxRun = 256 << 10;
  OutputBuffer* out_;
  const char* const input_end_;
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
};

// What a pass does with a stretch of rows between the index's marks that
// it need not read one by one: `may(from, to, layout, span)` says whether
// rows [from, to) of the side (ordinals, as the index added them) may be
// gone past; if so `past(from, to, rows)` is told, with the rows' bytes as
// the dump holds them, once the reader is past them. A pass may also say
// `skips(row)` of single rows: where the span kept its rows' lengths, runs
// of them are gone past the same way.
struct NoStretches {
  bool may(uint32_t, uint32_t, const Layout&, const Span&) const { return false; }
  void past(uint32_t, uint32_t, std::string_view) const {}
};

// Calls fn(reader, event, layout) for every row of the side's spans, in
// order, with the pages behind the reader released; `before_release()` runs
// before each release, so fn may hold views of rows until then. The pass
// only copies: the index pass already checked every row. Between marks,
// `stretches` may take rows past without a call each (NoStretches), whole
// stretches or, where the span kept its rows' lengths, runs of single rows.
template <typename Fn, typename BeforeRelease, typename Stretches>
absl::Status ForEachRow(const MergeInputs& m, Plan& p, Side side, Fn fn,
                        BeforeRelease before_release, Stretches& stretches) {
  const DumpInput& in = m.dump(side);
  parser::ReaderOptions quick;
  quick.check_utf8 = false;
  quick.split_copy_rows = false;  // Split only rows that need it.
  uint32_t ordinal = 0;  // Rows of the side so far, read or gone past.
  constexpr bool kSkipsRows = requires(const Stretches& s) { s.skips(uint32_t{0}); };
  for (const Span& span : p.spans(side)) {
    const uint32_t first = ordinal;  // The span's first row.
    DumpReader reader(in.data.substr(span.begin, span.end - span.begin),
                      in.name, span.line, span.standard_strings);
    reader.set_options(quick);
    PageReleaser releaser(in.file, span.begin);
    DumpEvent ev;
    int64_t current = -1;
    Layout layout;
    std::vector<std::string_view> batch;
    size_t mark = 0;  // The next of span.marks ahead of the reader.
    for (;;) {
      PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
      if (!more) break;
      before_release();
      releaser.Advance(span.begin + reader.position());
      if (ev.kind != EventKind::kRow) continue;
      if (ev.block != current) {
        current = ev.block;
        layout = MakeLayout(p, *ev.target, side);
      }
      fn(reader, ev, layout);
      ++ordinal;
      // The rest of a COPY block in batches of raw lines: the same events,
      // without a reader step for each; up to a mark, perhaps not read.
      for (;;) {
        while (mark < span.marks.size() && span.marks[mark].ordinal <= ordinal) ++mark;
        size_t max = 1024;
        if (mark < span.marks.size()) {
          const RowMark& to = span.marks[mark];
          const size_t at = span.begin + reader.position();
          if (to.offset > at && stretches.may(ordinal, to.ordinal, layout, span) &&
              reader.JumpToCopyRow(to.offset - span.begin, to.line)) {
            stretches.past(ordinal, to.ordinal, in.data.substr(at, to.offset - at));
            ordinal = to.ordinal;
            before_release();
            releaser.Advance(span.begin + reader.position());
            continue;
          }
          max = std::min<size_t>(max, to.ordinal - ordinal);
        }
        if constexpr (kSkipsRows) {
          // Rows without a kept length are read in batches as before.
          if (ordinal - first < span.row_lengths.size()) {
            // The rows skipped next, gone past by their lengths (a line each),
            // then those read, up to the next skipped, in one batch.
            const uint32_t limit = std::min<uint32_t>(
                ordinal + static_cast<uint32_t>(max),
                first + static_cast<uint32_t>(span.row_lengths.size()));
            const size_t at = reader.position();
            size_t to = at;
            uint32_t r = ordinal;
            for (; r < limit && stretches.skips(r); ++r) {
              const uint16_t length = span.row_lengths[r - first];
              if (length == Span::kLongRow) break;
              to += length;
            }
            if (r > ordinal && reader.JumpToCopyRow(to, reader.line() + (r - ordinal))) {
              stretches.past(ordinal, r, in.data.substr(span.begin + at, to - at));
              ordinal = r;
              before_release();
              releaser.Advance(span.begin + reader.position());
              continue;
            }
            uint32_t e = ordinal + 1;
            while (e < limit && !stretches.skips(e)) ++e;
            max = std::min<size_t>(max, e - ordinal);
          }
        }
        if (reader.NextCopyRows(&batch, max) == 0) break;
        for (std::string_view row : batch) {
          ev.text = row;
          fn(reader, ev, layout);
        }
        ordinal += static_cast<uint32_t>(batch.size());
        before_release();
        releaser.Advance(span.begin + reader.position());
      }
    }
    before_release();
    releaser.Finish(span.end);
  }
  return absl::OkStatus();
}

template <typename Fn>
absl::Status ForEachRow(const MergeInputs& m, Plan& p, Side side, Fn fn) {
  NoStretches none;
  return ForEachRow(m, p, side, fn, [] {}, none);
}

// Prod's copies of rows a dev row contends with (conflict_keys): per key,
// HashField of each shared column, to name the columns that differ.
using ConflictRows = absl::flat_hash_map<uint64_t, std::vector<uint64_t>>;

// A development row in conflict, as it was read: per shared column, its
// HashField and whether a reference in it was rewritten (which then differs
// from production's).
struct DevConflict {
  size_t list_index;   // In TableReport::conflict_list.
  std::optional<uint64_t> prod_key;
  std::vector<uint64_t> hashes;
  std::vector<bool> rewritten;
};

// Writes one table: production's rows, then development's new ones; fills
// the table's report and manifest as it goes.
class TableWriter {
 public:
  TableWriter(const MergeInputs& m, const Plans& plans, Plan& p,
              absl::FunctionRef<absl::Status()> decided, AwaitDecided await_table,
              RowHasher& hasher, OutputBuffer* out)
      : m_(m), plans_(plans), p_(p), r_(p.report), decided_(decided), await_table_(await_table),
        hasher_(hasher), out_(out),
        name_sql_(QualifiedSql(p.dev->name)),
        fk_values_(p.fks.size()), values_(p.dev_cols.size()),
        num_bufs_(p.dev_cols.size()), poly_(p.polymorphic.size()),
        array_text_(p.arrays.size()), array_rewritten_(p.arrays.size()),
        array_awaited_(p.arrays.size()) {
    all_dev_.resize(p.dev_cols.size());
    for (size_t i = 0; i < all_dev_.size(); ++i) all_dev_[i] = static_cast<int>(i);
    all_prod_.resize(p.prod_cols.size());
    for (size_t i = 0; i < all_prod_.size(); ++i) all_prod_[i] = static_cast<int>(i);
  }

  absl::Status Run();

 private:
  // Every production row, with its own key, in dev's shape; but those in
  // `replaced_`.
  absl::Status EmitProdRows();
  // Waits for the table's decisions; then reads production's copies of the
  // rows development's contend with.
  absl::Status AwaitDecisions();
  absl::Status CollectConflictRows();
  // Writes a production row in dev's shape: as written when `as_written`,
  // else field by field; then the fills.
  template <typename FieldFn>
  void WriteProdRow(const DumpEvent& ev, bool as_written, FieldFn field);
  // Development's rows: the new ones, with keys and references rewritten,
  // to `out`.
  absl::Status EmitDevRows(OutputBuffer* out);
  // Both, production's on this thread and development's on another.
  absl::Status EmitBothSides();
  // Reads the row's tracked FK values; true when one points at a parent
  // row that is not in the output.
  template <typename FieldFn>
  bool LoadFks(FieldFn field);
  // A keyless row's decision (decided while written), counted.
  template <typename FieldFn>
  uint8_t DecideKeyless(FieldFn field, bool orphan, uint8_t* unified_via);
  // Reports dev row `i` decided `d`; true when it is written.
  template <typename FieldFn>
  bool ReportDevRow(uint32_t i, uint8_t d, uint8_t unified_via, FieldFn field);
  // The conflict between dev row `i` and prod's version of it; the columns
  // that differ are named once both sides are written (NameConflictColumns).
  template <typename FieldFn>
  Conflict ConflictOf(uint32_t i, uint8_t d, FieldFn field);
  void NameConflictColumns();
  // Counts dev's values in the columns it added on a row whose production
  // version is written instead (Plan::added).
  template <typename FieldFn>
  void CountNotCarried(FieldFn field);
  // Writes a dev row with its key and references rewritten.
  template <typename FieldFn>
  void WriteDevRow(const DumpEvent& ev, const Layout& layout, FieldFn field,
                   OutputBuffer* out);
  template <typename FieldFn>
  std::string KeyText(FieldFn field) const;
  // Every dev row is accounted for exactly once.
  absl::Status CheckAccounted() const;

  const MergeInputs& m_;
  const Plans& plans_;
  Plan& p_;
  TableReport& r_;
  absl::FunctionRef<absl::Status()> decided_;
  AwaitDecided await_table_;
  // Prod keys whose rows dev's replace: known before production's rows are
  // written when any can be (ProdRowsAwaitDecisions), else none.
  const keyspace::KeySet* replaced_ = nullptr;
  RowHasher& hasher_;  // Production's rows'.
  RowHasher dev_hasher_;
  std::string rescaled_;  // RescaledField's text, hashed at once.
  OutputBuffer* out_;
  const std::string name_sql_;
  std::vector<int> all_dev_, all_prod_;
  ConflictRows prod_conflict_rows_;  // Filled by EmitProdRows.
  std::vector<DevConflict> dev_conflicts_;  // ... by EmitDevRows.
  std::vector<std::pair<int64_t, int64_t>> remaps_;
  std::vector<int64_t> fk_values_;
  std::vector<std::string_view> values_;
  std::vector<std::array<char, 24>> num_bufs_;
  int64_t in_both_ = 0;  // Dev rows whose key prod also has.
  TableManifest dev_output_;  // Development's rows written (rows, hash).
  std::vector<ColumnLoss> not_carried_;  // Per Plan::added.
  // Per Plan::polymorphic, per type seen on development's rows written: the
  // plan it names (-1: none) and the values rewritten (the rows, for none).
  struct PolyType {
    int parent = -1;
    int64_t count = 0;
  };
  std::vector<std::map<std::string, PolyType, std::less<>>> poly_;
  // Rewrites development's polymorphic references in values_ (WriteDevRow);
  // true when one changed.
  bool RewritePolymorphic();
  // Both kinds' entries in the report's references (and unlinked columns).
  void ReportFollowedAsWritten();
  // The same for arrays of keys (Plan::arrays): per one, its text written
  // again and the elements rewritten.
  std::vector<std::string> array_text_;
  std::vector<int64_t> array_rewritten_;
  std::vector<char> array_awaited_;
  bool RewriteArrays();
};

absl::Status TableWriter::Run() {
  const std::vector<int>& manifest_cols = p_.prod ? p_.manifest_cols : all_dev_;
  for (int c : manifest_cols) r_.output.columns.push_back(p_.dev_cols[c]);
  r_.prod.columns = p_.prod_cols;
  for (int c : p_.shown_key_cols) r_.key_columns.push_back(p_.dev_cols[c]);
  r_.lost_columns = p_.losses;
  not_carried_.resize(p_.added.size());
  const bool prod_rows = p_.prod != nullptr && !p_.prod_spans.empty();
  // Two threads pay off for sides of some size (pagila's rental, the
  // regression database's tenk1 take them in the tests).
  auto bytes = [](const std::vector<Span>& spans) {
    size_t n = 0;
    for (const Span& s : spans) n += s.end - s.begin;
    return n;
  };
  constexpr size_t kWorthAThread = 256 << 10;
  if (ProdRowsAwaitDecisions(m_)) {
    PGM_RETURN_IF_ERROR(decided_());
    if (!p_.decided.prod_replaced.empty()) replaced_ = &p_.decided.prod_replaced;
  }
  if (prod_rows && bytes(p_.prod_spans) >= kWorthAThread &&
      bytes(p_.dev_spans) >= kWorthAThread) {
    PGM_RETURN_IF_ERROR(EmitBothSides());
  } else {
    if (prod_rows) PGM_RETURN_IF_ERROR(EmitProdRows());
    PGM_RETURN_IF_ERROR(AwaitDecisions());
    PGM_RETURN_IF_ERROR(EmitDevRows(out_));
  }
  NameConflictColumns();
  r_.output.rows += dev_output_.rows;
  r_.output.hash += dev_output_.hash;
  for (size_t a = 0; a < p_.added.size(); ++a) {
    if (not_carried_[a].non_default == 0) continue;
    not_carried_[a].column = p_.dev_cols[p_.added[a].column];
    r_.dev_values_not_carried.push_back(std::move(not_carried_[a]));
  }
  ReportFollowedAsWritten();
  r_.prod_only = r_.prod_rows - in_both_;
  r_.remaps = ToRanges(std::move(remaps_));
  r_.output_rows = r_.output.rows;
  return CheckAccounted();
}

absl::Status TableWriter::EmitBothSides() {
  // Dev's rows wait in memory while prod's are written, up to this much;
  // past it dev's thread waits for prod's to end. What waits grows with the
  // rows' width, not their number: kept small (16 MB made wide rows' peak
  // 8-10 MB above narrow ones' for a 3% shorter run).
  constexpr size_t kHeld = size_t{4} << 20;
  DeferredSink held(out_, kHeld);
  absl::Status dev_status;
  std::thread dev_thread([&] {
    dev_status = decided_();
    if (!dev_status.ok()) return;
    OutputBuffer dev_out(&held);
    dev_status = EmitDevRows(&dev_out);
    if (dev_status.ok()) dev_status = dev_out.Flush();
  });
  const absl::Status prod_status = EmitProdRows();
  held.Release(/*discard=*/!prod_status.ok());
  const absl::Status conflicts = prod_status.ok() ? AwaitDecisions() : absl::OkStatus();
  dev_thread.join();
  if (dev_status.ok()) held.Finish();
  PGM_RETURN_IF_ERROR(prod_status);
  PGM_RETURN_IF_ERROR(conflicts);
  return dev_status;
}

absl::Status TableWriter::AwaitDecisions() {
  PGM_RETURN_IF_ERROR(decided_());
  const Plan& p = p_;
  if (replaced_ == nullptr && !p.decided.prod_replaced.empty()) {
    return absl::InternalError(absl::StrCat(p.report.table, ": production rows written "
                                                            "before decisions that replace some"));
  }
  if (p.decided.conflict_keys.empty() || p.prod == nullptr || p.prod_spans.empty()) {
    return absl::OkStatus();
  }
  if (p.mode == Mode::kMultiset) {
    return absl::InternalError(absl::StrCat(p.report.table, ": contended keys without a key"));
  }
  return CollectConflictRows();
}

absl::Status TableWriter::CollectConflictRows() {
  const Plan& p = p_;
  const keyspace::KeySet& contended = p.decided.conflict_keys;
  const keyspace::SideIndex& keys = p.index(Side::kProd);
  uint32_t row = 0;
  // Stretches without a contended row are gone past unread.
  struct Uncontended {
    const keyspace::KeySet& contended;
    const keyspace::SideIndex& keys;
    uint32_t& row;
    bool may(uint32_t from, uint32_t to, const Layout&, const Span&) const {
      for (uint32_t r = from; r < to; ++r) {
        if (!skips(r)) return false;
      }
      return true;
    }
    bool skips(uint32_t r) const { return r < keys.size() && !contended.contains(keys.key(r)); }
    void past(uint32_t from, uint32_t to, std::string_view) { row += to - from; }
  } stretches{contended, keys, row};
  PGM_RETURN_IF_ERROR(ForEachRow(m_, p_, Side::kProd, [&](DumpReader& reader,
                                                          const DumpEvent& ev,
                                                          const Layout& layout) {
    const uint32_t this_row = row++;
    if (this_row >= keys.size() || !contended.contains(keys.key(this_row))) return;
    const std::vector<std::string_view>& f = reader.Fields(ev);
    std::vector<uint64_t>& hashes = prod_conflict_rows_[keys.key(this_row)];
    for (int c : p.shared) {
      const int k = layout.dev[c];
      hashes.push_back(HashField(
          RescaledField(p, c, k >= 0 ? f[k] : parser::kCopyNull, &rescaled_), 0));
    }
  }, [] {}, stretches));
  if (row != keys.size()) {
    return absl::InternalError(absl::StrCat(p.report.table, ": ", row,
                                            " production rows read, the index holds ",
                                            keys.size()));
  }
  return absl::OkStatus();
}

absl::Status TableWriter::EmitProdRows() {
  const Plan& p = p_;
  std::vector<int> prod_out_cols = p.shared;
  for (const auto& [col, value] : p.fills) prod_out_cols.push_back(col);
  CopyBlock block(out_, absl::StrCat("COPY ", name_sql_,
                                     ColumnListSql(p.dev_cols, prod_out_cols),
                                     " FROM stdin;\n"));
  // The rows come in the order the index pass added them (the same spans,
  // every row keyed): a row's key is the index's, never read again.
  const keyspace::KeySet* replaced = replaced_;
  if (replaced != nullptr && p.mode == Mode::kMultiset) {
    return absl::InternalError(absl::StrCat(p.report.table, ": replaced keys without a key"));
  }
  const keyspace::SideIndex& prod_index = p.index(Side::kProd);
  uint32_t row = 0;
  RawRuns runs(out_, m_.dump(Side::kProd).data);
  int64_t exact_rows = 0;  // Hashed by the index pass (ExactProdRow).
  uint64_t exact_not_written = 0;  // Their hashes, of rows dev's replace.
  // Stretches of rows copied whole, as they are, when nothing is asked of
  // a row: the block's bytes go out without a look at each line.
  struct WholeRows {
    TableWriter& w;
    RawRuns& runs;
    CopyBlock& block;
    uint32_t& row;
    int64_t& exact_rows;
    const keyspace::SideIndex& keys;
    const keyspace::KeySet* replaced;
    bool may(uint32_t from, uint32_t to, const Layout& layout, const Span& span) const {
      if (!w.p_.fills.empty() || span.crlf || !layout.shared_exact || !layout.prod_exact) {
        return false;
      }
      // A row dev's replaces is read (not written).
      if (replaced == nullptr) return true;
      if (to > keys.size()) return false;
      for (uint32_t r = from; r < to; ++r) {
        if (replaced->contains(keys.key(r))) return false;
      }
      return true;
    }
    void past(uint32_t from, uint32_t to, std::string_view rows) {
      block.BeginRow();
      runs.Flush();
      constexpr size_t kPiece = size_t{1} << 20;  // Within the buffer's size.
      for (size_t at = 0; at < rows.size(); at += kPiece) w.out_->Append(rows.substr(at, kPiece));
      const uint32_t n = to - from;
      row += n;
      exact_rows += n;
      w.r_.prod.rows += n;
      w.r_.output.rows += n;
    }
  } stretches{*this, runs, block, row, exact_rows, prod_index, replaced};
  PGM_RETURN_IF_ERROR(ForEachRow(m_, p_, Side::kProd, [&](DumpReader& reader,
                                                          const DumpEvent& ev,
                                                          const Layout& layout) {
    const uint32_t this_row = row++;
    const bool raw = !ev.text.empty();
    // Rows copied whole are never split.
    const bool need_fields = !raw || !layout.shared_exact || !layout.prod_exact;
    static const std::vector<std::string_view> kNone;
    const std::vector<std::string_view>* f = need_fields ? &reader.Fields(ev) : &kNone;
    auto field = [&](int c) -> std::string_view {
      int k = layout.dev[c];
      return k >= 0 ? (*f)[k] : parser::kCopyNull;
    };
    const bool exact = ExactProdRow(layout, ev.text);
    uint64_t prod_hash = 0;
    if (exact) {
      ++exact_rows;  // Its hash is in p.prod_exact_hash.
    } else if (layout.prod_exact && raw) {
      prod_hash = RowHash(ev.text);
    } else {
      auto prod_field = [&](int c) -> std::string_view {
        int k = layout.prod[c];
        return k >= 0 ? (*f)[k] : parser::kCopyNull;
      };
      prod_hash = hasher_.Hash(all_prod_, prod_field);
    }
    ++r_.prod.rows;
    r_.prod.hash += prod_hash;
    // Dev's version of this row is written instead (--base, --prefer dev).
    if (replaced != nullptr && this_row < prod_index.size() &&
        replaced->contains(prod_index.key(this_row))) {
      if (exact) exact_not_written += RowHash(ev.text);
      return;
    }
    block.BeginRow();
    ++r_.output.rows;
    if (exact && p.fills.empty() && runs.Add(ev.text)) return;
    runs.Flush();
    const bool as_written = layout.shared_exact && raw;
    WriteProdRow(ev, as_written, field);
    // An exact row's prod_hash is 0: its hash is in p.prod_exact_hash.
    auto as_dev_writes = [&](int c) { return RescaledField(p, c, field(c), &rescaled_); };
    r_.output.hash += !as_written         ? hasher_.Hash(p.manifest_cols, as_dev_writes)
                      : layout.prod_exact ? prod_hash
                                          : RowHash(ev.text);
  }, [&runs] { runs.Flush(); }, stretches));
  runs.Flush();
  block.Close();
  if (replaced != nullptr && row != prod_index.size()) {
    return absl::InternalError(absl::StrCat(p.report.table, ": ", row,
                                            " production rows written, the index holds ",
                                            prod_index.size()));
  }
  if (exact_rows != p.prod_exact_rows) {
    return absl::InternalError(absl::StrCat(p.report.table, ": ", exact_rows,
                                            " production rows copied whole, the index hashed ",
                                            p.prod_exact_rows));
  }
  r_.prod.hash += p.prod_exact_hash;
  r_.output.hash += p.prod_exact_hash - exact_not_written;
  return absl::OkStatus();
}

template <typename FieldFn>
void TableWriter::WriteProdRow(const DumpEvent& ev, bool as_written, FieldFn field) {
  if (as_written) {  // The row as production wrote it is the row dev's shape wants.
    out_->Append(ev.text);
  } else {
    bool first = true;
    for (int c : p_.shared) {
      if (!first) out_->Append('\t');
      first = false;
      out_->Append(field(c));
    }
  }
  for (const auto& [col, value] : p_.fills) {
    out_->Append('\t');
    out_->Append(value);
  }
  out_->Append('\n');
}

template <typename FieldFn>
bool TableWriter::LoadFks(FieldFn field) {
  bool orphan = false;
  for (size_t s = 0; s < p_.fks.size(); ++s) {
    int64_t v;
    fk_values_[s] = ParseInt64(field(p_.fks[s].column), &v) ? v : kNoValue;
    if (fk_values_[s] != kNoValue &&
        plans_.tables[p_.fks[s].parent].decided.gone.contains(fk_values_[s])) {
      orphan = true;
    }
  }
  return orphan;
}

template <typename FieldFn>
std::string TableWriter::KeyText(FieldFn field) const {
  std::vector<std::string> parts;
  for (int c : p_.shown_key_cols) parts.emplace_back(field(c));
  if (parts.empty()) {
    for (int c : p_.shared) parts.emplace_back(field(c));
  }
  return absl::StrJoin(parts, ",");
}

template <typename FieldFn>
uint8_t TableWriter::DecideKeyless(FieldFn field, bool orphan, uint8_t* unified_via) {
  const Plan& p = p_;
  // Compared after following remapped parents, as prod's rows point at
  // prod's own.
  char num[24];
  auto rewritten = [&](int c) -> std::string_view {
    int slot = p.fk_slot[c];
    if (slot < 0 || fk_values_[slot] == kNoValue) return field(c);
    auto [end, ec] = std::to_chars(num, num + sizeof num,
                                   Rewrite(plans_, p, slot, fk_values_[slot]));
    return std::string_view(num, end - num);
  };
  auto unique_match = [&]() {
    for (size_t u = 0; u < p.uniques.size(); ++u) {
      if (p.UniqueApplies(u, field) &&
          p.prod_unique[u].contains(HashKey(p.uniques[u].columns, p.IsFk(),
                                            rewritten, KeyParts::kAll))) {
        *unified_via = static_cast<uint8_t>(u);
        return true;
      }
    }
    return false;
  };
  const uint8_t d = DecideKeylessRow(p_.prod_multiset,
                                     orphan ? 0 : dev_hasher_.Hash(p.shared, rewritten),
                                     orphan, unique_match);
  switch (d) {
    case kBase: ++r_.base; break;
    case kDevOnly: ++r_.dev_only; break;
    case kUnified: ++r_.unified; break;
    default: ++r_.dropped; break;
  }
  return d;
}

template <typename FieldFn>
Conflict TableWriter::ConflictOf(uint32_t i, uint8_t d, FieldFn field) {
  const Plan& p = p_;
  Conflict conflict;
  conflict.key = KeyText(field);
  conflict.kept = d == kTakeDev || m_.options.prefer_dev ? "dev" : "prod";
  conflict.edited = d == kTakeDev ? "dev" : p.base ? "both" : "unknown";
  if (d != kConflict) return conflict;  // Only conflicts list columns.
  DevConflict& dc = dev_conflicts_.emplace_back();
  dc.list_index = r_.conflict_list.size();
  if (auto row = p.decided.conflict_of_row.find(i); row != p.decided.conflict_of_row.end()) {
    dc.prod_key = row->second;
  }
  for (int c : p.shared) {
    const int slot = p.fk_slot[c];
    dc.hashes.push_back(HashField(field(c), 0));
    dc.rewritten.push_back(slot >= 0 &&
                           Rewrite(plans_, p, slot, fk_values_[slot]) != fk_values_[slot]);
  }
  return conflict;
}

void TableWriter::NameConflictColumns() {
  for (const DevConflict& dc : dev_conflicts_) {
    auto it = dc.prod_key ? prod_conflict_rows_.find(*dc.prod_key) : prod_conflict_rows_.end();
    Conflict& conflict = r_.conflict_list[dc.list_index];
    for (size_t j = 0; j < p_.shared.size(); ++j) {
      if (it == prod_conflict_rows_.end() || it->second[j] != dc.hashes[j] || dc.rewritten[j]) {
        conflict.columns.push_back(p_.dev_cols[p_.shared[j]]);
      }
    }
  }
}

template <typename FieldFn>
void TableWriter::CountNotCarried(FieldFn field) {
  for (size_t a = 0; a < p_.added.size(); ++a) {
    const std::string_view v = field(p_.added[a].column);
    if (v == parser::kCopyNull) continue;  // Nothing of dev's to carry.
    ++not_carried_[a].values;
    const std::optional<std::string>& written = p_.added[a].written;
    if (!written || v != *written) ++not_carried_[a].non_default;
  }
}

template <typename FieldFn>
bool TableWriter::ReportDevRow(uint32_t i, uint8_t d, uint8_t unified_via,
                               FieldFn field) {
  const Plan& p = p_;
  if (auto a = p.decided.ambiguous.find(i); a != p.decided.ambiguous.end()) {
    r_.ambiguous_list.push_back({KeyText(field), a->second});
  }
  switch (d) {
    case kBase:
      ++in_both_;
      CountNotCarried(field);
      return false;
    case kProdEdit:
      ++in_both_;
      r_.prod_edit_keys.push_back(KeyText(field));
      CountNotCarried(field);
      return false;
    case kTakeDev:
    case kConflict: {
      ++in_both_;
      Conflict conflict = ConflictOf(i, d, field);
      const bool write_dev = conflict.kept == "dev";
      if (!write_dev) CountNotCarried(field);
      if (d == kConflict) {
        r_.conflict_list.push_back(std::move(conflict));
      } else {
        r_.dev_edit_keys.push_back(std::move(conflict.key));
      }
      return write_dev;
    }
    case kDeleted:
      r_.deleted_keys.push_back(KeyText(field));
      return false;
    case kUnified: {
      Unification u;
      u.dev_key = KeyText(field);
      const auto found = p.decided.unified.find(i);
      const TableDecisions::Unified unified =
          found == p.decided.unified.end() ? TableDecisions::Unified{} : found->second;
      u.prod_key = p.mode == Mode::kRemap ? absl::StrCat(unified.target)
                                          : u.dev_key;
      u.unique_key =
          p.uniques[p.mode == Mode::kMultiset ? unified_via : unified.via].name;
      r_.unifications.push_back(std::move(u));
      CountNotCarried(field);
      if (p.mode == Mode::kRemap &&
          unified.target == static_cast<int64_t>(KeyOf(p, field, false))) {
        ++in_both_;
      }
      return false;
    }
    case kDropUnique:
      r_.dropped_list.push_back(
          {KeyText(field), "its natural unique keys match different production rows"});
      return false;
    case kDropOrphan:
      r_.dropped_list.push_back({KeyText(field), "references a row that production deleted"});
      return false;
    case kCollision:
      ++in_both_;
      return true;
    default:  // kDevOnly.
      return true;
  }
}

template <typename FieldFn>
void TableWriter::WriteDevRow(const DumpEvent& ev, const Layout& layout, FieldFn field,
                              OutputBuffer* out) {
  const Plan& p = p_;
  const std::vector<int>& manifest_cols = p.prod ? p.manifest_cols : all_dev_;
  bool any_rewritten = false;
  for (size_t c = 0; c < p.dev_cols.size(); ++c) {
    std::string_view v = field(c);
    int slot = p.fk_slot[c];
    int64_t nv = 0;
    bool rewritten = false;
    if (p.mode == Mode::kRemap && static_cast<int>(c) == p.key_cols[0]) {
      int64_t k;
      ParseInt64(v, &k);
      nv = p.decided.remap.Apply(k);
      rewritten = nv != k;
      if (rewritten) remaps_.emplace_back(k, nv);
    } else if (slot >= 0 && fk_values_[slot] != kNoValue) {
      nv = Rewrite(plans_, p, slot, fk_values_[slot]);
      rewritten = nv != fk_values_[slot];
      r_.references[slot].rewritten += rewritten;
    }
    if (rewritten) {
      char* buf = num_bufs_[c].data();
      auto [end, ec] = std::to_chars(buf, buf + num_bufs_[c].size(), nv);
      v = std::string_view(buf, end - buf);
      any_rewritten = true;
    }
    values_[c] = v;
  }
  if (!p.polymorphic.empty()) any_rewritten |= RewritePolymorphic();
  if (!p.arrays.empty()) any_rewritten |= RewriteArrays();
  auto value = [&](int c) { return values_[c]; };
  uint64_t row_hash;
  if (!any_rewritten && layout.dev_exact && !ev.text.empty()) {
    out->Append(ev.text);  // Nothing to rewrite: the row as dev wrote it.
    row_hash = manifest_cols.size() == p.dev_cols.size()
                   ? RowHash(ev.text)
                   : dev_hasher_.Hash(manifest_cols, value);
  } else {
    for (size_t c = 0; c < p.dev_cols.size(); ++c) {
      if (c > 0) out->Append('\t');
      out->Append(values_[c]);
    }
    row_hash = dev_hasher_.Hash(manifest_cols, value);
  }
  out->Append('\n');
  ++dev_output_.rows;
  dev_output_.hash += row_hash;
}

bool TableWriter::RewritePolymorphic() {
  bool any = false;
  for (size_t k = 0; k < p_.polymorphic.size(); ++k) {
    const PolymorphicReference& ref = p_.polymorphic[k];
    const std::string_view type = values_[ref.type_column];
    int64_t old;
    if (type == parser::kCopyNull || !ParseInt64(values_[ref.column], &old)) continue;
    // Found by the view: a row's type is seldom a new one.
    auto it = poly_[k].find(type);
    const bool first = it == poly_[k].end();
    if (first) it = poly_[k].emplace(std::string(type), PolyType{}).first;
    PolyType& t = it->second;
    if (first) {
      t.parent = PolymorphicParent(plans_, p_, type);
      // Its decisions may come after this table's: the graph decide
      // orders tables by has no edge for it. A failed decide fails the merge.
      if (t.parent >= 0 && !await_table_(t.parent).ok()) t.parent = -1;
    }
    if (t.parent < 0) {
      ++t.count;
      continue;
    }
    const int64_t now = plans_.tables[t.parent].decided.Rewrite(old);
    if (now == old) continue;
    ++t.count;
    char* buf = num_bufs_[ref.column].data();
    auto [end, ec] = std::to_chars(buf, buf + num_bufs_[ref.column].size(), now);
    values_[ref.column] = std::string_view(buf, end - buf);
    any = true;
  }
  return any;
}

bool TableWriter::RewriteArrays() {
  bool any = false;
  for (size_t k = 0; k < p_.arrays.size(); ++k) {
    const ArrayReference& ref = p_.arrays[k];
    const std::string_view text = values_[ref.column];
    if (text == parser::kCopyNull || text.find_first_of("0123456789") == std::string_view::npos) {
      continue;
    }
    // The parent's decisions may come after this table's (no edge orders
    // them); a failed decide fails the merge.
    if (!array_awaited_[k] && !await_table_(ref.parent).ok()) continue;
    array_awaited_[k] = true;
    const TableDecisions& parent = plans_.tables[ref.parent].decided;
    // An integer array's text: braces, commas, NULL, optional bounds
    // ("[0:1]={1,2}"); every run of digits after '{' or ',' is an element.
    std::string& out = array_text_[k];
    out.clear();
    int64_t changed = 0;
    size_t i = 0;
    if (text[0] == '[') {  // Bounds: copied as they are.
      const size_t eq = text.find('=');
      if (eq == std::string_view::npos) continue;
      i = eq + 1;
      out.append(text.substr(0, i));
    }
    while (i < text.size()) {
      const char c = text[i];
      const bool starts = (c == '-' || (c >= '0' && c <= '9')) && i > 0 &&
                          (text[i - 1] == '{' || text[i - 1] == ',');
      if (!starts) {
        out.push_back(c);
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      int64_t v;
      if (!ParseInt64(text.substr(i, j - i), &v)) {
        out.append(text.substr(i, j - i));
      } else {
        const int64_t now = parent.Rewrite(v);
        changed += now != v;
        char num[24];
        auto [end, ec] = std::to_chars(num, num + sizeof num, now);
        out.append(num, end - num);
      }
      i = j;
    }
    if (changed == 0) continue;
    array_rewritten_[k] += changed;
    values_[ref.column] = out;
    any = true;
  }
  return any;
}

void TableWriter::ReportFollowedAsWritten() {
  for (size_t k = 0; k < p_.arrays.size(); ++k) {
    const ArrayReference& ref = p_.arrays[k];
    r_.references.push_back({p_.dev_cols[ref.column], plans_.tables[ref.parent].report.table,
                             ref.by == ReferenceReport::kDeclared
                                 ? "--reference"
                                 : "its name (an array of keys no foreign key can declare)",
                             ref.by, array_rewritten_[k]});
  }
  for (size_t k = 0; k < p_.polymorphic.size(); ++k) {
    const std::string& column = p_.dev_cols[p_.polymorphic[k].column];
    const std::string& type_column = p_.dev_cols[p_.polymorphic[k].type_column];
    for (const auto& [type, t] : poly_[k]) {
      if (t.parent >= 0) {
        r_.references.push_back({column, plans_.tables[t.parent].report.table,
                                 absl::StrCat("polymorphic: ", type_column, " = '", type, "'"),
                                 ReferenceReport::kInferred, t.count});
      } else {
        r_.unlinked_columns.push_back(
            {column, absl::StrCat("polymorphic: ", type_column, " '", type, "', on ", t.count,
                                  " development rows written, names no table whose keys the "
                                  "merge remaps")});
      }
    }
  }
}

absl::Status TableWriter::EmitDevRows(OutputBuffer* out) {
  CopyBlock block(out, absl::StrCat("COPY ", name_sql_,
                                     ColumnListSql(p_.dev_cols, all_dev_),
                                     " FROM stdin;\n"));
  uint32_t ordinal = 0;
  // Stretches of base rows whose production copy is written and whose own
  // values all go with it (dev added no column): not read at all.
  struct BaseRows {
    TableWriter& w;
    uint32_t& ordinal;
    bool may(uint32_t from, uint32_t to, const Layout&, const Span&) const {
      for (uint32_t r = from; r < to; ++r) {
        if (!skips(r)) return false;
      }
      return true;
    }
    bool skips(uint32_t row) const {
      const std::vector<uint8_t>& d = w.p_.decided.decision;
      return w.p_.mode != Mode::kMultiset && w.p_.added.empty() && row < d.size() &&
             d[row] == kBase;
    }
    void past(uint32_t from, uint32_t to, std::string_view) {
      w.in_both_ += to - from;
      ordinal += to - from;
    }
  } stretches{*this, ordinal};
  PGM_RETURN_IF_ERROR(ForEachRow(m_, p_, Side::kDev, [&](DumpReader& reader,
                                                         const DumpEvent& ev,
                                                         const Layout& layout) {
    const uint32_t i = ordinal++;
    const bool base = p_.mode != Mode::kMultiset && p_.decided.decision[i] == kBase;
    // Most rows: prod's copy is written; nothing to split unless dev added
    // columns whose values it then does not carry.
    if (base && p_.added.empty()) {
      ++in_both_;
      return;
    }
    const std::vector<std::string_view>& f = reader.Fields(ev);
    auto field = [&](int c) -> std::string_view {
      int k = layout.dev[c];
      return k >= 0 ? f[k] : parser::kCopyNull;
    };
    if (base) {
      ++in_both_;
      CountNotCarried(field);
      return;
    }
    const bool orphan = LoadFks(field);
    uint8_t unified_via = 0;
    const uint8_t d = p_.mode == Mode::kMultiset ? DecideKeyless(field, orphan, &unified_via)
                                                 : p_.decided.decision[i];
    // Written: kDevOnly, kCollision, or a dev version that replaces prod's.
    if (!ReportDevRow(i, d, unified_via, field)) return;
    block.BeginRow();
    WriteDevRow(ev, layout, field, out);
  }, [] {}, stretches));
  block.Close();
  return absl::OkStatus();
}

absl::Status TableWriter::CheckAccounted() const {
  const TableReport& r = r_;
  int64_t accounted = r.base + r.dev_only + r.remapped + r.unified +
                      r.conflicts + r.deleted_in_prod + r.dropped +
                      r.taken_from_dev;
  if (accounted != r.dev_rows) {
    return absl::InternalError(absl::StrCat(
        r.table, ": ", r.dev_rows, " development rows read but ", accounted,
        " accounted for"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteTable(const MergeInputs& m, const Plans& plans, Plan& p,
                        absl::FunctionRef<absl::Status()> decided, AwaitDecided await_table,
                        RowHasher& hasher, OutputBuffer* out) {
  return TableWriter(m, plans, p, decided, await_table, hasher, out).Run();
}

}  // namespace pgmerge::merger::internal
