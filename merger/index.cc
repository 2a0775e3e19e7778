#include <algorithm>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/row_hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {
namespace {

// How far the reader gets ahead of the \restrict key's digest: a stretch
// the index just read is still in the core's cache.
constexpr size_t kDigestStep = size_t{256} << 10;

// Number of characters (UTF-8 code points) of a decoded value.
size_t CharLength(std::string_view v) {
  size_t n = 0;
  for (char c : v) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Checks prod's values against the plan's TypeChecks.
void CheckValues(const MergeInputs& m, Plan& p, const std::vector<std::string_view>& f,
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
          m.prod.name, ":", line, ": ", p.report.table, ".", p.dev_cols[c.column],
          " = ", AsAbsl(v.substr(0, 60)), " does not fit development's ", c.what));
    }
  }
}

// What production's row brings that development's schema must check: its
// values against dev's types, its references against parents dev's new
// foreign keys need, and the values of columns dev dropped.
template <typename FieldFn>
void NoteProdRow(const MergeInputs& m, const Plans& plans, Plan& p,
                 const std::vector<std::string_view>& f, const Layout& layout,
                 FieldFn field, int64_t line) {
  if (!p.checks.empty()) CheckValues(m, p, f, layout, line);
  for (Plan::NewForeignKey& nfk : p.new_fks) {
    std::string_view v = field(nfk.column);
    if (v == parser::kCopyNull) continue;
    const Plan& parent = plans.tables[nfk.parent];
    uint64_t k;
    if (parent.mode == Mode::kRemap || parent.int_key) {
      int64_t n;
      if (!ParseInt64(v, &n)) n = std::numeric_limits<int64_t>::min();
      k = static_cast<uint64_t>(n);
    } else {
      k = HashField(v, kHashSeed);  // HashKey of a one-column key.
    }
    nfk.values.emplace_back(k, line);
  }
  for (size_t k = 0; k < p.lost_cols.size(); ++k) {
    int fi = layout.prod[p.lost_cols[k]];
    std::string_view v = fi >= 0 ? f[fi] : parser::kCopyNull;
    const parser::Column& col = p.prod->columns[p.prod->ColumnIndex(p.losses[k].column)];
    ++p.losses[k].values;
    std::string_view def = col.default_constant ? std::string_view(*col.default_constant)
                                                : parser::kCopyNull;
    if (v != def) ++p.losses[k].non_default;
  }
}

// Records a prod row's natural unique keys (-> its key; keyless tables
// have none). Two prod rows sharing values a unique key of dev's forbids
// are a violation.
template <typename FieldFn>
void AddProdUniques(const MergeInputs& m, Plan& p, FieldFn field,
                    std::optional<uint64_t> key, int64_t line) {
  for (size_t u = 0; u < p.uniques.size(); ++u) {
    if (!p.UniqueApplies(u, field)) continue;
    const uint64_t h = HashKey(p.uniques[u].columns, p.IsFk(), field, KeyParts::kAll);
    auto [it, inserted] = p.prod_unique[u].try_emplace(h, key.value_or(0));
    if (inserted || (key && it->second == *key)) continue;
    ++p.violations;
    if (p.violation_samples.size() < 5) {
      p.violation_samples.push_back(absl::StrCat(
          m.prod.name, ":", line, ": ", p.report.table,
          " has two rows with the same values for development's unique key ",
          p.uniques[u].name));
    }
  }
}

// What one side's pass counts of a table, kept apart from the plan while
// the sides run: prod's and dev's counters in one plan would share cache
// lines between the two threads.
struct SideTally {
  int64_t rows = 0;
  // Production's rows emit copies whole (ExactProdRow): how many, and the
  // sum of their RowHash, which is both manifests' hash of them.
  int64_t exact_rows = 0;
  uint64_t exact_hash = 0;
  int64_t max_key = 0;
  std::vector<int64_t> sequence_max;
};

// Indexes one row of `side`: its fingerprint, key, FK values and unique
// hashes; prod's rows are also checked against dev's schema.
absl::Status IndexRow(const MergeInputs& m, const Plans& plans, Plan& p, Side side,
                      RowHasher& hasher, const DumpEvent& ev, const Layout& layout,
                      SideTally& tally) {
  const std::vector<std::string_view>& f = *ev.fields;
  // The base dump is indexed like production's: its rows are never written.
  const bool prod_side = side != Side::kDev;
  const std::string& file = m.dump(side).name;
  // Production's and the base's values as development's types write them,
  // where it rescaled a numeric; the raw text for checks against it.
  const bool rescale = side != Side::kDev && !p.rescaled.empty();
  thread_local std::vector<std::string> scratch;
  if (rescale && scratch.size() < p.dev_cols.size()) scratch.resize(p.dev_cols.size());
  auto raw_field = [&](int dev_col) -> std::string_view {
    int k = layout.dev[dev_col];
    return k >= 0 ? f[k] : parser::kCopyNull;
  };
  auto field = [&](int dev_col) -> std::string_view {
    std::string_view v = raw_field(dev_col);
    return rescale ? RescaledField(p, dev_col, v, &scratch[dev_col]) : v;
  };
  if (ev.target->columns.empty()) {
    // An INSERT without a column list: one value per data column.
    size_t width = DataColumns(*p.table(side)).size();
    if (!parser::RowFitsWidth(f.size(), f.empty() ? std::string_view() : f[0], width)) {
      return InputError(file, ev.line,
                        absl::StrCat("row for ", p.report.table, " has ", f.size(),
                                     " values, the table has ", width, " columns"));
    }
  }
  const uint64_t fp = layout.shared_exact && !ev.text.empty() ? RowHash(ev.text)
                                                              : hasher.Hash(p.shared, field);
  if (side == Side::kProd) {
    NoteProdRow(m, plans, p, f, layout, raw_field, ev.line);
    if (ExactProdRow(layout, ev.text)) {
      ++tally.exact_rows;
      tally.exact_hash += fp;
    }
  }
  if (side != Side::kBase) {
    // Sequences end past every value either dump holds (an upper bound for
    // dev rows that end up not written is harmless).
    for (size_t j = 0; j < p.sequence_cols.size(); ++j) {
      int64_t v;
      if (ParseInt64(field(p.sequence_cols[j]), &v)) {
        int64_t& top = tally.sequence_max[j];
        top = Further(p.sequence_down[j], top, v);
      }
    }
  }
  ++tally.rows;
  if (p.mode == Mode::kMultiset) {
    if (side != Side::kProd) return absl::OkStatus();
    p.prod_multiset.Add(fp);
    // Natural unique keys still hold: dev rows are checked against these
    // while they are written (emit.cc).
    AddProdUniques(m, p, field, std::nullopt, ev.line);
    return absl::OkStatus();
  }
  uint64_t key;
  if (p.mode == Mode::kRemap || p.int_key) {
    int64_t v;
    std::string_view kf = field(p.key_cols[0]);
    if (!ParseInt64(kf, &v)) {
      return InputError(file, ev.line,
                        absl::StrCat("key ", p.dev_cols[p.key_cols[0]], " of ",
                                     p.report.table, " is not an integer: ",
                                     AsAbsl(kf.substr(0, 40))));
    }
    key = static_cast<uint64_t>(v);
    if (p.mode == Mode::kRemap) tally.max_key = std::max(tally.max_key, v);
  } else {
    key = KeyOf(p, field, prod_side);
  }
  SideIndex& index = p.index(side);
  // A dev key with FK parts is not final until its parents are decided.
  const bool keyed = prod_side || p.mode == Mode::kRemap ||
                     std::none_of(p.key_cols.begin(), p.key_cols.end(), p.IsFk());
  if (keyed) {
    index.AddRow(key, fp);
  } else {
    index.AddUnkeyedRow(key, fp);
  }
  if (side == Side::kBase) return absl::OkStatus();
  if (SignsRows(p, m.base != nullptr)) index.AddSignature(ColumnSignature(p, field));
  if (prod_side) {
    AddProdUniques(m, p, field, key, ev.line);
    return absl::OkStatus();
  }
  for (size_t s = 0; s < p.fks.size(); ++s) {
    int64_t v;  // Integer values of tracked foreign keys (NULL: kNoValue).
    index.AddFk(ParseInt64(field(p.fks[s].column), &v) ? v : kNoValue);
  }
  for (size_t u = 0; u < p.uniques.size(); ++u) {
    // The plain part now; the FK part once parents are decided (decide.cc).
    index.AddUnique(p.UniqueApplies(u, field)
                        ? HashKey(p.uniques[u].columns, p.IsFk(), field, KeyParts::kPlain)
                        : 0);
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status IndexSide(const MergeInputs& m, Side side, Plans& plans,
                       parser::InputDigest* digest, int64_t* session_text) {
  RowHasher hasher;  // One per side: the sides run on their own threads.
  const DumpInput& in = m.dump(side);
  DumpReader reader(in.data, in.name);
  parser::ReaderOptions whole;
  whole.require_complete = true;  // Truncation refused before any output.
  reader.set_options(whole);
  PageReleaser releaser(in.file, 0);
  // The \restrict key's digest takes each stretch the reader went through
  // while it is still in the cache, and only then are its pages handed
  // back: one read of the input for both, not a second pass of its own.
  std::optional<parser::InputDigester> digester;
  if (digest != nullptr) digester.emplace(in.data);
  auto advance = [&](size_t at) {
    if (!digester) return releaser.Advance(at);
    if (at >= digester->done() + kDigestStep) digester->Through(at);
    releaser.Advance(digester->done());
  };
  DumpEvent ev;
  int64_t block = -1;
  Plan* plan = nullptr;
  Layout layout;
  Span* span = nullptr;
  bool lengths = false;  // Keeping the span's row_lengths.
  size_t last_row = 0;   // Where the span's last row began.
  std::vector<SideTally> tallies(plans.tables.size());
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    const Plan& p = plans.tables[t];
    tallies[t].max_key = p.side_max_key[static_cast<int>(side)];
    tallies[t].sequence_max = p.side_sequence_max[static_cast<int>(side)];
  }
  SideTally* tally = nullptr;
  std::vector<SessionTextField> session_fields;  // The block's, when asked.
  for (;;) {
    bool scs = reader.standard_conforming_strings();
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    // COPY rows are only searched for the key (parser/restrict_key.h).
    if (digester && ev.kind == EventKind::kCopyEnd) digester->EndRows(ev.offset);
    advance(reader.position());
    if (digester && ev.kind == EventKind::kCopyStart) digester->BeginRows(reader.position());
    if (ev.kind == EventKind::kStatement || ev.kind == EventKind::kMeta) {
      continue;
    }
    if (ev.block != block) {
      block = ev.block;
      if (session_text != nullptr) session_fields = SessionTextFields(m.catalog(side), *ev.target);
      const TableName& name = ev.target->table;
      const auto& by_name = side == Side::kDev ? plans.plan_of : plans.prod_plan_of;
      auto it = by_name.find(name.Display());
      plan = it == by_name.end() ? nullptr : &plans.tables[it->second];
      if (plan != nullptr) tally = &tallies[it->second];
      if (plan != nullptr && side == Side::kBase && plan->base == nullptr) {
        plan = nullptr;
      }
      span = nullptr;
      if (plan != nullptr) {
        layout = MakeLayout(*plan, *ev.target, side);
        std::vector<Span>& spans = plan->spans(side);
        // A span starts at the statement: the COPY header or the INSERT.
        Span& opened = spans.emplace_back();
        opened.begin = opened.end = ev.offset;
        opened.line = ev.line;
        opened.standard_strings = scs;
        span = &spans.back();
        // Rows emit may skip one by one: development's it does not write
        // (EmitDevRows), production's no development row contends with
        // (CollectConflictRows).
        lengths = ev.kind == EventKind::kCopyStart && plan->mode != Mode::kMultiset &&
                  (side == Side::kProd || (side == Side::kDev && plan->added.empty()));
        last_row = 0;
      }
    }
    if (!session_fields.empty() && ev.kind == EventKind::kRow &&
        !SessionTextCanonical(session_fields, *ev.fields)) {
      *session_text = ev.line;  // The merge runs again on a copy.
      return absl::OkStatus();
    }
    if (plan == nullptr) continue;  // A table dev dropped (--allow-drop).
    span->end = reader.position();
    if (ev.kind == EventKind::kCopyEnd) span->copy_end = {ev.offset, ev.line};
    if (ev.kind != EventKind::kRow) continue;
    if (!ev.text.empty()) {  // A COPY row.
      if (tally->rows % kRowMarkStep == 0 && tally->rows > 0) {
        span->marks.push_back({static_cast<uint32_t>(tally->rows), ev.line, ev.offset});
      }
      const size_t after = ev.offset + ev.text.size();
      span->crlf |= after < in.data.size() && in.data[after] == '\r';
    }
    if (lengths) {
      if (last_row != 0) {
        span->row_lengths.push_back(
            static_cast<uint16_t>(std::min<size_t>(ev.offset - last_row, Span::kLongRow)));
      }
      last_row = ev.offset;
    }
    PGM_RETURN_IF_ERROR(IndexRow(m, plans, *plan, side, hasher, ev, layout, *tally));
  }
  if (digester) *digest = digester->Finish();
  releaser.Finish(digester ? in.data.size() : reader.position());
  for (size_t t = 0; t < plans.tables.size(); ++t) {
    Plan& p = plans.tables[t];
    if (side == Side::kProd) {
      p.report.prod_rows += tallies[t].rows;
      p.prod_exact_rows = tallies[t].exact_rows;
      p.prod_exact_hash = tallies[t].exact_hash;
    }
    if (side == Side::kDev) p.report.dev_rows += tallies[t].rows;
    p.side_max_key[static_cast<int>(side)] = tallies[t].max_key;
    p.side_sequence_max[static_cast<int>(side)] = std::move(tallies[t].sequence_max);
  }
  for (Plan& p : plans.tables) {
    SideIndex& index = p.index(side);
    if (std::optional<uint64_t> dup = index.Finalize()) {
      std::string key = p.mode == Mode::kRemap || p.int_key
                            ? absl::StrCat(static_cast<int64_t>(*dup))
                            : "(a composite or text key)";
      return absl::DataLossError(absl::StrCat(
          in.name, ": duplicate key ", key, " in ", p.report.table,
          ": the dump breaks its own key constraint"));
    }
  }
  return absl::OkStatus();
}

std::string RestrictKey(const MergeInputs& m) {
  if (std::optional<std::string> key = parser::RestrictKeyOf(m.digests)) return *key;
  std::vector<parser::InputDigest> whole(m.digests.size());
  auto take = [&](size_t i) {
    const DumpInput& in = m.dump(static_cast<Side>(i));
    parser::InputDigester digester(in.data);
    PageReleaser releaser(in.file, 0);
    for (size_t at = 0; at < in.data.size(); releaser.Advance(at)) {
      at = std::min(in.data.size(), at + kDigestStep);
      digester.Through(at);
    }
    releaser.Finish(in.data.size());
    whole[i] = digester.Finish();
  };
  std::vector<std::thread> others;
  for (size_t i = 1; i < whole.size(); ++i) others.emplace_back(take, i);
  take(0);
  for (std::thread& t : others) t.join();
  return *parser::RestrictKeyOf(whole);
}

void JoinSides(Plans& plans) {
  for (Plan& p : plans.tables) {
    for (int64_t top : p.side_max_key) p.max_key = std::max(p.max_key, top);
    for (const auto& side_max : p.side_sequence_max) {
      for (size_t j = 0; j < side_max.size(); ++j) {
        p.sequence_max[j] = Further(p.sequence_down[j], p.sequence_max[j], side_max[j]);
      }
    }
  }
}

// Production rows development's schema would refuse, found before any
// output instead of half way through a restore.
absl::Status RefuseMisfits(const MergeInputs& m, Plans& plans, Report& report) {
  std::vector<std::string> refused;
  int64_t refused_count = 0;
  for (Plan& p : plans.tables) {
    for (Plan::NewForeignKey& nfk : p.new_fks) {
      const Plan& parent = plans.tables[nfk.parent];
      for (const auto& [key, line] : nfk.values) {
        if (parent.prod_index->Find(key) || parent.dev_index->Find(key)) continue;
        ++refused_count;
        std::string message = absl::StrCat(
            m.prod.name, ":", line, ": ", p.report.table, ".",
            p.dev_cols[nfk.column], " points at no row of ", parent.report.table,
            ", and development adds the foreign key ", nfk.name);
        if (report.refusals.size() < 1000) report.refusals.push_back(message);
        if (refused.size() < 10) refused.push_back(std::move(message));
      }
      nfk.values.clear();
      nfk.values.shrink_to_fit();
    }
  }
  for (const Plan& p : plans.tables) {
    refused_count += p.violations;
    for (const std::string& sample : p.violation_samples) {
      report.refusals.push_back(sample);
      if (refused.size() < 10) refused.push_back(sample);
    }
    if (!m.options.strict) continue;
    for (const ColumnLoss& loss : p.losses) {
      if (loss.non_default == 0) continue;
      ++refused_count;
      refused.push_back(absl::StrCat(
          m.dev.name, ":", p.dev->line, ": development drops ", p.report.table,
          ".", loss.column, ", losing ", loss.non_default,
          " production values that are not its default (--strict); hint: "
          "--rename ", p.report.table, ".", loss.column,
          "=NEW if it was renamed"));
      report.refusals.push_back(refused.back());
    }
  }
  if (refused_count > 0) {
    for (Plan& p : plans.tables) {
      p.report.lost_columns = p.losses;
      report.tables.push_back(p.report);
    }
    return absl::FailedPreconditionError(absl::StrCat(
        absl::StrJoin(refused, "\n"),
        refused_count > static_cast<int64_t>(refused.size())
            ? absl::StrCat("\n(", refused_count - refused.size(), " more)")
            : ""));
  }
  return absl::OkStatus();
}

}  // namespace pgmerge::merger::internal
