// Large objects of both dumps into the output (issue #13). Production's are
// all carried, with their OIDs and content; development's by OID:
//   - an OID production has with the same content: the same object, once;
//   - an OID production lacks: carried (with --base: unless the fork had it
//     with this content, i.e. production deleted it: counted, not brought
//     back);
//   - an OID production has with other content: with --base, the side that
//     left the fork's content unchanged gives way to the other; otherwise
//     (or both changed it) the merge is refused, naming both. Renumbering
//     development's object would need every reference to it rewritten, and
//     a reference to a large object is only an oid (or lo) value in some
//     column: pgmerge does not guess which.
// The output writes each with lo_create and lo_put, which need no open
// descriptor, so it restores inside psql --single-transaction and outside
// it; the dumps' BEGIN/COMMIT around their BLOBS data never reach psql.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "merger/plan.h"
#include "parser/segmenter.h"

namespace pgmerge::merger::internal {
namespace {

using parser::LargeObject;

const LargeObject* FindOid(const std::vector<LargeObject>& los, uint32_t oid) {
  auto it = std::lower_bound(los.begin(), los.end(), oid,
                             [](const LargeObject& lo, uint32_t o) { return lo.oid < o; });
  return it != los.end() && it->oid == oid ? &*it : nullptr;
}

std::string Describe(const LargeObject& lo) {
  return absl::StrCat(lo.size, " bytes, sha256 ", lo.sha256.substr(0, 12));
}

manifest::ManifestLargeObject Entry(const LargeObject& lo) {
  return {lo.oid, lo.size, lo.sha256};
}

}  // namespace

absl::Status PlanLargeObjects(const MergeInputs& m, Plans& plans, Report& report) {
  const std::vector<LargeObject>& prod = m.prod_catalog.large_objects();
  const std::vector<LargeObject>& dev = m.dev_catalog.large_objects();
  const bool three_way = m.base != nullptr;
  const std::vector<LargeObject>& base = m.base_catalog.large_objects();
  LargeObjectReport& r = report.large_objects;
  r = {};
  r.prod = static_cast<int64_t>(prod.size());
  r.dev = static_cast<int64_t>(dev.size());
  std::map<uint32_t, LargeObjectChoice> chosen;
  std::vector<std::string> refused;
  for (const LargeObject& p : prod) {
    r.prod_side.push_back(Entry(p));
    LargeObjectChoice c{&p, &p, Side::kProd, Side::kProd};
    const LargeObject* d = FindOid(dev, p.oid);
    const LargeObject* b = three_way ? FindOid(base, p.oid) : nullptr;
    if (d == nullptr) {
      // Only production has it.
    } else if (d->SameContent(p)) {
      ++r.same;
    } else if (b != nullptr && b->SameContent(p)) {
      // Only development changed the fork's content: its version.
      c.content = d;
      c.content_side = Side::kDev;
      ++r.taken_from_dev;
      r.taken_from_dev_oids.push_back(p.oid);
    } else if (b != nullptr && b->SameContent(*d)) {
      ++r.prod_edited;  // Only production changed it.
    } else {
      refused.push_back(absl::StrCat(
          m.dev.name, ":", d->line, ": large object ", p.oid, " is in both dumps with other ",
          "content: production's (", m.prod.name, ":", p.line, ", ", Describe(p),
          ") and development's (", Describe(*d), ")",
          b != nullptr ? ", and both differ from the base's" : "",
          "; pgmerge does not renumber large objects (the references to one are plain oid "
          "values): give development's another OID (lo_from_bytea(0, lo_get(",
          p.oid, ")), then repoint what refers to it) or drop one, and dump again"));
    }
    chosen[p.oid] = c;
  }
  for (const LargeObject& d : dev) {
    if (FindOid(prod, d.oid) != nullptr) continue;
    const LargeObject* b = three_way ? FindOid(base, d.oid) : nullptr;
    if (b != nullptr && b->SameContent(d)) {
      // The fork had it as development still has it: production deleted it.
      ++r.deleted_in_prod;
      r.deleted_oids.push_back(d.oid);
      continue;
    }
    ++r.dev_new;
    r.dev_new_oids.push_back(d.oid);
    chosen[d.oid] = {&d, &d, Side::kDev, Side::kDev};
  }
  if (!refused.empty()) {
    report.refusals.insert(report.refusals.end(), refused.begin(), refused.end());
    return absl::FailedPreconditionError(absl::StrJoin(refused, "\n"));
  }
  plans.large_objects.clear();
  for (const auto& [oid, c] : chosen) {
    plans.large_objects.push_back(c);
    r.output.push_back(Entry(*c.content));
  }
  return absl::OkStatus();
}

void EmitLargeObjects(const MergeInputs& m, const Plans& plans,
                      absl::FunctionRef<bool(std::string_view)> left_out, OutputBuffer* out) {
  if (plans.large_objects.empty()) return;
  out->Append(
      "--\n-- Large objects: production's and development's new ones, by OID.\n--\n\n");
  for (const LargeObjectChoice& c : plans.large_objects) {
    const uint32_t oid = c.content->oid;
    out->Append(absl::StrCat("SELECT pg_catalog.lo_create('", oid, "');\n"));
    out->Mark(OutputMark::kStatement);
    // The content first: the owner statements below may give it away.
    // E'\\x...' reads alike whatever standard_conforming_strings is.
    std::string_view data = m.dump(c.content_side).data;
    int64_t at = 0;
    for (const auto& [offset, length] : c.content->chunks) {
      out->Append(absl::StrCat("SELECT pg_catalog.lo_put('", oid, "', ", at, ", E'\\\\x"));
      out->Append(data.substr(offset, length));
      out->Append("');\n");
      out->Mark(OutputMark::kStatement);
      at += static_cast<int64_t>(length / 2);
    }
    std::string_view meta = m.dump(c.meta_side).data;
    for (const LargeObject::Statement& s : c.meta->statements) {
      if (left_out(meta.substr(s.offset, s.length))) continue;
      if (s.standard_strings_dependent) {
        out->Append(parser::StandardStringsPin(s.standard_strings));
        out->Mark(OutputMark::kStatement);
      }
      out->Append(meta.substr(s.offset, s.length));
      out->Append("\n");
      out->Mark(OutputMark::kStatement);
    }
    out->Append("\n");
  }
}

}  // namespace pgmerge::merger::internal
