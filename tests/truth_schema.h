// The truth checker's checks beyond table rows (tests/truth_checker.h): the
// shadow's schema, its sequences and its large objects, each adding what
// differs to `f`. Not thread-safe (development's schema is cached).
#ifndef PGMERGE_TESTS_TRUTH_SCHEMA_H_
#define PGMERGE_TESTS_TRUTH_SCHEMA_H_

#include <string>

#include "tests/test_postgres.h"
#include "tests/truth_checker.h"

namespace pgmerge::testing::truth {

// The shadow's pg_dump --schema-only is development's (normalised: no
// comments, \restrict or blank lines), in development's order; with
// `keep_prod_objects` also holding, as a multiset of lines, every entry of
// production's whose type, schema and name development lacks, other than
// tables and what hangs on them (defaults, ownership, comments, ACLs).
void CheckSchema(TestPostgres* pg, const std::string& prod_db, const std::string& dev_db,
                 const std::string& shadow_db, bool keep_prod_objects, TruthFindings* f);

// Every sequence a column draws from (owned, or named by a nextval
// default alone) is past that column's values, unless the inputs already
// held keys past their own sequence (explicit values, as PostgreSQL's
// regression database has): then the sequence must not be behind
// production's, and every shadow value past it must be one an input held
// past its own.
void CheckSequences(TestPostgres* pg, const std::string& prod_db, const std::string& dev_db,
                    const std::string& shadow_db, TruthFindings* f);

// Large objects by OID and SHA-256 of their content: production's all
// (development's content where, three-way, only development changed the
// base's), development's OIDs production lacks (three-way: unless the base
// had them as development has them, deleted by production); the report's
// large_objects counts (prod, dev, output), dev_new and deleted_in_prod
// must say the same.
void CheckLargeObjects(TestPostgres* pg, const std::string& base_db, const std::string& prod_db,
                       const std::string& dev_db, const std::string& shadow_db,
                       const std::string& report_json, bool three_way, TruthFindings* f);

}  // namespace pgmerge::testing::truth

#endif  // PGMERGE_TESTS_TRUTH_SCHEMA_H_
