// A merge checker independent of pgmerge: it decides what the restored
// shadow must hold from the base, production and development databases
// alone (the test built all three itself), never from pgmerge's report, and
// then checks both the shadow and the report against that truth.
//
// The truth, per table of development's schema (keys as in the databases):
// - every production row (base rows not deleted by production, with
//   production's edits; production's new rows y) with its own key; a base
//   row only development edited carries development's version in a
//   three-way merge (production's in a two-way one, where nobody can tell);
//   a row both edited carries production's version (development's with
//   prefer_dev). Columns development added hold their default (or the
//   --fill value) on production's rows;
// - every development row not in the base (z) with its own values in every
//   column of development's schema, its key possibly remapped when the key
//   has a column drawn from a sequence; one that equals a production row on
//   a key pgmerge never remaps (a natural unique key, a composite, text or
//   uuid key, foreign-key parts compared by the row they name) is that row;
// - nothing else: base rows production deleted stay deleted, development's
//   deletions are not applied.
// Rows are compared by their content in every column of development's
// schema (generated columns aside, they follow) and, for each foreign key,
// by the full content of the row it names, recursively and safe on cycles
// (colour refinement over the row graph), and matched one to one as
// multisets; production's rows must also sit at their own keys.
//
// What is accepted beyond the truth (the merge cannot do better):
// - coincidence: a development row whose whole content, references
//   included, and key equal a production new row's may be written once;
// - ambiguity (two-way only): a development row whose key the report lists
//   under the table's "ambiguous" ([{"key": ...}] or ["key", ...]) may be
//   kept in addition, as a development row of its own (remapped), with
//   development's references following it. Nothing may be lost, and no
//   reference may name a row of other content.
// Development's schema may rename and drop what production has: with the
// merge's --rename-table and --rename (renamed_tables, renamed_columns) the
// base's and production's tables and columns are read under development's
// names; a production column development's table lacks is lost (its values
// counted in the report's lost_columns), and so is a production table
// development lacks (no rows in the shadow; with rows, the report must call
// it dropped_by_dev). Content is compared, and edits told, only in the
// columns the base shares with development's schema.
// Large objects are compared by OID and content (SHA-256): production's
// all (development's content where, three-way, only development changed
// it), development's OIDs production lacks (three-way: unless the base had
// them as development still has them: production deleted them).
// The report must agree with the truth: per-table row counts, every base
// row whose development version is not written listed as a conflict, every
// production deletion development still had listed as deleted_in_prod (or
// ambiguous), every unification on a natural key listed, no ambiguity in a
// three-way merge, the lost columns, the large objects' counts. The
// shadow's schema must be development's (pg_dump --schema-only,
// normalised; with keep_prod_objects also every pg_dump entry of
// production's whose type, schema and name development lacks, tables and
// what hangs on them aside), and every sequence a column draws from
// (nextval default, serial, identity) past that column's values.
#ifndef PGMERGE_TESTS_TRUTH_CHECKER_H_
#define PGMERGE_TESTS_TRUTH_CHECKER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {

struct TruthOptions {
  bool three_way = false;   // The merge was given --base.
  bool prefer_dev = false;  // --prefer dev.
  // --fill values, keyed "schema.table.column" as pgmerge's flag spells it
  // (an unqualified "table.column" means schema public).
  std::map<std::string, std::string> fill;
  // --rename-table OLD=NEW: production's (and the base's) table OLD is
  // development's NEW. Both "schema.table" (an unqualified name means public).
  std::map<std::string, std::string> renamed_tables;
  // --rename TABLE.OLD=NEW: production's column OLD is development's NEW,
  // keyed "schema.table.OLD" with development's table name.
  std::map<std::string, std::string> renamed_columns;
  bool keep_prod_objects = false;  // --keep-prod-objects.
  bool check_schema = true;
};

// The differences found, by class; empty when the shadow is the truth.
struct TruthFindings {
  std::vector<std::string> lost;         // Expected rows missing.
  std::vector<std::string> invented;     // Shadow rows nobody wrote.
  std::vector<std::string> repointed;    // Right values, a reference to other content.
  std::vector<std::string> changed;      // A production row with other values.
  std::vector<std::string> report;       // The report disagrees with the truth.
  std::vector<std::string> schema;       // Schema or sequence differences.
  std::vector<std::string> setup;        // The inputs break the checker's premises.
  bool ok() const {
    return lost.empty() && invented.empty() && repointed.empty() &&
           changed.empty() && report.empty() && schema.empty() && setup.empty();
  }
  // One line per class with its count, then up to `per_class` examples each.
  std::string Summary(size_t per_class = 12) const;
};

absl::StatusOr<TruthFindings> CheckTruth(TestPostgres* pg,
                                         const std::string& base_db,
                                         const std::string& prod_db,
                                         const std::string& dev_db,
                                         const std::string& shadow_db,
                                         const std::string& report_json,
                                         const TruthOptions& options);

}  // namespace pgmerge::testing

#endif  // PGMERGE_TESTS_TRUTH_CHECKER_H_
