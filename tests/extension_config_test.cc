// Rows of an extension's configuration table (issue #13): pg_dump writes
// the rows users added to PostGIS's spatial_ref_sys (pg_extension_config_dump)
// with no CREATE TABLE, CREATE EXTENSION making the table. They merge like
// any table's, keyed on the first column (srid): the same row once, a new
// one carried, a colliding srid with other content a conflict (production's
// kept, refused by --fail-on-conflict). Rows for a table neither the dump
// nor an extension creates are refused. Against a real PostgreSQL 15 with
// PostGIS (Debian's postgresql-15-postgis-3; skipped only outside CI when
// it is not installed).
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

bool HavePostgis() {
  struct stat st;
  return stat("/usr/share/postgresql/15/extension/postgis.control", &st) == 0;
}

class ExtensionConfigTest : public MergeFixture {
 protected:
  void SetUp() override {
    MergeFixture::SetUp();
    if (!HavePostgis()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "PostGIS is not installed (scripts/install-deps.sh installs "
                  "postgresql-15-postgis-3) and CI=true";
      }
      GTEST_SKIP() << "PostGIS not installed (postgresql-15-postgis-3)";
    }
  }
};

constexpr char kBase[] = R"(
  CREATE EXTENSION postgis;
  CREATE TABLE places (id serial PRIMARY KEY, name text, geom geometry(Point, 4326));
  INSERT INTO places (name, geom) VALUES ('base', ST_SetSRID(ST_MakePoint(1, 2), 4326));
  INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
    VALUES (910001, 'test', 910001, 'LOCAL_CS["base"]', '+proj=longlat');)";

TEST_F(ExtensionConfigTest, SpatialRefSysRowsMergedRestoredVerified) {
  const std::string prod = MakeDb("prod", {kBase, R"(
      INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) VALUES
        (910002, 'test', 910002, 'LOCAL_CS["prod"]', '+proj=longlat'),
        (910003, 'test', 910003, 'LOCAL_CS["prod''s 3"]', '+proj=longlat');
      INSERT INTO places (name, geom) VALUES ('prod', ST_SetSRID(ST_MakePoint(3, 4), 4326));)"});
  const std::string dev = MakeDb("dev", {kBase, R"(
      INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) VALUES
        (910004, 'test', 910004, 'LOCAL_CS["dev"]', '+proj=longlat'),
        (910003, 'test', 910003, 'LOCAL_CS["dev''s 3"]', '+proj=longlat');
      INSERT INTO places (name, geom) VALUES ('dev', ST_SetSRID(ST_MakePoint(5, 6), 4326));)"});
  const std::string prod_dump = DumpDb(prod, {});
  const std::string dev_dump = DumpDb(dev, {"--column-inserts"});
  ASSERT_EQ(ReadFile(prod_dump).find("CREATE TABLE public.spatial_ref_sys"), std::string::npos);
  ASSERT_NE(ReadFile(prod_dump).find("COPY public.spatial_ref_sys (srid,"), std::string::npos);

  MergeRun run = RunMerge(prod_dump, dev_dump);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.report.find("\"extension_config\": true"), std::string::npos) << run.report;
  std::string shadow = Name("shadow");
  ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
  absl::Status restored = pg_->Restore(shadow, run.sql_file);
  ASSERT_TRUE(restored.ok()) << restored;
  absl::StatusOr<std::string> srs = pg_->QueryValue(
      shadow, "SELECT string_agg(srid || ':' || srtext, ',' ORDER BY srid) FROM spatial_ref_sys "
              "WHERE srid > 900000 AND srid <> 900913");
  ASSERT_TRUE(srs.ok()) << srs.status();
  EXPECT_EQ(*srs, "910001:LOCAL_CS[\"base\"],910002:LOCAL_CS[\"prod\"],"
                  "910003:LOCAL_CS[\"prod's 3\"],910004:LOCAL_CS[\"dev\"]");
  // The extension's own rows are the extension's, untouched.
  absl::StatusOr<std::string> own =
      pg_->QueryValue(shadow, "SELECT count(*) > 1000 FROM spatial_ref_sys WHERE srid = 4326 "
                              "OR srid < 900000");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(*own, "t");
  absl::StatusOr<std::string> places = pg_->QueryValue(
      shadow, "SELECT string_agg(name || ' ' || ST_AsText(geom) || ' ' || ST_SRID(geom), ', ' "
              "ORDER BY name) FROM places");
  ASSERT_TRUE(places.ok()) << places.status();
  EXPECT_EQ(*places, "base POINT(1 2) 4326, dev POINT(5 6) 4326, prod POINT(3 4) 4326");
  // The colliding srid is a conflict, production's kept, named.
  EXPECT_NE(run.report.find("\"key\": \"910003\""), std::string::npos) << run.report;
  // verify measures spatial_ref_sys over the rows pg_dump dumps of it.
  std::string report_file = run.sql_file + ".json";
  absl::StatusOr<CommandResult> v = RunCommand(
      {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(shadow), "--report", report_file});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->exit_code, 0) << v->out << v->err;

  MergeRun strict = RunMerge(prod_dump, dev_dump, {"--fail-on-conflict"});
  EXPECT_EQ(strict.exit_code, 3) << strict.err;
  EXPECT_EQ(ReadFile(strict.sql_file), "");

  // Without the CREATE EXTENSION, the rows name a table nothing creates.
  std::string text = ReadFile(prod_dump);
  const std::string create = "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;";
  size_t at = text.find(create);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, create.size(), "");
  // The COMMENT ON EXTENSION would fail the catalog on its own terms: gone too.
  const std::string comment = "COMMENT ON EXTENSION postgis IS";
  at = text.find(comment);
  if (at != std::string::npos) text.erase(at, text.find('\n', at) - at);
  std::string bad = absl::StrCat(pg_->tmp_dir(), "/", Name("noext"), ".sql");
  std::ofstream(bad, std::ios::binary) << text;
  MergeRun refused = RunMerge(bad, dev_dump);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_EQ(ReadFile(refused.sql_file), "");
  EXPECT_NE(refused.err.find("table public.spatial_ref_sys is not created earlier in the dump"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(bad + ":"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace pgmerge::testing
